{% snapshot snap_name %}
    {{ config(strategy='check', unique_key='id', check_cols=['name'],
               target_database=database, target_schema=schema) }}
    select * from {{ ref(var('town_seed', 'towns')) }}
{% endsnapshot %}
