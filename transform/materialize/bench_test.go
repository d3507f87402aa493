package materialize

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// writeBenchCSV writes rows of (id, name, amount, day, flag) to a file.
func writeBenchCSV(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,name,amount,day,flag")
	for i := range rows {
		fmt.Fprintf(w, "%d,customer %d,%d.%02d,2024-%02d-%02d,%t\n", i, i%5000, i%1000, i%100, i%12+1, i%28+1, i%3 == 0)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// peakHeap samples the live heap until stop is closed and returns its peak.
func peakHeap(stop <-chan struct{}) func() uint64 {
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { <-done; mu.Lock(); defer mu.Unlock(); return peak }
}

// BenchmarkSeed loads a 1M-row CSV with Seed (two streaming passes: dbt's
// type inference, then the DuckDB appender) and, as the baseline in the same
// process, with DuckDB's own read_csv into a table; the combined
// sub-benchmark reports seed time over read_csv time.
func BenchmarkSeed(b *testing.B) {
	ctx := context.Background()
	const rows = 1_000_000
	path := writeBenchCSV(b, rows)
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	seed := func() time.Duration {
		start := time.Now()
		res, err := Seed(ctx, w, warehouse.Rel("main", "seeded"), path, SeedConfig{FullRefresh: true})
		if err != nil || res.RowsAffected != rows {
			b.Fatal(res, err)
		}
		return time.Since(start)
	}
	readCSV := func() time.Duration {
		start := time.Now()
		if _, err := w.Exec(ctx, "CREATE OR REPLACE TABLE main.read_csv AS SELECT * FROM read_csv("+Literal(path)+")"); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	b.Run("seed", func(b *testing.B) {
		stop := make(chan struct{})
		peak := peakHeap(stop)
		for b.Loop() {
			seed()
		}
		close(stop)
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
	})
	b.Run("read_csv", func(b *testing.B) {
		for b.Loop() {
			readCSV()
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("ratio", func(b *testing.B) {
		var s, r time.Duration
		for b.Loop() {
			s += seed()
			r += readCSV()
		}
		b.ReportMetric(float64(s)/float64(r), "seed/read_csv")
	})
}

// BenchmarkTableOverhead compares Table (schema check, scratch build, swap
// in one transaction) with executing CREATE OR REPLACE TABLE … AS directly,
// on DuckDB, for queries of 1, 10,000 and 1,000,000 rows in a schema that
// holds 500 other tables (as a project's does); each ratio sub-benchmark
// reports Table time over direct time.
func BenchmarkTableOverhead(b *testing.B) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	for i := range 500 {
		if _, err := w.Exec(ctx, fmt.Sprintf("CREATE TABLE main.other%03d AS SELECT 1 AS x", i)); err != nil {
			b.Fatal(err)
		}
	}
	for _, rows := range []int{1, 10_000, 1_000_000} {
		query := fmt.Sprintf("select i as id, i %% 7 as bucket, 'row ' || i as label from range(%d) t(i)", rows)
		table := func() time.Duration {
			start := time.Now()
			if _, err := Table(ctx, w, warehouse.Rel("main", "via_table"), query, TableConfig{}); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		direct := func() time.Duration {
			start := time.Now()
			if _, err := w.Exec(ctx, "CREATE OR REPLACE TABLE main.direct AS "+query); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		b.Run(fmt.Sprintf("rows=%d/table", rows), func(b *testing.B) {
			for b.Loop() {
				table()
			}
		})
		b.Run(fmt.Sprintf("rows=%d/direct", rows), func(b *testing.B) {
			for b.Loop() {
				direct()
			}
		})
		b.Run(fmt.Sprintf("rows=%d/ratio", rows), func(b *testing.B) {
			var t, d time.Duration
			for b.Loop() {
				t += table()
				d += direct()
			}
			b.ReportMetric(float64(t)/float64(d), "table/direct")
		})
	}
}
