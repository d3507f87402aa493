{{ config(materialized=var('swap_to', 'table')) }}
select * from {{ source('landing', 'towns') }}
