package staging_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// States that arrive close together share a commit; an interrupted load
// keeps exactly the rows of the last committed state, and the resumed load
// finishes with every row once.
func TestCommitCoalescesStates(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		o := opts(schema)
		o.CommitRows = 100 // states come every 10 records: one commit per 10 states
		broken := &genSource{streams: []genStream{{name: "orders", n: 500}, {name: "users", n: 50}}, stateEvery: 10, failAfter: 257}
		if _, err := load(t, w, o, broken, airbyte.Append); !errors.Is(err, errBroken) {
			t.Fatalf("first load: %v, want %v", err, errBroken)
		}
		if n := count(t, w, schema, "orders", ""); n != 200 {
			t.Fatalf("after the interrupted load: %d rows, want the 200 of the last commit", n)
		}
		if got := ackedOffsets(t, broken); len(got) != 2 || got[0] != 100 || got[1] != 200 {
			t.Fatalf("acknowledged offsets %v, want [100 200] (the latest state of each commit)", got)
		}
		st, err := staging.NewLoader(w, o).State(t.Context())
		if err != nil || len(st) != 1 || offsetOf(t, st[0]) != 200 {
			t.Fatalf("committed state %+v (%v), want orders at offset 200", st, err)
		}

		resumed := &genSource{streams: []genStream{{name: "orders", n: 500}, {name: "users", n: 50}}, stateEvery: 10}
		res, err := load(t, w, o, resumed, airbyte.Append)
		if err != nil {
			t.Fatal(err)
		}
		// 300 orders then 50 users: commits at 100, 200, 300 records and at
		// the end (the last 50 users and the states they brought).
		if res.StatesCommitted != 4 {
			t.Fatalf("commits that saved states: %d, want 4", res.StatesCommitted)
		}
		for table, want := range map[string]int64{"orders": 500, "users": 50} {
			if n := count(t, w, schema, table, ""); n != want {
				t.Fatalf("%s: %d rows, want %d", table, n, want)
			}
			var distinct int64
			if err := w.Get(t.Context(), &distinct, "SELECT count(DISTINCT id) FROM "+w.Dialect().QuoteRelation(warehouse.Rel(schema, table))); err != nil || distinct != want {
				t.Fatalf("%s: %d distinct ids (%v), want %d", table, distinct, err, want)
			}
		}
		st, err = staging.NewLoader(w, o).State(t.Context())
		if err != nil || len(st) != 2 {
			t.Fatalf("committed states %+v (%v), want one per stream", st, err)
		}
		for _, s := range st {
			want := map[string]int{"orders": 500, "users": 50}[s.Stream.StreamDescriptor.Name]
			if got := offsetOf(t, s); got != want {
				t.Fatalf("state of %s: offset %d, want %d", s.Stream.StreamDescriptor.Name, got, want)
			}
		}
	})
}

func ackedOffsets(t *testing.T, g *genSource) []int {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []int
	for _, a := range g.acks {
		out = append(out, offsetOf(t, a))
	}
	return out
}

func offsetOf(t *testing.T, st airbyte.StateMessage) int {
	t.Helper()
	var s struct{ Offset int }
	if st.Stream == nil {
		t.Fatalf("state %+v is not a STREAM state", st)
	}
	if err := json.Unmarshal(st.Stream.StreamState, &s); err != nil {
		t.Fatal(err)
	}
	return s.Offset
}
