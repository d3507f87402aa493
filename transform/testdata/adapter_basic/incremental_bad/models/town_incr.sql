{{ config(materialized='incremental', incremental_strategy='no_such_strategy') }}
select * from {{ source('landing', 'towns') }}
{% if is_incremental() %}
where id > (select max(id) from {{ this }})
{% endif %}
