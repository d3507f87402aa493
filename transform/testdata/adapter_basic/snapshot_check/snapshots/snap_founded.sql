{% snapshot snap_founded %}
    {{ config(strategy='check', unique_key='id', check_cols=['founded_at'],
               target_database=database, target_schema=schema) }}
    select * from {{ ref(var('town_seed', 'towns')) }}
{% endsnapshot %}
