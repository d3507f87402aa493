-- The monthly mart must add up to the fact table: returns a row if not.
select mart.total, fct.total
from (select sum(revenue) as total from {{ ref('revenue_by_country_month') }}) as mart
cross join (select sum(revenue) as total from {{ ref('fct_orders') }}) as fct
where mart.total <> fct.total
