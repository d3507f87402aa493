with under_limit as (
    select id, name from {{ ref('town_eph') }}
    where id < 500
)
select name, id from under_limit
