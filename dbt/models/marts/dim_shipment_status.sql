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
    {{- unknown_member(['shipment_status_key'], {
        'shipment_status': "'unknown'",
        'shipment_status_name': "'Unknown'",
        'stage_order': '0',
        'is_final': typed_null('boolean'),
    }) | indent(4) }}
),

final as (
    select * from known
    union all
    select * from unknown
)

select * from final
