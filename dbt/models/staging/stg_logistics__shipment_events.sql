with source as (
    select * from {{ source('logistics', 'shipment_events') }}
),

renamed as (
    select
        shipment_id,
        order_id,
        carrier,
        status as shipment_status,
        status_ts as status_at,
        ingest_date,
        loaded_at
    from source
)

select * from renamed
