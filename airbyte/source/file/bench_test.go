package file

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
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

// BenchmarkJSONLRead reads one generated JSONL file through the source
// (checking every line, typing it against the schema, adding the metadata
// columns) and, in the same iteration, decodes every line with
// encoding/json into a map[string]any as the baseline.
func BenchmarkJSONLRead(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rows := 0
	for written := 0; written < 16<<20; rows++ {
		n, _ := fmt.Fprintf(w, `{"id":%d,"customer_id":%d,"amount":%d.%02d,"status":"completed","tags":["a","b"],"placed_at":"2026-01-%02dT10:00:00Z","note":"an order \"with\" quotes"}`+"\n",
			rows, rows%1000, rows%500, rows%100, rows%28+1)
		written += n
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	info, _ := os.Stat(path)
	mb := float64(info.Size()) / 1e6
	src := New()
	cfg := config(b, dir, map[string]any{"name": "bench", "globs": []string{"bench.jsonl"}, "format": map[string]any{"filetype": "jsonl"}})
	cc := discover(b, src, cfg, airbyte.FullRefresh)

	var srcTime, baseTime time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		baseTime += time.Since(start)
		if n != rows {
			b.Fatalf("baseline read %d lines, want %d", n, rows)
		}

		start = time.Now()
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
		if n != rows {
			b.Fatalf("source read %d records, want %d", n, rows)
		}
	}
	iters := float64(b.N)
	b.ReportMetric(float64(rows)*iters/srcTime.Seconds(), "records/s")
	b.ReportMetric(mb*iters/srcTime.Seconds(), "MB/s")
	b.ReportMetric(float64(rows)*iters/baseTime.Seconds(), "encoding_json_records/s")
	b.ReportMetric(baseTime.Seconds()/srcTime.Seconds(), "x_encoding_json")
}
