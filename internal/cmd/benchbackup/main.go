// Command benchbackup times package backup on a 10-column DuckDB table
// against DuckDB's own Parquet export and import:
//
//   - full backup to a file:// repository vs COPY table TO 'x.parquet' (goal ≥ 0.7×)
//   - incremental after 1% of rows changed at random (goal ≤ 5% of the full's
//     bytes and ≤ 30% of its time): by key and row hash (every row
//     compared), and with the change column ts (the change sets it to
//     now(); the full records its greatest value, and the incremental
//     reads only the rows at or above it)
//   - restore (with its fingerprint check) vs DuckDB loading the same data
//     from the Parquet file of the COPY TO baseline (goal ≥ 0.7×), three
//     ways: INSERT … SELECT * FROM read_parquet into a table without the
//     key (plain; the restore must also build the key, so this is a floor);
//     the same INSERT into a table created with the primary key; and the
//     INSERT into a table without the key followed by ALTER TABLE … ADD
//     PRIMARY KEY. The last is the baseline that reproduces the restored
//     table exactly (the table has a PRIMARY KEY, which a restore must
//     recreate) and DuckDB's fastest way to it: the fair comparison. Each
//     baseline loads a table of its own; they are dropped afterwards in an
//     untimed step, so no timed phase pays for dropping another's table
//   - verify --read-data vs plainly reading the repository's files (goal ≥
//     300 MB/s or disk-bound)
//   - peak RSS of each phase (goal ≤ 256 MiB at 10M rows), with the
//     baseline COPY TO's own for what DuckDB itself takes
//
// By default every phase runs in this process, one after another (its peak
// RSS then includes what earlier phases left allocated). With -isolate each
// phase runs in a child process of its own, which opens the database and
// the repository afresh: its CPU time and peak RSS are the child's alone
// (from the kernel's rusage), the way a scheduled backup or restore runs.
//
// -memory-limit sets DuckDB's memory_limit on the benchmarked database
// after the table is built (what package backup documents for bounded
// memory: it never changes the caller's database settings itself).
//
// -duckdb-opts appends URL options to the benchmarked database's URL, e.g.
// "?allocator_background_threads=true" (an embedding program's allocator
// choices; each child process opens the database with them).
//
// -steps prints the events of the backups and restores (an incremental's
// steps: parent fetched, changed rows written, replaced hashes summed, …; a
// restore's: rows loaded, key added, verified) with their elapsed wall and
// CPU time and the process's peak RSS so far, to show where a phase's time
// and memory go.
//
// Usage: go run ./internal/cmd/benchbackup -rows 1000000 -dir /tmp/bench [-isolate] [-memory-limit 192MB] [-duckdb-opts '?allocator_background_threads=true'] [-steps]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dataopskit/dataops/backup"
	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the table")
	dir := flag.String("dir", "", "working directory (default: a new temporary one, removed afterwards)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memLimit := flag.String("memory-limit", "", "DuckDB memory_limit of the benchmarked warehouse, e.g. 256MB (default DuckDB's own)")
	isolate := flag.Bool("isolate", false, "run each phase in a child process of its own (CPU and peak RSS per phase)")
	child := flag.String("child", "", "internal: run this phase in this process and exit")
	duckOpts := flag.String("duckdb-opts", "", "URL options appended to the benchmarked database's URL, e.g. ?allocator_background_threads=true")
	steps := flag.Bool("steps", false, "print the backups' and restores' events with their elapsed times (where a phase's time goes)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "benchbackup-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	b := &bench{ctx: context.Background(), dir: *dir, memLimit: *memLimit, duckOpts: *duckOpts, rows: *rows, steps: *steps}
	if *child != "" {
		if err := b.runChild(*child); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := b.run(*isolate); err != nil {
		log.Fatal(err)
	}
}

// state is what phases hand to later ones (a file in the working
// directory, so that child processes share it).
type state struct {
	Full, Inc    *backup.Result
	ChangeInc    *backup.Result
	ChainInc     *backup.Result
	RestoreRows  int64
	RawBytes     int64
	Report       *repository.Report
	BaselineSize int64
	// PeakRSS is each child's VmHWM at its end (the rusage of a child
	// counts the parent's RSS at its exec too).
	PeakRSS map[string]int64
}

type bench struct {
	ctx      context.Context
	dir      string
	memLimit string
	duckOpts string // URL options of the benchmarked database
	rows     int
	steps    bool
	w        *warehouse.Warehouse
	repo     *repository.Repository
	st       state

	failed    []string // independent phases that failed
	wall, cpu map[string]time.Duration
	rss, rss0 map[string]int64
}

const (
	copyPhase   = "baseline COPY TO parquet (zstd)"
	fullPhase   = "full backup"
	changePhase = "change 1% of the rows"
	incPhase    = "incremental backup (1% changed)"
	ccPhase     = "incremental (change column)"
	basePhase   = "baseline INSERT FROM read_parquet"
	// basePKPhase inserts into a table that has the primary key, as the
	// restored table has.
	basePKPhase = "baseline INSERT … into a keyed table"
	// baseKAPhase inserts into a table without the key, then adds it: the
	// restored table exactly, DuckDB's fastest way.
	baseKAPhase = "baseline INSERT, then ADD PRIMARY KEY"
	// dropPhase drops the baselines' tables (untimed: no ratio uses it).
	dropPhase = "(drop the baseline tables, untimed)"
	restPhase = "restore full snapshot (verified)"
	compPhase = "restore incremental (composed)"
	rawPhase  = "baseline read repository files"
	verPhase  = "verify --read-data"
	// the chained phases change 1% more rows and back up against the
	// incremental: a parent that is a chain (the full and a delta)
	chainChangePhase = "change 1% more of the rows"
	chainPhase       = "incremental on the incremental (1% more changed)"
)

// changeColumns declares the bench table's change column: the full records
// its mark, the change sets it, the change column incremental uses it.
var changeColumns = map[string]string{"bench.t": "ts"}

// independent phases are those no later phase needs: a failure of one is
// reported and the run goes on.
var independent = map[string]bool{basePhase: true, basePKPhase: true, baseKAPhase: true, dropPhase: true, restPhase: true, compPhase: true, verPhase: true}

// baselineTables are the tables the INSERT baselines load, one each.
var baselineTables = []string{"bench.baseline", "bench.baseline_pk", "bench.baseline_ka"}

// dropBaselines are the statements that drop the baselines' tables.
func dropBaselines() []string {
	var qs []string
	for _, t := range baselineTables {
		qs = append(qs, "DROP TABLE IF EXISTS "+t)
	}
	return qs
}

// phases in order; each opens what it needs through the bench.
var phases = []struct {
	name string
	f    func(b *bench) error
}{
	{copyPhase, func(b *bench) error {
		if _, err := b.wh().Exec(b.ctx, "COPY bench.t TO "+lit(b.baseline())+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
			return err
		}
		b.st.BaselineSize = dirSize(b.baseline())
		return nil
	}},
	{fullPhase, func(b *bench) (err error) {
		b.st.Full, err = backup.Backup(b.ctx, b.repository(), b.wh(), backup.Options{Tables: []string{"bench.t"}, ChangeColumns: changeColumns, TempDir: b.dir, Events: b.events()})
		return err
	}},
	{changePhase, func(b *bench) error {
		_, err := b.wh().Exec(b.ctx, "UPDATE bench.t SET status = status || ' changed', score = score + 1, ts = now() WHERE random() < 0.01")
		return err
	}},
	{incPhase, func(b *bench) (err error) {
		b.st.Inc, err = backup.Backup(b.ctx, b.repository(), b.wh(), backup.Options{Tables: []string{"bench.t"}, Parent: b.st.Full.ID, TempDir: b.dir, Events: b.events()})
		return err
	}},
	{ccPhase, func(b *bench) (err error) {
		b.st.ChangeInc, err = backup.Backup(b.ctx, b.repository(), b.wh(), backup.Options{Tables: []string{"bench.t"}, ChangeColumns: changeColumns, Parent: b.st.Full.ID, TempDir: b.dir, Events: b.events()})
		if err == nil && b.st.ChangeInc.Tables[0].Fingerprint != b.st.Inc.Tables[0].Fingerprint {
			err = fmt.Errorf("change column incremental: fingerprint %v, the key and hash one %v", b.st.ChangeInc.Tables[0].Fingerprint, b.st.Inc.Tables[0].Fingerprint)
		}
		return err
	}},
	// the baselines' tables do not exist (setup and dropPhase drop them)
	{basePhase, func(b *bench) error {
		return b.execs("CREATE TABLE bench.baseline AS SELECT * FROM bench.t LIMIT 0",
			"INSERT INTO bench.baseline SELECT * FROM read_parquet("+lit(b.baseline())+")")
	}},
	{basePKPhase, func(b *bench) error {
		return b.execs("CREATE TABLE bench.baseline_pk AS SELECT * FROM bench.t LIMIT 0",
			"ALTER TABLE bench.baseline_pk ADD PRIMARY KEY (id)",
			"INSERT INTO bench.baseline_pk SELECT * FROM read_parquet("+lit(b.baseline())+")")
	}},
	{baseKAPhase, func(b *bench) error {
		return b.execs("CREATE TABLE bench.baseline_ka AS SELECT * FROM bench.t LIMIT 0",
			"INSERT INTO bench.baseline_ka SELECT * FROM read_parquet("+lit(b.baseline())+")",
			"ALTER TABLE bench.baseline_ka ADD PRIMARY KEY (id)")
	}},
	{dropPhase, func(b *bench) error { return b.execs(dropBaselines()...) }},
	{restPhase, func(b *bench) error {
		rr, err := backup.Restore(b.ctx, b.repository(), b.wh(), backup.RestoreOptions{Snapshot: b.st.Full.ID, Schema: "restored", Overwrite: true, TempDir: b.dir, Events: b.events()})
		if err == nil {
			b.st.RestoreRows = rr.Rows
		}
		return err
	}},
	{compPhase, func(b *bench) error {
		_, err := backup.Restore(b.ctx, b.repository(), b.wh(), backup.RestoreOptions{Snapshot: b.st.Inc.ID, Schema: "restored", Overwrite: true, TempDir: b.dir, Events: b.events()})
		return err
	}},
	{rawPhase, func(b *bench) (err error) {
		b.st.RawBytes, err = readAll(b.repoDir())
		return err
	}},
	{verPhase, func(b *bench) (err error) {
		b.st.Report, err = b.repository().Verify(b.ctx, repository.VerifyOptions{ReadData: true})
		if err == nil && len(b.st.Report.Problems) > 0 {
			err = fmt.Errorf("verify found problems: %v", b.st.Report.Problems)
		}
		return err
	}},
	{chainChangePhase, func(b *bench) error {
		_, err := b.wh().Exec(b.ctx, "UPDATE bench.t SET status = status || ' again', score = score + 1 WHERE random() < 0.01")
		return err
	}},
	{chainPhase, func(b *bench) (err error) {
		b.st.ChainInc, err = backup.Backup(b.ctx, b.repository(), b.wh(), backup.Options{Tables: []string{"bench.t"}, Parent: b.st.Inc.ID, TempDir: b.dir, Events: b.events()})
		return err
	}},
}

// events prints each event with its elapsed time under -steps (nil
// otherwise), with the CPU time of the process so far.
func (b *bench) events() func(backup.Event) {
	if !b.steps {
		return nil
	}
	c0 := cpuTime()
	return func(ev backup.Event) {
		fmt.Fprintf(os.Stderr, "    %9s  CPU %9s  peak RSS %7s  %s %s\n", ev.Elapsed.Round(time.Millisecond), (cpuTime() - c0).Round(time.Millisecond), mib(statusKB("VmHWM:")), ev.Subject, ev.Message)
	}
}

func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (b *bench) baseline() string { return filepath.Join(b.dir, "baseline.parquet") }
func (b *bench) repoDir() string  { return filepath.Join(b.dir, "repo") }
func (b *bench) stateFile() string {
	return filepath.Join(b.dir, "benchbackup-state.json")
}

var reSize = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? ?[KMGT]i?B$`)

// wh opens the benchmarked database on first use, with the memory limit.
func (b *bench) wh() *warehouse.Warehouse {
	if b.w != nil {
		return b.w
	}
	w, err := warehouse.Open(b.ctx, "duckdb:"+filepath.Join(b.dir, "wh.duckdb")+b.duckOpts)
	if err != nil {
		log.Fatal(err)
	}
	if b.memLimit != "" {
		// SET takes no bind parameter: the flag was checked to be a size
		if _, err := w.Exec(b.ctx, "SET memory_limit = "+lit(b.memLimit)); err != nil {
			log.Fatal(err)
		}
	}
	b.w = w
	return w
}

func (b *bench) repository() *repository.Repository {
	if b.repo != nil {
		return b.repo
	}
	r, err := repository.Open(b.ctx, "file://"+b.repoDir(), repository.OpenOptions{})
	if err != nil {
		log.Fatal(err)
	}
	b.repo = r
	return r
}

func (b *bench) execs(qs ...string) error {
	for _, q := range qs {
		if _, err := b.wh().Exec(b.ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) close() {
	if b.w != nil {
		b.w.Close()
		b.w = nil
	}
	if b.repo != nil {
		b.repo.Close()
		b.repo = nil
	}
}

func (b *bench) saveState() error {
	j, err := json.Marshal(b.st)
	if err != nil {
		return err
	}
	return os.WriteFile(b.stateFile(), j, 0o644)
}

func (b *bench) loadState() error {
	j, err := os.ReadFile(b.stateFile())
	if err != nil {
		return err
	}
	return json.Unmarshal(j, &b.st)
}

// runChild runs one phase in this process (of -isolate).
func (b *bench) runChild(name string) error {
	if err := b.loadState(); err != nil {
		return err
	}
	for _, p := range phases {
		if p.name == name {
			err := p.f(b)
			b.close()
			if err != nil {
				return err
			}
			if b.st.PeakRSS == nil {
				b.st.PeakRSS = map[string]int64{}
			}
			b.st.PeakRSS[name] = statusKB("VmHWM:")
			return b.saveState()
		}
	}
	return fmt.Errorf("no phase %q", name)
}

// setup builds the table and an empty repository.
func (b *bench) setup() error {
	if b.memLimit != "" && !reSize.MatchString(b.memLimit) {
		return fmt.Errorf("-memory-limit %q is not a size like 128MB", b.memLimit)
	}
	w, err := warehouse.Open(b.ctx, "duckdb:"+filepath.Join(b.dir, "wh.duckdb"))
	if err != nil {
		return err
	}
	defer w.Close()
	for _, q := range []string{
		"CREATE SCHEMA IF NOT EXISTS bench",
		"DROP TABLE IF EXISTS bench.t",
		"DROP SCHEMA IF EXISTS restored CASCADE",
		"DROP TABLE IF EXISTS bench.baseline", "DROP TABLE IF EXISTS bench.baseline_pk", "DROP TABLE IF EXISTS bench.baseline_ka",
		`CREATE TABLE bench.t (id BIGINT PRIMARY KEY, qty INTEGER, cust BIGINT, amount DECIMAL(18,2), score DOUBLE,
			name VARCHAR, status VARCHAR, day DATE, ts TIMESTAMP, flag BOOLEAN)`,
		`INSERT INTO bench.t SELECT i, (i % 1000)::INTEGER, i % 50000, (i % 100000) / 100.0, random(),
			'customer name ' || (i % 77777), ['placed','shipped','completed','returned'][1 + (i % 4)],
			DATE '2020-01-01' + (i % 2000)::INTEGER, TIMESTAMP '2020-01-01' + to_microseconds(i * 1000), i % 3 = 0
			FROM range(?::BIGINT) t(i)`,
		"CHECKPOINT",
	} {
		if _, err := w.Exec(b.ctx, q, argsFor(q, b.rows)...); err != nil {
			return err
		}
	}
	os.RemoveAll(b.repoDir())
	repo, err := repository.Init(b.ctx, "file://"+b.repoDir(), repository.InitOptions{})
	if err != nil {
		return err
	}
	repo.Close()
	b.st = state{}
	return b.saveState()
}

func (b *bench) run(isolate bool) error {
	b.wall, b.cpu = map[string]time.Duration{}, map[string]time.Duration{}
	b.rss, b.rss0 = map[string]int64{}, map[string]int64{}
	if err := b.setup(); err != nil {
		return err
	}
	mode := "one process"
	if isolate {
		mode = "a child process per phase"
	}
	fmt.Printf("benchbackup: %d rows, 10 columns, DuckDB (memory_limit %q), in %s, %s\n", b.rows, b.memLimit, b.dir, mode)
	for _, p := range phases {
		var err error
		if isolate {
			err = b.childPhase(p.name)
		} else {
			err = b.inPhase(p.name, func() error { return p.f(b) })
		}
		if err != nil {
			if !independent[p.name] {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			// a baseline or a restore that fails (DuckDB out of memory under
			// a small -memory-limit) is reported, and the others still run
			fmt.Printf("%-37s FAILED: %v\n", p.name, err)
			b.failed = append(b.failed, p.name)
			continue
		}
		fmt.Printf("%-37s %9s   CPU %9s   peak RSS %s", p.name, b.wall[p.name].Round(time.Millisecond), b.cpu[p.name].Round(time.Millisecond), mib(b.rss[p.name]))
		if !isolate {
			fmt.Printf(" (%s at its start)", mib(b.rss0[p.name]))
		}
		fmt.Println()
	}
	b.close()
	if isolate {
		if err := b.loadState(); err != nil {
			return err
		}
	}
	b.report()
	return nil
}

// inPhase times f in this process: peak RSS (the kernel's high-water mark,
// reset before the phase) and CPU time.
func (b *bench) inPhase(name string, f func() error) error {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux)
	b.rss0[name] = statusKB("VmRSS:")
	start, c0 := time.Now(), cpuTime()
	err := f()
	b.wall[name] = time.Since(start)
	b.cpu[name] = cpuTime() - c0
	b.rss[name] = statusKB("VmHWM:")
	return err
}

// childPhase runs a phase in a child process: its wall time, and its CPU
// time and peak RSS from the kernel's accounting of the child.
func (b *bench) childPhase(name string) error {
	args := []string{"-child", name, "-dir", b.dir, "-rows", strconv.Itoa(b.rows)}
	if b.memLimit != "" {
		args = append(args, "-memory-limit", b.memLimit)
	}
	if b.duckOpts != "" {
		args = append(args, "-duckdb-opts", b.duckOpts)
	}
	if b.steps {
		args = append(args, "-steps")
	}
	cmd := exec.CommandContext(b.ctx, os.Args[0], args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	b.wall[name] = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		b.cpu[name] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if err != nil {
		return err
	}
	var st state
	if j, err := os.ReadFile(b.stateFile()); err == nil && json.Unmarshal(j, &st) == nil {
		b.rss[name] = st.PeakRSS[name]
	}
	return nil
}

// cpuTime is this process's CPU time (user + system, every thread,
// DuckDB's included): on a machine shared with other work, wall times
// swing with the load and CPU times much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (b *bench) ratio(a, c string) float64 { return b.cpu[a].Seconds() / b.cpu[c].Seconds() }
func (b *bench) wallRatio(a, c string) float64 {
	return b.wall[a].Seconds() / b.wall[c].Seconds()
}

func (b *bench) report() {
	full, inc, rep := b.st.Full, b.st.Inc, b.st.Report
	fmt.Println()
	if len(b.failed) > 0 {
		fmt.Printf("FAILED phases (their ratios below are meaningless): %s\n", strings.Join(b.failed, ", "))
	}
	if rep == nil {
		rep = &repository.Report{}
	}
	fmt.Printf("parquet baseline file            %s\n", mib(b.st.BaselineSize))
	fmt.Printf("full backup stored               %s (%d objects)\n", mib(full.Stored), full.Objects)
	fmt.Printf("full backup speed vs COPY TO     %.2fx wall, %.2fx CPU  (goal >= 0.7x)\n", b.wallRatio(copyPhase, fullPhase), b.ratio(copyPhase, fullPhase))
	fmt.Printf("incremental stored               %s = %.2f%% of the full (goal <= 5%%), %d rows written\n", mib(inc.Stored), 100*float64(inc.Stored)/float64(full.Stored), inc.Written)
	fmt.Printf("incremental time                 %.1f%% of the full wall, %.1f%% CPU (goal <= 30%%)\n", 100*b.wallRatio(incPhase, fullPhase), 100*b.ratio(incPhase, fullPhase))
	fmt.Printf("chained incremental time         %.1f%% of the full wall, %.1f%% CPU (its parent the incremental)\n", 100*b.wallRatio(chainPhase, fullPhase), 100*b.ratio(chainPhase, fullPhase))
	if cc := b.st.ChangeInc; cc != nil {
		// its parts' bytes, not what it added to the bucket: parts equal
		// to the other incremental's are stored once
		fmt.Printf("incremental (change column)      %.1f%% of the full wall, %.1f%% CPU (goal <= 30%%); parts %s = %.2f%% of the full's, %d rows written\n",
			100*b.wallRatio(ccPhase, fullPhase), 100*b.ratio(ccPhase, fullPhase), mib(cc.Bytes), 100*float64(cc.Bytes)/float64(b.st.Full.Bytes), cc.Written)
	}
	fmt.Printf("restore speed vs read_parquet, then ADD PRIMARY KEY (the same keyed table)  %.2fx wall, %.2fx CPU  (goal >= 0.7x), %d rows\n", b.wallRatio(baseKAPhase, restPhase), b.ratio(baseKAPhase, restPhase), b.st.RestoreRows)
	fmt.Printf("restore speed vs read_parquet into a table with the primary key               %.2fx wall, %.2fx CPU\n", b.wallRatio(basePKPhase, restPhase), b.ratio(basePKPhase, restPhase))
	fmt.Printf("restore speed vs read_parquet into a table without the key (plain; no key)     %.2fx wall, %.2fx CPU\n", b.wallRatio(basePhase, restPhase), b.ratio(basePhase, restPhase))
	fmt.Printf("verify --read-data               %.0f MB/s wall, %.0f MB per CPU second (%d objects, %s); plain read of the files %.0f MB/s wall (goal >= 300 MB/s or disk-bound)\n",
		float64(rep.BytesRead)/1e6/b.wall[verPhase].Seconds(), float64(rep.BytesRead)/1e6/b.cpu[verPhase].Seconds(), rep.ObjectsRead, mib(rep.BytesRead), float64(b.st.RawBytes)/1e6/b.wall[rawPhase].Seconds())
	fmt.Printf("peak RSS: baseline COPY TO %s, INSERT %s, keyed INSERT %s, INSERT then ADD PRIMARY KEY %s, verify %s\n", mib(b.rss[copyPhase]), mib(b.rss[basePhase]), mib(b.rss[basePKPhase]), mib(b.rss[baseKAPhase]), mib(b.rss[verPhase]))
	fmt.Printf("peak RSS: full %s, incremental %s, change column incremental %s, restore %s, composed restore %s (goal <= 256 MiB at 10M rows)\n",
		mib(b.rss[fullPhase]), mib(b.rss[incPhase]), mib(b.rss[ccPhase]), mib(b.rss[restPhase]), mib(b.rss[compPhase]))
}

// statusKB reads a size field of /proc/self/status, in bytes.
func statusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// readAll reads every file under dir (to discard) and returns the bytes read.
func readAll(dir string) (int64, error) {
	var n int64
	buf := make([]byte, 1<<20)
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		m, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
		n += m
		return err
	})
	return n, err
}

func argsFor(q string, n int) []any {
	if strings.Contains(q, "?") {
		return []any{n}
	}
	return nil
}
