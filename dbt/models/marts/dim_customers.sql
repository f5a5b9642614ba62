{{ config(dist='all', sort=['customer_id', 'valid_from']) }}

with versions as (
    select * from {{ ref('int_customer_versions') }}
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
        is_current
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
        true as is_current
),

final as (
    select * from known
    union all
    select * from unknown
)

select * from final
