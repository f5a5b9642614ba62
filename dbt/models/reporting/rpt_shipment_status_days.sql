-- Order items, orders and revenue per order day and latest shipment status. Gold keeps each order's
-- latest status, not when it was reached, so it cannot time a delivery; what it supports is the
-- status mix and, with day_number, each order's age counted back from the newest order day read.
-- An order has one status and one day, so orders add up across days.
with items as (
    select * from {{ ref('fact_order_items') }}
),

statuses as (
    select * from {{ ref('dim_shipment_status') }}
),

calendar as (
    select
        date_key,
        date_day,
        cast('2000-01-01' as date) as origin
    from {{ ref('dim_date') }}
),

-- Days are numbered from 2000-01-01: an age is a difference of two numbers.
days as (
    select
        date_key,
        date_day,
        cast(
            {{ dbt.datediff('origin', 'date_day', 'day') }}
            as integer
        ) as day_number
    from calendar
),

final as (
    select
        days.date_day as order_date,
        days.day_number,
        statuses.shipment_status,
        statuses.shipment_status_name,
        statuses.stage_order,
        cast(sum(items.total_amount) as decimal(18, 2)) as revenue,
        coalesce(statuses.is_final, false) as is_final,
        coalesce(statuses.shipment_status = 'delivered', false) as is_delivered,
        count(*) as order_items,
        count(distinct items.order_id) as orders
    from items
    inner join statuses on items.shipment_status_key = statuses.shipment_status_key
    inner join days on items.order_date_key = days.date_key
    group by
        days.date_day,
        days.day_number,
        statuses.shipment_status,
        statuses.shipment_status_name,
        statuses.stage_order,
        statuses.is_final
)

select * from final
