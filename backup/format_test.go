package backup

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// A format 1 snapshot (written the way dataops wrote them before format 2:
// Go writer, portable row hashes, no row_hash field) restores, and
// incrementals on it continue its portable chain and restore composed.
func TestReadFormat1Snapshot(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	orders := makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 200, orderRow)
	events := makeTable(t, w, "raw", "events", eventCols, nil, 60, eventRow)
	repo := initRepo(t, "file://"+t.TempDir(), "")
	writeFormatV1 = true
	v1, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}})
	writeFormatV1 = false
	if err != nil {
		t.Fatal(err)
	}
	s1, err := repo.LoadManifest(ctx, v1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Manifest.Format != 1 || strings.Contains(string(s1.Manifest.Tables), "row_hash") {
		t.Fatalf("format 1 manifest: format %d, tables %s", s1.Manifest.Format, s1.Manifest.Tables)
	}
	fp1 := map[string]Fingerprint{"orders": tableFingerprint(t, w, orders), "events": tableFingerprint(t, w, events)}
	for _, te := range v1.Tables {
		if te.RowHashKind() != HashSHA256 || te.Fingerprint != fp1[te.Name] {
			t.Fatalf("%s: kind %s, fingerprint %v, want %v", te.Name, te.RowHashKind(), te.Fingerprint, fp1[te.Name])
		}
	}
	mustExec(t, w, "UPDATE raw.orders SET customer = 'changed' WHERE id % 10 = 0")
	mustExec(t, w, "DELETE FROM raw.orders WHERE id % 17 = 0")
	mustExec(t, w, "INSERT INTO raw.events VALUES ('new', 9)")
	mustExec(t, w, "DELETE FROM raw.events WHERE n = 3")
	inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}, Parent: v1.ID})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := repo.LoadManifest(ctx, inc.ID)
	if err != nil || s2.Manifest.Format != repository.FormatVersion {
		t.Fatalf("incremental manifest: %+v, %v", s2, err)
	}
	fp2 := map[string]Fingerprint{"orders": tableFingerprint(t, w, orders), "events": tableFingerprint(t, w, events)}
	for _, te := range inc.Tables {
		if te.RowHash != HashSHA256 || te.Data.Mode != ModeDelta || te.Fingerprint != fp2[te.Name] {
			t.Fatalf("%s on a format 1 parent: kind %q, mode %s, fingerprint %v, want %v", te.Name, te.RowHash, te.Data.Mode, te.Fingerprint, fp2[te.Name])
		}
	}
	for _, c := range []struct {
		id   string
		want map[string]Fingerprint
	}{{v1.ID, fp1}, {inc.ID, fp2}} {
		if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: c.id, Schema: "back", Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		for name, fp := range c.want {
			if got := tableFingerprint(t, w, warehouse.Rel("back", name)); got != fp {
				t.Fatalf("%s restored from %s: %v, want %v", name, short(c.id), got, fp)
			}
		}
	}
}

// Entries with the engine row hash of another DuckDB version: a restore
// checks them the portable way against their parts, an incremental on them
// writes the table in full (in this version's kind), a synthetic full turns
// them portable, and a diff against this version's entries compares rows,
// not hashes of two kinds.
func TestEngineHashOfAnotherVersion(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	orders := makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 300, orderRow)
	events := makeTable(t, w, "raw", "events", eventCols, nil, 40, eventRow)
	repo := initRepo(t, "mem://", "")
	testEngineVersion = "v0.0.1-other"
	old, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}})
	testEngineVersion = ""
	if err != nil {
		t.Fatal(err)
	}
	for _, te := range old.Tables {
		if te.RowHash != "duckdb-hash/v0.0.1-other" {
			t.Fatalf("%s: kind %q", te.Name, te.RowHash)
		}
	}
	fp1 := map[string]Fingerprint{"orders": tableFingerprint(t, w, orders), "events": tableFingerprint(t, w, events)}
	rr, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: old.ID, Schema: "back"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range rr.Tables {
		if got := tableFingerprint(t, w, rt.Target); got != fp1[rt.Source.Name] || rt.Fingerprint != got {
			t.Fatalf("%s: restored %v, reported %v, want the portable %v", rt.Source, got, rt.Fingerprint, fp1[rt.Source.Name])
		}
	}
	if _, err := FingerprintTableKind(ctx, w, orders, "duckdb-hash/v0.0.1-other"); !errors.Is(err, ErrHashKind) {
		t.Fatalf("fingerprint of another version's kind: %v", err)
	}
	mustExec(t, w, "UPDATE raw.orders SET customer = 'changed' WHERE id < 5")
	inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}, Parent: old.ID})
	if err != nil {
		t.Fatal(err)
	}
	kind := duckHashKind(duckVersion(t, w))
	for _, te := range inc.Tables {
		if te.RowHash != kind || te.Data.Mode != ModeFull || te.Fingerprint != entryFingerprint(t, w, te.Relation(), &te) {
			t.Fatalf("%s over another version's entry: kind %q, mode %s", te.Name, te.RowHash, te.Data.Mode)
		}
	}
	// events did not change, but its two versions' fingerprints are of two
	// kinds: the listing cannot tell, and says so
	vs, err := Versions(ctx, repo, "raw.events")
	if err != nil || len(vs) != 2 || vs[0].RowHash != "duckdb-hash/v0.0.1-other" || vs[1].RowHash != kind || !vs[1].Changed {
		t.Fatalf("versions across kinds: %+v, %v", vs, err)
	}
	dr, err := Diff(ctx, repo, "raw.orders", old.ID, inc.ID, ReadOptions{}, nil)
	if err != nil || dr.Changed != 5 || dr.Added != 0 || dr.Removed != 0 {
		t.Fatalf("diff across kinds: %+v, %v", dr, err)
	}
	syn, err := Synthesize(ctx, repo, old.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, te := range syn.Tables {
		if te.RowHash != HashSHA256 || te.Fingerprint != fp1[te.Name] {
			t.Fatalf("synthetic %s: kind %q, fingerprint %v, want %v", te.Name, te.RowHash, te.Fingerprint, fp1[te.Name])
		}
	}
}

// A restore whose loaded rows do not match the entry fails with
// ErrMismatch naming the table, whatever the entry's row hash kind and the
// way it is checked; nothing is left behind.
func TestRestoreDetectsMismatch(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 100, orderRow)
	makeTable(t, w, "raw", "all_types", allTypes, []string{"id"}, 20, allTypesRow)
	repo := initRepo(t, "mem://", "")
	for _, c := range []struct {
		name, version string
		tamper        func(*Table)
	}{
		{"engine kind, same version", "", func(te *Table) { te.Fingerprint.Sum++ }},
		{"engine kind, another version", "v0.0.1-other", func(te *Table) { te.Rows++ }},
	} {
		t.Run(c.name, func(t *testing.T) {
			testEngineVersion = c.version
			res, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}})
			testEngineVersion = ""
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"orders", "all_types"} {
				tables := append([]Table(nil), res.Tables...)
				for i := range tables {
					if tables[i].Name == name {
						if name == "all_types" {
							tables[i].Fingerprint.XOR++ // portable kind (JSON, arrays)
						} else {
							c.tamper(&tables[i])
						}
					}
				}
				tj, _ := json.Marshal(tables)
				src, err := repo.LoadManifest(ctx, res.ID)
				if err != nil {
					t.Fatal(err)
				}
				m := *src.Manifest
				m.Tables, m.Parent, m.Tags = tj, "", []string{"tampered-" + name}
				bad, err := repo.NewSession().Commit(ctx, &m)
				if err != nil {
					t.Fatal(err)
				}
				_, err = Restore(ctx, repo, w, RestoreOptions{Snapshot: bad, Schema: "bad", Tables: []string{"raw." + name}})
				if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "raw."+name) {
					t.Fatalf("tampered %s: %v", name, err)
				}
				if _, err := w.Relation(ctx, warehouse.Rel("bad", name)); !errors.Is(err, warehouse.ErrNotFound) {
					t.Fatalf("a failed restore left bad.%s: %v", name, err)
				}
			}
		})
	}
}

// A table without a key, backed up with DuckDB's engine row hash, whose
// incremental brings a -0.0 (upserts written through Go): the chain
// restores, checked by the engine kind, with the -0.0 kept.
func TestEngineKeylessChainWithNegativeZero(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	cols := []warehouse.Column{{Name: "k", Type: warehouse.String, Nullable: true}, {Name: "f", Type: warehouse.Float, Nullable: true}}
	rel := makeTable(t, w, "raw", "m", cols, nil, 50, func(i int) []any { return []any{"k", float64(i % 5)} })
	repo := initRepo(t, "mem://", "")
	full, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.m"}})
	if err != nil {
		t.Fatal(err)
	}
	if full.Tables[0].RowHashKind() == HashSHA256 {
		t.Fatalf("full: kind %s", full.Tables[0].RowHash)
	}
	mustExec(t, w, "INSERT INTO raw.m VALUES ('neg', -(0.0::DOUBLE)), ('k', 1)")
	mustExec(t, w, "DELETE FROM raw.m WHERE f = 4")
	inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.m"}, Parent: full.ID})
	if err != nil {
		t.Fatal(err)
	}
	e := inc.Tables[0]
	if e.Data.Mode != ModeDelta || e.RowHash != full.Tables[0].RowHash || rowsIn(e.Data.Upserts) != 2 || rowsIn(e.Data.Deletes) != 10 ||
		e.Fingerprint != entryFingerprint(t, w, rel, &e) {
		t.Fatalf("keyless incremental: %+v", e)
	}
	if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: inc.ID, Schema: "back"}); err != nil {
		t.Fatal(err)
	}
	var neg int
	if err := w.Get(ctx, &neg, "SELECT count(*) FROM back.m WHERE f = 0 AND signbit(f)"); err != nil || neg != 1 {
		t.Fatalf("restored negative zeros: %d, %v", neg, err)
	}
	if got, want := tableFingerprint(t, w, warehouse.Rel("back", "m")), tableFingerprint(t, w, rel); got != want {
		t.Fatalf("restored %v, want %v", got, want)
	}
}

// Large tables restore into DuckDB with their key created first (not added
// after the load): full and composed restores, verified, keys enforced.
func TestRestoreKeyFirst(t *testing.T) {
	ctx := context.Background()
	old, oldBytes := keyAfterRows, keyIndexBytesPerRow
	keyAfterRows, keyIndexBytesPerRow = 10, 1<<40
	t.Cleanup(func() { keyAfterRows, keyIndexBytesPerRow = old, oldBytes })
	w := openDuck(t, "duckdb:")
	if keyAfterLoad(context.Background(), w, 5000) {
		t.Fatal("5000 rows would be loaded before their key")
	}
	orders := makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 5000, orderRow)
	repo := initRepo(t, "mem://", "")
	full, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}})
	if err != nil {
		t.Fatal(err)
	}
	fp1 := tableFingerprint(t, w, orders)
	mustExec(t, w, "UPDATE raw.orders SET customer = 'changed' WHERE id % 9 = 0")
	mustExec(t, w, "DELETE FROM raw.orders WHERE id % 13 = 0")
	inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw"}, Parent: full.ID})
	if err != nil {
		t.Fatal(err)
	}
	fp2 := tableFingerprint(t, w, orders)
	// one INSERT per part (a commit each): the full's parts, then the
	// full's parts (less the keys the delta replaces) and the delta's upserts
	fullParts, upserts := int64(len(full.Tables[0].Data.Parts)), int64(len(inc.Tables[0].Data.Upserts))
	if fullParts < 2 || upserts < 1 {
		t.Fatalf("%d full parts, %d upsert parts", fullParts, upserts)
	}
	for _, c := range []struct {
		id      string
		want    Fingerprint
		inserts int64
	}{{full.ID, fp1, fullParts}, {inc.ID, fp2, fullParts + upserts}} {
		n0 := restoreInserts.Load()
		if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: c.id, Schema: "back", Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		if n := restoreInserts.Load() - n0; n != c.inserts {
			t.Fatalf("restore of %s: %d INSERTs, want one per part: %d", c.id[:12], n, c.inserts)
		}
		if got := tableFingerprint(t, w, warehouse.Rel("back", "orders")); got != c.want {
			t.Fatalf("restored %v, want %v", got, c.want)
		}
		if _, err := w.Exec(ctx, "INSERT INTO back.orders (id) VALUES (1)"); err == nil {
			t.Fatal("the restored table has no primary key")
		}
	}
}

// A large DuckDB restore adds its key after the load only when the
// database's memory_limit leaves room for the index.
func TestKeyAfterLoad(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	for _, c := range []struct {
		limit string
		rows  int64
		want  bool
	}{
		{"256MB", 1000, true},              // few rows: always
		{"256MB", keyAfterRows + 1, false}, // 2M rows need 200 MB, limit/2 is 128
		{"1GB", keyAfterRows + 1, true},
		{"20GB", 10_000_000, true},
		{"1GB", 10_000_000, false},
	} {
		mustExec(t, w, "SET memory_limit = '"+c.limit+"'")
		if got := keyAfterLoad(ctx, w, c.rows); got != c.want {
			t.Errorf("memory_limit %s, %d rows: key after load %v, want %v", c.limit, c.rows, got, c.want)
		}
	}
	for in, want := range map[string]int64{"18.5 GiB": 37 << 29, "192.0 MiB": 192 << 20, "512 bytes": 512, "1GB": 1e9, "0 bytes": 0} {
		if got, ok := parseDuckSize(in); !ok || got != want {
			t.Errorf("parseDuckSize(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "lots", "12 parsecs", "-1 GiB"} {
		if _, ok := parseDuckSize(in); ok {
			t.Errorf("parseDuckSize(%q) accepted", in)
		}
	}
}
