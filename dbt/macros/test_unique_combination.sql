{#
  A model's grain: no two rows share the values of `columns` (nulls compare equal, as in group by,
  so the unknown order day is one value).
#}
{% test unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as rows_per_combination
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
