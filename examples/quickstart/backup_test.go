package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

func TestBackupStep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := warehouse.Open(ctx, "duckdb:"+filepath.Join(dir, "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, q := range []string{
		"CREATE SCHEMA raw",
		"CREATE TABLE raw.orders (id BIGINT PRIMARY KEY, status VARCHAR, amount DECIMAL(10,2))",
		"INSERT INTO raw.orders SELECT i, 'placed', i * 2.5 FROM range(1, 501) t(i)",
		"CREATE TABLE raw.customers (name VARCHAR, country VARCHAR)",
		"INSERT INTO raw.customers SELECT 'c' || i, 'DE' FROM range(20) t(i)",
	} {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := backupStep(ctx, &out, w, dir); err != nil {
		t.Fatalf("backupStep: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"full         2 tables       520 rows", "incremental  2 tables       520 rows",
		"raw.orders: 6 rows upserted, 3 deleted", "verify: 2 snapshots", ": ok", "fingerprints match 2/2 tables",
		"raw.orders now 500 rows; restored copy of the first snapshot 500 rows"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM restored.orders WHERE amount <> id * 2.5"); err != nil || n != 0 {
		t.Fatalf("restored copy holds %d updated rows (%v); want the first snapshot's", n, err)
	}
	if err := w.Get(ctx, &n, "SELECT count(*) FROM raw.orders WHERE amount <> (CASE WHEN id > 500 THEN id - 500 ELSE id END) * 2.5"); err != nil || n != 6 {
		t.Fatalf("raw.orders holds %d updated rows (%v), want 6 (3 updated, 3 copies of them with new ids)", n, err)
	}
	if err := w.Get(ctx, &n, "SELECT count(*) - count(DISTINCT id) FROM raw.orders"); err != nil || n != 0 {
		t.Fatalf("raw.orders holds %d duplicate ids (%v) after the changes", n, err)
	}
	// a second run on the same directory reuses the repository and the drill schema
	out.Reset()
	if err := backupStep(ctx, &out, w, dir); err != nil {
		t.Fatalf("second backupStep: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "verify: 4 snapshots") {
		t.Fatalf("second run:\n%s", out.String())
	}
}
