select 1 as n, '{{ greeting() }}' as greeting
