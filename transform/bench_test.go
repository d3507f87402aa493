package transform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dataopskit/dataops/transform/materialize"
	"github.com/dataopskit/dataops/warehouse"
)

// genProject writes a dbt project of n models with a realistic mix: a
// staging layer over sources, intermediate and mart models with 1–3 refs,
// config() calls, Jinja loops, project macros (one dispatched) and a
// schema.yml per folder with unique / not_null / accepted_values tests.
func genProject(tb testing.TB, dir string, n int) {
	tb.Helper()
	write := func(name, content string) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
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
}

// BenchmarkParseCompile10k times Load (parse render, configs, DAG) plus
// Compile of every node of a generated 10,000-model project (with ~21,000
// tests), without a warehouse and without writing files.
func BenchmarkParseCompile10k(b *testing.B) {
	dir := b.TempDir()
	genProject(b, dir, 10000)
	ctx := context.Background()
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		p, err := Load(ctx, dir, WithProfilesDir(dir))
		if err != nil {
			b.Fatal(err)
		}
		out, err := p.Compile(ctx, nil, CompileOptions{TargetPath: "-"})
		if err != nil {
			b.Fatal(err)
		}
		if len(out) < 10000 {
			b.Fatalf("compiled %d nodes", len(out))
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user+system CPU time, so figures stay meaningful
// on a machine shared with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuild500 builds 500 trivial table models on DuckDB with 4
// threads ("dataops"), against executing the same compiled statements
// directly as CREATE OR REPLACE TABLE with the same parallelism
// ("direct"); the ratio is reported as dataops/direct. A third variant
// calls materialize.Table for each statement with the same parallelism
// ("materialize"), separating the runner's own overhead (compile,
// scheduling, results) from the materialization's (build aside and swap
// in one transaction).
func BenchmarkBuild500(b *testing.B) {
	const n, threads = 500, 4
	files := map[string]string{
		"dbt_project.yml": "name: proj\nprofile: p\nmodels:\n  proj:\n    +materialized: table\n",
	}
	for i := range n {
		files[fmt.Sprintf("models/t%03d.sql", i)] = fmt.Sprintf("select %d as id, 'x' as v", i)
	}
	dir := writeProject(b, files)
	ctx := context.Background()
	p, w := openProject(b, dir)
	compiled, err := p.Compile(ctx, w, CompileOptions{TargetPath: "-"})
	if err != nil {
		b.Fatal(err)
	}
	var dataops, direct, mat time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res, err := p.Run(ctx, w, RunOptions{Threads: threads, TargetPath: "-"})
		if err != nil || res.Failed() {
			b.Fatalf("run: %v", err)
		}
		dataops += time.Since(start)
		start = time.Now()
		var g errgroup.Group
		g.SetLimit(threads)
		for id, sql := range compiled {
			rel := w.Dialect().QuoteRelation(warehouse.Rel(p.Nodes[id].Schema, p.Nodes[id].Alias+"_direct"))
			g.Go(func() error {
				_, err := w.Exec(ctx, "create or replace table "+rel+" as "+sql)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		direct += time.Since(start)
		start = time.Now()
		g = errgroup.Group{}
		g.SetLimit(threads)
		for id, sql := range compiled {
			rel := warehouse.Rel(p.Nodes[id].Schema, p.Nodes[id].Alias+"_mat")
			g.Go(func() error {
				_, err := materialize.Table(ctx, w, rel, sql, materialize.TableConfig{})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		mat += time.Since(start)
	}
	b.ReportMetric(float64(mat.Milliseconds())/float64(b.N), "materialize-ms/op")
	b.ReportMetric(float64(dataops)/float64(mat), "ratio-vs-materialize")
	b.ReportMetric(float64(dataops.Milliseconds())/float64(b.N), "dataops-ms/op")
	b.ReportMetric(float64(direct.Milliseconds())/float64(b.N), "direct-ms/op")
	b.ReportMetric(float64(dataops)/float64(direct), "ratio")
}
