{#
  The row of a dimension's unknown member, where facts whose parent has not arrived point:
  `keys` (the surrogate key, and the natural key if it has one) take unknown_key(), each of
  `attributes` (a dict of column: SQL expression, in the dimension's column order) its expression.
  An SCD Type 2 dimension's member (`scd2=true`) is current and valid at all times, and, written
  by every run, has no load time. Build the typed nulls with typed_null(type).
#}
{% macro unknown_member(keys, attributes, scd2=false) %}
select
    {%- for key in keys %}
    {{ unknown_key() }} as {{ key }},
    {%- endfor %}
    {%- for column, expression in attributes.items() %}
    {{ expression }} as {{ column }}{{ "," if scd2 or not loop.last }}
    {%- endfor %}
    {%- if scd2 %}
    {{ min_timestamp() }} as valid_from,
    {{ max_timestamp() }} as valid_to,
    true as is_current,
    {{ typed_null('timestamp') }} as source_loaded_at
    {%- endif %}
{%- endmacro %}

{# A null of a type: 'string' and 'timestamp' are the target's own (dbt.type_string(), dbt.type_timestamp()). #}
{% macro typed_null(type) -%}
    {%- if type == 'string' -%}
        cast(null as {{ dbt.type_string() }})
    {%- elif type == 'timestamp' -%}
        cast(null as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast(null as {{ type }})
    {%- endif -%}
{%- endmacro %}
