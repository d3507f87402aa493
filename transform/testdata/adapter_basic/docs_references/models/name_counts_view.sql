{{ config(materialized='view') }}
select first_name, n from {{ ref('name_counts') }}
order by n
