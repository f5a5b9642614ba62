{#-
  Customer features as of each cutoff date, from events strictly before it, and the churn label from the
  window after it, for the customers active at the cutoff (an order in the churn_active_days before it). Cutoffs: the last one (the data's end, the day after the last order day, unless the
  churn_last_cutoff var names a date) and churn_cutoffs - 1 earlier ones, each churn_window_days apart.
  A cutoff whose window ends after the data's end has no label yet: those are the rows to score.
-#}
{%- set window_days = var('churn_window_days') | int %}
{%- set n_cutoffs = var('churn_cutoffs') | int %}
{%- set active_days = var('churn_active_days') | int %}
{%- set late_seconds = (var('churn_late_delivery_days') | int) * 86400 %}
{%- set last_cutoff = var('churn_last_cutoff', none) %}

with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

payments as (
    select * from {{ ref('stg_payments__payments') }}
),

shipment_events as (
    select * from {{ ref('stg_logistics__shipment_events') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

data_end as (
    select cast({{ dbt.dateadd('day', 1, 'max(cast(ordered_at as date))') }} as date) as data_end_date
    from orders
),

offsets as (
    select 0 as cutoff_index
    {%- for k in range(1, n_cutoffs) %}
        union all
        select {{ k }} as cutoff_index
    {%- endfor %}
),

cutoffs as (
    select
        offsets.cutoff_index,
        data_end.data_end_date,
        cast({{ dbt.dateadd(
            'day',
            '-' ~ window_days ~ ' * offsets.cutoff_index',
            "cast('" ~ last_cutoff ~ "' as date)" if last_cutoff else 'data_end.data_end_date'
        ) }} as date) as cutoff_date
    from offsets
    cross join data_end
),

cutoff_times as (
    select
        cutoff_index,
        cutoff_date,
        data_end_date,
        cast(cutoff_date as {{ dbt.type_timestamp() }}) as cutoff_at,
        cast({{ dbt.dateadd('day', window_days, 'cutoff_date') }} as {{ dbt.type_timestamp() }}) as window_end_at,
        cast({{ dbt.dateadd('day', -window_days, 'cutoff_date') }} as {{ dbt.type_timestamp() }}) as window_start_at,
        cast({{ dbt.dateadd('day', -active_days, 'cutoff_date') }} as {{ dbt.type_timestamp() }}) as active_start_at
    from cutoffs
),

-- One row per order: when it was placed, by whom, for how much, and when each thing happened to it.
placed as (
    select
        order_id,
        min(customer_id) as customer_id,
        min(ordered_at) as ordered_at,
        min(case when order_status = 'cancelled' then updated_at end) as cancelled_at
    from orders
    group by order_id
),

order_amounts as (
    select
        order_id,
        sum(quantity * unit_price - coalesce(discount_amount, 0)) as order_amount
    from order_items
    group by order_id
),

order_shipments as (
    select
        order_id,
        min(case when shipment_status = 'delivered' then status_at end) as delivered_at,
        min(case when shipment_status = 'lost' then status_at end) as lost_at,
        min(case when shipment_status = 'returned' then status_at end) as returned_at
    from shipment_events
    group by order_id
),

order_events as (
    select
        placed.order_id,
        placed.customer_id,
        placed.ordered_at,
        placed.cancelled_at,
        coalesce(order_amounts.order_amount, 0) as order_amount,
        order_shipments.delivered_at,
        order_shipments.lost_at,
        order_shipments.returned_at,
        cast(
            {{ dbt.datediff('placed.ordered_at', 'order_shipments.delivered_at', 'second') }}
            as {{ dbt.type_float() }}
        ) / 86400.0 as delivery_days
    from placed
    left join order_amounts on placed.order_id = order_amounts.order_id
    left join order_shipments on placed.order_id = order_shipments.order_id
),

order_features as (
    select
        cutoff_times.cutoff_date,
        order_events.customer_id,
        count(*) as orders_count,
        sum(case when order_events.ordered_at >= cutoff_times.window_start_at then 1 else 0 end)
            as orders_last_window,
        min(order_events.ordered_at) as first_ordered_at,
        max(order_events.ordered_at) as last_ordered_at,
        sum(order_events.order_amount) as monetary_value,
        sum(case when order_events.delivered_at < cutoff_times.cutoff_at then 1 else 0 end) as deliveries,
        sum(
            case
                when
                    order_events.delivered_at < cutoff_times.cutoff_at
                    and order_events.delivery_days * 86400 > {{ late_seconds }}
                    then 1
                else 0
            end
        ) as late_deliveries,
        sum(case when order_events.delivered_at < cutoff_times.cutoff_at then order_events.delivery_days end)
            as delivery_days_total,
        sum(case when order_events.lost_at < cutoff_times.cutoff_at then 1 else 0 end) as lost_shipments,
        sum(case when order_events.returned_at < cutoff_times.cutoff_at then 1 else 0 end) as returned_orders,
        sum(case when order_events.cancelled_at < cutoff_times.cutoff_at then 1 else 0 end) as cancelled_orders
    from cutoff_times
    inner join order_events on cutoff_times.cutoff_at > order_events.ordered_at
    group by cutoff_times.cutoff_date, order_events.customer_id
),

payment_features as (
    select
        cutoff_times.cutoff_date,
        placed.customer_id,
        count(*) as payments_count,
        sum(case when payments.payment_status = 'failed' then 1 else 0 end) as failed_payments,
        sum(case when payments.payment_status = 'refunded' then 1 else 0 end) as refunded_payments,
        sum(case when payments.payment_method in ('bank_transfer', 'cash_on_delivery') then 1 else 0 end)
            as deferred_payments
    from cutoff_times
    inner join payments on cutoff_times.cutoff_at > payments.paid_at
    inner join placed on payments.order_id = placed.order_id and cutoff_times.cutoff_at > placed.ordered_at
    group by cutoff_times.cutoff_date, placed.customer_id
),

-- The customer's version current at the cutoff (segment, sign-up date).
customer_versions as (
    select
        cutoff_times.cutoff_date,
        customers.customer_id,
        customers.segment,
        customers.signup_date,
        row_number() over (
            partition by cutoff_times.cutoff_date, customers.customer_id
            order by customers.updated_at desc, customers.row_hash desc
        ) as version_rank
    from cutoff_times
    inner join customers on cutoff_times.cutoff_at > customers.updated_at
),

window_orders as (
    select
        cutoff_times.cutoff_date,
        order_events.customer_id,
        count(*) as orders_in_window
    from cutoff_times
    inner join order_events
        on
            cutoff_times.cutoff_at <= order_events.ordered_at
            and cutoff_times.window_end_at > order_events.ordered_at
    group by cutoff_times.cutoff_date, order_events.customer_id
),

joined as (
    select
        order_features.*,
        cutoff_times.cutoff_index,
        cutoff_times.cutoff_at,
        cutoff_times.window_end_at,
        cast(cutoff_times.data_end_date as {{ dbt.type_timestamp() }}) as data_end_at,
        customer_versions.segment,
        customer_versions.signup_date,
        payment_features.failed_payments,
        payment_features.refunded_payments,
        payment_features.deferred_payments,
        window_orders.orders_in_window
    from order_features
    inner join cutoff_times on order_features.cutoff_date = cutoff_times.cutoff_date
    left join payment_features
        on
            order_features.cutoff_date = payment_features.cutoff_date
            and order_features.customer_id = payment_features.customer_id
    left join customer_versions
        on
            order_features.cutoff_date = customer_versions.cutoff_date
            and order_features.customer_id = customer_versions.customer_id
            and customer_versions.version_rank = 1
    left join window_orders
        on
            order_features.cutoff_date = window_orders.cutoff_date
            and order_features.customer_id = window_orders.customer_id
    where order_features.last_ordered_at >= cutoff_times.active_start_at
),

final as (
    select
        {{ surrogate_key(['customer_id', 'cutoff_date']) }} as customer_cutoff_key,
        customer_id,
        cutoff_date,
        cutoff_index,
        coalesce(segment, 'unknown') as segment,
        cast(
            {{ dbt.datediff('signup_date', 'cutoff_date', 'day') }}
            as integer
        ) as tenure_days,
        cast(
            {{ dbt.datediff('last_ordered_at', 'cutoff_at', 'second') }}
            as {{ dbt.type_float() }}
        ) / 86400.0 as recency_days,
        cast(
            {{ dbt.datediff('first_ordered_at', 'cutoff_at', 'second') }}
            as {{ dbt.type_float() }}
        ) / 86400.0 as days_since_first_order,
        orders_count,
        orders_last_window,
        monetary_value,
        monetary_value / orders_count as avg_order_value,
        deliveries,
        late_deliveries,
        case when deliveries > 0 then delivery_days_total / deliveries end as avg_delivery_days,
        lost_shipments,
        returned_orders,
        cancelled_orders,
        coalesce(failed_payments, 0) as failed_payments,
        coalesce(refunded_payments, 0) as refunded_payments,
        coalesce(deferred_payments, 0) as deferred_payments,
        coalesce(orders_in_window, 0) as label_orders_in_window,
        window_end_at <= data_end_at as is_labelled,
        case when window_end_at <= data_end_at then coalesce(orders_in_window, 0) = 0 end as is_churned
    from joined
)

select * from final
