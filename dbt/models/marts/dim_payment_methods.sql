{{ config(dist='all') }}

with methods as (
    select * from {{ ref('payment_methods') }}
),

known as (
    select
        {{ surrogate_key(['payment_method']) }} as payment_method_key,
        payment_method,
        payment_method_name,
        is_deferred
    from methods
),

unknown as (
    select
        {{ unknown_key() }} as payment_method_key,
        'unknown' as payment_method,
        'Unknown' as payment_method_name,
        cast(null as boolean) as is_deferred
),

final as (
    select * from known
    union all
    select * from unknown
)

select * from final
