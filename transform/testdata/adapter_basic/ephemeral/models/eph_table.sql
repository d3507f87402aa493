{{ config(materialized='table') }}
select * from {{ ref('town_eph') }}
