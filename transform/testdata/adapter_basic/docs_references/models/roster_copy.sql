{{ config(materialized='ephemeral') }}
select * from {{ source('club', 'roster') }}
