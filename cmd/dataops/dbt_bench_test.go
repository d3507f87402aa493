package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
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
