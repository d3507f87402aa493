{# One row per day the orders span: the calendar dimension. #}
with bounds as (
    select min(order_date) as first_day, max(order_date) as last_day
    from {{ ref('stg_orders') }}
),

days as (
    select cast(first_day + i * interval 1 day as date) as date_day
    from bounds, range(0, 400) as r(i)
    where first_day + i * interval 1 day <= last_day
)

select
    date_day,
    extract(year from date_day) as year,
    extract(month from date_day) as month,
    {{ dbt.date_trunc('month', 'date_day') }} as month_start,
    extract(isodow from date_day) as iso_day_of_week,
    extract(isodow from date_day) in (6, 7) as is_weekend
from days
