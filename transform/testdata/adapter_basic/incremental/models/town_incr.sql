{{ config(materialized='incremental') }}
select * from {{ source('landing', 'towns') }}
{% if is_incremental() %}
where id > (select max(id) from {{ this }})
{% endif %}
