-- Revenue, orders and items per order day: the daily and the monthly revenue trend sum these rows.
-- An order has one order day, so distinct orders add up across days. Items whose order has not
-- arrived (date key -1) are one row with no order_date and year_month 'unknown'.
with items as (
    select * from {{ ref('fact_order_items') }}
),

days as (
    select * from {{ ref('dim_date') }}
),

final as (
    select
        days.date_day as order_date,
        days.year_month,
        cast(sum(items.total_amount) as decimal(18, 2)) as revenue,
        cast(sum(items.quantity) as bigint) as items,
        count(distinct items.order_id) as orders,
        count(*) as order_items
    from items
    inner join days on items.order_date_key = days.date_key
    group by days.date_day, days.year_month
)

select * from final
