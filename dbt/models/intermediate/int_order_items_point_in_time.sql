-- Order items with the keys of every dimension, customer and product as they were when ordered.
-- A parent that has not arrived maps to its dimension's unknown member: no item is ever dropped.
with items as (
    select * from {{ ref('stg_shop__order_items') }}
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
        coalesce(
            cast(
                extract(year from orders.ordered_at) * 10000
                + extract(month from orders.ordered_at) * 100
                + extract(day from orders.ordered_at)
                as integer
            ),
            {{ unknown_date_key() }}
        ) as order_date_key,
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
        shipments.changed_loaded_at as shipment_loaded_at
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
)

select * from joined
