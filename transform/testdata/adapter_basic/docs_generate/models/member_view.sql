{{ config(materialized='view') }}
select * from {{ ref('members') }}
