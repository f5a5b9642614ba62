{%- set incremental = incremental_run() %}

-- Each order's payment method (the one that paid the most) and what was paid in all.
-- Incremental: a run rebuilds the orders with new rows, from all of their rows.
with payments as (
    select * from {{ ref('stg_payments__payments') }}
    {% if incremental %}
    where {{ keys_loaded_after(ref('stg_payments__payments'), 'order_id', loaded_watermark('changed_loaded_at')) }}
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (partition by order_id order by amount desc, payment_id asc) as weight_rank,
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
