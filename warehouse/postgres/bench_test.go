package postgres_test

import (
	"context"
	"iter"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/warehouse"
)

// benchRows is the number of rows per load; env DATAOPS_BENCH_ROWS overrides
// it for quick runs.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("DATAOPS_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var benchEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var benchTexts = [...]string{"alpha", "bravo charlie", "delta echo foxtrot golf", "hotel"}

// fillBenchRow writes row i of the benchmark data into row.
func fillBenchRow(row []any, i int) {
	row[0] = int64(i)
	row[1] = benchTexts[i&3]
	row[2] = float64(i) * 0.5
	row[3] = benchEpoch.Add(time.Duration(i) * time.Millisecond)
}

// BenchmarkLoad compares Warehouse.Load with pgx's CopyFrom fed directly,
// both loading the same N rows (bigint, text, double precision, timestamptz)
// into identical tables.
func BenchmarkLoad(b *testing.B) {
	w, schema := testWarehouse(b)
	ctx := context.Background()
	n := benchRows()
	cols := []warehouse.Column{
		{Name: "id", Type: warehouse.Integer},
		{Name: "name", Type: warehouse.String},
		{Name: "score", Type: warehouse.Float},
		{Name: "at", Type: warehouse.TimestampTZ},
	}
	for _, name := range []string{"wh", "pgx"} {
		if err := w.CreateTable(ctx, warehouse.Rel(schema, name), cols, nil); err != nil {
			b.Fatal(err)
		}
	}
	truncate := func(name string) {
		b.StopTimer()
		if _, err := w.Exec(ctx, "TRUNCATE "+w.Dialect().QuoteRelation(warehouse.Rel(schema, name))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}

	b.Run("warehouse", func(b *testing.B) {
		rel := warehouse.Rel(schema, "wh")
		rows := func(yield func([]any, error) bool) {
			row := make([]any, 4)
			for i := range n {
				fillBenchRow(row, i)
				if !yield(row, nil) {
					return
				}
			}
		}
		var timed time.Duration
		loads := 0
		for b.Loop() {
			truncate("wh")
			start := time.Now()
			got, err := w.Load(ctx, rel, nil, iter.Seq2[[]any, error](rows))
			timed += time.Since(start)
			loads++
			if err != nil || got != int64(n) {
				b.Fatalf("loaded %d, %v", got, err)
			}
		}
		b.ReportMetric(float64(n*loads)/timed.Seconds(), "rows/s")
	})

	b.Run("pgx-copy", func(b *testing.B) {
		conn, err := pgx.Connect(ctx, testenv.PostgresURL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		var timed time.Duration
		loads := 0
		for b.Loop() {
			truncate("pgx")
			start := time.Now()
			row := make([]any, 4)
			got, err := conn.CopyFrom(ctx, pgx.Identifier{schema, "pgx"}, []string{"id", "name", "score", "at"},
				pgx.CopyFromSlice(n, func(i int) ([]any, error) {
					fillBenchRow(row, i)
					return row, nil
				}))
			timed += time.Since(start)
			loads++
			if err != nil || got != int64(n) {
				b.Fatalf("copied %d, %v", got, err)
			}
		}
		b.ReportMetric(float64(n*loads)/timed.Seconds(), "rows/s")
	})
}
