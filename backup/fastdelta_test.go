package backup

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// DuckDB's fast delta (changes found with hash(), fingerprint updated from
// the parent's) over a chain of incrementals records exactly the rows the
// general path records, and fingerprints that equal the table's.
func TestFastDeltaChainMatchesGeneralPath(t *testing.T) {
	ctx := context.Background()
	for _, rp := range repos() {
		if rp.name == "s3" {
			continue
		}
		t.Run(rp.name, func(t *testing.T) {
			w := openDuck(t, "duckdb:")
			orders := makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 1000, orderRow)
			q := w.Dialect().QuoteRelation(orders)
			steps := []string{
				"UPDATE " + q + " SET customer = NULL WHERE id % 97 = 0",
				"DELETE FROM " + q + " WHERE id % 89 = 0",
				"INSERT INTO " + q + " SELECT id + 10000, customer, amount, day FROM " + q + " WHERE id < 50",
				"UPDATE " + q + " SET amount = amount + 1 WHERE id % 101 = 0",
				// key changes: a delete and an insert each, with no change of the row count
				"UPDATE " + q + " SET id = id + 20000 WHERE id % 83 = 0",
				// deletes and inserts that cancel out in the row count
				"DELETE FROM " + q + " WHERE id % 79 = 1; INSERT INTO " + q + " SELECT id + 30000, customer, amount, day FROM " + q + " WHERE id % 79 = 2",
			}
			for _, mode := range []string{"wide", "narrow", "general"} {
				general := mode == "general"
				if mode == "narrow" {
					// the digests-only join of large parents
					old := wideDeltaRows
					wideDeltaRows = 0
					t.Cleanup(func() { wideDeltaRows = old })
				}
				if general {
					// the general path continues portable chains only
					t.Setenv("DATAOPS_BACKUP_NO_FAST_DELTA", "1")
					t.Setenv("DATAOPS_BACKUP_NO_NATIVE", "1")
				}
				repo := rp.open(t)
				mustExec(t, w, "DROP TABLE IF EXISTS raw.copy")
				mustExec(t, w, "CREATE TABLE raw.copy AS SELECT * FROM "+q)
				before, mergedBefore := fastDeltas.Load(), mergeDeltas.Load()
				res, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.orders"}})
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range steps {
					mustExec(t, w, s)
					inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.orders"}, Parent: res.ID})
					if err != nil {
						t.Fatal(err)
					}
					e := inc.Tables[0]
					if want := entryFingerprint(t, w, orders, &e); e.Fingerprint != want || e.Rows != want.Count || e.Data.Mode != ModeDelta {
						t.Fatalf("%s, step %d: entry %v (%s), table %v", mode, i, e.Fingerprint, e.Data.Mode, want)
					}
					if inc.Written > 200 {
						t.Fatalf("step %d wrote %d rows", i, inc.Written)
					}
					side := "r" + mode[:1]
					if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: inc.ID, Schema: side, Overwrite: true, Rehash: general}); err != nil {
						t.Fatal(err)
					}
					if got := entryFingerprint(t, w, warehouse.Rel(side, "orders"), &e); got != e.Fingerprint {
						t.Fatalf("step %d restored %v, want %v", i, got, e.Fingerprint)
					}
					res = inc
				}
				if n := fastDeltas.Load() - before; (n == int64(len(steps))) == general {
					t.Fatalf("%s: %d fast deltas for %d steps", mode, n, len(steps))
				}
				// the narrow path merges every step: against the full, then
				// against the chain of the full and the deltas since
				if n := mergeDeltas.Load() - mergedBefore; (n == int64(len(steps))) != (mode == "narrow") {
					t.Fatalf("%s: %d merged deltas for %d steps", mode, n, len(steps))
				}
				// no change at all: same
				inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.orders"}, Parent: res.ID})
				if err != nil {
					t.Fatal(err)
				}
				if m := inc.Tables[0].Data.Mode; m != ModeSame || inc.Written != 0 {
					t.Fatalf("unchanged table: %s, %d rows written", m, inc.Written)
				}
				// back to the start for the other path
				mustExec(t, w, "DELETE FROM "+q)
				mustExec(t, w, "INSERT INTO "+q+" SELECT * FROM raw.copy")
			}
		})
	}
}

// On DuckDB a full table restores through read_parquet and is checked
// against the manifest by its parts' stored hashes; Rehash re-derives them
// from the loaded rows: both agree with the table.
func TestRestoreRehash(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	rel := makeTable(t, w, "raw", "all_types", allTypes, []string{"id"}, 50, allTypesRow)
	want := tableFingerprint(t, w, rel)
	repo := initRepo(t, "mem://", "")
	res, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rehash := range []bool{false, true} {
		rr, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: res.ID, Schema: "back", Overwrite: true, Rehash: rehash})
		if err != nil {
			t.Fatal(err)
		}
		if rr.Tables[0].Fingerprint != want || rr.Rows != 50 {
			t.Fatalf("rehash %v: %+v, want %v", rehash, rr.Tables[0], want)
		}
		if got := tableFingerprint(t, w, warehouse.Rel("back", "all_types")); got != want {
			t.Fatalf("rehash %v: restored table %v, want %v", rehash, got, want)
		}
		if _, err := w.Exec(ctx, "INSERT INTO back.all_types (id) VALUES (0)"); err == nil {
			t.Fatalf("rehash %v: the restored table lost its primary key", rehash)
		}
	}
	// a manifest whose fingerprint the parts do not match is refused
	j := &restoreJob{entry: &res.Tables[0], staging: warehouse.Rel("back", "all_types")}
	bad := want
	bad.Sum++
	if err := checkLoaded(ctx, w, j, bad); err == nil {
		t.Fatal("a wrong fingerprint passed the check")
	}
	short := want
	short.Count--
	if err := checkLoaded(ctx, w, j, short); err == nil {
		t.Fatal("a wrong row count passed the check")
	}
}

// unorderedCopy returns every row of its query across its per-thread files,
// and a relation with the query's columns when no row comes out.
func TestUnorderedCopy(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	for _, q := range []string{"SET threads = 4", "CREATE TABLE nums AS SELECT i FROM range(1000000) t(i)"} {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tb := &tableBackup{dir: t.TempDir()}
	for _, tc := range []struct {
		lo, rows int64
	}{{0, 1_000_000}, {900_000, 100_000}, {2_000_000, 0}} {
		rel, dir, err := tb.unorderedCopy(ctx, w, "rows", "SELECT i AS id, i * 2 AS twice FROM nums WHERE i >= ?", tc.lo)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			N   int64 `db:"n"`
			Sum int64 `db:"s"`
		}
		if err := w.Get(ctx, &got, "SELECT count(*) AS n, coalesce(sum(twice - 2 * id), 0) + count(DISTINCT id) - count(*) AS s FROM "+rel); err != nil {
			t.Fatal(err)
		}
		if got.N != tc.rows || got.Sum != 0 {
			t.Errorf("from %d: %d rows (want %d), checksum %d (want 0)", tc.lo, got.N, tc.rows, got.Sum)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "parts", "*.parquet"))
		if tc.rows == 1_000_000 && len(files) < 2 {
			t.Errorf("all rows: %d files, want one per thread", len(files))
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
}
