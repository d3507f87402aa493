package transform

// builtinMacros is the minimal set of dbt's own macros (package "dbt")
// the runner needs: naming, statement blocks and the four generic tests.
// Projects and packages override any of them by defining a macro of the
// same name (or an adapter-prefixed variant, for dispatched ones). The
// cross-database macros of transform/macros join this set when present.
const builtinMacros = `
{% macro generate_schema_name(custom_schema_name=none, node=none) -%}
{{ return(adapter.dispatch('generate_schema_name', 'dbt')(custom_schema_name, node)) }}
{%- endmacro %}

{% macro default__generate_schema_name(custom_schema_name, node) -%}
{%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ target.schema }}_{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
{{ return(adapter.dispatch('generate_alias_name', 'dbt')(custom_alias_name, node)) }}
{%- endmacro %}

{% macro default__generate_alias_name(custom_alias_name=none, node=none) -%}
{%- if custom_alias_name -%}{{ custom_alias_name | trim }}{%- elif node.version -%}{{ return(node.name ~ "_v" ~ (node.version | replace(".", "_"))) }}{%- else -%}{{ node.name }}{%- endif -%}
{%- endmacro %}

{% macro generate_database_name(custom_database_name=none, node=none) -%}
{{ return(adapter.dispatch('generate_database_name', 'dbt')(custom_database_name, node)) }}
{%- endmacro %}

{% macro default__generate_database_name(custom_database_name=none, node=none) -%}
{%- if custom_database_name is none -%}{{ target.database }}{%- else -%}{{ custom_database_name | trim }}{%- endif -%}
{%- endmacro %}

{% macro statement(name=None, fetch_result=False, auto_begin=True, language='sql') -%}
{%- if execute -%}{%- do _dbt_statement(name, caller(), fetch_result) -%}{%- endif -%}
{%- endmacro %}

{% macro test_unique(model, column_name) -%}
{{ return(adapter.dispatch('test_unique', 'dbt')(model, column_name)) }}
{%- endmacro %}

{% macro default__test_unique(model, column_name) -%}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{%- endmacro %}

{% macro test_not_null(model, column_name) -%}
{{ return(adapter.dispatch('test_not_null', 'dbt')(model, column_name)) }}
{%- endmacro %}

{% macro default__test_not_null(model, column_name) -%}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
{%- endmacro %}

{% macro test_accepted_values(model, column_name, values, quote=True) -%}
{{ return(adapter.dispatch('test_accepted_values', 'dbt')(model, column_name, values, quote)) }}
{%- endmacro %}

{% macro default__test_accepted_values(model, column_name, values, quote=True) -%}
with all_values as (
    select {{ column_name }} as value_field, count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {% for value in values -%}{% if quote %}'{{ value }}'{% else %}{{ value }}{% endif %}{%- if not loop.last -%},{%- endif %}{%- endfor %}
)
{%- endmacro %}

{% macro test_relationships(model, column_name, to, field) -%}
{{ return(adapter.dispatch('test_relationships', 'dbt')(model, column_name, to, field)) }}
{%- endmacro %}

{% macro default__test_relationships(model, column_name, to, field) -%}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),
parent as (
    select {{ field }} as to_field
    from {{ to }}
)
select from_field
from child
left join parent on child.from_field = parent.to_field
where parent.to_field is null
{%- endmacro %}

{% macro current_timestamp() -%}{{ return(adapter.dispatch('current_timestamp', 'dbt')()) }}{%- endmacro %}
{% macro default__current_timestamp() -%}current_timestamp{%- endmacro %}
{% macro postgres__current_timestamp() -%}now(){%- endmacro %}
{% macro type_string() -%}{{ return(adapter.dispatch('type_string', 'dbt')()) }}{%- endmacro %}
{% macro default__type_string() -%}varchar{%- endmacro %}
{% macro type_int() -%}{{ return(adapter.dispatch('type_int', 'dbt')()) }}{%- endmacro %}
{% macro default__type_int() -%}integer{%- endmacro %}
{% macro concat(fields) -%}{{ return(adapter.dispatch('concat', 'dbt')(fields)) }}{%- endmacro %}
{% macro default__concat(fields) -%}{{ fields | join(' || ') }}{%- endmacro %}
`
