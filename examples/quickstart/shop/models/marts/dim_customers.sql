with customers as (
    select * from {{ ref('stg_customers') }}
),

countries as (
    select * from {{ ref('countries') }}
),

orders as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders,
        sum({{ revenue('status', 'amount') }}) as lifetime_revenue
    from {{ ref('stg_orders') }}
    group by customer_id
)

select
    customers.customer_id,
    customers.customer_name,
    customers.country_code,
    countries.name as country_name,
    countries.region,
    customers.signed_up_at,
    orders.first_order_date,
    orders.last_order_date,
    coalesce(orders.orders, 0) as orders,
    coalesce(orders.lifetime_revenue, 0) as lifetime_revenue
from customers
left join countries on countries.code = customers.country_code
left join orders on orders.customer_id = customers.customer_id
