{% macro greeting() -%}{{ var('util_greeting') }}{%- endmacro %}
