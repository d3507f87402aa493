{{ config(materialized='incremental', incremental_strategy='insert_missing', unique_key='id') }}
select * from {{ source('landing', 'towns') }}
