package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

func TestSyncFilesToDuckDB(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("id,name,amount\n")
	for i := range 250 {
		fmt.Fprintf(&csv, "%d,name %d,%d.5\n", i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "orders.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"base_dir": dir, "streams": []any{
		map[string]any{"name": "orders", "globs": []string{"*.csv"}, "format": map[string]any{"filetype": "csv"}},
	}})
	cfgPath := filepath.Join(dir, "files.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "wh.duckdb")
	out, err := run(t, "sync", "--source", "file", "--config", cfgPath, "--target", "duckdb:"+db, "--schema", "raw")
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	if !strings.Contains(out, "raw.orders") || !strings.Contains(out, "250") {
		t.Fatalf("sync output:\n%s", out)
	}
	// A second sync reads no file again (incremental by file).
	out, err = run(t, "sync", "--source", "file", "--config", cfgPath, "--target", "duckdb:"+db, "--schema", "raw")
	if err != nil {
		t.Fatalf("second sync: %v\n%s", err, out)
	}
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var n int64
	var sum float64
	if err := w.Get(ctx, &n, `SELECT count(*) FROM raw.orders`); err != nil || n != 250 {
		t.Fatalf("raw.orders: %d rows, %v; want 250", n, err)
	}
	if err := w.Get(ctx, &sum, `SELECT sum(amount) FROM raw.orders`); err != nil || sum != 250*249/2+125 {
		t.Fatalf("sum(amount) = %v, %v", sum, err)
	}
	// A stream that the source lacks is named.
	_, err = run(t, "sync", "--source", "file", "--config", cfgPath, "--target", "duckdb:"+db, "--streams", "nope")
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown stream: %v", err)
	}
}
