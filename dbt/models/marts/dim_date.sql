{{ config(dist='all', sort=['date_key']) }}

-- Every day from 30 days before the first order to a year after the last one, plus the unknown member.
with bounds as (
    select
        cast({{ dbt.dateadd('day', -30, 'min(ordered_at)') }} as date) as first_day,
        cast({{ dbt.dateadd('day', 365, 'max(ordered_at)') }} as date) as last_day
    from {{ ref('stg_shop__orders') }}
),

digits as (
    select 0 as d
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9
),

day_numbers as (
    select ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d as day_number
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
),

days as (
    select cast({{ dbt.dateadd('day', 'day_numbers.day_number', 'bounds.first_day') }} as date) as date_day
    from day_numbers
    cross join bounds
    where day_numbers.day_number <= {{ dbt.datediff('bounds.first_day', 'bounds.last_day', 'day') }}
),

parts as (
    select
        date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(week from date_day) as integer) as week_number,
        cast(extract(dow from date_day) as integer) as day_of_week
    from days
),

known as (
    select
        {{ date_key('date_day') }} as date_key,
        date_day,
        cast(year_number as {{ dbt.type_string() }})
        || '-' || lpad(cast(month_number as {{ dbt.type_string() }}), 2, '0') as year_month,
        year_number as year,
        quarter_number as quarter,
        month_number as month,
        week_number as week,
        day_of_week,
        coalesce(day_of_week in (0, 6), false) as is_weekend
    from parts
),

unknown as (
    select
        {{ unknown_date_key() }} as date_key,
        cast(null as date) as date_day,
        'unknown' as year_month,
        cast(null as integer) as year,
        cast(null as integer) as quarter,
        cast(null as integer) as month,
        cast(null as integer) as week,
        cast(null as integer) as day_of_week,
        cast(null as boolean) as is_weekend
),

final as (
    select * from known
    union all
    select * from unknown
)

select * from final
