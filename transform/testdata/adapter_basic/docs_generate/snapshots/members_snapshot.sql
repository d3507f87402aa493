{% snapshot members_snapshot %}
{{ config(unique_key='id', strategy='check', check_cols='all', target_schema=var('alternate_schema')) }}
select * from {{ ref('members') }}
{% endsnapshot %}
