-- Top products: the ten products with the most revenue, by their current name and category.
select
    p.product_id,
    p.product_name,
    p.category,
    sum(f.total_amount) as revenue,
    sum(f.quantity) as units_sold
from {{ ref('fact_order_items') }} as f
inner join {{ ref('dim_products') }} as p on f.product_key = p.product_key
group by p.product_id, p.product_name, p.category
order by revenue desc, p.product_id asc
limit 10
