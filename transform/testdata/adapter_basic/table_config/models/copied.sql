{{ config(materialized='table', sort='name', dist='name') }}
select * from {{ this.schema }}.towns
