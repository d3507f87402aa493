{#- Fails (one row) when get_columns_in_relation sees no column. -#}
{% set columns = adapter.get_columns_in_relation(ref('rebuilt')) %}
select 1 as id
{% if columns | length > 0 %} where 1 = 0 {% endif %}
