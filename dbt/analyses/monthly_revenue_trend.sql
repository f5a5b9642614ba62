-- Monthly revenue trend: revenue, orders and items per calendar month of the order date.
select
    d.year_month,
    sum(f.total_amount) as revenue,
    count(distinct f.order_id) as orders,
    sum(f.quantity) as items
from {{ ref('fact_order_items') }} as f
inner join {{ ref('dim_date') }} as d on f.order_date_key = d.date_key
group by d.year_month
order by d.year_month
