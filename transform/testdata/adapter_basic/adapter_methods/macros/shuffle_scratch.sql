{#- Creates <name>_scratch next to rel, renames it to <name>_moved, checks
    its columns, drops it, and checks each step with get_relation. -#}
{% macro shuffle_scratch(rel) %}
  {% set scratch = api.Relation.create(database=rel.database, schema=rel.schema, identifier=rel.identifier ~ '_scratch', type='table') %}
  {% set moved = api.Relation.create(database=rel.database, schema=rel.schema, identifier=rel.identifier ~ '_moved', type='table') %}
  {% do run_query(create_table_as(false, scratch, 'select 3 as id, 4 as other')) %}
  {% if adapter.get_relation(scratch.database, scratch.schema, scratch.identifier) is none %}
    {% do exceptions.raise_compiler_error('create_table_as did not create ' ~ scratch) %}
  {% endif %}
  {% do adapter.rename_relation(scratch, moved) %}
  {% if adapter.get_relation(scratch.database, scratch.schema, scratch.identifier) is not none %}
    {% do exceptions.raise_compiler_error(scratch ~ ' is still there after rename_relation') %}
  {% endif %}
  {% set cols = adapter.get_columns_in_relation(moved) | map(attribute='name') | list %}
  {% if cols != ['id', 'other'] %}
    {% do exceptions.raise_compiler_error('columns of ' ~ moved ~ ': ' ~ cols) %}
  {% endif %}
  {% do adapter.drop_relation(moved) %}
  {% if adapter.get_relation(moved.database, moved.schema, moved.identifier) is not none %}
    {% do exceptions.raise_compiler_error(moved ~ ' is still there after drop_relation') %}
  {% endif %}
{% endmacro %}
