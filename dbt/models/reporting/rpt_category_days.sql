-- Revenue, units and orders per order day and product category (as the product was categorised when
-- ordered). An order has one order day, so its distinct count per category adds up across days; an
-- order with items in two categories counts in both.
with items as (
    select * from {{ ref('fact_order_items') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

days as (
    select * from {{ ref('dim_date') }}
),

final as (
    select
        days.date_day as order_date,
        days.year_month,
        products.category,
        cast(sum(items.total_amount) as decimal(18, 2)) as revenue,
        cast(sum(items.quantity) as bigint) as units,
        count(distinct items.order_id) as orders
    from items
    inner join products on items.product_key = products.product_key
    inner join days on items.order_date_key = days.date_key
    group by days.date_day, days.year_month, products.category
)

select * from final
