select
    id as order_id,
    customer_id,
    lower(status) as status,
    cast(amount as decimal(12, 2)) as amount,
    cast(ordered_at as timestamp) as ordered_at,
    cast(ordered_at as date) as order_date
from {{ source('raw', 'orders') }}
