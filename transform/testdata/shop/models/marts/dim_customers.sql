{{ config(post_hook="insert into " ~ target.schema ~ ".run_audit values ('post', '{{ this.identifier }}')") }}
with orders as (
    select customer_id, count(*) as completed_orders, sum(amount) as revenue
    from {{ ref('stg_completed_orders') }}
    group by customer_id
)
select c.customer_id, c.first_name, c.country,
       coalesce(o.completed_orders, 0) as completed_orders,
       coalesce(o.revenue, 0) as revenue
from {{ ref('stg_customers') }} c
left join orders o using (customer_id)
