-- revenue of completed orders per customer equals the fact table's
select d.customer_id
from {{ ref('dim_customers') }} d
left join (
    select customer_id, sum(amount) as revenue from {{ ref('fct_orders') }}
    where status = 'completed' group by customer_id
) f using (customer_id)
where coalesce(f.revenue, 0) <> d.revenue
