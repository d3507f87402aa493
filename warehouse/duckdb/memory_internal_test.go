package duckdb

import (
	"context"
	"net/url"
	"runtime"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// TestReleaseMemoryOption: dataops_release_memory is parsed by the driver
// (not passed to DuckDB) and rejects values other than true and false; on
// Linux a database opened with it purges DuckDB's allocator before bulk
// loads, which load as before.
func TestReleaseMemoryOption(t *testing.T) {
	parse := func(s string) (Config, error) {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return ParseURL(u)
	}
	c, err := parse("duckdb:?dataops_release_memory=true&threads=2")
	if err != nil {
		t.Fatal(err)
	}
	if !c.ReleaseMemory || c.Options.Has(ReleaseMemoryOption) || c.Options.Get("threads") != "2" {
		t.Fatalf("parsed %+v: want ReleaseMemory and only threads passed to DuckDB", c)
	}
	if c, err := parse("duckdb:?dataops_release_memory=false"); err != nil || c.ReleaseMemory {
		t.Fatalf("false: %+v, %v", c, err)
	}
	for _, bad := range []string{"duckdb:?dataops_release_memory=yes", "duckdb:?dataops_release_memory=true&dataops_release_memory=true"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}

	if runtime.GOOS != "linux" {
		t.Skip("needs Linux: dataops_release_memory works through glibc malloc and DuckDB's Linux jemalloc")
	}
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:?dataops_release_memory=true")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e := w.Engine().(*Engine)
	if _, err := w.Exec(ctx, "CREATE TABLE t (i BIGINT, s VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	rows := func(yield func([]any, error) bool) {
		for i := range 5000 {
			if !yield([]any{int64(i), "row"}, nil) {
				return
			}
		}
	}
	if _, err := w.Load(ctx, warehouse.Rel("main", "t"), []string{"i", "s"}, rows); err != nil {
		t.Fatal(err)
	}
	if e.lastPurge.Load() == 0 {
		t.Error("no purge before the load")
	}
	var n, sum int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM t"); err != nil || n != 5000 {
		t.Fatalf("count: %d, %v", n, err)
	}
	if err := w.Get(ctx, &sum, "SELECT sum(i) FROM t"); err != nil || sum != 4999*5000/2 {
		t.Fatalf("sum: %d, %v", sum, err)
	}
}

// TestWarehouseReleaseMemory: Warehouse.ReleaseMemory reaches the engine's
// purge with the option (a backup restore calls it before each INSERT …
// SELECT), and does nothing without it.
func TestWarehouseReleaseMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux: dataops_release_memory works through glibc malloc and DuckDB's Linux jemalloc")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		url   string
		purge bool
	}{{"duckdb:?dataops_release_memory=true", true}, {"duckdb:", false}} {
		w, err := warehouse.Open(ctx, tc.url)
		if err != nil {
			t.Fatal(err)
		}
		e := w.Engine().(*Engine)
		if _, ok := w.Engine().(warehouse.MemoryReleaser); !ok {
			t.Fatal("the DuckDB engine is not a warehouse.MemoryReleaser")
		}
		w.ReleaseMemory()
		if got := e.lastPurge.Load() != 0; got != tc.purge {
			t.Errorf("%s: purged %v, want %v", tc.url, got, tc.purge)
		}
		w.Close()
	}
}
