-- runs after {{ ref('rebuilt') }}
select 2 as id
