package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/backup/repository/repotest"
	"github.com/dataopskit/dataops/warehouse"
)

// repos are the repository locations tests run over.
func repos() []struct {
	name string
	open func(t *testing.T) *repository.Repository
} {
	return []struct {
		name string
		open func(t *testing.T) *repository.Repository
	}{
		{"file", func(t *testing.T) *repository.Repository { return initRepo(t, "file://"+t.TempDir(), "") }},
		{"mem-encrypted", func(t *testing.T) *repository.Repository { return initRepo(t, "mem://", "secret") }},
		{"s3", func(t *testing.T) *repository.Repository {
			b, _ := repotest.S3(t, "backup-test")
			r, err := repository.InitBucket(context.Background(), b, "repo/", repository.InitOptions{PartRows: 25})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}},
	}
}

func initRepo(t testing.TB, url, pass string) *repository.Repository {
	t.Helper()
	r, err := repository.Init(context.Background(), url, repository.InitOptions{
		Options:   repository.Options{Passphrase: pass},
		KDFParams: &repository.KDFParams{Time: 1, MemoryKiB: 1024, Threads: 1},
		PartRows:  25,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// orderRow is row i of a small keyed table; version changes some values.
func orderRow(i int) []any {
	return []any{int64(i), fmt.Sprintf("customer %d ü", i%7), warehouse.MustDecimal(fmt.Sprintf("%d.25", i)), time.Date(2026, 1, 1+i%28, 0, 0, 0, 0, time.UTC)}
}

var orderCols = []warehouse.Column{
	{Name: "id", Type: warehouse.Integer}, {Name: "customer", Type: warehouse.String, Nullable: true},
	{Name: "amount", Type: warehouse.DecimalType(12, 2), Nullable: true}, {Name: "day", Type: warehouse.Date, Nullable: true},
}

var eventCols = []warehouse.Column{{Name: "kind", Type: warehouse.String, Nullable: true}, {Name: "n", Type: warehouse.Integer, Nullable: true}}

func eventRow(i int) []any { return []any{fmt.Sprintf("k%d", i%3), int64(i % 4)} } // duplicates on purpose

func TestBackupIncrementalRestore(t *testing.T) {
	for _, e := range engines() {
		for _, rp := range repos() {
			if rp.name == "s3" && e.name != "duckdb-memory" {
				continue // the repository layer is the same; S3 once is enough here
			}
			t.Run(e.name+"/"+rp.name, func(t *testing.T) {
				testBackupIncrementalRestore(t, e, rp.open(t))
			})
		}
	}
}

func testBackupIncrementalRestore(t *testing.T, e engineCase, repo *repository.Repository) {
	ctx := context.Background()
	w, schema := e.open(t)
	orders := makeTable(t, w, schema, "orders", orderCols, []string{"id"}, 100, orderRow)
	events := makeTable(t, w, schema, "events", eventCols, nil, 40, eventRow)
	all := makeTable(t, w, schema, "all_types", allTypes, []string{"id"}, 30, allTypesRow)
	sel := []string{schema}

	var evs []Event
	full, err := Backup(ctx, repo, w, Options{Tables: sel, Tags: []string{"test"}, Events: func(e Event) { evs = append(evs, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if first, last := evs[0], evs[len(evs)-1]; first.Phase != repository.PhaseStart || last.Phase != repository.PhaseFinish ||
		last.Rows != 170 || last.Bytes != full.Stored || last.Subject != full.ID || last.Elapsed <= 0 {
		t.Fatalf("evs: first %+v, last %+v", first, last)
	}
	progress := 0
	for _, ev := range evs {
		if ev.Phase == repository.PhaseProgress && ev.Rows > 0 && ev.Bytes > 0 {
			progress++
		}
	}
	if progress < 3 {
		t.Fatalf("%d progress evs", progress)
	}
	if _, err := Backup(ctx, repo, w, Options{Tables: []string{schema + ".missing"}, Events: func(e Event) { evs = append(evs, e) }}); err == nil ||
		evs[len(evs)-1].Phase != repository.PhaseError || evs[len(evs)-1].Err == nil {
		t.Fatalf("a failed backup: %v, last event %+v", err, evs[len(evs)-1])
	}
	if full.Kind != KindFull || len(full.Tables) != 3 || full.Rows != 170 {
		t.Fatalf("full backup: kind %s, %d tables, %d rows", full.Kind, len(full.Tables), full.Rows)
	}
	fp1 := map[string]Fingerprint{}
	for _, rel := range []warehouse.Relation{orders, events, all} {
		fp1[rel.Name] = tableFingerprint(t, w, rel)
	}
	for _, te := range full.Tables {
		if got := entryFingerprint(t, w, te.Relation(), &te); te.Fingerprint != got || te.Data.Mode != ModeFull {
			t.Fatalf("%s: entry %+v, table fingerprint %v", te.Name, te, got)
		}
		// DuckDB's own writer with its engine hash where the types allow
		// (every table but all_types, whose JSON and arrays go through Go)
		want := HashSHA256
		if e.name != "postgres" && te.Name != "all_types" {
			want = duckHashKind(duckVersion(t, w))
		}
		if te.RowHash != want {
			t.Fatalf("%s: row hash kind %q, want %q", te.Name, te.RowHash, want)
		}
	}
	op := full.Tables[2].Data.Parts // orders: 100 rows in parts of 25 (DuckDB's writer: row groups of at least 2048)
	if rowsIn(op) != 100 || (e.name == "postgres" && len(op) != 4) {
		t.Fatalf("orders in parts %+v", op)
	}

	// change: update 3, delete 2, insert 4 orders; events lose one duplicate and gain two rows
	q := w.Dialect().QuoteRelation
	mustExec(t, w, "UPDATE "+q(orders)+" SET customer = 'changed' WHERE id IN (1, 2, 3)")
	mustExec(t, w, "DELETE FROM "+q(orders)+" WHERE id IN (10, 11)")
	if _, err := w.Load(ctx, orders, nil, seqRows(4, func(i int) []any { return orderRow(1000 + i) })); err != nil {
		t.Fatal(err)
	}
	mustExec(t, w, "DELETE FROM "+q(events)+" WHERE kind = 'k0' AND n = 0")
	if _, err := w.Load(ctx, events, nil, seqRows(2, func(i int) []any { return []any{"k0", int64(0)} })); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Load(ctx, events, nil, seqRows(1, func(i int) []any { return []any{"new", nil} })); err != nil {
		t.Fatal(err)
	}
	inc, err := Backup(ctx, repo, w, Options{Tables: sel, Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Kind != KindIncremental || inc.Parent != full.ID {
		t.Fatalf("incremental: kind %s parent %s", inc.Kind, inc.Parent)
	}
	byName := map[string]Table{}
	for _, te := range inc.Tables {
		byName[te.Name] = te
	}
	if m := byName["all_types"].Data.Mode; m != ModeSame {
		t.Fatalf("unchanged table recorded as %s", m)
	}
	od := byName["orders"].Data
	if od.Mode != ModeDelta || rowsIn(od.Upserts) != 7 || rowsIn(od.Deletes) != 2 {
		t.Fatalf("orders delta: %+v (want 7 upserts, 2 deletes)", od)
	}
	ed := byName["events"].Data
	if ed.Mode != ModeDelta {
		t.Fatalf("events: %+v", ed)
	}
	if inc.Written >= full.Written/2 {
		t.Fatalf("incremental wrote %d rows, full %d", inc.Written, full.Written)
	}
	fp2 := map[string]Fingerprint{}
	for _, rel := range []warehouse.Relation{orders, events, all} {
		fp2[rel.Name] = tableFingerprint(t, w, rel)
		te := byName[rel.Name]
		if got := entryFingerprint(t, w, rel, &te); te.Fingerprint != got {
			t.Fatalf("%s: incremental fingerprint %v, table %v", rel.Name, te.Fingerprint, got)
		}
	}

	// side by side restore of the first snapshot
	side := schema + "_restored"
	rr, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: full.ID, Schema: side})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Rows != 170 || len(rr.Tables) != 3 {
		t.Fatalf("restore: %+v", rr)
	}
	for name, fp := range fp1 {
		if got := tableFingerprint(t, w, warehouse.Rel(side, name)); got != fp {
			t.Fatalf("restored %s: %v, want %v", name, got, fp)
		}
	}
	// again without overwrite: a clear error, nothing changed
	if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: full.ID, Schema: side}); !errors.Is(err, ErrTargetExists) {
		t.Fatalf("restore over existing side-by-side tables: %v", err)
	}
	// the incremental composed, with overwrite
	if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: inc.ID, Schema: side, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	for name, fp := range fp2 {
		if got := tableFingerprint(t, w, warehouse.Rel(side, name)); got != fp {
			t.Fatalf("restored incremental %s: %v, want %v", name, got, fp)
		}
	}
	// over the originals: back to the first snapshot, one table
	if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: full.ID, Tables: []string{schema + ".orders"}}); err != nil {
		t.Fatal(err)
	}
	if got := tableFingerprint(t, w, orders); got != fp1["orders"] {
		t.Fatalf("orders restored over the original: %v, want %v", got, fp1["orders"])
	}
	if got := tableFingerprint(t, w, events); got != fp2["events"] {
		t.Fatal("restoring one table changed another")
	}
}

func rowsIn(ps []Part) int64 {
	var n int64
	for _, p := range ps {
		n += p.Rows
	}
	return n
}

func mustExec(t testing.TB, w *warehouse.Warehouse, q string, args ...any) {
	t.Helper()
	if _, err := w.Exec(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// A backup of DuckDB restores into PostgreSQL and the other way round, every
// portable type included, and the fingerprints agree.
func TestRestoreAcrossEngines(t *testing.T) {
	ctx := context.Background()
	pg, schema := openPG(t)
	duck := openDuck(t, "duckdb:")
	repo := initRepo(t, "mem://", "")
	makeTable(t, duck, schema, "all_types", allTypes, []string{"id"}, 40, allTypesRow)
	makeTable(t, duck, schema, "events", eventCols, nil, 15, eventRow)
	s, err := Backup(ctx, repo, duck, Options{Tables: []string{schema}})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := Restore(ctx, repo, pg, RestoreOptions{Snapshot: s.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Tables) != 2 || rr.Rows != 55 {
		t.Fatalf("restored into PostgreSQL: %+v", rr)
	}
	// events has DuckDB's engine row hashes, checked in PostgreSQL the
	// portable way; all_types (JSON, arrays) portable ones
	if s.Tables[1].RowHash == HashSHA256 || s.Tables[0].RowHash != HashSHA256 {
		t.Fatalf("row hash kinds %q, %q", s.Tables[0].RowHash, s.Tables[1].RowHash)
	}
	portable := map[string]Fingerprint{}
	for _, te := range s.Tables {
		portable[te.Name] = tableFingerprint(t, duck, te.Relation())
		if got := tableFingerprint(t, pg, te.Relation()); got != portable[te.Name] {
			t.Fatalf("%s in PostgreSQL: %v, want %v", te.Name, got, portable[te.Name])
		}
	}
	// and back: a PostgreSQL backup restored into DuckDB side by side
	s2, err := Backup(ctx, repo, pg, Options{Tables: []string{schema}})
	if err != nil {
		t.Fatal(err)
	}
	for _, te := range s2.Tables {
		if te.RowHash != HashSHA256 || te.Fingerprint != portable[te.Name] {
			t.Fatalf("%s: PostgreSQL backup fingerprint %v (%s), DuckDB's table %v", te.Name, te.Fingerprint, te.RowHash, portable[te.Name])
		}
	}
	if _, err := Restore(ctx, repo, duck, RestoreOptions{Snapshot: s2.ID, Schema: "from_pg"}); err != nil {
		t.Fatal(err)
	}
	for _, te := range s2.Tables {
		if got := tableFingerprint(t, duck, warehouse.Rel("from_pg", te.Name)); got != portable[te.Name] {
			t.Fatalf("%s back in DuckDB: %v, want %v", te.Name, got, portable[te.Name])
		}
	}
	// a restore whose parts do not hold what the loaded table holds fails:
	// a DuckDB engine-hash entry restored into PostgreSQL is checked
	// against its parts, not against the manifest's (other kind) fingerprint
	if _, err := Restore(ctx, repo, pg, RestoreOptions{Snapshot: s.ID, Tables: []string{schema + ".events"}, Schema: schema + "_again"}); err != nil {
		t.Fatal(err)
	}
	if got := tableFingerprint(t, pg, warehouse.Rel(schema+"_again", "events")); got != portable["events"] {
		t.Fatalf("events again in PostgreSQL: %v, want %v", got, portable["events"])
	}
}

func duckVersion(t testing.TB, w *warehouse.Warehouse) string {
	t.Helper()
	info, err := w.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.Version
}

// Two tables of one name in different schemas cannot both restore side by
// side into one schema: the restore says so before it changes anything.
func TestRestoreSideBySideConflict(t *testing.T) {
	ctx := context.Background()
	duck := openDuck(t, "duckdb:")
	repo := initRepo(t, "mem://", "")
	makeTable(t, duck, "a", "events", eventCols, nil, 5, eventRow)
	makeTable(t, duck, "b", "events", eventCols, nil, 7, eventRow)
	s, err := Backup(ctx, repo, duck, Options{Tables: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Restore(ctx, repo, duck, RestoreOptions{Snapshot: s.ID, Schema: "drill"})
	if !errors.Is(err, ErrTargetConflict) || !strings.Contains(err.Error(), "a.events") || !strings.Contains(err.Error(), "b.events") {
		t.Fatalf("restore of a.events and b.events into one schema: %v, want ErrTargetConflict naming both", err)
	}
	schemas, err := duck.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(schemas, "drill") {
		t.Fatalf("a refused restore created schema drill: %v", schemas)
	}
	// one schema at a time works
	rr, err := Restore(ctx, repo, duck, RestoreOptions{Snapshot: s.ID, Tables: []string{"b"}, Schema: "drill"})
	if err != nil || rr.Rows != 7 {
		t.Fatalf("restore of schema b into drill: %+v, %v", rr, err)
	}
}
