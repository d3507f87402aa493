{% snapshot snap_ts %}
    {{ config(strategy='timestamp', unique_key='id', updated_at='founded_at',
               target_database=database, target_schema=schema) }}
    select * from {{ ref(var('town_seed', 'towns')) }}
{% endsnapshot %}
