{{ config(materialized='ephemeral') }}
with o as (select * from {{ ref('stg_orders') }})
select * from o where status = 'completed'
