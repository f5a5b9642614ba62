{{ config(dist='all') }}

with statuses as (
    select * from {{ ref('shipment_statuses') }}
),

known as (
    select
        {{ surrogate_key(['shipment_status']) }} as shipment_status_key,
        shipment_status,
        shipment_status_name,
        stage_order,
        is_final
    from statuses
),

unknown as (
    select
        {{ unknown_key() }} as shipment_status_key,
        'unknown' as shipment_status,
        'Unknown' as shipment_status_name,
        0 as stage_order,
        cast(null as boolean) as is_final
),

final as (
    select * from known
    union all
    select * from unknown
)

select * from final
