{% macro to_units(col) -%}
  {{ return(adapter.dispatch('to_units')(col)) }}
{%- endmacro %}

{% macro default__to_units(col) -%}
  ({{ col }} / 100.0)
{%- endmacro %}

{% macro duckdb__to_units(col) -%}
  ({{ col }}::decimal(12,2) / 100)
{%- endmacro %}
