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
    {{- unknown_member(['payment_method_key'], {
        'payment_method': "'unknown'",
        'payment_method_name': "'Unknown'",
        'is_deferred': typed_null('boolean'),
    }) | indent(4) }}
),

final as (
    select * from known
    union all
    select * from unknown
)

select * from final
