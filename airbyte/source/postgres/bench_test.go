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
	// The source's connections carry an application_name by which the
	// bench finds their server processes.
	app := randName("bench_")
	cfg, err := json.Marshal(map[string]any{"url": db.url + "&application_name=" + app, "schemas": []string{db.schema}})
	if err != nil {
		b.Fatal(err)
	}
	cat := configured(b, discover(b, src, cfg), airbyte.FullRefresh, nil, "wide")
	cols := "id, a, c, d, n, s, f, ts, dt, u"
	var copyPID uint32
	if err := db.conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&copyPID); err != nil {
		b.Fatal(err)
	}
	probe := &serverProbe{db: db, app: app}

	var srcDur, copyDur, typedDur, srcCPU, copyCPU, typedCPU time.Duration
	var srvCopy, srvSrc, srvTyped time.Duration
	serverKnown := true
	var peak uint64
	b.ResetTimer()
	for range b.N {
		// Baseline: binary COPY drained to nothing.
		copyCPU0 := processCPU()
		srv0, ok0 := backendCPU(copyPID)
		start := time.Now()
		tag, err := db.conn.PgConn().CopyTo(context.Background(), io.Discard,
			"COPY (SELECT "+cols+" FROM "+db.rel("wide")+") TO STDOUT (FORMAT binary)")
		if err != nil {
			b.Fatal(err)
		}
		copyDur += time.Since(start)
		copyCPU += processCPU() - copyCPU0
		srv1, ok1 := backendCPU(copyPID)
		srvCopy += srv1 - srv0
		serverKnown = serverKnown && ok0 && ok1
		if tag.RowsAffected() != int64(rows) {
			b.Fatalf("COPY: %d rows", tag.RowsAffected())
		}

		runtime.GC()
		hs := startHeapSampler()
		cpu0 := processCPU()
		start = time.Now()
		probe.reset()
		if n := readCountProbe(b, src, cfg, cat, false, probe); n != rows {
			b.Fatalf("source: %d rows, want %d", n, rows)
		}
		srvSrc += probe.cpu
		serverKnown = serverKnown && probe.ok
		srcDur += time.Since(start)
		srcCPU += processCPU() - cpu0
		peak = max(peak, hs.done())

		// Typed records, decoded into Go values by the consumer as it
		// takes them.
		cpu0 = processCPU()
		start = time.Now()
		probe.reset()
		if n := readCountProbe(b, src, cfg, cat, true, probe); n != rows {
			b.Fatalf("typed source: %d rows, want %d", n, rows)
		}
		srvTyped += probe.cpu
		serverKnown = serverKnown && probe.ok
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
	if serverKnown {
		// CPU time of client and server together: on a machine whose
		// cores are busy with other work, rates follow these more than
		// the wall clock.
		b.ReportMetric(float64(srvCopy.Nanoseconds())/total, "copy-server-cpu-ns/row")
		b.ReportMetric(float64(srvSrc.Nanoseconds())/total, "server-cpu-ns/row")
		b.ReportMetric(float64(srvTyped.Nanoseconds())/total, "typed-server-cpu-ns/row")
		b.ReportMetric(float64(copyCPU+srvCopy)/float64(srcCPU+srvSrc), "cpu-ratio")
		b.ReportMetric(float64(copyCPU+srvCopy)/float64(typedCPU+srvTyped), "typed-cpu-ratio")
	}
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

// backendCPU is the CPU time a local server process has used (from
// /proc); false when it cannot be read (a remote server).
func backendCPU(pid uint32) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// Clock ticks of 10 ms (USER_HZ is 100 on Linux).
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// serverProbe measures the server CPU time of one read: the source's
// connections, found by their application_name once the read runs, and
// read before they close (they are new for each read, so their whole CPU
// time is the read's).
type serverProbe struct {
	db   *testDB
	app  string
	pids []uint32
	cpu  time.Duration
	ok   bool
}

func (p *serverProbe) reset() { p.pids, p.cpu, p.ok = nil, 0, false }

func (p *serverProbe) find(t testing.TB) {
	rows, err := p.db.conn.Query(context.Background(), "SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = $1", p.app)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid uint32
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		p.pids = append(p.pids, pid)
	}
}

func (p *serverProbe) measure() {
	p.ok = len(p.pids) > 0
	for _, pid := range p.pids {
		c, ok := backendCPU(pid)
		p.cpu += c
		p.ok = p.ok && ok
	}
}

// readCount reads cat to its end and counts the records; with typed, it
// asks for typed records and decodes each into Go values.
func readCount(b testing.TB, src *Source, cfg json.RawMessage, cat *airbyte.ConfiguredCatalog, typed bool) int {
	return readCountProbe(b, src, cfg, cat, typed, nil)
}

// readCountProbe is readCount that measures the server's CPU time with p
// (if not nil).
func readCountProbe(b testing.TB, src *Source, cfg json.RawMessage, cat *airbyte.ConfiguredCatalog, typed bool, p *serverProbe) int {
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
			if n == 0 && p != nil {
				p.find(b)
			}
			n++
		}
	}
	if p != nil {
		p.measure()
	}
	return n
}
