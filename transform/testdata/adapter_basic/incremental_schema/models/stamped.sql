{{ config(materialized='incremental', unique_key='run_key', on_schema_change='sync_all_columns') }}
select
    'k-' || cast(current_timestamp as {{ dbt.type_string() }}) as run_key,
    {% if is_incremental() %}
        cast('second pass' as varchar(11)) as note
    {% else %}
        cast('the very first pass' as varchar(19)) as note
    {% endif %}
