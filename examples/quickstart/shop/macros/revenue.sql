{# Revenue of an order: its amount unless its status earned nothing. #}
{% macro revenue(status_col, amount_col) -%}
    case when {{ status_col }} in (
        {%- for s in var('excluded_statuses') -%}
            '{{ s }}'{{ "," if not loop.last }}
        {%- endfor -%}
    ) then 0 else {{ amount_col }} end
{%- endmacro %}
