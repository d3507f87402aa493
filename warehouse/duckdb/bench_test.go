package duckdb_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// benchRows is the row count of BenchmarkLoad.
const benchRows = 1_000_000

var benchCols = []warehouse.Column{
	{Name: "id", Type: warehouse.Integer},
	{Name: "name", Type: warehouse.String, Nullable: true},
	{Name: "amount", Type: warehouse.Float, Nullable: true},
	{Name: "created_at", Type: warehouse.Timestamp, Nullable: true},
}

// benchSource generates n rows without holding them, reusing its row slice.
func benchSource(n int) func(func([]any, error) bool) {
	return func(yield func([]any, error) bool) {
		row := make([]any, 4)
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			row[0] = int64(i)
			row[1] = "name-" + strconv.Itoa(i)
			row[2] = float64(i) * 0.25
			row[3] = base.Add(time.Duration(i) * time.Microsecond)
			if !yield(row, nil) {
				return
			}
		}
	}
}

// BenchmarkLoad compares Warehouse.Load of 1,000,000 generated rows (int64,
// string, float64, timestamp) with DuckDB's own bulk paths on the same rows:
// COPY FROM a Parquet file and from a CSV file, written beforehand. Each
// reports rows/s.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	w := open(b, "duckdb:")
	defer w.Close()
	dir := b.TempDir()
	parquet, csv := filepath.Join(dir, "rows.parquet"), filepath.Join(dir, "rows.csv")

	// The files hold exactly the rows the iterator makes.
	src := warehouse.Rel("", "src")
	if err := w.CreateTable(ctx, src, benchCols, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Load(ctx, src, nil, benchSource(benchRows)); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		"COPY src TO '" + parquet + "' (FORMAT parquet)",
		"COPY src TO '" + csv + "' (FORMAT csv, HEADER true)",
		"DROP TABLE src",
	} {
		if _, err := w.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}

	run := func(b *testing.B, load func(rel warehouse.Relation) error) {
		rel := warehouse.Rel("", "t")
		var elapsed time.Duration
		for b.Loop() {
			b.StopTimer()
			if err := w.Drop(ctx, rel); err != nil {
				b.Fatal(err)
			}
			if err := w.CreateTable(ctx, rel, benchCols, nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			if err := load(rel); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
		}
		var n int64
		if err := w.Get(ctx, &n, "SELECT count(*) FROM t"); err != nil || n != benchRows {
			b.Fatalf("loaded %d rows (%v), want %d", n, err, benchRows)
		}
		b.ReportMetric(float64(int64(b.N)*benchRows)/elapsed.Seconds(), "rows/s")
	}
	b.Run("warehouse", func(b *testing.B) {
		run(b, func(rel warehouse.Relation) error {
			_, err := w.Load(ctx, rel, nil, benchSource(benchRows))
			return err
		})
	})
	b.Run("native-parquet", func(b *testing.B) {
		run(b, func(rel warehouse.Relation) error {
			_, err := w.Exec(ctx, "COPY t FROM '"+parquet+"' (FORMAT parquet)")
			return err
		})
	})
	b.Run("native-csv", func(b *testing.B) {
		run(b, func(rel warehouse.Relation) error {
			_, err := w.Exec(ctx, "INSERT INTO t SELECT * FROM read_csv('"+csv+"', header = true, columns = {'id': 'BIGINT', 'name': 'VARCHAR', 'amount': 'DOUBLE', 'created_at': 'TIMESTAMP'})")
			return err
		})
	})
}
