package postgres

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// benchRowsEnv sets how many rows BenchmarkFullRefresh reads (default 1M;
// 10000000 for the 10M run).
const benchRowsEnv = "DATAOPS_BENCH_ROWS"

// benchNoKeyEnv, when set, drops the table's primary key so that the
// source reads it in ctid ranges instead of key ranges.
const benchNoKeyEnv = "DATAOPS_BENCH_NOKEY"

// heapSampler records the peak HeapInuse while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > h.peak.Load() {
					h.peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	return h
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (h *heapSampler) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

// BenchmarkFullRefresh reads a 10-column table through the source and, in
// the same run, drains COPY (SELECT …) TO STDOUT (FORMAT binary) of the
// same table to io.Discard. It reports both rates, their ratio (goal
// >= 0.7), the source's peak HeapInuse (its GC ballast included) and the
// process's peak RSS; and the same read with typed
// records decoded by the consumer (typed-rows/s, typed-ratio).
func BenchmarkFullRefresh(b *testing.B) {
	rows := 1000000
	if s := os.Getenv(benchRowsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q is not a positive row count", benchRowsEnv, s)
		}
		rows = n
	}
	db := newTestDB(b)
	db.exec(b, "CREATE TABLE "+db.rel("wide")+` (
		id bigint PRIMARY KEY, a integer, c bigint, d double precision, n numeric(12,2),
		s text, f boolean, ts timestamptz, dt date, u uuid)`)
	db.exec(b, "INSERT INTO "+db.rel("wide")+` SELECT i, i % 1000, i * 31, i / 7.0, (i % 100000) / 100.0,
		md5(i::text), i % 2 = 0, '2024-01-01'::timestamptz + i * interval '1 second',
		'2000-01-01'::date + (i % 10000), md5(i::text)::uuid FROM generate_series(1, $1) i`, rows)
	if os.Getenv(benchNoKeyEnv) != "" {
		db.exec(b, "ALTER TABLE "+db.rel("wide")+" DROP CONSTRAINT wide_pkey")
	}
	db.exec(b, "VACUUM ANALYZE "+db.rel("wide"))
	src := New()
	cfg := db.config(b, nil)
	cat := configured(b, discover(b, src, cfg), airbyte.FullRefresh, nil, "wide")
	cols := "id, a, c, d, n, s, f, ts, dt, u"

	var srcDur, copyDur, typedDur, srcCPU, copyCPU, typedCPU time.Duration
	var peak uint64
	b.ResetTimer()
	for range b.N {
		// Baseline: binary COPY drained to nothing.
		copyCPU0 := processCPU()
		start := time.Now()
		tag, err := db.conn.PgConn().CopyTo(context.Background(), io.Discard,
			"COPY (SELECT "+cols+" FROM "+db.rel("wide")+") TO STDOUT (FORMAT binary)")
		if err != nil {
			b.Fatal(err)
		}
		copyDur += time.Since(start)
		copyCPU += processCPU() - copyCPU0
		if tag.RowsAffected() != int64(rows) {
			b.Fatalf("COPY: %d rows", tag.RowsAffected())
		}

		runtime.GC()
		hs := startHeapSampler()
		cpu0 := processCPU()
		start = time.Now()
		if n := readCount(b, src, cfg, cat, false); n != rows {
			b.Fatalf("source: %d rows, want %d", n, rows)
		}
		srcDur += time.Since(start)
		srcCPU += processCPU() - cpu0
		peak = max(peak, hs.done())

		// Typed records, decoded into Go values by the consumer as it
		// takes them.
		cpu0 = processCPU()
		start = time.Now()
		if n := readCount(b, src, cfg, cat, true); n != rows {
			b.Fatalf("typed source: %d rows, want %d", n, rows)
		}
		typedDur += time.Since(start)
		typedCPU += processCPU() - cpu0
	}
	b.StopTimer()
	total := float64(rows) * float64(b.N)
	srcRate := total / srcDur.Seconds()
	copyRate := total / copyDur.Seconds()
	typedRate := total / typedDur.Seconds()
	b.ReportMetric(srcRate, "source-rows/s")
	b.ReportMetric(copyRate, "copy-rows/s")
	b.ReportMetric(srcRate/copyRate, "ratio")
	b.ReportMetric(typedRate, "typed-rows/s")
	b.ReportMetric(typedRate/copyRate, "typed-ratio")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(srcCPU.Nanoseconds())/total, "client-cpu-ns/row")
	b.ReportMetric(float64(typedCPU.Nanoseconds())/total, "typed-client-cpu-ns/row")
	b.ReportMetric(float64(copyCPU.Nanoseconds())/total, "copy-client-cpu-ns/row")
}

// peakRSS is the process's peak resident set size (VmHWM), 0 if unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// readCount reads cat to its end and counts the records; with typed, it
// asks for typed records and decodes each into Go values.
func readCount(b testing.TB, src *Source, cfg json.RawMessage, cat *airbyte.ConfiguredCatalog, typed bool) int {
	rs, err := src.Read(context.Background(), cfg, cat, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Close()
	if typed && !airbyte.EnableTypedRecords(rs) {
		b.Fatal("no typed records")
	}
	n := 0
	var vals []any
	for m, err := range rs.Messages() {
		if err != nil {
			b.Fatal(err)
		}
		if m.Type == airbyte.TypeRecord {
			if v := m.Record.Values; v != nil {
				vals = v.AppendValues(vals[:0])
			}
			n++
		}
	}
	return n
}
