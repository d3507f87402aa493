{{ config(materialized='view') }}
select * from {{ ref('town_eph') }}
