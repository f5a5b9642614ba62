-- One row per order day and customer, across the customer's versions (the fact points at the version
-- valid at order time), described by the customer's current version. A customer's orders, revenue
-- and first and last order over any range of days are sums, minimums and maximums of these rows.
-- The unknown member (customer_id '-1') stays: the headline counts its revenue, customer measures
-- leave it out.
with items as (
    select * from {{ ref('fact_order_items') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

days as (
    select * from {{ ref('dim_date') }}
),

current_customers as (
    select
        customer_id,
        segment,
        country,
        signup_date
    from customers
    where is_current and customer_id <> {{ unknown_key() }}
),

per_customer_day as (
    select
        days.date_day as order_date,
        customers.customer_id,
        cast(sum(items.quantity) as bigint) as items,
        cast(sum(items.total_amount) as decimal(18, 2)) as revenue,
        count(distinct items.order_id) as orders,
        count(*) as order_items,
        min(items.ordered_at) as first_ordered_at,
        max(items.ordered_at) as last_ordered_at
    from items
    inner join customers on items.customer_key = customers.customer_key
    inner join days on items.order_date_key = days.date_key
    group by days.date_day, customers.customer_id
),

final as (
    select
        per_customer_day.order_date,
        per_customer_day.customer_id,
        current_customers.segment,
        current_customers.country,
        current_customers.signup_date,
        per_customer_day.orders,
        per_customer_day.items,
        per_customer_day.order_items,
        per_customer_day.revenue,
        per_customer_day.first_ordered_at,
        per_customer_day.last_ordered_at
    from per_customer_day
    left join current_customers on per_customer_day.customer_id = current_customers.customer_id
)

select * from final
