{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        dist='all',
        sort=['customer_id', 'valid_from'],
    )
}}

{%- set incremental = incremental_run() %}

-- SCD Type 2. Incremental: a run rebuilds every version of the customers with new CDC rows.
with versions as (
    {{ scd2_versions(
        ref('stg_shop__customers'),
        'customer_id',
        ['email', 'first_name', 'last_name', 'city', 'state', 'country', 'segment', 'signup_date'],
        loaded_after=loaded_watermark() if incremental else none,
    ) | indent(4) }}
),

known as (
    select
        {{ surrogate_key(['customer_id', 'valid_from']) }} as customer_key,
        customer_id,
        email,
        first_name,
        last_name,
        city,
        state,
        country,
        segment,
        signup_date,
        valid_from,
        valid_to,
        is_current,
        source_loaded_at
    from versions
),

unknown as (
    {{- unknown_member(['customer_key', 'customer_id'], {
        'email': typed_null('string'),
        'first_name': typed_null('string'),
        'last_name': typed_null('string'),
        'city': typed_null('string'),
        'state': typed_null('string'),
        'country': typed_null('string'),
        'segment': "'unknown'",
        'signup_date': typed_null('date'),
    }, scd2=true) | indent(4) }}
),

-- Every run writes the unknown member again, incremental runs too: the same union in both modes
-- gives the same column types, so an incremental run never has to widen (and reorder) the table's
-- columns to fit its batch, as dbt does on PostgreSQL and Redshift.
final as (
    select * from known
    union all
    select * from unknown
)

select * from final
