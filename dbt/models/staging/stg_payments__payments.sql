with source as (
    select * from {{ source('payments', 'payments') }}
),

renamed as (
    select
        payment_id,
        order_id,
        payment_method,
        amount,
        status as payment_status,
        paid_at,
        ingest_date,
        loaded_at
    from source
)

select * from renamed
