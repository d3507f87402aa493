{{ config(materialized='table') }}
select first_name, count(*) as n from {{ ref('roster_copy') }}
group by first_name
order by first_name
