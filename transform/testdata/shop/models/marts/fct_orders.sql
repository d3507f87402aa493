{{ config(materialized='incremental', unique_key='order_id', tags=['facts']) }}
select order_id, customer_id, amount, status, ordered_at,
    {{ dbt.date_trunc('month', 'ordered_at') }} as order_month,
    {{ dbt.concat(["'o-'", dbt.safe_cast('order_id', dbt.type_string())]) }} as order_code
from {{ ref('stg_orders') }}
{% if is_incremental() %}
where ordered_at > (select max(ordered_at) from {{ this }})
{% endif %}
