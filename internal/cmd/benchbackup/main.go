// Command benchbackup times package backup on a 10-column DuckDB table
// against DuckDB's own Parquet export and import, in the same process:
//
//   - full backup to a file:// repository vs COPY table TO 'x.parquet' (goal ≥ 0.7×)
//   - incremental after 1% of rows changed at random (goal ≤ 5% of the full's
//     bytes and ≤ 30% of its time)
//   - restore (with its fingerprint check) vs INSERT … SELECT * FROM
//     read_parquet of the same data (goal ≥ 0.7×)
//   - verify --read-data vs plainly reading the repository's files (goal ≥
//     300 MB/s or disk-bound)
//   - peak RSS of each phase (goal ≤ 256 MiB at 10M rows), with the
//     baseline COPY TO's own for what DuckDB itself takes
//
// Usage: go run ./internal/cmd/benchbackup -rows 1000000 -dir /tmp/bench
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
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
	if err := run(context.Background(), *rows, *dir, *memLimit); err != nil {
		log.Fatal(err)
	}
}

// cpu maps a phase's name to the CPU time (user + system, every thread of
// the process, DuckDB's included) it took: on a machine shared with other
// work, wall times swing with the load and CPU times much less.
var cpu = map[string]time.Duration{}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// phase times f and reports its peak RSS (the kernel's high-water mark,
// reset before the phase) and CPU time.
func phase(name string, f func() error) (time.Duration, int64, error) {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux)
	start, c0 := time.Now(), cpuTime()
	err := f()
	d := time.Since(start)
	cpu[name] = cpuTime() - c0
	rss := peakRSS()
	if err != nil {
		return d, rss, fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("%-34s %9s   CPU %9s   peak RSS %s\n", name, d.Round(time.Millisecond), cpu[name].Round(time.Millisecond), mib(rss))
	return d, rss, nil
}

// cpuRatio is a/b of the phases' CPU times.
func cpuRatio(a, b string) float64 { return cpu[a].Seconds() / cpu[b].Seconds() }

const (
	copyPhase = "baseline COPY TO parquet (zstd)"
	fullPhase = "full backup"
	incPhase  = "incremental backup (1% changed)"
	basePhase = "baseline INSERT FROM read_parquet"
	restPhase = "restore full snapshot (verified)"
	verPhase  = "verify --read-data"
	// basePKPhase inserts into a table that has the primary key, as the
	// restored table has.
	basePKPhase = "baseline INSERT … into a keyed table"
)

func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
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

func run(ctx context.Context, n int, dir, memLimit string) error {
	url := "duckdb:" + filepath.Join(dir, "wh.duckdb")
	if memLimit != "" {
		url += "?memory_limit=" + memLimit
	}
	w, err := warehouse.Open(ctx, url)
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Printf("benchbackup: %d rows, 10 columns, DuckDB (memory_limit %q), in %s\n", n, memLimit, dir)
	for _, q := range []string{
		"CREATE SCHEMA IF NOT EXISTS bench",
		"DROP TABLE IF EXISTS bench.t",
		`CREATE TABLE bench.t (id BIGINT PRIMARY KEY, qty INTEGER, cust BIGINT, amount DECIMAL(18,2), score DOUBLE,
			name VARCHAR, status VARCHAR, day DATE, ts TIMESTAMP, flag BOOLEAN)`,
		`INSERT INTO bench.t SELECT i, (i % 1000)::INTEGER, i % 50000, (i % 100000) / 100.0, random(),
			'customer name ' || (i % 77777), ['placed','shipped','completed','returned'][1 + (i % 4)],
			DATE '2020-01-01' + (i % 2000)::INTEGER, TIMESTAMP '2020-01-01' + to_microseconds(i * 1000), i % 3 = 0
			FROM range(?::BIGINT) t(i)`,
	} {
		if _, err := w.Exec(ctx, q, argsFor(q, n)...); err != nil {
			return err
		}
	}
	// baselines: DuckDB's own Parquet writer and reader
	pq := filepath.Join(dir, "baseline.parquet")
	copyTime, copyRSS, err := phase(copyPhase, func() error {
		_, err := w.Exec(ctx, "COPY bench.t TO '"+strings.ReplaceAll(pq, "'", "''")+"' (FORMAT parquet, COMPRESSION zstd)")
		return err
	})
	if err != nil {
		return err
	}
	pqSize := dirSize(pq)

	repoDir := filepath.Join(dir, "repo")
	os.RemoveAll(repoDir)
	repo, err := repository.Init(ctx, "file://"+repoDir, repository.InitOptions{})
	if err != nil {
		return err
	}
	defer repo.Close()
	var full *backup.Result
	fullTime, fullRSS, err := phase(fullPhase, func() error {
		full, err = backup.Backup(ctx, repo, w, backup.Options{Tables: []string{"bench.t"}, TempDir: dir})
		return err
	})
	if err != nil {
		return err
	}
	if _, err := w.Exec(ctx, "UPDATE bench.t SET status = status || ' changed', score = score + 1 WHERE random() < 0.01"); err != nil {
		return err
	}
	var inc *backup.Result
	incTime, incRSS, err := phase(incPhase, func() error {
		inc, err = backup.Backup(ctx, repo, w, backup.Options{Tables: []string{"bench.t"}, Parent: full.ID, TempDir: dir})
		return err
	})
	if err != nil {
		return err
	}
	baseTime, _, err := phase(basePhase, func() error {
		if _, err := w.Exec(ctx, "CREATE OR REPLACE TABLE bench.baseline AS SELECT * FROM bench.t LIMIT 0"); err != nil {
			return err
		}
		_, err := w.Exec(ctx, "INSERT INTO bench.baseline SELECT * FROM read_parquet(?)", pq)
		return err
	})
	if err != nil {
		return err
	}
	// the same into a table with the primary key, as a restore makes it
	_, _, err = phase(basePKPhase, func() error {
		for _, q := range []string{
			"CREATE OR REPLACE TABLE bench.baseline AS SELECT * FROM bench.t LIMIT 0",
			"ALTER TABLE bench.baseline ADD PRIMARY KEY (id)",
		} {
			if _, err := w.Exec(ctx, q); err != nil {
				return err
			}
		}
		_, err := w.Exec(ctx, "INSERT INTO bench.baseline SELECT * FROM read_parquet(?)", pq)
		return err
	})
	if err != nil {
		return err
	}
	var rr *backup.RestoreResult
	restTime, restRSS, err := phase(restPhase, func() error {
		rr, err = backup.Restore(ctx, repo, w, backup.RestoreOptions{Snapshot: full.ID, Schema: "restored", Overwrite: true, TempDir: dir})
		return err
	})
	if err != nil {
		return err
	}
	_, incRestRSS, err := phase("restore incremental (composed)", func() error {
		_, err = backup.Restore(ctx, repo, w, backup.RestoreOptions{Snapshot: inc.ID, Schema: "restored", Overwrite: true, TempDir: dir})
		return err
	})
	if err != nil {
		return err
	}
	// verify --read-data, against plainly reading the repository's files
	var rawBytes int64
	rawTime, _, err := phase("baseline read repository files", func() error {
		var err error
		rawBytes, err = readAll(repoDir)
		return err
	})
	if err != nil {
		return err
	}
	var rep *repository.Report
	verTime, verRSS, err := phase(verPhase, func() error {
		rep, err = repo.Verify(ctx, repository.VerifyOptions{ReadData: true})
		return err
	})
	if err != nil {
		return err
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("verify found problems: %v", rep.Problems)
	}
	fmt.Println()
	fmt.Printf("parquet baseline file            %s\n", mib(pqSize))
	fmt.Printf("full backup stored               %s (%d objects)\n", mib(full.Stored), full.Objects)
	fmt.Printf("full backup speed vs COPY TO     %.2fx wall, %.2fx CPU  (goal >= 0.7x)\n", copyTime.Seconds()/fullTime.Seconds(), cpuRatio(copyPhase, fullPhase))
	fmt.Printf("incremental stored               %s = %.2f%% of the full (goal <= 5%%), %d rows written\n", mib(inc.Stored), 100*float64(inc.Stored)/float64(full.Stored), inc.Written)
	fmt.Printf("incremental time                 %.1f%% of the full wall, %.1f%% CPU (goal <= 30%%)\n", 100*incTime.Seconds()/fullTime.Seconds(), 100*cpuRatio(incPhase, fullPhase))
	fmt.Printf("restore speed vs read_parquet    %.2fx wall, %.2fx CPU  (goal >= 0.7x), %d rows\n", baseTime.Seconds()/restTime.Seconds(), cpuRatio(basePhase, restPhase), rr.Rows)
	fmt.Printf("restore speed vs read_parquet into a table with the primary key  %.2fx CPU\n", cpuRatio(basePKPhase, restPhase))
	fmt.Printf("verify --read-data               %.0f MB/s wall, %.0f MB per CPU second (%d objects, %s); plain read of the files %.0f MB/s wall (goal >= 300 MB/s or disk-bound)\n",
		float64(rep.BytesRead)/1e6/verTime.Seconds(), float64(rep.BytesRead)/1e6/cpu[verPhase].Seconds(), rep.ObjectsRead, mib(rep.BytesRead), float64(rawBytes)/1e6/rawTime.Seconds())
	fmt.Printf("peak RSS: baseline COPY TO %s, verify %s\n", mib(copyRSS), mib(verRSS))
	fmt.Printf("peak RSS: full %s, incremental %s, restore %s, composed restore %s (goal <= 256 MiB at 10M rows)\n",
		mib(fullRSS), mib(incRSS), mib(restRSS), mib(incRestRSS))
	return nil
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
