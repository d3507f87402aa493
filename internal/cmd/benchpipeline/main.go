// Benchpipeline times the whole extract-and-stage pipeline — the native
// PostgreSQL source read by full refresh and landed exactly once in an
// embedded DuckDB file — against the physical baselines in the same run:
//
//   - drain: COPY (SELECT …) TO STDOUT (FORMAT binary) from PostgreSQL,
//     read to nothing: the fastest the rows can leave the server;
//   - native: DuckDB loading the same rows from a local Parquet file with
//     its own reader: the fastest they can land.
//
// The goal is pipeline ≤ 1.25 × max(drain, native). It prints the peak RSS
// of the process too (Linux VmHWM), and the pipeline's CPU time: on a
// shared machine wall times swing with the load, CPU time much less. The
// PostgreSQL backends' CPU is read from /proc (see pgcpu.go) for the drain
// and for the pipeline, and with it the floor the machine's cores set:
// wall time ≥ (this process's CPU + the backends') / cores. Usage:
//
//	go run ./internal/cmd/benchpipeline -rows 1000000
//	go run ./internal/cmd/benchpipeline -rows 10000000 -pg postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	go run ./internal/cmd/benchpipeline -jsonl 500000   # the JSONL connector path
//
// Where the time goes: -cpuprofile, -trace (go tool trace; note that
// tracing slows DuckDB's callbacks into Go a lot), -memprofile (the heap
// at half the rows), -perf-ctl (perf record of the pipeline alone, DuckDB's
// C++ included).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataopskit/dataops/airbyte/source/postgres"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "native" {
		if err := nativeLoad(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "benchpipeline native:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) >= 3 && os.Args[1] == "connector" {
		if err := connector(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "benchpipeline connector:", err)
			os.Exit(1)
		}
		return
	}
	rows := flag.Int("rows", 1_000_000, "rows of the 10-column source table")
	pgURL := flag.String("pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL")
	dir := flag.String("dir", "", "work directory (default: a new temporary directory)")
	memLimit := flag.String("duckdb-memory", "64MB", "DuckDB memory_limit for the pipeline's warehouse (staging's documented policy for loads on several threads: see the staging package's Memory section; 32MB with -duckdb-opts without preserve_insertion_order=false is its one-thread policy)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the pipeline to this file")
	traceFile := flag.String("trace", "", "write an execution trace of the whole run to this file (go tool trace)")
	flag.StringVar(&memProfile, "memprofile", "", "write a heap profile of the pipeline, taken at the first commit past half the rows, to this file")
	flag.StringVar(&allocatorOpts, "duckdb-opts", "&preserve_insertion_order=false&allocator_background_threads=true&dataops_release_memory=true", "extra DuckDB settings appended to the warehouse URL (staging's documented policy by default), e.g. &allocator_flush_threshold=16MB")
	flag.IntVar(&batchRows, "batch-rows", 0, "staging.Options.BatchRows (0: the default)")
	flag.IntVar(&commitRows, "commit-rows", 0, "staging.Options.CommitRows (0: the default)")
	flag.IntVar(&gcBallast, "gc-ballast", -1, "the PostgreSQL source's GC ballast in bytes (-1: the source's default)")
	perfFIFO := flag.String("perf-ctl", "", "perf record's control FIFO: the pipeline alone is profiled by\n\tmkfifo /tmp/ctl; perf record -D -1 --control fifo:/tmp/ctl -g -- benchpipeline -perf-ctl /tmp/ctl")
	memRate := flag.Int("memprofile-rate", 0, "runtime.MemProfileRate for -memprofile (0: Go's default, one sample per 512 KiB)")
	flag.BoolVar(&pipelineOnly, "pipeline-only", false, "run the pipeline alone, without the baselines (for memory experiments)")
	flag.BoolVar(&rssTrace, "rss-trace", false, "print the RSS at each commit of the pipeline on stderr")
	jsonl := flag.Int("jsonl", 0, "instead: stage this many records from a JSONL connector process (this program) into DuckDB")
	flag.Parse()
	if *memRate > 0 {
		runtime.MemProfileRate = *memRate
	}
	if *perfFIFO != "" {
		f, err := os.OpenFile(*perfFIFO, os.O_WRONLY, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchpipeline:", err)
			os.Exit(1)
		}
		perfCtl = f
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchpipeline:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchpipeline:", err)
			os.Exit(1)
		}
		_ = trace.Start(f)
		defer trace.Stop()
	}
	run := func(ctx context.Context) error { return run(ctx, *pgURL, *rows, *dir, *memLimit) }
	if *jsonl > 0 {
		run = func(ctx context.Context) error {
			d, err := os.MkdirTemp(*dir, "benchpipeline-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(d)
			return runJSONL(ctx, *jsonl, d, *memLimit)
		}
	}
	if err := run(context.Background()); err != nil {
		pprof.StopCPUProfile()
		trace.Stop()
		fmt.Fprintln(os.Stderr, "benchpipeline:", err)
		os.Exit(1)
	}
}

const schema = "bench_pipeline"

var batchRows, commitRows int

// gcBallast is the source's GC ballast (-gc-ballast), or -1.
var gcBallast int

// memProfile is where -memprofile writes the heap profile.
var memProfile string

// heapProfileAt returns an OnProgress hook that writes the heap profile to
// memProfile once at least rows records are staged, or nil.
func heapProfileAt(rows int64) func(*staging.Result) {
	if memProfile == "" {
		return nil
	}
	done := false
	return func(r *staging.Result) {
		var n int64
		for _, s := range r.Streams {
			n += s.Records
		}
		if done || n < rows {
			return
		}
		done = true
		f, err := os.Create(memProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchpipeline:", err)
			return
		}
		defer f.Close()
		runtime.GC() // the profile then covers the allocations up to now
		_ = pprof.Lookup("heap").WriteTo(f, 0)
	}
}

// pipelineOnly is -pipeline-only.
var pipelineOnly bool

// rssTrace is -rss-trace: print the RSS at each commit.
var rssTrace bool

// progress returns the OnProgress hook: next, and with -rss-trace a line
// per commit on stderr with the rows staged and the RSS then.
func progress(ctx context.Context, w *warehouse.Warehouse, next func(*staging.Result), start time.Time) func(*staging.Result) {
	if !rssTrace {
		return next
	}
	return func(r *staging.Result) {
		var n int64
		for _, s := range r.Streams {
			n += s.Records
		}
		fmt.Fprintf(os.Stderr, "commit %6.2fs %9d rows  RSS %d MiB  peak %d MiB  duckdb %s\n", time.Since(start).Seconds(), n, procStatus("VmRSS")>>20, procStatus("VmHWM")>>20, duckdbMemory(ctx, w))
		if next != nil {
			next(r)
		}
	}
}

// traceRSS, with -rss-trace, prints every change of the RSS by 4 MiB or
// more (sampled every 10 ms) on stderr until the returned function is
// called.
func traceRSS(start time.Time) func() {
	if !rssTrace {
		return func() {}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var last int64
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if r := procStatus("VmRSS") >> 20; r-last >= 4 || last-r >= 4 {
				fmt.Fprintf(os.Stderr, "rss    %6.2fs %d MiB\n", time.Since(start).Seconds(), r)
				last = r
			}
		}
	}()
	return func() {
		close(stop)
		<-done
	}
}

// allocatorOpts are extra DuckDB settings for the pipeline's warehouse
// (-duckdb-opts), e.g. "&allocator_flush_threshold=16MB".
var allocatorOpts string

// goRSS is the most memory the Go runtime held from the OS (Sys minus
// released heap) while sampleHeap ran.
var goRSS uint64

func run(ctx context.Context, pgURL string, rows int, dir, memLimit string) error {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "benchpipeline-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	table := fmt.Sprintf("t%d", rows)
	if err := prepareSource(ctx, pgURL, table, rows); err != nil {
		return err
	}

	// Baseline 1: drain binary COPY.
	cpu0 := cpuTime()
	var drain, drainBackend time.Duration
	if !pipelineOnly {
		var err error
		if drain, drainBackend, err = timeDrain(ctx, pgURL, table); err != nil {
			return err
		}
	}
	drainCPU := cpuTime() - cpu0

	// The pipeline: native source → staging → DuckDB.
	dbPath := filepath.Join(dir, "wh.duckdb")
	w, err := warehouse.Open(ctx, "duckdb:"+dbPath+"?memory_limit="+memLimit+allocatorOpts)
	if err != nil {
		return err
	}
	srcURL, err := withAppName(pgURL, sourceAppName)
	if err != nil {
		return err
	}
	cfg, _ := json.Marshal(map[string]any{"url": srcURL, "schemas": []string{schema}})
	backends, backendErr := watchBackends(ctx, pgURL, sourceAppName)
	rssBefore := procStatus("VmRSS")
	heap := sampleHeap()
	perfControl("enable")
	cpu0 = cpuTime()
	start := time.Now()
	stopRSS := traceRSS(start)
	var srcOpts []postgres.Option
	if gcBallast >= 0 {
		srcOpts = append(srcOpts, postgres.WithGCBallast(gcBallast))
	}
	res, err := staging.Sync(ctx, postgres.New(srcOpts...), w, staging.SyncOptions{
		Config:  cfg,
		Streams: []string{schema + "." + table},
		Options: staging.Options{Schema: "raw", BatchRows: batchRows, CommitRows: commitRows, Logger: slog.New(slog.DiscardHandler),
			OnProgress: progress(ctx, w, heapProfileAt(int64(rows/2)), start)},
	})
	if err != nil {
		w.Close()
		return err
	}
	pipeline := time.Since(start)
	pipelineCPU := cpuTime() - cpu0
	stopRSS()
	perfControl("disable")
	var pipelineBackend time.Duration
	var nBackends int
	if backendErr == nil {
		pipelineBackend, nBackends, backendErr = backends.total()
	}
	staged := res.Streams[0].Records
	rss := peakRSS()
	goHeap := heap()
	duckMem := duckdbMemory(ctx, w)
	if pipelineOnly {
		fmt.Printf("pipeline             %8.2fs  %10.0f rows/s  (CPU %.2fs)\n", pipeline.Seconds(), float64(rows)/pipeline.Seconds(), pipelineCPU.Seconds())
		fmt.Printf("peak RSS             %d MiB (Go heap in use at most %d MiB, Go runtime at most %d MiB; RSS before the pipeline %d MiB)\n", rss>>20, goHeap>>20, goRSS>>20, rssBefore>>20)
		return w.Close()
	}

	// The pipeline's warehouse closes with a checkpoint: timed apart.
	parquet := filepath.Join(dir, "rows.parquet")
	d := w.Dialect()
	src := d.QuoteRelation(warehouse.Rel("raw", table))
	if _, err := w.Exec(ctx, "COPY (SELECT * EXCLUDE (_airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta, _airbyte_generation_id) FROM "+src+") TO '"+strings.ReplaceAll(parquet, "'", "''")+"' (FORMAT parquet)"); err != nil {
		w.Close()
		return err
	}
	cpu0 = cpuTime()
	start = time.Now()
	if err := w.Close(); err != nil {
		return err
	}
	closeWall, closeCPU := time.Since(start), cpuTime()-cpu0

	// Baseline 2: DuckDB loading the same rows from Parquet natively, into
	// a database file of its own with DuckDB's default memory limit (the
	// pipeline's limit would make it spill, a slower baseline), in a child
	// process: the pipeline's warehouse may have changed process-wide
	// allocator settings (dataops_release_memory), which are not DuckDB's.
	native, nativeCPU, err := timeNative(ctx, parquet, filepath.Join(dir, "native.duckdb"))
	if err != nil {
		return err
	}

	base := max(drain, native)
	fmt.Printf("rows                 %d (staged %d)\n", rows, staged)
	fmt.Printf("drain binary COPY    %8.2fs  %10.0f rows/s\n", drain.Seconds(), float64(rows)/drain.Seconds())
	fmt.Printf("duckdb from parquet  %8.2fs  %10.0f rows/s  (CPU %.2fs)\n", native.Seconds(), float64(rows)/native.Seconds(), nativeCPU.Seconds())
	fmt.Printf("pipeline             %8.2fs  %10.0f rows/s\n", pipeline.Seconds(), float64(rows)/pipeline.Seconds())
	fmt.Printf("pipeline CPU         %8.2fs  (user+sys of this process)\n", pipelineCPU.Seconds())
	ncpu := runtime.NumCPU()
	switch {
	case backendErr != nil:
		fmt.Printf("backend CPU          not measured: %v\n", backendErr)
	case drainBackend < 0:
		fmt.Printf("backend CPU          not measured: the drain's backend is not readable in /proc\n")
	default:
		// The floor: both ends share the machine's cores.
		dt, pt := drainCPU+drainBackend, pipelineCPU+pipelineBackend
		fmt.Printf("drain CPU            %8.2fs  (this process %.2fs + PostgreSQL backend %.2fs; floor on %d cores %.2fs)\n",
			dt.Seconds(), drainCPU.Seconds(), drainBackend.Seconds(), ncpu, dt.Seconds()/float64(ncpu))
		fmt.Printf("pipeline total CPU   %8.2fs  (this process %.2fs + PostgreSQL backends %.2fs [%d]; floor on %d cores %.2fs = %.2f × max(baselines))\n",
			pt.Seconds(), pipelineCPU.Seconds(), pipelineBackend.Seconds(), nBackends, ncpu, pt.Seconds()/float64(ncpu), pt.Seconds()/float64(ncpu)/base.Seconds())
	}
	fmt.Printf("pipeline / max(baselines) = %.2f (goal ≤ 1.25)\n", pipeline.Seconds()/base.Seconds())
	fmt.Printf("close (checkpoint)   %8.2fs  (CPU %.2fs; not in the pipeline's figures)\n", closeWall.Seconds(), closeCPU.Seconds())
	fmt.Printf("peak RSS             %d MiB (Go heap in use at most %d MiB, Go runtime at most %d MiB; RSS before the pipeline %d MiB)\n", rss>>20, goHeap>>20, goRSS>>20, rssBefore>>20)
	fmt.Printf("duckdb memory        %s\n", duckMem)
	if staged != int64(rows) {
		return fmt.Errorf("staged %d rows, want %d", staged, rows)
	}
	return nil
}

// prepareSource creates the 10-column table with rows rows, once.
func prepareSource(ctx context.Context, pgURL, table string, rows int) error {
	w, err := warehouse.Open(ctx, pgURL)
	if err != nil {
		return err
	}
	defer w.Close()
	rel := warehouse.Rel(schema, table)
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(rel)); err == nil && n == int64(rows) {
		return nil
	}
	if err := w.CreateSchema(ctx, schema); err != nil {
		return err
	}
	if err := w.Drop(ctx, rel); err != nil {
		return err
	}
	q := w.Dialect().QuoteRelation(rel)
	_, err = w.Exec(ctx, `CREATE TABLE `+q+` AS SELECT
		i::bigint AS id, (i % 997)::int AS customer_id,
		(ARRAY['placed','shipped','completed','returned'])[1 + i % 4] AS status,
		(i % 100000)::numeric(12,2) / 100 AS amount, (i % 7)::int AS quantity,
		timestamptz '2024-01-01' + i * interval '1 second' AS created_at,
		timestamptz '2024-06-01' + i * interval '1 second' AS updated_at,
		'note ' || i AS note, i % 2 = 0 AS flag, i * 0.5::float8 AS score
		FROM generate_series(1, $1::bigint) AS s(i)`, rows)
	if err != nil {
		return err
	}
	_, err = w.Exec(ctx, "ALTER TABLE "+q+" ADD PRIMARY KEY (id)")
	return err
}

// timeNative runs "benchpipeline native parquet db" and returns the wall
// and CPU time of its load.
func timeNative(ctx context.Context, parquet, db string) (time.Duration, time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	out, err := exec.CommandContext(ctx, self, "native", parquet, db).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("native load: %w", err)
	}
	var wall, cpu int64
	if _, err := fmt.Sscanf(string(out), "%d %d", &wall, &cpu); err != nil {
		return 0, 0, fmt.Errorf("native load: output %q: %w", out, err)
	}
	return time.Duration(wall), time.Duration(cpu), nil
}

// nativeLoad is the child process of timeNative: it loads parquet into a
// new table of the database file db and prints the load's wall and CPU
// nanoseconds.
func nativeLoad(parquet, db string) error {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:"+db)
	if err != nil {
		return err
	}
	defer w.Close()
	cpu0 := cpuTime()
	start := time.Now()
	if _, err := w.Exec(ctx, "CREATE TABLE native_copy AS SELECT * FROM read_parquet('"+strings.ReplaceAll(parquet, "'", "''")+"')"); err != nil {
		return err
	}
	fmt.Println(int64(time.Since(start)), int64(cpuTime()-cpu0))
	return nil
}

// timeDrain times the binary COPY of table to nothing, and returns the CPU
// its PostgreSQL backend used (-1 when /proc does not show the backend).
func timeDrain(ctx context.Context, pgURL, table string) (time.Duration, time.Duration, error) {
	conn, err := pgconn.Connect(ctx, pgURL)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	b0, berr := procCPU(conn.PID())
	start := time.Now()
	_, err = conn.CopyTo(ctx, io.Discard, `COPY (SELECT * FROM "`+schema+`"."`+table+`") TO STDOUT (FORMAT binary)`)
	d := time.Since(start)
	b1, berr1 := procCPU(conn.PID())
	if berr != nil || berr1 != nil {
		return d, -1, err
	}
	return d, b1 - b0, err
}

// perfCtl is perf record's control FIFO (-perf-ctl), or nil.
var perfCtl *os.File

// perfControl sends cmd ("enable", "disable") to perf record's control
// FIFO, so that a profile covers the pipeline alone.
func perfControl(cmd string) {
	if perfCtl != nil {
		_, _ = perfCtl.WriteString(cmd + "\n")
	}
}

// duckdbMemory reports what DuckDB's buffer manager holds, by tag.
func duckdbMemory(ctx context.Context, w *warehouse.Warehouse) string {
	var rows []struct {
		Tag   string `db:"tag"`
		Bytes int64  `db:"memory_usage_bytes"`
	}
	if err := w.Select(ctx, &rows, "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY 2 DESC"); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %d MiB; ", r.Tag, r.Bytes>>20)
	}
	return b.String()
}

// sampleHeap samples the Go heap in use every 50 ms until the returned
// function is called, which returns the largest sample. It reads
// runtime/metrics, which does not stop the world (runtime.ReadMemStats did,
// 50 times a second, costing the measured pipeline CPU).
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	u := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	go func() {
		var peak uint64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
				metrics.Read(samples)
				peak = max(peak, u(0)+u(1))
				goRSS = max(goRSS, u(2)-u(3))
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-done
	}
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS returns the process's peak resident set (VmHWM), or 0.
func peakRSS() int64 { return procStatus("VmHWM") }

// procStatus returns a size field of /proc/self/status in bytes, or 0.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), field+": %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	return 0
}
