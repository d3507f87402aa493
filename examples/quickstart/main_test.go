package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	// Twice: a second run over the same file replaces the sample.
	for range 2 {
		out.Reset()
		if err := run(context.Background(), &out, dir, 50, 2_000); err != nil {
			t.Fatalf("quickstart: %v\n%s", err, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "quickstart.duckdb")); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"raw.customers                  50 rows", "raw.orders                   2000 rows", "raw.revenue_by_country          7 rows"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
