with source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        customer_id,
        email,
        first_name,
        last_name,
        city,
        state,
        country,
        segment,
        signup_date,
        updated_at,
        ingest_date,
        loaded_at,
        row_hash
    from source
)

select * from renamed
