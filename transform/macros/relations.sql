{#- DDL macros of the dbt namespace that projects call from models and
    macros (usually with run_query): the statements that create a view or a
    table as a query. A temporary table takes no schema, on both engines. -#}

{% macro get_create_view_as_sql(relation, sql) -%}
  {{ return(adapter.dispatch('get_create_view_as_sql', 'dbt')(relation, sql)) }}
{%- endmacro %}

{% macro default__get_create_view_as_sql(relation, sql) -%}
  {{ return(create_view_as(relation, sql)) }}
{%- endmacro %}

{% macro create_view_as(relation, sql) -%}
  {{ return(adapter.dispatch('create_view_as', 'dbt')(relation, sql)) }}
{%- endmacro %}

{% macro default__create_view_as(relation, sql) -%}
  create view {{ relation }} as (
{{ sql }}
  )
{%- endmacro %}

{% macro get_create_table_as_sql(temporary, relation, sql) -%}
  {{ return(adapter.dispatch('get_create_table_as_sql', 'dbt')(temporary, relation, sql)) }}
{%- endmacro %}

{% macro default__get_create_table_as_sql(temporary, relation, sql) -%}
  {{ return(create_table_as(temporary, relation, sql)) }}
{%- endmacro %}

{% macro create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {{ return(adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code, language)) }}
{%- endmacro %}

{% macro default__create_table_as(temporary, relation, sql, language='sql') -%}
  {%- if language != 'sql' -%}
    {{ exceptions.raise_compiler_error('create_table_as: only SQL models are supported, not ' ~ language) }}
  {%- endif -%}
  create {% if temporary %}temporary {% endif %}table {{ relation.include(database=False, schema=False) if temporary else relation }} as (
{{ sql }}
  )
{%- endmacro %}

{% macro drop_relation_if_exists(relation) -%}
  {% if relation is not none %}
    {{ adapter.drop_relation(relation) }}
  {% endif %}
{%- endmacro %}
