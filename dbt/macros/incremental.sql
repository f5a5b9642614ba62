{#
  Incremental models decide with
      {%- set incremental = not var('offline_compile', false) and is_incremental() %}
  in the model itself: an offline compile (`--vars '{offline_compile: true}'`, Redshift without a
  server) cannot ask the warehouse whether the table exists, and dbt unit tests override
  is_incremental only where the model calls it, not inside a macro.
#}

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
