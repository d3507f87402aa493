{#- A project-defined incremental strategy: insert the new rows whose key
    the table does not hold yet, leave the others alone. -#}
{% macro get_incremental_insert_missing_sql(arg_dict) %}
  {%- set cols = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
  {%- set key = arg_dict['unique_key'] -%}
  insert into {{ arg_dict['target_relation'] }} ({{ cols }})
  select {{ cols }} from {{ arg_dict['temp_relation'] }} as new_rows
  where not exists (
    select 1 from {{ arg_dict['target_relation'] }} as old_rows
    where old_rows.{{ key }} = new_rows.{{ key }}
  )
{% endmacro %}
