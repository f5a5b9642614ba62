{{ config(dist='all', sort=['product_id', 'valid_from']) }}

with versions as (
    select * from {{ ref('int_product_versions') }}
),

known as (
    select
        {{ surrogate_key(['product_id', 'valid_from']) }} as product_key,
        product_id,
        sku,
        product_name,
        category,
        brand,
        unit_price as list_price,
        valid_from,
        valid_to,
        is_current
    from versions
),

unknown as (
    select
        {{ unknown_key() }} as product_key,
        {{ unknown_key() }} as product_id,
        cast(null as {{ dbt.type_string() }}) as sku,
        'unknown' as product_name,
        'unknown' as category,
        cast(null as {{ dbt.type_string() }}) as brand,
        cast(null as decimal(18, 2)) as list_price,
        {{ min_timestamp() }} as valid_from,
        {{ max_timestamp() }} as valid_to,
        true as is_current
),

final as (
    select * from known
    union all
    select * from unknown
)

select * from final
