{{ config(dist='all') }}

{#- Each dimension, and the fact's key that points at it with its unknown member's value. -#}
{%- set fact_keys = {
    'dim_date': ('order_date_key', unknown_date_key()),
    'dim_customers': ('customer_key', unknown_key()),
    'dim_products': ('product_key', unknown_key()),
    'dim_payment_methods': ('payment_method_key', unknown_key()),
    'dim_shipment_status': ('shipment_status_key', unknown_key()),
} %}

-- One scan of the fact counts the rows on every dimension's unknown member; one row per dimension.
with facts as (
    select * from {{ ref('fact_order_items') }}
),

totals as (
    select
        {% for dimension, (key, unknown) in fact_keys.items() %}
            coalesce(sum(case when {{ key }} = {{ unknown }} then 1 else 0 end), 0) as {{ dimension }},
        {% endfor %}
        count(*) as total_fact_rows
    from facts
),

final as (
    {% for dimension in fact_keys %}
        select
            '{{ dimension }}' as dimension,
            {{ dimension }} as fact_rows,
            total_fact_rows
        from totals
        {% if not loop.last %}
            union all
        {% endif %}
    {% endfor %}
)

select * from final
