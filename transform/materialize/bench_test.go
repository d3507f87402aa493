package materialize

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// cpuTime is the process's user+system CPU time, which stays meaningful on
// a machine shared with other work (DuckDB's own threads included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timed runs fn and returns its wall and CPU time.
func timed(fn func()) (wall, cpu time.Duration) {
	c, start := cpuTime(), time.Now()
	fn()
	return time.Since(start), cpuTime() - c
}

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
	seed := func() {
		res, err := Seed(ctx, w, warehouse.Rel("main", "seeded"), path, SeedConfig{FullRefresh: true})
		if err != nil || res.RowsAffected != rows {
			b.Fatal(res, err)
		}
	}
	readCSV := func() {
		if _, err := w.Exec(ctx, "CREATE OR REPLACE TABLE main.read_csv AS SELECT * FROM read_csv("+Literal(path)+")"); err != nil {
			b.Fatal(err)
		}
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
		var sw, sc, rw, rc time.Duration
		for b.Loop() {
			w1, c1 := timed(seed)
			w2, c2 := timed(readCSV)
			sw, sc, rw, rc = sw+w1, sc+c1, rw+w2, rc+c2
		}
		n := float64(b.N)
		b.ReportMetric(sw.Seconds()/n, "seed-wall-s/op")
		b.ReportMetric(sc.Seconds()/n, "seed-cpu-s/op")
		b.ReportMetric(rw.Seconds()/n, "read_csv-wall-s/op")
		b.ReportMetric(rc.Seconds()/n, "read_csv-cpu-s/op")
		b.ReportMetric(float64(sw)/float64(rw), "wall-seed/read_csv")
		b.ReportMetric(float64(sc)/float64(rc), "cpu-seed/read_csv")
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
		table := func() {
			if _, err := Table(ctx, w, warehouse.Rel("main", "via_table"), query, TableConfig{}); err != nil {
				b.Fatal(err)
			}
		}
		direct := func() {
			if _, err := w.Exec(ctx, "CREATE OR REPLACE TABLE main.direct AS "+query); err != nil {
				b.Fatal(err)
			}
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
			var tw, tc, dw, dc time.Duration
			for b.Loop() {
				w1, c1 := timed(table)
				w2, c2 := timed(direct)
				tw, tc, dw, dc = tw+w1, tc+c1, dw+w2, dc+c2
			}
			b.ReportMetric(float64(tw)/float64(dw), "wall-table/direct")
			b.ReportMetric(float64(tc)/float64(dc), "cpu-table/direct")
		})
	}
}
