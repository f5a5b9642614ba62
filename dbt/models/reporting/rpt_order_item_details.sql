{{ config(materialized='view') }}

-- The star schema's one join: every order item with its dimensions' readable attributes, for exploring
-- gold. A view: it is the fact's size and only ever read a few rows at a time.
with items as (
    select * from {{ ref('fact_order_items') }}
),

days as (
    select * from {{ ref('dim_date') }}
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

statuses as (
    select * from {{ ref('dim_shipment_status') }}
),

final as (
    select
        items.order_item_id,
        items.order_id,
        days.date_day as order_date,
        items.ordered_at,
        customers.customer_id,
        customers.segment,
        products.product_name,
        products.category,
        payment_methods.payment_method_name,
        statuses.shipment_status_name,
        items.quantity,
        items.total_amount
    from items
    inner join days on items.order_date_key = days.date_key
    inner join customers on items.customer_key = customers.customer_key
    inner join products on items.product_key = products.product_key
    inner join payment_methods on items.payment_method_key = payment_methods.payment_method_key
    inner join statuses on items.shipment_status_key = statuses.shipment_status_key
)

select * from final
