{{ config(materialized='ephemeral') }}
select * from {{ source('landing', 'towns') }}
