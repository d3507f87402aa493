package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/dataopskit/dataops/transform/transformtest"
)

// buildBinary compiles a package (or Go file) with the go command into dir.
func buildBinary(b *testing.B, dir, name string, pkg ...string) string {
	b.Helper()
	out := filepath.Join(dir, name)
	args := append([]string{"build", "-o", out}, pkg...)
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("go build %v: %v", pkg, err)
	}
	return out
}

// BenchmarkStartup times `dataops --version` as a user runs it (a new
// process each time; the target is ≤ 50 ms), against the startup of a Go
// hello-world binary built the same way, the floor for any Go program on
// this machine. Run:
//
//	go test ./cmd/dataops -run XXX -bench Startup -benchtime 20x
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	hello := filepath.Join(dir, "hello.go")
	if err := os.WriteFile(hello, []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	bins := map[string][]string{
		"dataops--version": {buildBinary(b, dir, "dataops", "."), "--version"},
		"hello-baseline":   {buildBinary(b, dir, "hello", hello)},
	}
	for _, name := range []string{"hello-baseline", "dataops--version"} {
		argv := bins[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", argv, err, out)
				}
			}
		})
	}
}

// benchProject10k writes the generated 10,000-model project of package
// transform's BenchmarkParseCompile10k (with ~21,000 tests) into a
// temporary directory.
func benchProject10k(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if err := transformtest.GenProject(dir, 10000); err != nil {
		b.Fatal(err)
	}
	return dir
}

// runCLI runs the dataops command line in-process, as main does (with the
// dbt verbs' collector target, unless GOGC is set), and fails on a
// non-zero exit.
func runCLI(b *testing.B, args ...string) {
	b.Helper()
	code := 0
	saved := dbtExit
	dbtExit = func(c int) { code = c }
	defer func() { dbtExit = saved }()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil || code != 0 {
		b.Fatalf("dataops %v: exit %d, %v\n%s", args, code, err, out.String())
	}
}

// BenchmarkCLIParse10k and BenchmarkCLICompile10k time `dataops parse` and
// `dataops compile` on a generated 10,000-model project (~20,000 tests),
// in-process, with target/manifest.json and the ~30,000 compiled files
// written as the CLI writes them; cpu-s/op is the process's user+system
// time per run. The targets (issue 6) are ≤ 1.0 s for parse and ≤ 2.0 s
// for compile, as a user times the binary. Run:
//
//	go test ./cmd/dataops -run XXX -bench CLI -benchtime 3x -benchmem
func BenchmarkCLIParse10k(b *testing.B) {
	dir := benchProject10k(b)
	benchCLI(b, "parse", "--project-dir", dir, "--profiles-dir", dir)
}

// BenchmarkCLICompile10k: see BenchmarkCLIParse10k. "rewrite" compiles
// over the files of a previous compile (the usual case); "fresh" compiles
// into a new target directory each time, so every file is created. On
// ext4 without a journal (this machine's disk), creating a file next to
// many deleted in the last 30 seconds costs the kernel a scan of them
// (recently_deleted): leave 30 s after removing a large target before
// timing "fresh".
func BenchmarkCLICompile10k(b *testing.B) {
	dir := benchProject10k(b)
	args := []string{"compile", "--project-dir", dir, "--profiles-dir", dir}
	b.Run("rewrite", func(b *testing.B) {
		runCLI(b, args...)
		benchCLI(b, args...)
	})
	b.Run("fresh", func(b *testing.B) {
		i := 0
		benchCLIEach(b, func() []string {
			i++
			return append(args, "--target-path", filepath.Join(dir, fmt.Sprintf("target%d", i)))
		})
	})
}

func benchCLI(b *testing.B, args ...string) {
	benchCLIEach(b, func() []string { return args })
}

// benchCLIEach times runCLI with the arguments args gives each run, and
// checks that the last run wrote its manifest.
func benchCLIEach(b *testing.B, args func() []string) {
	if _, set := os.LookupEnv("GOGC"); !set {
		defer debug.SetGCPercent(debug.SetGCPercent(dbtGCPercent))
	}
	runtime.GC()
	var last []string
	cpu0 := cpuTime()
	for b.Loop() {
		last = args()
		runCLI(b, last...)
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	target, dir := "target", ""
	for i, a := range last {
		switch a {
		case "--target-path":
			target = last[i+1]
		case "--project-dir":
			dir = last[i+1]
		}
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(dir, target)
	}
	if _, err := os.Stat(filepath.Join(target, "manifest.json")); err != nil {
		b.Fatalf("dataops %v wrote no manifest: %v", last, err)
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
