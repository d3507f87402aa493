{#- Introspects and rebuilds its own schema while it compiles: drop_schema
    must really drop (the upstream view is gone), create_schema and
    create_view_as bring it back with other rows, and a macro moves a
    scratch table about with rename_relation and drop_relation. -#}
{% set upstream = ref('source_view') %}
{% if execute %}
    {%- do adapter.drop_schema(upstream) -%}
    {% if adapter.get_relation(upstream.database, upstream.schema, upstream.identifier) is not none %}
        {% do exceptions.raise_compiler_error(upstream ~ ' survived drop_schema') %}
    {% endif %}
    {%- do adapter.create_schema(upstream) -%}
    {% do run_query(create_view_as(upstream, 'select 2 as id')) %}
    {% do shuffle_scratch(upstream) %}
{% endif %}
select * from {{ upstream }}
