-- Gold's money equals silver's: the sum of total_amount over the fact is the sum of line amounts in silver.
with gold as (
    select
        coalesce(sum(total_amount), 0) as amount,
        count(*) as row_count
    from {{ ref('fact_order_items') }}
),

silver as (
    select
        coalesce(sum(quantity * unit_price - discount_amount), 0) as amount,
        count(*) as row_count
    from {{ source('shop', 'order_items') }}
)

select
    gold.amount as gold_amount,
    silver.amount as silver_amount,
    gold.row_count,
    silver.row_count as silver_rows
from gold
cross join silver
where gold.amount <> silver.amount or gold.row_count <> silver.row_count
