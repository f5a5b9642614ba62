-- Revenue and units per order day and product, named as the product's version was when ordered (the
-- fact points at the version valid at order time): a renamed or recategorised product has a row per
-- name and category. The top products sum these rows over a range.
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
        products.product_id,
        products.product_name,
        products.category,
        cast(sum(items.total_amount) as decimal(18, 2)) as revenue,
        cast(sum(items.quantity) as bigint) as units_sold
    from items
    inner join products on items.product_key = products.product_key
    inner join days on items.order_date_key = days.date_key
    group by days.date_day, products.product_id, products.product_name, products.category
)

select * from final
