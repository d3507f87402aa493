select
    id as customer_id,
    name as customer_name,
    upper(country) as country_code,
    cast(created_at as timestamp) as signed_up_at
from {{ source('raw', 'customers') }}
