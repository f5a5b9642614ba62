{%- set incremental = incremental_run() %}

-- The latest state of each order; changed_loaded_at says when its newest change reached the warehouse.
-- Incremental: a run rebuilds the orders with new rows, from all of their rows.
with orders as (
    select * from {{ ref('stg_shop__orders') }}
    {% if incremental %}
    where {{ keys_loaded_after(ref('stg_shop__orders'), 'order_id', loaded_watermark('changed_loaded_at')) }}
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (partition by order_id order by updated_at desc, row_hash desc) as recency,
        max(loaded_at) over (partition by order_id) as changed_loaded_at
    from orders
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_status,
        channel,
        updated_at,
        changed_loaded_at
    from ranked
    where recency = 1
)

select * from final
