with source as (
    select * from {{ source('shop', 'products') }}
),

renamed as (
    select
        product_id,
        sku,
        product_name,
        category,
        brand,
        unit_price,
        updated_at,
        ingest_date,
        loaded_at,
        row_hash
    from source
)

select * from renamed
