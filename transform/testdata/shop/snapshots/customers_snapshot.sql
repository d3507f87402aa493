-- customers' history
{% snapshot customers_snapshot %}
{{ config(unique_key='customer_id', strategy='check', check_cols=['country']) }}
select customer_id, first_name, country from {{ ref('stg_customers') }}
{% endsnapshot %}
