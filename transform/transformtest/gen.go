// Package transformtest generates dbt projects for package transform's
// benchmarks and for programs that time the dataops CLI on them.
//
//	if err := transformtest.GenProject(dir, 10000); err != nil { … }
package transformtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GenProject writes a dbt project of n models with a realistic mix: a
// staging layer over sources, intermediate and mart models with 1–3 refs,
// config() calls, Jinja loops, project macros (one dispatched) and a
// schema.yml per folder with unique / not_null / accepted_values tests.
func GenProject(dir string, n int) error {
	var err error
	write := func(name, content string) {
		path := filepath.Join(dir, name)
		if err != nil {
			return
		}
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = os.WriteFile(path, []byte(content), 0o644)
		}
	}
	write("dbt_project.yml", `name: big
profile: p
vars:
  start_date: '2024-01-01'
models:
  big:
    +materialized: view
    marts:
      +materialized: table
      +tags: ['marts']
`)
	write("profiles.yml", "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: big.duckdb\n      threads: 4\n")
	write("macros/util.sql", `{% macro cents(col) -%}{{ return(adapter.dispatch('cents')(col)) }}{%- endmacro %}
{% macro default__cents(col) -%}({{ col }} / 100.0){%- endmacro %}
{% macro duckdb__cents(col) -%}({{ col }}::decimal(18,2) / 100){%- endmacro %}
{% macro metric_cols(prefix, n) -%}
{%- for i in range(n) %}sum({{ prefix }}_{{ i }}) as {{ prefix }}_{{ i }}_total{% if not loop.last %},{% endif %}
{% endfor -%}
{%- endmacro %}`)
	const perFolder = 100
	nsrc := n / 10
	var src strings.Builder
	src.WriteString("version: 2\nsources:\n  - name: raw\n    schema: \"{{ target.schema }}\"\n    tables:\n")
	for i := 0; i < nsrc; i++ {
		fmt.Fprintf(&src, "      - name: t%d\n", i)
	}
	write("models/sources.yml", src.String())
	for f := 0; f*perFolder < n; f++ {
		layer := "staging"
		switch {
		case f*perFolder >= n*7/10:
			layer = "marts"
		case f*perFolder >= nsrc:
			layer = "intermediate"
		}
		folder := fmt.Sprintf("models/%s/f%03d", layer, f)
		var yml strings.Builder
		yml.WriteString("version: 2\nmodels:\n")
		for j := 0; j < perFolder && f*perFolder+j < n; j++ {
			i := f*perFolder + j
			name := fmt.Sprintf("m%05d", i)
			var sql string
			switch layer {
			case "staging":
				sql = fmt.Sprintf("select id, amount_cents, {{ cents('amount_cents') }} as amount, status, created_at\nfrom {{ source('raw', 't%d') }}\nwhere created_at >= '{{ var(\"start_date\") }}'\n", i%nsrc)
			case "intermediate":
				a, b := (i*7)%i, (i*13)%i
				sql = fmt.Sprintf("{{ config(tags=['int']) }}\n{%% set statuses = ['placed', 'shipped', 'completed', 'returned'] %%}\nwith a as (select * from {{ ref('m%05d') }}),\nb as (select * from {{ ref('m%05d') }})\nselect a.id,\n{%% for s in statuses %%}  sum(case when a.status = '{{ s }}' then a.amount else 0 end) as {{ s }}_amount,\n{%% endfor %%}  count(*) as n\nfrom a join b using (id)\ngroup by a.id\n", a, b)
			default:
				a, b, c := (i*7)%i, (i*11)%i, (i*17)%i
				sql = fmt.Sprintf("{{ config(materialized='table', unique_key='id') }}\nselect x.id, {{ metric_cols('v', 3) }}\nfrom (\n  select id, n as v_0, n as v_1, n as v_2 from {{ ref('m%05d') }}\n  union all select id, n, n, n from {{ ref('m%05d') }}\n  union all select id, n, n, n from {{ ref('m%05d') }}\n) x\ngroup by x.id\n", a, b, c)
			}
			write(filepath.Join(folder, name+".sql"), sql)
			fmt.Fprintf(&yml, "  - name: %s\n    description: model %d\n    columns:\n      - name: id\n        tests: [unique, not_null]\n", name, i)
			if layer == "staging" && j%10 == 0 {
				yml.WriteString("      - name: status\n        tests:\n          - accepted_values:\n              values: ['placed', 'shipped', 'completed', 'returned']\n")
			}
		}
		write(filepath.Join(folder, "schema.yml"), yml.String())
	}
	return err
}
