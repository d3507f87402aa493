select * from {{ ref('stg_orders') }} where amount > {{ var('max_amount', 1000) }}
