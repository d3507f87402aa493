{{ config(materialized='ephemeral') }}
select
    id as order_id,
    customer_id,
    {{ to_units('amount_cents') }} as amount,
    status,
    cast(ordered_at as date) as ordered_at
from {{ ref('raw_orders') }}
where amount_cents >= {{ var('min_amount') }}
