{{ config(dist='all') }}

with facts as (
    select * from {{ ref('fact_order_items') }}
),

counts as (
    select 'dim_date' as dimension, sum(case when order_date_key = {{ unknown_date_key() }} then 1 else 0 end) as fact_rows
    from facts
    union all
    select 'dim_customers', sum(case when customer_key = {{ unknown_key() }} then 1 else 0 end) from facts
    union all
    select 'dim_products', sum(case when product_key = {{ unknown_key() }} then 1 else 0 end) from facts
    union all
    select 'dim_payment_methods', sum(case when payment_method_key = {{ unknown_key() }} then 1 else 0 end) from facts
    union all
    select 'dim_shipment_status', sum(case when shipment_status_key = {{ unknown_key() }} then 1 else 0 end) from facts
),

final as (
    select
        dimension,
        coalesce(fact_rows, 0) as fact_rows,
        (select count(*) from facts) as total_fact_rows
    from counts
)

select * from final
