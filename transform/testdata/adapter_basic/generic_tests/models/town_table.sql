{{ config(materialized='table') }}
select * from {{ source('landing', 'towns') }}
