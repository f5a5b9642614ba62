{#
  SCD Type 2 from change-data-capture rows: each row is a version from its updated_at
  until the next version's updated_at (or open-ended). Two rows of a key with the same
  updated_at keep one (by row_hash), so versions never overlap and never leave gaps.

  With `loaded_after` (a SQL expression), only the keys with a row loaded after it are
  rebuilt, with all their history: the work of an incremental run follows the new rows.
#}
{% macro scd2_versions(relation, key, attributes, loaded_after=none) %}
with source_rows as (
    select * from {{ relation }}
    {% if loaded_after is not none %}
    where {{ keys_loaded_after(relation, key, loaded_after) }}
    {% endif %}
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
        lead(updated_at) over (partition by {{ key }} order by updated_at) as next_valid_from,
        loaded_at
    from ranked
    where same_instant_rank = 1
),

final as (
    select
        {{ key }},
        {{ attributes | join(",\n        ") }},
        valid_from,
        coalesce(next_valid_from, {{ max_timestamp() }}) as valid_to,
        case when next_valid_from is null then true else false end as is_current,
        loaded_at as source_loaded_at
    from versions
)

select * from final
{% endmacro %}
