{% snapshot snap_all %}
    {{ config(strategy='check', unique_key='id', check_cols='all',
               target_database=database, target_schema=schema) }}
    select * from {{ ref(var('town_seed', 'towns')) }}
{% endsnapshot %}
