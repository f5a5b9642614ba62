-- Orders and revenue per order day and payment method (the method of the order's largest payment;
-- 'unknown' while no payment has arrived). An order has one method and one day, so orders add up.
with items as (
    select * from {{ ref('fact_order_items') }}
),

payment_methods as (
    select * from {{ ref('dim_payment_methods') }}
),

days as (
    select * from {{ ref('dim_date') }}
),

final as (
    select
        days.date_day as order_date,
        payment_methods.payment_method,
        payment_methods.payment_method_name,
        payment_methods.is_deferred,
        cast(sum(items.total_amount) as decimal(18, 2)) as revenue,
        count(distinct items.order_id) as orders
    from items
    inner join payment_methods on items.payment_method_key = payment_methods.payment_method_key
    inner join days on items.order_date_key = days.date_key
    group by
        days.date_day,
        payment_methods.payment_method,
        payment_methods.payment_method_name,
        payment_methods.is_deferred
)

select * from final
