{%- set incremental = incremental_run() %}

-- Each order's latest shipment status (the fact's shipment status is the order's latest).
-- Incremental: a run rebuilds the orders with new rows, from all of their rows.
with events as (
    select * from {{ ref('stg_logistics__shipment_events') }}
    {% if incremental %}
    where {{ keys_loaded_after(ref('stg_logistics__shipment_events'), 'order_id', loaded_watermark('changed_loaded_at')) }}
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (partition by order_id order by status_at desc, shipment_status desc) as recency,
        max(loaded_at) over (partition by order_id) as changed_loaded_at
    from events
),

final as (
    select
        order_id,
        shipment_status,
        status_at,
        changed_loaded_at
    from ranked
    where recency = 1
)

select * from final
