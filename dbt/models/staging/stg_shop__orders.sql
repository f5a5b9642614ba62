with source as (
    select * from {{ source('shop', 'orders') }}
),

renamed as (
    select
        order_id,
        customer_id,
        order_ts as ordered_at,
        status as order_status,
        channel,
        updated_at,
        ingest_date,
        loaded_at,
        row_hash
    from source
)

select * from renamed
