package transform

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRunNoArtifacts: a run writes manifest.json and run_results.json under
// its target path unless RunOptions.NoArtifacts says the caller writes them;
// compiled SQL is written either way.
func TestRunNoArtifacts(t *testing.T) {
	p, w := loadShop(t, duckTarget(t))
	for _, skip := range []bool{true, false} {
		dir := filepath.Join(t.TempDir(), "target")
		res, err := p.Run(context.Background(), w, RunOptions{Command: CommandCompile, TargetPath: dir, NoArtifacts: skip})
		if err != nil || res.Failed() {
			t.Fatalf("compile: %v", err)
		}
		for _, name := range []string{"manifest.json", "run_results.json"} {
			_, err := os.Stat(filepath.Join(dir, name))
			if skip && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("NoArtifacts: %s: %v, want it absent", name, err)
			}
			if !skip && err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "compiled")); err != nil {
			t.Errorf("NoArtifacts=%v: compiled SQL: %v", skip, err)
		}
	}
}
