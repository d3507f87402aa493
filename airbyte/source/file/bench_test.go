package file

import (
	"bufio"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// BenchmarkCSVRead reads one generated CSV file (8 columns of integers,
// numbers, booleans, timestamps, dates and quoted strings) through the
// source — parsing, typing and encoding every record as JSON — and, in the
// same iteration, with encoding/csv into nothing as the baseline. It reports
// both throughputs (wall clock) and their ratio, and the ratio of the CPU
// time each used (x_encoding_csv_cpu), which a busy machine disturbs less.
func BenchmarkCSVRead(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.csv")
	rows := writeBigCSV(b, path, 16<<20)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	mb := float64(info.Size()) / 1e6
	src := New()
	cfg := config(b, dir, map[string]any{"name": "bench", "globs": []string{"bench.csv"}, "format": map[string]any{"filetype": "csv"}})
	cc := discover(b, src, cfg, airbyte.FullRefresh)

	var srcTime, baseTime, srcCPU, baseCPU time.Duration
	b.ResetTimer()
	for range b.N {
		start, cpu := time.Now(), cpuTime()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
		r.ReuseRecord = true
		n := -1 // the header
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		baseTime += time.Since(start)
		baseCPU += cpuTime() - cpu
		if n != rows {
			b.Fatalf("encoding/csv read %d rows, want %d", n, rows)
		}

		start, cpu = time.Now(), cpuTime()
		rs, err := src.Read(b.Context(), cfg, cc, nil)
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		for m, err := range rs.Messages() {
			if err != nil {
				b.Fatal(err)
			}
			if m.Type == airbyte.TypeRecord {
				n++
			}
		}
		rs.Close()
		srcTime += time.Since(start)
		srcCPU += cpuTime() - cpu
		if n != rows {
			b.Fatalf("source read %d records, want %d", n, rows)
		}
	}
	iters := float64(b.N)
	b.ReportMetric(float64(rows)*iters/srcTime.Seconds(), "records/s")
	b.ReportMetric(mb*iters/srcTime.Seconds(), "MB/s")
	b.ReportMetric(float64(rows)*iters/baseTime.Seconds(), "encoding_csv_records/s")
	b.ReportMetric(mb*iters/baseTime.Seconds(), "encoding_csv_MB/s")
	b.ReportMetric(baseTime.Seconds()/srcTime.Seconds(), "x_encoding_csv")
	if srcCPU > 0 {
		b.ReportMetric(baseCPU.Seconds()/srcCPU.Seconds(), "x_encoding_csv_cpu")
	}
}
