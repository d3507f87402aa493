{{ config(materialized='view') }}
select * from {{ source('landing', 'towns') }}
