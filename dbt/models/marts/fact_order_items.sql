{{
    config(
        materialized='incremental',
        unique_key='order_item_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        dist='order_id',
        sort=['order_date_key'],
    )
}}

-- Grain: one row per order item. Incremental: a run rebuilds the items of every order that
-- changed since the last run (new items, order status, payments or shipment events).
with enriched as (
    select * from {{ ref('int_order_items_point_in_time') }}
),

with_watermark as (
    select
        *,
        {{ greatest_timestamp(['item_loaded_at', 'order_loaded_at', 'payment_loaded_at', 'shipment_loaded_at']) }}
            as source_loaded_at
    from enriched
),

{% if incremental_run() %}
changed_orders as (
    select distinct order_id
    from with_watermark
    where source_loaded_at > (select max(source_loaded_at) from {{ this }})
),
{% endif %}

final as (
    select
        order_item_id,
        order_id,
        order_date_key,
        customer_key,
        product_key,
        payment_method_key,
        shipment_status_key,
        ordered_at,
        quantity,
        unit_price,
        discount_amount,
        total_amount,
        ingest_date,
        source_loaded_at
    from with_watermark
    {% if incremental_run() %}
    where order_id in (select order_id from changed_orders)
    {% endif %}
)

select * from final
