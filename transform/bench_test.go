package transform

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dataopskit/dataops/transform/materialize"
	"github.com/dataopskit/dataops/transform/transformtest"
	"github.com/dataopskit/dataops/warehouse"
)

// genProject writes the generated project of transformtest.GenProject.
func genProject(tb testing.TB, dir string, n int) {
	tb.Helper()
	if err := transformtest.GenProject(dir, n); err != nil {
		tb.Fatal(err)
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
