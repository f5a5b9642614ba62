-- The days each customer ordered, with the period (calendar month, Monday-started week) each day falls
-- in: one row per period kind, customer and order day. A cohort is the period of a customer's first
-- order within the range read, so cohorts are counted when read, from the rows of the range's days.
-- period_number counts periods from a fixed origin: the difference of two is the periods between them.
-- Only known customers and known order days take part.
with items as (
    select * from {{ ref('fact_order_items') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

days as (
    select * from {{ ref('dim_date') }}
),

customer_days as (
    select distinct
        customers.customer_id,
        days.date_day as order_date,
        days.year,
        days.month
    from items
    inner join customers on items.customer_key = customers.customer_key
    inner join days on items.order_date_key = days.date_key
    where customers.customer_id <> {{ unknown_key() }} and days.date_key <> {{ unknown_date_key() }}
),

-- Weeks are counted from Monday 2000-01-03: whole weeks, as both days are Mondays.
weeks as (
    select
        customer_id,
        order_date,
        cast({{ dbt.date_trunc('week', 'order_date') }} as date) as week_start,
        cast('2000-01-03' as date) as origin
    from customer_days
),

months as (
    select
        cast('month' as {{ dbt.type_string() }}) as cohort_period,
        customer_id,
        order_date,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as period_start,
        year * 12 + month as period_number
    from customer_days
),

numbered_weeks as (
    select
        cast('week' as {{ dbt.type_string() }}) as cohort_period,
        customer_id,
        order_date,
        week_start as period_start,
        cast(
            {{ dbt.datediff('origin', 'week_start', 'day') }} / 7
            as integer
        ) as period_number
    from weeks
),

final as (
    select * from months
    union all
    select * from numbered_weeks
)

select * from final
