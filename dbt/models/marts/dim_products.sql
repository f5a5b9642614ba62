{{
    config(
        materialized='incremental',
        unique_key='product_id',
        dist='all',
        sort=['product_id', 'valid_from'],
    )
}}

{%- set incremental = not var('offline_compile', false) and is_incremental() %}

-- SCD Type 2. Incremental: a run rebuilds every version of the products with new CDC rows.
with versions as (
    {{ scd2_versions(
        ref('stg_shop__products'),
        'product_id',
        ['sku', 'product_name', 'category', 'brand', 'unit_price'],
        loaded_after=loaded_watermark() if incremental else none,
    ) | indent(4) }}
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
        is_current,
        source_loaded_at
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
        true as is_current,
        cast(null as {{ dbt.type_timestamp() }}) as source_loaded_at
),

-- Every run writes the unknown member again, incremental runs too: the same union in both modes
-- gives the same column types, so an incremental run never has to widen (and reorder) the table's
-- columns to fit its batch, as dbt does on PostgreSQL and Redshift.
final as (
    select * from known
    union all
    select * from unknown
)

select * from final
