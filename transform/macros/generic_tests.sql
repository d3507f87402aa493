{#- dbt's built-in generic data tests. Each query returns the failing rows;
    a project overrides one by defining <adapter>__test_<name> or
    default__test_<name> in its own macros. -#}

{#- Whether the test being compiled stores its failures: its store_failures
    config, else the --store-failures flag. -#}
{% macro should_store_failures() -%}
  {%- set store = config.get('store_failures') -%}
  {%- if store is none -%}
    {%- set store = flags.STORE_FAILURES -%}
  {%- endif -%}
  {{ return(store) }}
{%- endmacro %}

{% test unique(model, column_name) %}
  {{ adapter.dispatch('test_unique', 'dbt')(model, column_name) }}
{% endtest %}

{% macro default__test_unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endmacro %}

{% test not_null(model, column_name) %}
  {{ adapter.dispatch('test_not_null', 'dbt')(model, column_name) }}
{% endtest %}

{% macro default__test_not_null(model, column_name) %}
{#- With stored failures every column of the failing rows is kept. -#}
{% set column_list = '*' if should_store_failures() else column_name %}
select {{ column_list }}
from {{ model }}
where {{ column_name }} is null
{% endmacro %}

{% test accepted_values(model, column_name, values, quote=True) %}
  {{ adapter.dispatch('test_accepted_values', 'dbt')(model, column_name, values, quote) }}
{% endtest %}

{% macro default__test_accepted_values(model, column_name, values, quote=True) %}
with all_values as (
    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {% for value in values -%}
        {% if quote -%}
        '{{ value }}'
        {%- else -%}
        {{ value }}
        {%- endif -%}
        {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)
{% endmacro %}

{% test relationships(model, column_name, to, field) %}
  {{ adapter.dispatch('test_relationships', 'dbt')(model, column_name, to, field) }}
{% endtest %}

{% macro default__test_relationships(model, column_name, to, field) %}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
)

select
    from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null
{% endmacro %}
