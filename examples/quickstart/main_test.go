package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), &out, dir, 50, 2_000); err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out.String())
	}
	first := out.String()
	for _, want := range []string{fmt.Sprintf("staged %-9s %8d records", "customers", 50), fmt.Sprintf("staged %-9s %8d records", "orders", 2000),
		"dbt build   PASS=", " ERROR=0 SKIP=0 ",
		"raw.dim_customers                  50 rows", "raw.fct_orders                   2000 rows",
		"backup ", " full ", " incremental ", ": ok", "fingerprints match"} {
		if !strings.Contains(first, want) {
			t.Errorf("first run lacks %q:\n%s", want, first)
		}
	}
	// The second run finds no new file: nothing is staged, nothing doubles.
	out.Reset()
	if err := run(context.Background(), &out, dir, 50, 2_000); err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	second := out.String()
	for _, want := range []string{fmt.Sprintf("staged %-9s %8d records", "orders", 0), " ERROR=0 SKIP=0 ", "raw.fct_orders                   2000 rows"} {
		if !strings.Contains(second, want) {
			t.Errorf("second run lacks %q:\n%s", want, second)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "quickstart.duckdb")); err != nil {
		t.Fatal(err)
	}
}
