package transform

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOverwriteFile: whatever was there, the file holds exactly what was
// written last (it is overwritten in place, then cut; or left alone when it
// holds the same text already).
func TestOverwriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.sql")
	// Longer, shorter, empty, same length but other text, the same text.
	for _, s := range []string{"select 1 as a, 2 as b, 3 as c", "select 1", "", "select 42 as answer", "select 43 as answer", "select 43 as answer"} {
		if err := overwriteFile(path, s); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != s {
			t.Fatalf("after writing %q the file holds %q", s, got)
		}
	}
	if err := overwriteFile(filepath.Join(t.TempDir(), "missing", "m.sql"), "x"); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
