package staging_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// Two streams whose records arrive interleaved are written by two
// transactions at once: stream b commits its rows with its state, and the
// state is acknowledged, while stream a's transaction holds rows that no
// state of a covers yet. (A single transaction could do neither: b's commit
// would carry a's uncovered rows, which a restart would read again.)
func TestParallelStreamsOverlap(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		o := opts(schema)
		o.Parallelism = 2
		o.BatchRows = 10
		// The first load commits a STREAM state of each stream, from which
		// the second load knows it may write the streams in parallel.
		first := &genSource{streams: []genStream{{name: "a", n: 10}, {name: "b", n: 10}}, stateEvery: 10}
		if _, err := load(t, w, o, first, airbyte.Append); err != nil {
			t.Fatal(err)
		}

		acked := make(chan airbyte.StateMessage, 100)
		checked := false
		src := &genSource{
			// a sends its only state at its end; b every 30 records. Turns
			// of 30: a 10..39, then b 10..39, whose state at 30 comes while
			// a's 30 rows are written but not covered.
			streams:    []genStream{{name: "a", n: 100, stateEvery: 1000}, {name: "b", n: 100, stateEvery: 30}},
			interleave: 30,
			acked:      acked,
		}
		src.onState = func(stream string, offset int) {
			if checked || stream != "b" {
				return
			}
			checked = true
			// Wait until the state is acknowledged: b's transaction committed.
			for st := range acked {
				if st.Stream.StreamDescriptor.Name == "b" && offsetOf(t, st) == offset {
					break
				}
			}
			if n := count(t, w, schema, "b", ""); n != int64(offset) {
				t.Errorf("after b's state at %d was acknowledged: b has %d rows, want %d", offset, n, offset)
			}
			if n := count(t, w, schema, "a", ""); n != 10 {
				t.Errorf("a has %d committed rows while its own transaction is open, want the 10 of the first load", n)
			}
		}
		res, err := load(t, w, o, src, airbyte.Append)
		if err != nil {
			t.Fatal(err)
		}
		if !checked {
			t.Fatal("b's state never came")
		}
		for _, name := range []string{"a", "b"} {
			if got := res.Stream(name).Records; got != 90 {
				t.Errorf("second load staged %d records of %s, want 90", got, name)
			}
			checkStreamOnce(t, w, schema, name, 100)
		}
		checkStates(t, w, o, map[string]int{"a": 100, "b": 100})
	})
}

// A failure in one parallel stream rolls back every open transaction, and
// the next load resumes each stream from its own committed state.
func TestParallelStreamsResume(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		o := opts(schema)
		o.Parallelism = 2
		o.BatchRows = 16
		streams := []genStream{{name: "a", n: 600}, {name: "b", n: 500}}
		// Turns of 50 records, a state every 25: commits come in both the
		// serial start and the parallel rest.
		broken := &genSource{streams: streams, stateEvery: 25, interleave: 50, failAfter: 777}
		if _, err := load(t, w, o, broken, airbyte.Append); err == nil {
			t.Fatal("the broken load succeeded")
		}
		resumed := &genSource{streams: streams, stateEvery: 25, interleave: 50}
		if _, err := load(t, w, o, resumed, airbyte.Append); err != nil {
			t.Fatal(err)
		}
		checkStreamOnce(t, w, schema, "a", 600)
		checkStreamOnce(t, w, schema, "b", 500)
		checkStates(t, w, o, map[string]int{"a": 600, "b": 500})
	})
}

// checkStreamOnce checks that table holds rows 0..n-1 of its stream once
// each, with distinct raw ids.
func checkStreamOnce(t *testing.T, w *warehouse.Warehouse, schema, table string, n int) {
	t.Helper()
	d := w.Dialect()
	var rows, ids, raw, lo, hi int64
	q := fmt.Sprintf("SELECT count(*), count(DISTINCT %s), count(DISTINCT %s), min(%s), max(%s) FROM %s",
		d.QuoteIdentifier("id"), d.QuoteIdentifier("_airbyte_raw_id"), d.QuoteIdentifier("id"), d.QuoteIdentifier("id"), d.QuoteRelation(warehouse.Rel(schema, table)))
	if err := w.DB().QueryRowContext(t.Context(), q).Scan(&rows, &ids, &raw, &lo, &hi); err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	if rows != int64(n) || ids != int64(n) || raw != int64(n) || lo != 0 || hi != int64(n-1) {
		t.Fatalf("%s: %d rows, %d distinct ids, %d distinct raw ids, ids %d..%d; want %d of each, ids 0..%d", table, rows, ids, raw, lo, hi, n, n-1)
	}
}

// checkStates checks that the committed states are one STREAM state per
// stream of want, at the offsets want gives.
func checkStates(t *testing.T, w *warehouse.Warehouse, o staging.Options, want map[string]int) {
	t.Helper()
	st, err := staging.NewLoader(w, o).State(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range st {
		got[s.Stream.StreamDescriptor.Name] = offsetOf(t, s)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("committed states %v, want %v", got, want)
	}
}

// A stream that fails in its worker (here, a record without its primary
// key) fails the load with an error naming it, and nothing uncommitted of
// either stream stays; the next load resumes both.
func TestParallelStreamFails(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		o := opts(schema)
		o.Parallelism = 2
		o.BatchRows = 8
		first := &genSource{streams: []genStream{{name: "a", n: 10}, {name: "b", n: 10}}, stateEvery: 10}
		if _, err := load(t, w, o, first, airbyte.AppendDedup); err != nil {
			t.Fatal(err)
		}
		bad := func(i int) string {
			if i == 150 {
				return `{"id":null,"name":"no key","amount":1,"updated_at":"2024-01-01T00:00:00Z"}`
			}
			return defaultData(i)
		}
		broken := &genSource{streams: []genStream{{name: "a", n: 300}, {name: "b", n: 300, data: bad}}, stateEvery: 20, interleave: 40}
		_, err := load(t, w, o, broken, airbyte.AppendDedup)
		if err == nil || !strings.Contains(err.Error(), "stream b") || !strings.Contains(err.Error(), "primary key") {
			t.Fatalf("load: %v, want stream b's missing primary key", err)
		}
		// What is committed is what the committed states cover.
		st, err := staging.NewLoader(w, o).State(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			name := s.Stream.StreamDescriptor.Name
			if n := count(t, w, schema, name, ""); n != int64(offsetOf(t, s)) {
				t.Fatalf("%s: %d rows committed, its state says %d", name, n, offsetOf(t, s))
			}
		}
		fixed := &genSource{streams: []genStream{{name: "a", n: 300}, {name: "b", n: 300}}, stateEvery: 20, interleave: 40}
		if _, err := load(t, w, o, fixed, airbyte.AppendDedup); err != nil {
			t.Fatal(err)
		}
		checkStreamOnce(t, w, schema, "a", 300)
		checkStreamOnce(t, w, schema, "b", 300)
		checkStates(t, w, o, map[string]int{"a": 300, "b": 300})
	})
}
