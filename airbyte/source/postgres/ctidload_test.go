package postgres

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
)

func TestParseTID(t *testing.T) {
	for _, c := range []struct {
		in   string
		want tid
	}{
		{"(0,1)", tid{0, 1}},
		{"(4294967295,65535)", tid{4294967295, 65535}},
		{"(12,345)", tid{12, 345}},
	} {
		got, err := parseTID(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseTID(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if got.String() != c.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), c.in)
		}
	}
	for _, bad := range []string{"", "(1)", "1,2", "(a,1)", "(1,65536)", "(4294967296,1)", "(1,2", "(-1,2)"} {
		if _, err := parseTID(bad); err == nil {
			t.Errorf("parseTID(%q): no error", bad)
		}
	}
	if !(tid{1, 0}.order() > tid{0, 65535}.order()) || !(tid{3, 2}.order() > tid{3, 1}.order()) {
		t.Error("order does not follow the physical order")
	}
}

func TestPhysicalOrder(t *testing.T) {
	var o physicalOrder
	for _, c := range []struct {
		t  tid
		ok bool
	}{{tid{0, 5}, true}, {tid{0, 6}, true}, {tid{1, 1}, true}, {tid{1, 1}, false}, {tid{0, 9}, false}, {tid{7, 1}, true}} {
		if _, ok := o.next(c.t); ok != c.ok {
			t.Errorf("next(%v) = %v, want %v", c.t, ok, c.ok)
		}
	}
}

// stateOf decodes a STREAM state's stream_state.
func stateOf(t testing.TB, m *airbyte.StateMessage) streamState {
	t.Helper()
	var st streamState
	if err := json.Unmarshal(m.Stream.StreamState, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// stopAfterStates returns a stop function for readAll that ends the read
// at its n-th state.
func stopAfterStates(n int) func(*airbyte.Message) bool {
	states := 0
	return func(m *airbyte.Message) bool {
		if m.Type == airbyte.TypeState {
			states++
		}
		return states == n
	}
}

// exactlyOnce fails unless got holds each of 0..n-1 once.
func exactlyOnce(t testing.TB, got []int64, n int) {
	t.Helper()
	seen := map[int64]int{}
	for _, id := range got {
		seen[id]++
	}
	for i := range int64(n) {
		if seen[i] != 1 {
			t.Fatalf("id %d read %d times (%d rows in all)", i, seen[i], len(got))
		}
	}
	if len(got) != n {
		t.Fatalf("read %d rows, want %d", len(got), n)
	}
}

// TestCtidResumeAfterRewrite: a resume whose table was rewritten since the
// state (VACUUM FULL gives it a new relfilenode and renumbers its rows)
// reads the whole table again instead of skipping rows by stale ctids.
func TestCtidResumeAfterRewrite(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("t")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT i, repeat('x', 100) FROM generate_series(0, 999) i")
	// Dead rows at the start: the rewrite moves every live row to a lower
	// ctid.
	db.exec(t, "DELETE FROM "+db.rel("t")+" WHERE id < 300")
	db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT i, repeat('y', 100) FROM generate_series(0, 299) i")
	src := New(WithChunkSize(100))
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "t")

	first := readAll(t, src, cfg, cat, nil, stopAfterStates(3))
	last := first.states[len(first.states)-1]
	st := stateOf(t, last)
	if st.Load == nil || st.Load.Ctid == "" {
		t.Fatalf("interrupted state: %s", last.Stream.StreamState)
	}

	// Unchanged table: the resume reads the other 700 rows.
	resumed := readAll(t, src, cfg, cat, []airbyte.StateMessage{*last}, nil)
	exactlyOnce(t, append(ids(t, first.records), ids(t, resumed.records)...), 1000)

	db.exec(t, "VACUUM FULL "+db.rel("t"))
	again := readAll(t, src, cfg, cat, []airbyte.StateMessage{*last}, nil)
	exactlyOnce(t, ids(t, again.records), 1000)
	end := stateOf(t, again.states[len(again.states)-1])
	if !end.LoadDone {
		t.Fatalf("final state after the restart: %s", again.states[len(again.states)-1].Stream.StreamState)
	}
}

// TestCtidResumeSkipsOnlyReadRows: a resume in a new snapshot emits the
// rows after the saved ctid as they are now — rows inserted since (at the
// end of the heap) included — and none of the rows before it.
func TestCtidResumeSkipsOnlyReadRows(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("t")+" (id bigint, v text)")
	db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT i, 'x' FROM generate_series(0, 999) i")
	src := New(WithChunkSize(250))
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "t")
	first := readAll(t, src, cfg, cat, nil, stopAfterStates(2))
	if len(first.records) != 500 {
		t.Fatalf("first read: %d rows before its second state, want 500", len(first.records))
	}
	db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT i, 'x' FROM generate_series(1000, 1099) i")
	second := readAll(t, src, cfg, cat, []airbyte.StateMessage{*first.states[1]}, nil)
	exactlyOnce(t, append(ids(t, first.records), ids(t, second.records)...), 1100)
}

// TestFormerLoadStates: states written by former versions (a last key for a
// keyed table, a next heap page for one without a key) still resume where
// they say.
func TestFormerLoadStates(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("k")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "INSERT INTO "+db.rel("k")+" SELECT (i * 7919) % 1000, 'x' FROM generate_series(0, 999) i")
	db.exec(t, "CREATE TABLE "+db.rel("p")+" (id bigint, v text)")
	db.exec(t, "INSERT INTO "+db.rel("p")+" SELECT i, repeat('x', 200) FROM generate_series(0, 999) i")
	src := New(WithChunkSize(100))
	cfg := db.config(t, nil)

	// Key 299, as bigint's binary form.
	raw := base64.StdEncoding.EncodeToString([]byte{0, 0, 0, 0, 0, 0, 1, 43})
	keyState := airbyte.StateMessage{Type: airbyte.StateStream, Stream: &airbyte.StreamState{
		StreamDescriptor: airbyte.StreamDescriptor{Name: "k", Namespace: db.schema},
		StreamState:      json.RawMessage(fmt.Sprintf(`{"load":{"pk":[299],"pk_raw":[%q]}}`, raw)),
	}}
	res := readAll(t, src, cfg, configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "k"), []airbyte.StateMessage{keyState}, nil)
	got := ids(t, res.records)
	if len(got) != 700 || got[0] != 300 || got[699] != 999 {
		t.Fatalf("resume after key 299: %d rows from %v", len(got), got[:min(3, len(got))])
	}

	// Rows of ~230 bytes: about 35 a page. From page 10 on, the rows
	// before are those on pages 0..9.
	var before int
	if err := db.conn.QueryRow(t.Context(), "SELECT count(*) FROM "+db.rel("p")+" WHERE ctid < '(10,0)'::tid").Scan(&before); err != nil {
		t.Fatal(err)
	}
	pageState := airbyte.StateMessage{Type: airbyte.StateStream, Stream: &airbyte.StreamState{
		StreamDescriptor: airbyte.StreamDescriptor{Name: "p", Namespace: db.schema},
		StreamState:      json.RawMessage(`{"load":{"next_page":10}}`),
	}}
	res = readAll(t, src, cfg, configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "p"), []airbyte.StateMessage{pageState}, nil)
	got = ids(t, res.records)
	if before == 0 || len(got) != 1000-before || got[0] != int64(before) {
		t.Fatalf("resume from page 10 (%d rows before it): %d rows from %v", before, len(got), got[:min(3, len(got))])
	}
}

// TestPartitionedTableResumesByKey: a partitioned table has no one
// physical order; with a key it is read, and resumed, in key order.
func TestPartitionedTableResumesByKey(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("pt")+" (id bigint PRIMARY KEY, v text) PARTITION BY RANGE (id)")
	db.exec(t, "CREATE TABLE "+db.rel("pt_a")+" PARTITION OF "+db.rel("pt")+" FOR VALUES FROM (0) TO (500)")
	db.exec(t, "CREATE TABLE "+db.rel("pt_b")+" PARTITION OF "+db.rel("pt")+" FOR VALUES FROM (500) TO (1000)")
	db.exec(t, "INSERT INTO "+db.rel("pt")+" SELECT (i * 7919) % 1000, 'x' FROM generate_series(0, 999) i")
	src := New(WithChunkSize(100))
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "pt")
	first := readAll(t, src, cfg, cat, nil, stopAfterStates(3))
	st := stateOf(t, first.states[2])
	if st.Load == nil || len(st.Load.PK) != 1 || string(st.Load.PK[0]) != "299" {
		t.Fatalf("state after 3 chunks of 100 in key order: %s", first.states[2].Stream.StreamState)
	}
	second := readAll(t, src, cfg, cat, []airbyte.StateMessage{*first.states[2]}, nil)
	exactlyOnce(t, append(ids(t, first.records), ids(t, second.records)...), 1000)
}
