{#
  SCD Type 2 invariants of a dimension (its unknown member aside): exactly one current
  version per natural key, and each version ends where the next begins (no gaps, no overlaps).
#}
{% test scd2_invariants(model, natural_key) %}
with versions as (
    select * from {{ model }} where {{ natural_key }} <> {{ unknown_key() }}
),

sequenced as (
    select
        {{ natural_key }},
        valid_from,
        valid_to,
        is_current,
        lead(valid_from) over (partition by {{ natural_key }} order by valid_from) as next_valid_from
    from versions
),

current_counts as (
    select {{ natural_key }}, sum(case when is_current then 1 else 0 end) as current_versions
    from versions
    group by {{ natural_key }}
),

broken as (
    select {{ natural_key }}, 'not exactly one current version' as problem
    from current_counts
    where current_versions <> 1
    union all
    select {{ natural_key }}, 'gap or overlap between versions'
    from sequenced
    where next_valid_from is not null and valid_to <> next_valid_from
    union all
    select {{ natural_key }}, 'empty or reversed validity'
    from sequenced
    where valid_to <= valid_from
)

select * from broken
{% endtest %}
