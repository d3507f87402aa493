package backup

import (
	"context"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// TestRestoreOpensScratchOnlyToCompose: a restore into DuckDB of full
// entries (engine and portable row hashes) or of a keyed table's chain
// composed in the target opens no scratch database; a keyless table's chain,
// composed in the scratch database, opens it once. The restored tables are
// the backed-up ones either way.
func TestRestoreOpensScratchOnlyToCompose(t *testing.T) {
	ctx := context.Background()
	w := openDuck(t, "duckdb:")
	repo := initRepo(t, "file://"+t.TempDir(), "")
	orders := makeTable(t, w, "s", "orders", orderCols, []string{"id"}, 100, orderRow)
	events := makeTable(t, w, "s", "events", eventCols, nil, 40, eventRow)
	all := makeTable(t, w, "s", "all_types", allTypes, []string{"id"}, 30, allTypesRow)
	full, err := Backup(ctx, repo, w, Options{Tables: []string{"s"}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(snap, schema string, opens int64, want map[string]Fingerprint) {
		t.Helper()
		n0 := scratchOpens.Load()
		res, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: snap, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		if got := scratchOpens.Load() - n0; got != opens {
			t.Fatalf("restore of %s into %s opened %d scratch databases, want %d", snap[:12], schema, got, opens)
		}
		if len(res.Tables) != len(want) {
			t.Fatalf("%d tables restored, want %d", len(res.Tables), len(want))
		}
		for name, fp := range want {
			if got := tableFingerprint(t, w, warehouse.Rel(schema, name)); got != fp {
				t.Fatalf("%s.%s: fingerprint %v (%d rows), the source had %v (%d rows)", schema, name, got, got.Count, fp, fp.Count)
			}
		}
	}
	fps := func() map[string]Fingerprint {
		m := map[string]Fingerprint{}
		for _, rel := range []warehouse.Relation{orders, events, all} {
			m[rel.Name] = tableFingerprint(t, w, rel)
		}
		return m
	}
	want := fps()
	check(full.ID, "r_full", 0, want)

	mustExec(t, w, "UPDATE s.orders SET customer = 'changed' WHERE id % 10 = 0")
	mustExec(t, w, "DELETE FROM s.orders WHERE id % 17 = 0")
	mustExec(t, w, "INSERT INTO s.orders VALUES (1000, 'new', 1.25, DATE '2026-02-01')")
	mustExec(t, w, "DELETE FROM s.events WHERE n = 1")
	mustExec(t, w, "INSERT INTO s.events VALUES ('k9', 9), ('k9', 9)")
	inc, err := Backup(ctx, repo, w, Options{Tables: []string{"s.orders", "s.events"}, Parent: full.ID})
	if err != nil {
		t.Fatal(err)
	}
	want = fps()
	delete(want, "all_types")
	if want["orders"].Count != 100-6+1 || want["events"].Count != 40-10+2 {
		t.Fatalf("source counts: orders %d, events %d", want["orders"].Count, want["events"].Count)
	}
	// orders composes in the target; events (no key) in the scratch database
	check(inc.ID, "r_inc", 1, want)
}
