{{
    config(
        materialized='incremental',
        unique_key='product_id',
        dist='all',
        sort=['product_id', 'valid_from'],
    )
}}

{%- set incremental = incremental_run() %}

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
    {{- unknown_member(['product_key', 'product_id'], {
        'sku': typed_null('string'),
        'product_name': "'unknown'",
        'category': "'unknown'",
        'brand': typed_null('string'),
        'list_price': typed_null('decimal(18, 2)'),
    }, scd2=true) | indent(4) }}
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
