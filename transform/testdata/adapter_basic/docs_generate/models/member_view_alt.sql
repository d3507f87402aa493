{{ config(materialized='view', schema='alt') }}
select * from {{ ref('members') }}
