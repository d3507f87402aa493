package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

// TestChunkLoadParallel: with preserve_insertion_order false and room in
// memory_limit, a chunk load's INSERT runs on several threads, and the
// table holds exactly the rows the appender writes (in any order), in a
// transaction too; with the default (true) it runs on one.
func TestChunkLoadParallel(t *testing.T) {
	ctx := context.Background()
	const n = 300_000 // more than two row groups
	for _, c := range []struct {
		url  string
		want func(int) bool
	}{
		{"?threads=4&memory_limit=1GB&preserve_insertion_order=false", func(k int) bool { return k >= 2 }},
		{"?threads=4&memory_limit=1GB", func(k int) bool { return k == 1 }},
		// more threads than a load keeps batches waiting for
		{"?threads=12&memory_limit=2GB&preserve_insertion_order=false", func(k int) bool { return k >= 2 }},
		// a row group of chunkCols is about 40 MB: two threads need 80
		{"?threads=4&memory_limit=64MB&preserve_insertion_order=false", func(k int) bool { return k == 1 }},
	} {
		t.Run(c.url, func(t *testing.T) {
			w := open(t, "duckdb://"+filepath.Join(t.TempDir(), "p.duckdb")+c.url)
			defer w.Close()
			eng := w.Engine().(*duckdb.Engine)
			for _, name := range []string{"via_appender", "via_chunks"} {
				duckdb.SetAppenderOnly(eng, name == "via_appender")
				rel := warehouse.Rel("", name)
				if err := w.CreateTable(ctx, rel, chunkCols, nil); err != nil {
					t.Fatal(err)
				}
				tx, err := w.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := tx.Load(ctx, rel, nil, repeatedRows(n/100_000)); err != nil || got != n {
					t.Fatalf("%s: loaded %d rows (%v), want %d", name, got, err, n)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			duckdb.SetAppenderOnly(eng, false)
			if k := duckdb.LastLoadThreads(); !c.want(k) {
				t.Errorf("the load ran on %d threads", k)
			}
			// the same multiset of rows: the sums of the rows' hashes agree
			// (an EXCEPT ALL would not fit in the smallest memory_limit)
			var diff bool
			var count int64
			if err := w.Get(ctx, &diff, `SELECT (SELECT sum(hash(via_chunks)::HUGEINT) FROM via_chunks) <> (SELECT sum(hash(via_appender)::HUGEINT) FROM via_appender) OR (SELECT sum(hash(via_chunks)::HUGEINT) FROM via_chunks) IS NULL`); err != nil || diff {
				t.Fatalf("the tables differ (%v)", err)
			}
			if err := w.Get(ctx, &count, "SELECT count(*) FROM via_chunks"); err != nil || count != n {
				t.Fatalf("via_chunks has %d rows (%v), want %d", count, err, n)
			}
			// the load left the session's setting as it was
			var keep bool
			if err := w.Get(ctx, &keep, "SELECT current_setting('preserve_insertion_order')::BOOLEAN"); err != nil {
				t.Fatal(err)
			}
			if want := c.url == "?threads=4&memory_limit=1GB"; keep != want {
				t.Errorf("preserve_insertion_order is %v after the load", keep)
			}
		})
	}
}

// repeatedRows is k times chunkRows(100_000) (whose values stay in range),
// the i64 column's values kept apart.
func repeatedRows(k int) func(func([]any, error) bool) {
	return func(yield func([]any, error) bool) {
		for rep := range k {
			for row, err := range chunkRows(100_000) {
				if v, ok := row[0].(int64); ok {
					row[0] = v + int64(rep)<<50
				}
				if !yield(row, err) {
					return
				}
			}
		}
	}
}

// TestChunkLoadParallelError: a row DuckDB rejects in a later batch fails a
// parallel load, which leaves nothing behind, and the warehouse stays
// usable.
func TestChunkLoadParallelError(t *testing.T) {
	ctx := context.Background()
	w := open(t, "duckdb://"+filepath.Join(t.TempDir(), "e.duckdb")+"?threads=4&memory_limit=1GB&preserve_insertion_order=false")
	defer w.Close()
	rel := warehouse.Rel("", "strict")
	cols := []warehouse.Column{{Name: "id", Type: warehouse.Integer, Nullable: false}, {Name: "s", Type: warehouse.String, Nullable: true}}
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	const bad = 250_001
	rows := func(yield func([]any, error) bool) {
		for i := range 300_000 {
			var id any = int64(i)
			if i == bad {
				id = nil
			}
			if !yield([]any{id, "x"}, nil) {
				return
			}
		}
	}
	if _, err := w.Load(ctx, rel, nil, rows); err == nil {
		t.Fatal("a NULL in a NOT NULL column loaded")
	}
	var count int64
	if err := w.Get(ctx, &count, "SELECT count(*) FROM strict"); err != nil || count != 0 {
		t.Fatalf("after the failed load: %d rows (%v)", count, err)
	}
	if got, err := w.Load(ctx, rel, nil, func(yield func([]any, error) bool) { yield([]any{int64(1), "y"}, nil) }); err != nil || got != 1 {
		t.Fatalf("a load after the failure: %d %v", got, err)
	}
}
