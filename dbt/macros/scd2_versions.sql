{#
  SCD Type 2 from change-data-capture rows: each row is a version from its updated_at
  until the next version's updated_at (or open-ended). Two rows of a key with the same
  updated_at keep one (by row_hash), so versions never overlap and never leave gaps.
#}
{% macro scd2_versions(relation, key, attributes) %}
with source_rows as (
    select * from {{ relation }}
),

ranked as (
    select
        *,
        row_number() over (partition by {{ key }}, updated_at order by row_hash desc) as same_instant_rank
    from source_rows
),

versions as (
    select
        {{ key }},
        {{ attributes | join(",\n        ") }},
        updated_at as valid_from,
        lead(updated_at) over (partition by {{ key }} order by updated_at) as next_valid_from
    from ranked
    where same_instant_rank = 1
),

final as (
    select
        {{ key }},
        {{ attributes | join(",\n        ") }},
        valid_from,
        coalesce(next_valid_from, {{ max_timestamp() }}) as valid_to,
        case when next_valid_from is null then true else false end as is_current
    from versions
)

select * from final
{% endmacro %}
