package postgres

import (
	"fmt"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
)

// With EnableRecordRelease, released typed records are reused: a read of
// many rows hands out far fewer distinct messages than rows, and every
// record still carries its own row's values; records that are not released
// are never reused, and a read that did not enable release never reuses
// anything (RecordValues must not change once yielded).
func TestTypedRecordRelease(t *testing.T) {
	db := newTestDB(t)
	const rows = 5000
	db.exec(t, "CREATE TABLE "+db.rel("rel")+" (id bigint PRIMARY KEY, s text)")
	db.exec(t, "INSERT INTO "+db.rel("rel")+" SELECT g, 'row ' || g FROM generate_series(1, $1) g", rows)
	src := New(WithChunkSize(700))
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "rel")

	var ballasted bool // the last read held its GC ballast
	read := func(release bool, keep func(n int) bool) (distinct int, kept map[*airbyte.RecordMessage]string) {
		t.Helper()
		rs := openTyped(t, src, cfg, cat)
		defer rs.Close()
		if release && !airbyte.EnableRecordRelease(rs) {
			t.Fatal("EnableRecordRelease reported false")
		}
		seen := map[*airbyte.Message]bool{}
		kept = map[*airbyte.RecordMessage]string{}
		n := 0
		var vals []any
		for m, err := range rs.Messages() {
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != airbyte.TypeRecord {
				continue
			}
			n++
			seen[m] = true
			vals = m.Record.Values.AppendValues(vals[:0])
			id, _ := vals[0].(int64)
			if want := fmt.Sprintf("row %d", id); vals[1] != want {
				t.Fatalf("record %d: values %v, want id %d with %q", n, vals, id, want)
			}
			if keep(n) {
				kept[m.Record] = string(m.Record.Values.AppendJSON(nil))
				continue
			}
			airbyte.ReleaseRecord(m.Record)
		}
		if airbyte.EnableRecordRelease(rs) {
			t.Error("EnableRecordRelease after Messages reported true")
		}
		ballasted = rs.(*readStream).ballasted
		if n != rows {
			t.Fatalf("%d records, want %d", n, rows)
		}
		for rec, js := range kept {
			if got := string(rec.Values.AppendJSON(nil)); got != js {
				t.Fatalf("a record kept (not released) changed: %s, was %s", got, js)
			}
		}
		return len(seen), kept
	}

	if distinct, _ := read(true, func(int) bool { return false }); distinct > rows/2 || ballasted {
		t.Errorf("with every record released: %d distinct messages for %d rows, want reuse; GC ballast held %v, want none", distinct, rows, ballasted)
	}
	// Every 100th record kept: the kept ones stay intact (checked in read).
	if _, kept := read(true, func(n int) bool { return n%100 == 0 }); len(kept) != rows/100 {
		t.Errorf("kept %d records, want %d", len(kept), rows/100)
	}
	// Every record kept: blocks are never reused, and after a few the read
	// holds its GC ballast, as without release.
	if distinct, kept := read(true, func(int) bool { return true }); distinct != rows || len(kept) != rows || !ballasted {
		t.Errorf("every record kept: %d distinct messages, %d kept, GC ballast held %v; want %d, %d, true", distinct, len(kept), ballasted, rows, rows)
	}
	// Without release enabled, ReleaseRecord does nothing: all distinct.
	if distinct, kept := read(false, func(n int) bool { return n%2 == 0 }); distinct != rows || len(kept) != rows/2 || !ballasted {
		t.Errorf("without release: %d distinct messages, %d kept, GC ballast held %v; want %d, %d, true", distinct, len(kept), ballasted, rows, rows/2)
	}
}
