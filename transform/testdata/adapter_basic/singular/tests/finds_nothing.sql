select n from (select 7 as n) as t where n > 7
