package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// A chain of three snapshots: versions, diff, read as of, synthetic full,
// undrop, and failures that change nothing.
func TestTimeTravel(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			repo := initRepo(t, "file://"+t.TempDir(), "")
			w, schema := e.open(t)
			orders := makeTable(t, w, schema, "orders", orderCols, []string{"id"}, 50, orderRow)
			events := makeTable(t, w, schema, "events", eventCols, nil, 12, eventRow)
			q := w.Dialect().QuoteRelation
			s1, err := Backup(ctx, repo, w, Options{Tables: []string{schema}})
			if err != nil {
				t.Fatal(err)
			}
			fp1 := tableFingerprint(t, w, orders)
			mustExec(t, w, "UPDATE "+q(orders)+" SET customer = 'vip' WHERE id = 7")
			mustExec(t, w, "DELETE FROM "+q(orders)+" WHERE id = 8")
			if _, err := w.Load(ctx, orders, nil, seqRows(1, func(int) []any { return orderRow(500) })); err != nil {
				t.Fatal(err)
			}
			mustExec(t, w, "DELETE FROM "+q(events)+" WHERE kind = 'k1'")
			s2, err := Backup(ctx, repo, w, Options{Tables: []string{schema}, Incremental: true})
			if err != nil {
				t.Fatal(err)
			}
			fp2 := tableFingerprint(t, w, orders)
			s2s := Snapshot{Tables: s2.Tables}
			fpEvents2 := entryFingerprint(t, w, events, s2s.Table(schema, "events"))
			s3, err := Backup(ctx, repo, w, Options{Tables: []string{schema}, Incremental: true})
			if err != nil {
				t.Fatal(err)
			}
			between := midway(t, repo, s2.ID, s3.ID) // after s2's time, before s3's
			table := schema + ".orders"
			vs, err := Versions(ctx, repo, table)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 3 || !vs[0].Changed || !vs[1].Changed || vs[2].Changed || vs[2].Mode != ModeSame || vs[1].Rows != 50 {
				t.Fatalf("versions: %+v", vs)
			}
			if vs[0].Snapshot != s1.ID || vs[2].Snapshot != s3.ID {
				t.Fatal("versions out of order")
			}
			// diff s1 → s2
			var changes []string
			res, err := Diff(ctx, repo, table, s1.ID, s2.ID, ReadOptions{}, func(r DiffRow) error {
				k, _ := warehouse.ToInt64(r.Key[0])
				changes = append(changes, r.Change+":"+strings.TrimSpace(string(rune('0'+k%10))))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != 1 || res.Removed != 1 || res.Changed != 1 {
				t.Fatalf("diff %+v %v", res, changes)
			}
			er, err := Diff(ctx, repo, schema+".events", s1.ID, s2.ID, ReadOptions{}, nil)
			if err != nil || er.Removed != 4 || er.Added != 0 {
				t.Fatalf("keyless diff %+v %v", er, err)
			}
			// read as of a time between s2 and s3: s2's rows
			var got Fingerprint
			h := NewRowHasher(orderCols)
			for rec, err := range ReadTable(ctx, repo, table, "", between, ReadOptions{}) {
				if err != nil {
					t.Fatal(err)
				}
				x, _ := h.Hash(rec.Values)
				got.Add(x)
			}
			if got != fp2 {
				t.Fatalf("as of %v: %v, want %v", between, got, fp2)
			}
			// synthetic full of s3, then an incremental on top of it
			syn, err := Synthesize(ctx, repo, s3.ID, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, te := range syn.Tables {
				if te.Data.Mode != ModeFull {
					t.Fatalf("synthetic %s: %s", te.Name, te.Data.Mode)
				}
			}
			ss, err := LoadSnapshot(ctx, repo, syn.ID)
			if err != nil || ss.Manifest.Kind != KindSynthetic || ss.Table(schema, "events").Fingerprint != fpEvents2 {
				t.Fatalf("synthetic snapshot %v: %v", ss, err)
			}
			// drop the table; bring it back from the synthetic snapshot
			if err := w.Drop(ctx, orders); err != nil {
				t.Fatal(err)
			}
			if _, err := Undrop(ctx, repo, w, table, RestoreOptions{Snapshot: syn.ID}); err != nil {
				t.Fatal(err)
			}
			if got := tableFingerprint(t, w, orders); got != fp2 {
				t.Fatalf("undropped %v, want %v", got, fp2)
			}
			if _, err := Undrop(ctx, repo, w, table, RestoreOptions{}); !errors.Is(err, ErrTargetExists) {
				t.Fatalf("undrop of an existing table: %v", err)
			}
			// restore as of before the first snapshot: none
			if _, err := Restore(ctx, repo, w, RestoreOptions{AsOf: time.Unix(0, 0)}); !errors.Is(err, ErrNoSnapshot) {
				t.Fatalf("restore before any snapshot: %v", err)
			}
			// restore as of the first snapshot's time: s1
			r, err := Restore(ctx, repo, w, RestoreOptions{AsOf: vs[0].Time, Tables: []string{table}, Schema: schema + "_restored"})
			if err != nil || r.Snapshot != s1.ID || tableFingerprint(t, w, warehouse.Rel(schema+"_restored", "orders")) != fp1 {
				t.Fatalf("restore as of %v: %+v %v", vs[0].Time, r, err)
			}
		})
	}
}

// A restore whose data is damaged fails, names the object or table, and
// leaves the warehouse as it was.
func TestFailedRestoreChangesNothing(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			repo := initRepo(t, "file://"+dir, "")
			w, schema := e.open(t)
			orders := makeTable(t, w, schema, "orders", orderCols, []string{"id"}, 30, orderRow)
			events := makeTable(t, w, schema, "events", eventCols, nil, 10, eventRow)
			s1, err := Backup(ctx, repo, w, Options{Tables: []string{schema}})
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, w, "DELETE FROM "+w.Dialect().QuoteRelation(orders)+" WHERE id < 10")
			before := tableFingerprint(t, w, orders)
			beforeEvents := tableFingerprint(t, w, events)
			// damage one part of orders (the second table entry, sorted by name)
			var part string
			for _, te := range s1.Tables {
				if te.Name == "orders" {
					part = te.Data.Parts[0].ID
				}
			}
			path := filepath.Join(dir, "data", part[:2], part)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Restore(ctx, repo, w, RestoreOptions{Snapshot: s1.ID})
			if err == nil || !strings.Contains(err.Error(), part) && !strings.Contains(err.Error(), "orders") {
				t.Fatalf("restore of damaged data: %v", err)
			}
			if got := tableFingerprint(t, w, orders); got != before {
				t.Fatal("a failed restore changed orders")
			}
			if got := tableFingerprint(t, w, events); got != beforeEvents {
				t.Fatal("a failed restore changed events")
			}
			rels, _ := w.Relations(ctx, schema)
			if len(rels) != 2 {
				t.Fatalf("a failed restore left %v", rels)
			}
			// a failed backup (a table that does not exist) leaves no snapshot
			if _, err := Backup(ctx, repo, w, Options{Tables: []string{schema + ".nope"}}); !errors.Is(err, warehouse.ErrNotFound) {
				t.Fatalf("backup of a missing table: %v", err)
			}
			list, _ := repo.List(ctx)
			if len(list) != 1 {
				t.Fatalf("%d snapshots after a failed backup", len(list))
			}
			// a locked snapshot refuses deletion
			if err := repo.Lock(ctx, s1.ID, time.Now().Add(time.Hour), repository.Compliance, repository.LockOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := repo.Delete(ctx, s1.ID, repository.DeleteOptions{}); !errors.Is(err, repository.ErrLocked) {
				t.Fatalf("delete of a locked snapshot: %v", err)
			}
		})
	}
}

// Bad input gets clear errors naming what is wrong.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	repo := initRepo(t, "mem://", "")
	w := openDuck(t, "duckdb:")
	if _, err := Restore(ctx, repo, w, RestoreOptions{}); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("restore from an empty repository: %v", err)
	}
	if _, err := Backup(ctx, repo, w, Options{Tables: []string{"nothing"}}); !errors.Is(err, ErrNoTables) {
		t.Fatalf("backup of an empty schema: %v", err)
	}
	makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 5, orderRow)
	s, err := Backup(ctx, repo, w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: "ffffffff"}); !errors.Is(err, repository.ErrNotFound) || !strings.Contains(err.Error(), "ffffffff") {
		t.Fatalf("restore of an unknown snapshot: %v", err)
	}
	if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: s.ID, Tables: []string{"raw.nope"}}); !errors.Is(err, repository.ErrNotFound) || !strings.Contains(err.Error(), "raw.nope") {
		t.Fatalf("restore of an unknown table: %v", err)
	}
	if _, err := Versions(ctx, repo, "raw.nope"); !errors.Is(err, repository.ErrNotFound) {
		t.Fatalf("versions of an unknown table: %v", err)
	}
	if _, err := Versions(ctx, repo, "nodot"); err == nil || !strings.Contains(err.Error(), "schema.name") {
		t.Fatalf("versions of a bad name: %v", err)
	}
	mustExec(t, w, "ALTER TABLE raw.orders ADD COLUMN extra INTEGER")
	s2, err := Backup(ctx, repo, w, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Tables[0].Data.Mode != ModeFull {
		t.Fatalf("a table whose columns changed is stored %s", s2.Tables[0].Data.Mode)
	}
	if _, err := Diff(ctx, repo, "raw.orders", s.ID, s2.ID, ReadOptions{}, nil); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("diff across a column change: %v", err)
	}
	if _, err := ParseType("decimal(x)"); err == nil {
		t.Fatal("a bad type parses")
	}
	for _, ty := range []warehouse.Type{warehouse.Integer, {Kind: warehouse.KindInteger, Bits: 16}, warehouse.DecimalType(38, 10),
		{Kind: warehouse.KindString, Length: 20}, warehouse.ArrayOf(warehouse.ArrayOf(warehouse.Date)), {Kind: warehouse.KindFloat, Bits: 32}} {
		got, err := ParseType(ty.String())
		if err != nil || !got.Equal(ty) {
			t.Fatalf("ParseType(%q) = %v, %v", ty.String(), got, err)
		}
	}
}

// midway returns the instant halfway between two snapshots' times, failing
// unless the first is strictly older.
func midway(t *testing.T, repo *repository.Repository, older, newer string) time.Time {
	t.Helper()
	a, err := LoadSnapshot(context.Background(), repo, older)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadSnapshot(context.Background(), repo, newer)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Manifest.Time.Before(b.Manifest.Time) {
		t.Fatalf("snapshot %s at %v is not older than %s at %v", older, a.Manifest.Time, newer, b.Manifest.Time)
	}
	return a.Manifest.Time.Add(b.Manifest.Time.Sub(a.Manifest.Time) / 2)
}
