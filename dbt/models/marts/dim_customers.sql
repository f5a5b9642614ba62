{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        dist='all',
        sort=['customer_id', 'valid_from'],
    )
}}

{%- set incremental = not var('offline_compile', false) and is_incremental() %}

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
    select
        {{ unknown_key() }} as customer_key,
        {{ unknown_key() }} as customer_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as state,
        cast(null as {{ dbt.type_string() }}) as country,
        'unknown' as segment,
        cast(null as date) as signup_date,
        {{ min_timestamp() }} as valid_from,
        {{ max_timestamp() }} as valid_to,
        true as is_current,
        cast(null as {{ dbt.type_timestamp() }}) as source_loaded_at
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
