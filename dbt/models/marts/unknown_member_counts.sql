{{ config(dist='all') }}

-- One scan of the fact counts the rows on every dimension's unknown member; one row per dimension.
with facts as (
    select * from {{ ref('fact_order_items') }}
),

totals as (
    select
        count(*) as total_fact_rows,
        sum(case when order_date_key = {{ unknown_date_key() }} then 1 else 0 end) as dim_date,
        sum(case when customer_key = {{ unknown_key() }} then 1 else 0 end) as dim_customers,
        sum(case when product_key = {{ unknown_key() }} then 1 else 0 end) as dim_products,
        sum(case when payment_method_key = {{ unknown_key() }} then 1 else 0 end) as dim_payment_methods,
        sum(case when shipment_status_key = {{ unknown_key() }} then 1 else 0 end) as dim_shipment_status
    from facts
),

dimensions as (
    select 'dim_date' as dimension
    union all select 'dim_customers'
    union all select 'dim_products'
    union all select 'dim_payment_methods'
    union all select 'dim_shipment_status'
),

final as (
    select
        dimensions.dimension,
        coalesce(
            case dimensions.dimension
                when 'dim_date' then totals.dim_date
                when 'dim_customers' then totals.dim_customers
                when 'dim_products' then totals.dim_products
                when 'dim_payment_methods' then totals.dim_payment_methods
                when 'dim_shipment_status' then totals.dim_shipment_status
            end,
            0
        ) as fact_rows,
        totals.total_fact_rows
    from dimensions
    cross join totals
)

select * from final
