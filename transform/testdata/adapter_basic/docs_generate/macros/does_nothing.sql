{% test does_nothing(model) %}
-- a model-level test without a column
select 0 as nothing where 1 = 0
{% endtest %}
