{{ config(materialized='ephemeral') }}
with picked as (
    select name, id from {{ ref('towns') }}
)
select id, name from picked where id is not null
