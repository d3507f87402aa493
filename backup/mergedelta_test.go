package backup

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/dataopskit/dataops/warehouse"
)

// The merge path of large engine-hash deltas (every incremental here is
// against the full, whose parts hold the rows in table order): updates,
// deletes, appends and key changes give the entries and restores the join
// gives; a table rewritten in another order merges through the rows set
// aside and writes no moved row; with too little room aside the merge
// gives up and the join runs, with the same result.
func TestMergeDelta(t *testing.T) {
	ctx := context.Background()
	oldWide, oldAside := wideDeltaRows, mergeMaxAside
	wideDeltaRows = 0
	t.Cleanup(func() { wideDeltaRows, mergeMaxAside = oldWide, oldAside })
	w := openDuck(t, "duckdb:")
	orders := makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 2000, orderRow)
	q := w.Dialect().QuoteRelation(orders)
	repo := initRepo(t, "mem://", "") // 25 rows a part: 80 parts, data_0 … data_79
	full, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.orders"}})
	if err != nil {
		t.Fatal(err)
	}
	reorder := "CREATE OR REPLACE TABLE raw.tmp AS SELECT * FROM " + q + " ORDER BY id DESC; DELETE FROM " + q + "; INSERT INTO " + q + " SELECT * FROM raw.tmp"
	var lastWritten int64
	for i, c := range []struct {
		name, sql string
		aside     int
		merged    bool
	}{
		{"nothing changed", "", 1 << 19, true},
		{"updates", "UPDATE " + q + " SET amount = amount + 1 WHERE id % 97 = 0", 1 << 19, true},
		{"deletes", "DELETE FROM " + q + " WHERE id % 89 = 1", 1 << 19, true},
		{"appends", "INSERT INTO " + q + " SELECT id + 10000, customer, amount, day FROM " + q + " WHERE id < 50", 1 << 19, true},
		{"key changes", "UPDATE " + q + " SET id = id + 20000 WHERE id % 83 = 0", 1 << 19, true},
		{"reordered", reorder, 1 << 19, true},
		{"reordered, no room aside", reorder, 10, false},
	} {
		if c.sql != "" {
			mustExec(t, w, c.sql)
		}
		mergeMaxAside = c.aside
		before := mergeDeltas.Load()
		inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.orders"}, Parent: full.ID})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		e := inc.Tables[0]
		if want := entryFingerprint(t, w, orders, &e); e.Fingerprint != want || e.Rows != want.Count {
			t.Fatalf("%s: entry %v (%s), table %v", c.name, e.Fingerprint, e.Data.Mode, want)
		}
		merged := mergeDeltas.Load() > before
		if i == 0 {
			// an unchanged table: the same data, merged or not
			if e.Data.Mode != ModeSame || inc.Written != 0 {
				t.Fatalf("%s: %s, %d rows written", c.name, e.Data.Mode, inc.Written)
			}
			continue
		}
		if merged != c.merged || e.Data.Mode != ModeDelta {
			t.Fatalf("%s: merged %v, mode %s", c.name, merged, e.Data.Mode)
		}
		if inc.Written > 250 || inc.Written < lastWritten {
			t.Fatalf("%s: %d rows written (%d before)", c.name, inc.Written, lastWritten)
		}
		if c.sql == reorder && inc.Written != lastWritten {
			t.Fatalf("%s: %d rows written, %d before the rows moved", c.name, inc.Written, lastWritten)
		}
		lastWritten = inc.Written
		if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: inc.ID, Schema: "back", Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		if got := entryFingerprint(t, w, warehouse.Rel("back", "orders"), &e); got != e.Fingerprint {
			t.Fatalf("%s: restored %v, want %v", c.name, got, e.Fingerprint)
		}
	}
	// a chain: the full, a delta, then more changes against the delta;
	// merged, or composed and joined when the deltas changed more keys than
	// the merge may set aside (3), or when the rows out of order (the table
	// was reordered) outgrow it (400; the deltas changed 142 keys)
	mergeMaxAside = 1 << 19
	mid, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.orders"}, Parent: full.ID})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, w, "UPDATE "+q+" SET amount = amount + 2 WHERE id % 61 = 0; DELETE FROM "+q+" WHERE id % 67 = 5")
	for _, c := range []struct {
		aside  int
		merged bool
	}{{1 << 19, true}, {3, false}, {400, false}} {
		mergeMaxAside = c.aside
		before := mergeDeltas.Load()
		inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.orders"}, Parent: mid.ID})
		if err != nil {
			t.Fatal(err)
		}
		e := inc.Tables[0]
		if want := entryFingerprint(t, w, orders, &e); e.Fingerprint != want || e.Data.Mode != ModeDelta {
			t.Fatalf("chain, aside %d: entry %v (%s), table %v", c.aside, e.Fingerprint, e.Data.Mode, want)
		}
		if merged := mergeDeltas.Load() > before; merged != c.merged {
			t.Fatalf("chain, aside %d: merged %v", c.aside, merged)
		}
		if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: inc.ID, Schema: "back", Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		if got := entryFingerprint(t, w, warehouse.Rel("back", "orders"), &e); got != e.Fingerprint {
			t.Fatalf("chain, aside %d: restored %v, want %v", c.aside, got, e.Fingerprint)
		}
	}
}

// pairScanner is a scanner of (key, hash) pairs 0..n-1 (hash = key) in
// batches of 1000 that fails after failAfter rows when failAfter ≥ 0.
type pairScanner struct{ n, failAfter int }

func (s pairScanner) ScanColumns(ctx context.Context, _ string, _ []any, fn func([]warehouse.Column, *warehouse.ColumnBatch) error) error {
	cols := []warehouse.Column{{Name: "k", Type: warehouse.Integer}, {Name: "h", Type: warehouse.Integer}}
	for lo := 0; lo < s.n; lo += 1000 {
		if s.failAfter >= 0 && lo >= s.failAfter {
			return errors.New("boom")
		}
		b := &warehouse.ColumnBatch{Cols: make([]warehouse.ColumnData, 2)}
		for i := lo; i < min(lo+1000, s.n); i++ {
			b.Cols[0].Int = append(b.Cols[0].Int, int64(i))
			b.Cols[1].Int = append(b.Cols[1].Int, int64(i))
			b.Len++
		}
		if err := fn(cols, b); err != nil {
			return err
		}
	}
	return nil
}

// A scan that fails fails the merge — never a partial file taken as the
// changes — whichever side it is; with both whole, the extra rows are the
// new ones.
func TestMergeChangedScanFails(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "changed.parquet")
	dpath := filepath.Join(t.TempDir(), "deleted.parquet")
	for _, c := range []struct {
		name      string
		cur, prev pairScanner
	}{
		{"table", pairScanner{10_000, 5000}, pairScanner{10_000, -1}},
		{"parent", pairScanner{10_000, -1}, pairScanner{10_000, 3000}},
	} {
		n, d, err := mergeChanged(ctx, c.cur, c.prev, "q", &mergeParent{query: "q"}, "id", path, dpath)
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("%s side failing: %d, %d rows, %v", c.name, n, d, err)
		}
		for _, f := range []string{path, dpath} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Fatalf("%s side failing: %s is left: %v", c.name, f, err)
			}
		}
	}
	n, d, err := mergeChanged(ctx, pairScanner{10_000, -1}, pairScanner{9000, -1}, "q", &mergeParent{query: "q"}, "id", path, dpath)
	if err != nil || n != 1000 || d != 0 {
		t.Fatalf("1000 appended rows: %d new, %d deleted (%v)", n, d, err)
	}
	n, d, err = mergeChanged(ctx, pairScanner{9000, -1}, pairScanner{10_000, -1}, "q", &mergeParent{query: "q"}, "id", path, dpath)
	if err != nil || n != 0 || d != 1000 {
		t.Fatalf("1000 rows deleted at the end: %d new, %d deleted (%v)", n, d, err)
	}
}

// sliceScanner scans given (key, hash) pairs in batches of 500.
type sliceScanner struct{ k, h []int64 }

func (s sliceScanner) ScanColumns(ctx context.Context, _ string, _ []any, fn func([]warehouse.Column, *warehouse.ColumnBatch) error) error {
	cols := []warehouse.Column{{Name: "k", Type: warehouse.Integer}, {Name: "h", Type: warehouse.Integer}}
	for lo := 0; lo < len(s.k); lo += 500 {
		hi := min(lo+500, len(s.k))
		b := &warehouse.ColumnBatch{Len: hi - lo, Cols: []warehouse.ColumnData{{Int: s.k[lo:hi]}, {Int: s.h[lo:hi]}}}
		if err := fn(cols, b); err != nil {
			return err
		}
	}
	return nil
}

// TestMergeChangedOrders: whatever the order of the parent's rows against
// the table's (runs swapped, two runs swapped around a third, rows deleted
// in front of a swapped run and in bulk, keys moved to the end, appended
// rows), the merge finds exactly the changed, new and deleted rows.
func TestMergeChangedOrders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	type pair struct{ k, h int64 }
	run := func(lo, hi int64) []pair {
		var out []pair
		for k := lo; k < hi; k++ {
			out = append(out, pair{k, k * 31})
		}
		return out
	}
	cat := func(ps ...[]pair) []pair {
		var out []pair
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	split := func(ps []pair) sliceScanner {
		var s sliceScanner
		for _, p := range ps {
			s.k, s.h = append(s.k, p.k), append(s.h, p.h)
		}
		return s
	}
	swapped := cat(run(0, 1000), run(2000, 3000), run(1000, 2000), run(3000, 5000))
	for _, c := range []struct {
		name          string
		parent, table []pair
		mapped        int64 // the most parent rows the merge may put in its map
	}{
		{"in order", run(0, 5000), run(0, 5000), 0},
		// a swapped run waits in the queue and is taken back in order
		{"a run swapped", swapped, run(0, 5000), 0},
		{"deletes just before a swapped run", swapped, cat(run(0, 998), run(1000, 5000)), 2},
		{"deletes elsewhere", swapped, cat(run(0, 500), run(503, 1000), run(1000, 1500), run(1520, 5000)), 2000},
		{"two runs around a third", cat(run(0, 1000), run(3000, 4000), run(2000, 3000), run(1000, 2000), run(4000, 5000)), run(0, 5000), 2000},
		{"a bulk delete, then a swap", cat(run(0, 1000), run(3000, 4000), run(1000, 3000), run(4000, 5000)),
			cat(run(0, 100), run(1100, 3000), run(3000, 5000)), 2000},
		{"keys moved to the end, rows appended", run(0, 5000), cat(run(0, 10), run(20, 5000), run(10, 20), run(9000, 9100)), 10},
	} {
		mapped := mergeMapped.Load()
		// the table changes every 7th hash
		table := append([]pair(nil), c.table...)
		for i := range table {
			if table[i].k%7 == 0 {
				table[i].h++
			}
		}
		parentH := map[int64]int64{}
		for _, p := range c.parent {
			parentH[p.k] = p.h
		}
		wantChanged, wantDeleted := map[int64]bool{}, map[int64]bool{}
		seen := map[int64]bool{}
		for _, p := range table {
			seen[p.k] = true
			if h, ok := parentH[p.k]; !ok || h != p.h {
				wantChanged[p.k] = true
			}
		}
		for _, p := range c.parent {
			if !seen[p.k] {
				wantDeleted[p.k] = true
			}
		}
		cpath, dpath := filepath.Join(dir, "c.parquet"), filepath.Join(dir, "d.parquet")
		n, d, err := mergeChanged(ctx, split(table), split(c.parent), "q", &mergeParent{query: "q"}, "id", cpath, dpath)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		type changedRow struct {
			ID  int64  `parquet:"id"`
			H   int64  `parquet:"_dataops_row_hash"`
			Old *int64 `parquet:"dataops_old,optional"`
		}
		got, err := parquet.ReadFile[changedRow](cpath)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != n || len(got) != len(wantChanged) {
			t.Fatalf("%s: %d changed rows written (%d counted), want %d", c.name, len(got), n, len(wantChanged))
		}
		for _, r := range got {
			old, had := parentH[r.ID]
			if !wantChanged[r.ID] || (r.Old == nil) == had || (had && *r.Old != old) {
				t.Fatalf("%s: changed row %+v (parent had %v: %d)", c.name, r, had, old)
			}
		}
		type deletedRow struct {
			ID int64 `parquet:"id"`
			H  int64 `parquet:"_dataops_row_hash"`
		}
		gone, err := parquet.ReadFile[deletedRow](dpath)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(gone)) != d || len(gone) != len(wantDeleted) {
			t.Fatalf("%s: %d deleted rows written (%d counted), want %d", c.name, len(gone), d, len(wantDeleted))
		}
		for _, r := range gone {
			if !wantDeleted[r.ID] || r.H != parentH[r.ID] {
				t.Fatalf("%s: deleted row %+v", c.name, r)
			}
		}
		if m := mergeMapped.Load() - mapped; m > c.mapped {
			t.Errorf("%s: %d parent rows went through the map, at most %d expected", c.name, m, c.mapped)
		}
	}
}

// A keySet answers the same as a map, as a bitmap over a small range
// (keys at both ends, negatives, far outside) and as a map over a wide one.
func TestKeySet(t *testing.T) {
	for _, keys := range [][]int64{
		{5, 6, 64, 65, 127, 128, 1000},
		{-3, 0, 3, 1 << 20},
		{math.MinInt64, 0, math.MaxInt64},
		{math.MaxInt64 - 1, math.MaxInt64},
	} {
		s := newKeySet()
		in := map[int64]bool{}
		for _, k := range keys {
			s.add(k)
			in[k] = true
		}
		s.seal()
		probes := []int64{math.MinInt64, math.MinInt64 + 1, -4, -1, 1, 2, 4, 7, 63, 66, 129, 999, 1001, 1<<20 + 1, 1 << 40, math.MaxInt64 - 2}
		probes = append(probes, keys...)
		for _, k := range probes {
			if s.has(k) != in[k] {
				t.Errorf("keys %v: has(%d) = %v", keys, k, s.has(k))
			}
		}
		if wide := keys[len(keys)-1]-keys[0] < 0 || uint64(keys[len(keys)-1])-uint64(keys[0]) >= keySetBits; (s.bits == nil) != wide {
			t.Errorf("keys %v: bitmap %v", keys, s.bits != nil)
		}
	}
}
