with facts as (
    select
        fct.country_code,
        dates.month_start,
        fct.revenue
    from {{ ref('fct_orders') }} as fct
    join {{ ref('dim_dates') }} as dates on dates.date_day = fct.order_date
)

select
    country_code,
    month_start,
    count(*) as orders,
    sum(revenue) as revenue,
    round(avg(revenue), 2) as avg_order_revenue
from facts
group by country_code, month_start
