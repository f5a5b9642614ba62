{{ config(dist='all') }}

-- One scan of the fact counts the rows on every dimension's unknown member; one row per dimension.
with facts as (
    select * from {{ ref('fact_order_items') }}
),

totals as (
    select
        count(*) as total_fact_rows,
        coalesce(sum(case when order_date_key = {{ unknown_date_key() }} then 1 else 0 end), 0) as dim_date,
        coalesce(sum(case when customer_key = {{ unknown_key() }} then 1 else 0 end), 0) as dim_customers,
        coalesce(sum(case when product_key = {{ unknown_key() }} then 1 else 0 end), 0) as dim_products,
        coalesce(sum(case when payment_method_key = {{ unknown_key() }} then 1 else 0 end), 0) as dim_payment_methods,
        coalesce(sum(case when shipment_status_key = {{ unknown_key() }} then 1 else 0 end), 0) as dim_shipment_status
    from facts
),

final as (
    select
        'dim_date' as dimension,
        dim_date as fact_rows,
        total_fact_rows
    from totals
    union all
    select
        'dim_customers' as dimension,
        dim_customers as fact_rows,
        total_fact_rows
    from totals
    union all
    select
        'dim_products' as dimension,
        dim_products as fact_rows,
        total_fact_rows
    from totals
    union all
    select
        'dim_payment_methods' as dimension,
        dim_payment_methods as fact_rows,
        total_fact_rows
    from totals
    union all
    select
        'dim_shipment_status' as dimension,
        dim_shipment_status as fact_rows,
        total_fact_rows
    from totals
)

select * from final
