package duckdb_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

// BenchmarkCommit measures what a commit costs on a database file (WAL
// write and fsync, and DuckDB's automatic checkpoints): each iteration
// loads rows rows of the 10-column shape in a transaction, plus one state
// row in a second table as staging does, and commits. It reports the
// commit alone (commit-ms) next to the load (load-ms), per transaction;
// the 250,000-row case runs through the appender too.
//
//	go test -run '^$' -bench BenchmarkCommit -benchtime 20x ./warehouse/duckdb/
func BenchmarkCommit(b *testing.B) {
	shape := loadShapes[1]
	for _, bc := range []struct {
		rows     int
		appender bool
	}{{0, false}, {1, false}, {10_000, false}, {250_000, false}, {250_000, true}} {
		name := "rows=" + strconv.Itoa(bc.rows)
		if bc.appender {
			name += "/appender"
		}
		rows := bc.rows
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			w := open(b, "duckdb:"+filepath.Join(b.TempDir(), "commit.db"))
			defer w.Close()
			duckdb.SetAppenderOnly(w.Engine().(*duckdb.Engine), bc.appender)
			data, state := warehouse.Rel("", "data"), warehouse.Rel("", "state")
			if err := w.CreateTable(ctx, data, shape.cols, nil); err != nil {
				b.Fatal(err)
			}
			if err := w.CreateTable(ctx, state, []warehouse.Column{col("k", warehouse.String), col("v", warehouse.String)}, nil); err != nil {
				b.Fatal(err)
			}
			var commit, load time.Duration
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				tx, err := w.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if rows > 0 {
					if _, err := tx.Load(ctx, data, nil, shape.rows(rows)); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := tx.Load(ctx, state, nil, rowsOf([]any{"cursor", strconv.Itoa(i)})); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				commit += time.Since(mid)
				load += mid.Sub(start)
			}
			b.ReportMetric(float64(commit.Microseconds())/1000/float64(b.N), "commit-ms")
			b.ReportMetric(float64(load.Microseconds())/1000/float64(b.N), "load-ms")
		})
	}
}
