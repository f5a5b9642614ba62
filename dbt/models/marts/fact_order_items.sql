{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='order_item_id',
        merge_exclude_columns=[
            'order_item_id', 'order_id', 'quantity', 'unit_price', 'discount_amount', 'total_amount', 'ingest_date',
        ],
        dist='order_id',
        sort=['order_date_key'],
    )
}}

{%- set incremental = incremental_run() %}

-- Grain: one row per order item, with every dimension key as it was when the order was placed
-- (SCD2 version valid at ordered_at). A parent that has not arrived maps to its dimension's
-- unknown member: no item is ever dropped.
-- Incremental: a run rebuilds the items of every order that changed since the last run: new
-- items, order status, payments or shipment events, and a customer or product version that
-- arrived late and now covers the order's time. Items are filtered first, so the joins only
-- see the changed orders. An item's own columns never change once in silver (its first row wins),
-- so the merge leaves them as they are and rewrites only what comes from the other tables.
with
{% if incremental %}
new_product_versions as (
    select product_id, valid_from from {{ ref('dim_products') }}
    where source_loaded_at > {{ loaded_watermark() }}
),

-- The items of those products, by a semi-join on the few products first: joining every item
-- with its order before filtering on the product reads both tables whole.
items_of_new_products as (
    select order_id, product_id from {{ ref('stg_shop__order_items') }}
    where product_id in (select product_id from new_product_versions)
),

changed_orders as (
    select order_id from {{ ref('stg_shop__order_items') }}
    where loaded_at > {{ loaded_watermark() }}
    union
    select order_id from {{ ref('int_orders_current') }}
    where changed_loaded_at > {{ loaded_watermark() }}
    union
    select order_id from {{ ref('int_order_payments') }}
    where changed_loaded_at > {{ loaded_watermark() }}
    union
    select order_id from {{ ref('int_order_shipment_status') }}
    where changed_loaded_at > {{ loaded_watermark() }}
    union
    select orders.order_id
    from {{ ref('int_orders_current') }} as orders
    inner join {{ ref('dim_customers') }} as customers
        on
            orders.customer_id = customers.customer_id
            and orders.ordered_at >= customers.valid_from
    where customers.source_loaded_at > {{ loaded_watermark() }}
    union
    select items.order_id
    from items_of_new_products as items
    inner join {{ ref('int_orders_current') }} as orders
        on items.order_id = orders.order_id
    inner join new_product_versions as products
        on
            items.product_id = products.product_id
            and orders.ordered_at >= products.valid_from
),

{% endif %}
items as (
    select * from {{ ref('stg_shop__order_items') }}
    {% if incremental %}
    where order_id in (select order_id from changed_orders)
    {% endif %}
),

orders as (
    select * from {{ ref('int_orders_current') }}
),

payments as (
    select * from {{ ref('int_order_payments') }}
),

shipments as (
    select * from {{ ref('int_order_shipment_status') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

payment_methods as (
    select * from {{ ref('dim_payment_methods') }}
),

shipment_statuses as (
    select * from {{ ref('dim_shipment_status') }}
),

joined as (
    select
        items.order_item_id,
        items.order_id,
        orders.ordered_at,
        coalesce({{ date_key('orders.ordered_at') }}, {{ unknown_date_key() }}) as order_date_key,
        coalesce(customers.customer_key, {{ unknown_key() }}) as customer_key,
        coalesce(products.product_key, {{ unknown_key() }}) as product_key,
        coalesce(payment_methods.payment_method_key, {{ unknown_key() }}) as payment_method_key,
        coalesce(shipment_statuses.shipment_status_key, {{ unknown_key() }}) as shipment_status_key,
        items.quantity,
        items.unit_price,
        items.discount_amount,
        cast(items.quantity * items.unit_price - items.discount_amount as decimal(18, 2)) as total_amount,
        items.ingest_date,
        items.loaded_at as item_loaded_at,
        orders.changed_loaded_at as order_loaded_at,
        payments.changed_loaded_at as payment_loaded_at,
        shipments.changed_loaded_at as shipment_loaded_at,
        customers.source_loaded_at as customer_loaded_at,
        products.source_loaded_at as product_loaded_at
    from items
    left join orders
        on items.order_id = orders.order_id
    left join customers
        on
            orders.customer_id = customers.customer_id
            and orders.ordered_at >= customers.valid_from
            and orders.ordered_at < customers.valid_to
    left join products
        on
            items.product_id = products.product_id
            and orders.ordered_at >= products.valid_from
            and orders.ordered_at < products.valid_to
    left join payments
        on items.order_id = payments.order_id
    left join payment_methods
        on payments.payment_method = payment_methods.payment_method
    left join shipments
        on items.order_id = shipments.order_id
    left join shipment_statuses
        on shipments.shipment_status = shipment_statuses.shipment_status
),

with_watermark as (
    select
        *,
        {{ greatest_timestamp([
            'item_loaded_at', 'order_loaded_at', 'payment_loaded_at', 'shipment_loaded_at',
            'customer_loaded_at', 'product_loaded_at',
        ]) }} as source_loaded_at
    from joined
),

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
)

select * from final
