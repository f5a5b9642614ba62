-- Each order's payment method (the one that paid the most) and what was paid in all.
with payments as (
    select * from {{ ref('stg_payments__payments') }}
),

ranked as (
    select
        *,
        row_number() over (partition by order_id order by amount desc, payment_id) as weight_rank,
        sum(amount) over (partition by order_id) as amount_paid,
        max(loaded_at) over (partition by order_id) as changed_loaded_at
    from payments
),

final as (
    select
        order_id,
        payment_method,
        amount_paid,
        changed_loaded_at
    from ranked
    where weight_rank = 1
)

select * from final
