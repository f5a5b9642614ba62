{#
  Whether this run of an incremental model adds to it (dbt's is_incremental()), and never in an
  offline compile (`--vars '{offline_compile: true}'`, Redshift without a server), which cannot ask the
  warehouse whether the table exists. Incremental models decide with
      {%- set incremental = incremental_run() %}
  dbt unit tests' `overrides: macros: is_incremental` reach it too: the override replaces
  is_incremental in the context every macro of the project reads.
#}
{% macro incremental_run() -%}
    {{ return(not var('offline_compile', false) and is_incremental()) }}
{%- endmacro %}

{#
  The newest load time already in this incremental model: its next run starts after it.
  An empty model (built before any data arrived) starts from the beginning.
#}
{% macro loaded_watermark(column='source_loaded_at') -%}
    coalesce((select max({{ column }}) from {{ this }}), {{ min_timestamp() }})
{%- endmacro %}

{# Every row of the keys that have a row loaded after `loaded_after`: what an incremental run rebuilds. #}
{% macro keys_loaded_after(relation, key, loaded_after) -%}
    {{ key }} in (select {{ key }} from {{ relation }} where loaded_at > {{ loaded_after }})
{%- endmacro %}
