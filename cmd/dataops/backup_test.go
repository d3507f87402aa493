package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

func TestBackupCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envPassword, "correct horse")
	repo := "file://" + filepath.Join(dir, "repo")
	db := "duckdb:" + filepath.Join(dir, "wh.duckdb")
	execDB(t, db,
		"CREATE SCHEMA raw",
		"CREATE TABLE raw.orders (id BIGINT PRIMARY KEY, customer VARCHAR, amount DECIMAL(10,2))",
		"INSERT INTO raw.orders SELECT i, 'c' || (i % 5), i * 1.5 FROM range(200) t(i)")
	must := func(args ...string) string {
		t.Helper()
		out, err := run(t, args...)
		if err != nil {
			t.Fatalf("dataops %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must("backup", "init", "--repo", repo)
	out := must("backup", "create", "--repo", repo, "--target", db, "--json")
	var full struct {
		ID   string
		Rows int64
	}
	if err := json.Unmarshal([]byte(out), &full); err != nil || full.Rows != 200 {
		t.Fatalf("create: %v\n%s", err, out)
	}
	execDB(t, db, "UPDATE raw.orders SET customer = 'new' WHERE id < 3", "DELETE FROM raw.orders WHERE id = 199")
	out = must("backup", "create", "--repo", repo, "--target", db, "--incremental")
	if !strings.Contains(out, "incremental") || !strings.Contains(out, "delta") {
		t.Fatalf("incremental:\n%s", out)
	}
	out = must("backup", "list", "--repo", repo)
	if strings.Count(out, "\n") != 3 || !strings.Contains(out, "incremental") {
		t.Fatalf("list:\n%s", out)
	}
	out = must("backup", "show", "--repo", repo, full.ID[:8])
	if !strings.Contains(out, "raw.orders") || !strings.Contains(out, "200") {
		t.Fatalf("show:\n%s", out)
	}
	out = must("backup", "verify", "--repo", repo, "--read-data")
	if !strings.Contains(out, "no problems") {
		t.Fatalf("verify:\n%s", out)
	}
	out = must("backup", "versions", "--repo", repo, "raw.orders")
	if strings.Count(out, "\n") != 3 {
		t.Fatalf("versions:\n%s", out)
	}
	list := must("backup", "list", "--repo", repo, "--json")
	var snaps []struct{ ID string }
	json.Unmarshal([]byte(list), &snaps)
	out = must("backup", "diff", "--repo", repo, "raw.orders", snaps[0].ID, snaps[1].ID)
	if !strings.Contains(out, "0 added, 1 removed, 3 changed") {
		t.Fatalf("diff:\n%s", out)
	}
	out = must("backup", "restore", "--repo", repo, "--target", db, full.ID[:10], "--schema", "drill")
	if !strings.Contains(out, "fingerprints match") || !strings.Contains(out, "drill.orders") {
		t.Fatalf("restore:\n%s", out)
	}
	if _, err := run(t, "backup", "restore", "--repo", repo, "--target", db, full.ID[:10], "--schema", "drill"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("restore onto an existing drill: %v", err)
	}
	// a locked snapshot cannot be forgotten
	must("backup", "lock", "--repo", repo, full.ID[:10], "--for", "1h")
	if _, err := run(t, "backup", "forget", "--repo", repo, full.ID[:10]); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("forget of a locked snapshot: %v", err)
	}
	out = must("backup", "forget", "--repo", repo, "--keep-last", "1", "--prune")
	if !strings.Contains(out, "keep") || !strings.Contains(out, "locked") {
		t.Fatalf("forget:\n%s", out)
	}
	must("backup", "prune", "--repo", repo)
	// wrong passphrase
	t.Setenv(envPassword, "wrong")
	if _, err := run(t, "backup", "list", "--repo", repo); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

// backup create --change-column records the column's mark, and an
// incremental with it stores the rows changed since, deletes included.
func TestBackupCreateChangeColumn(t *testing.T) {
	dir := t.TempDir()
	repo := "file://" + filepath.Join(dir, "repo")
	db := "duckdb:" + filepath.Join(dir, "wh.duckdb")
	execDB(t, db,
		"CREATE SCHEMA raw",
		"CREATE TABLE raw.orders (id BIGINT PRIMARY KEY, customer VARCHAR, seq BIGINT NOT NULL)",
		"INSERT INTO raw.orders SELECT i, 'c' || (i % 5), i FROM range(200) t(i)")
	type result struct {
		ID      string
		Written int64
		Tables  []struct {
			ChangeMark string `json:"change_mark"`
			Data       struct{ Mode string }
		}
	}
	create := func(args ...string) result {
		t.Helper()
		out, err := run(t, append([]string{"backup", "create", "--repo", repo, "--target", db, "--json"}, args...)...)
		if err != nil {
			t.Fatalf("create %v: %v\n%s", args, err, out)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Tables) != 1 {
			t.Fatalf("create: %v\n%s", err, out)
		}
		return r
	}
	t.Setenv(envPassword, "pw")
	if out, err := run(t, "backup", "init", "--repo", repo); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	full := create("--change-column", "raw.orders=seq")
	if full.Tables[0].ChangeMark != "199" {
		t.Fatalf("full: mark %q", full.Tables[0].ChangeMark)
	}
	execDB(t, db, "UPDATE raw.orders SET customer = 'new', seq = 1000 WHERE id < 3", "DELETE FROM raw.orders WHERE id = 199")
	inc := create("--incremental", "--change-column", "raw.orders=seq")
	if inc.Written != 4 || inc.Tables[0].Data.Mode != "delta" || inc.Tables[0].ChangeMark != "1000" {
		t.Fatalf("incremental: %+v", inc)
	}
	if _, err := run(t, "backup", "create", "--repo", repo, "--target", db, "--change-column", "raw.orders"); err == nil || !strings.Contains(err.Error(), "schema.table=column") {
		t.Fatalf("a bad --change-column: %v", err)
	}
}

// execDB runs statements on the warehouse at url, then closes it.
func execDB(t *testing.T, url string, qs ...string) {
	t.Helper()
	ctx := context.Background()
	w, err := warehouse.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, q := range qs {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}
