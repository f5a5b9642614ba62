-- Each order's latest shipment status (the fact's shipment status is the order's latest).
with events as (
    select * from {{ ref('stg_logistics__shipment_events') }}
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
