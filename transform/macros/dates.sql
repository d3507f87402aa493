{#- Date and time macros of the dbt namespace. Each public macro dispatches
    to <adapter>__<name>, falling back to default__<name>. -#}

{% macro current_timestamp() -%}
  {{ return(adapter.dispatch('current_timestamp', 'dbt')()) }}
{%- endmacro %}

{% macro default__current_timestamp() -%}
  current_timestamp
{%- endmacro %}

{% macro postgres__current_timestamp() -%}
  now()
{%- endmacro %}

{% macro duckdb__current_timestamp() -%}
  now()
{%- endmacro %}

{% macro snapshot_get_time() -%}
  {{ return(adapter.dispatch('snapshot_get_time', 'dbt')()) }}
{%- endmacro %}

{% macro default__snapshot_get_time() -%}
  {{ dbt.current_timestamp() }}
{%- endmacro %}

{% macro postgres__snapshot_get_time() -%}
  {{ dbt.current_timestamp() }}::timestamp without time zone
{%- endmacro %}

{% macro duckdb__snapshot_get_time() -%}
  {{ dbt.current_timestamp() }}::timestamp
{%- endmacro %}

{% macro date_trunc(datepart, date) -%}
  {{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}
{%- endmacro %}

{% macro default__date_trunc(datepart, date) -%}
  date_trunc('{{ datepart }}', {{ date }})
{%- endmacro %}

{% macro dateadd(datepart, interval, from_date_or_timestamp) -%}
  {{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro %}

{% macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
  dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{% macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
  {{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))
{%- endmacro %}

{% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) -%}
  date_add({{ from_date_or_timestamp }}, interval ({{ interval }}) {{ datepart }})
{%- endmacro %}

{% macro datediff(first_date, second_date, datepart) -%}
  {{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}
{%- endmacro %}

{% macro default__datediff(first_date, second_date, datepart) -%}
  datediff({{ datepart }}, {{ first_date }}, {{ second_date }})
{%- endmacro %}

{% macro duckdb__datediff(first_date, second_date, datepart) -%}
  date_diff('{{ datepart }}', {{ first_date }}::timestamp, {{ second_date }}::timestamp)
{%- endmacro %}

{#- PostgreSQL has no datediff: count calendar boundaries crossed, as
    dbt-postgres does, one part in terms of the next larger. -#}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
  {%- set part = datepart | lower -%}
  {%- if part == 'year' -%}
    (date_part('year', ({{ second_date }})::date) - date_part('year', ({{ first_date }})::date))
  {%- elif part == 'quarter' -%}
    ({{ dbt.datediff(first_date, second_date, 'year') }} * 4 + date_part('quarter', ({{ second_date }})::date) - date_part('quarter', ({{ first_date }})::date))
  {%- elif part == 'month' -%}
    ({{ dbt.datediff(first_date, second_date, 'year') }} * 12 + date_part('month', ({{ second_date }})::date) - date_part('month', ({{ first_date }})::date))
  {%- elif part == 'day' -%}
    (({{ second_date }})::date - ({{ first_date }})::date)
  {%- elif part == 'week' -%}
    ({{ dbt.datediff(first_date, second_date, 'day') }} / 7 + case
      when date_part('dow', ({{ first_date }})::timestamp) <= date_part('dow', ({{ second_date }})::timestamp) then
        case when {{ first_date }} <= {{ second_date }} then 0 else -1 end
      else
        case when {{ first_date }} <= {{ second_date }} then 1 else 0 end
    end)
  {%- elif part == 'hour' -%}
    ({{ dbt.datediff(first_date, second_date, 'day') }} * 24 + date_part('hour', ({{ second_date }})::timestamp) - date_part('hour', ({{ first_date }})::timestamp))
  {%- elif part == 'minute' -%}
    ({{ dbt.datediff(first_date, second_date, 'hour') }} * 60 + date_part('minute', ({{ second_date }})::timestamp) - date_part('minute', ({{ first_date }})::timestamp))
  {%- elif part == 'second' -%}
    ({{ dbt.datediff(first_date, second_date, 'minute') }} * 60 + floor(date_part('second', ({{ second_date }})::timestamp)) - floor(date_part('second', ({{ first_date }})::timestamp)))
  {%- elif part == 'millisecond' -%}
    ({{ dbt.datediff(first_date, second_date, 'minute') }} * 60000 + floor(date_part('millisecond', ({{ second_date }})::timestamp)) - floor(date_part('millisecond', ({{ first_date }})::timestamp)))
  {%- elif part == 'microsecond' -%}
    ({{ dbt.datediff(first_date, second_date, 'minute') }} * 60000000 + floor(date_part('microsecond', ({{ second_date }})::timestamp)) - floor(date_part('microsecond', ({{ first_date }})::timestamp)))
  {%- else -%}
    {{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: " ~ datepart) }}
  {%- endif -%}
{%- endmacro %}

{% macro last_day(date, datepart) -%}
  {{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}
{%- endmacro %}

{% macro default_last_day(date, datepart) -%}
  cast({{ dbt.dateadd('day', '-1', dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))) }} as date)
{%- endmacro %}

{% macro default__last_day(date, datepart) -%}
  {{ dbt.default_last_day(date, datepart) }}
{%- endmacro %}

{#- PostgreSQL intervals have no quarter: a quarter is three months. -#}
{% macro postgres__last_day(date, datepart) -%}
  {%- if datepart == 'quarter' -%}
    cast({{ dbt.dateadd('day', '-1', dbt.dateadd('month', '3', dbt.date_trunc(datepart, date))) }} as date)
  {%- else -%}
    {{ dbt.default_last_day(date, datepart) }}
  {%- endif -%}
{%- endmacro %}

{% macro date(year, month, day) -%}
  {{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}
{%- endmacro %}

{% macro default__date(year, month, day) -%}
  cast('{{ "%04d-%02d-%02d" % (year, month, day) }}' as date)
{%- endmacro %}
