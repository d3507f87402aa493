{{ config(materialized='table', tags=['finance']) }}

with orders as (
    select * from {{ ref('stg_orders') }}
),

customers as (
    select customer_id, country_code from {{ ref('dim_customers') }}
)

select
    orders.order_id,
    orders.customer_id,
    customers.country_code,
    orders.order_date,
    orders.ordered_at,
    orders.status,
    orders.amount,
    {{ revenue('orders.status', 'orders.amount') }} as revenue
from orders
join customers on customers.customer_id = orders.customer_id
