{# The key every dimension reserves for its unknown member: facts whose parent has not arrived point here. #}
{% macro unknown_key() -%}'-1'{%- endmacro %}

{% macro unknown_date_key() -%}-1{%- endmacro %}

{# dim_date's key of the day of a date or timestamp: YYYYMMDD as an integer (null for null). #}
{% macro date_key(column) -%}
    cast(extract(year from {{ column }}) * 10000 + extract(month from {{ column }}) * 100 + extract(day from {{ column }}) as integer)
{%- endmacro %}

{# A surrogate key: md5 of the parts as text, with a separator so ('a','bc') and ('ab','c') differ. #}
{% macro surrogate_key(parts) -%}
    {%- set texts = [] -%}
    {%- for part in parts -%}
        {%- do texts.append("coalesce(cast(" ~ part ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do texts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(texts)) }}
{%- endmacro %}

{% macro max_timestamp() -%}cast('9999-12-31 00:00:00' as {{ dbt.type_timestamp() }}){%- endmacro %}

{% macro min_timestamp() -%}cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}){%- endmacro %}

{# The latest of several timestamps, ignoring nulls, the same on every engine. #}
{% macro greatest_timestamp(columns) -%}
    greatest({% for c in columns %}coalesce({{ c }}, {{ min_timestamp() }}){% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
