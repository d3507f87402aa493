package postgres

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
)

// TestCursorBoundary: rows sharing the saved cursor value are read again
// (duplicates at the boundary), and a row committed later with that same
// value is not lost.
func TestCursorBoundary(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("ev")+" (id bigint PRIMARY KEY, v text, updated timestamptz)")
	db.exec(t, "INSERT INTO "+db.rel("ev")+` VALUES
		(1, 'a', '2024-01-01 00:00:00+00'), (2, 'b', '2024-01-02 00:00:00+00'), (3, 'c', '2024-01-02 00:00:00+00'),
		(4, 'd', '2024-01-03 00:00:00+00'), (5, 'e', '2024-01-03 00:00:00+00'), (6, 'nocursor', NULL)`)
	src := New(WithChunkSize(2))
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.Incremental, []string{"updated"}, "ev")

	first := readAll(t, src, cfg, cat, nil, nil)
	got := ids(t, first.records)
	if !slices.Equal(got, []int64{6, 1, 2, 3, 4, 5}) {
		t.Fatalf("first read: ids %v, want 6 (NULL cursor first), then cursor order", got)
	}
	// Checkpoints every 2 rows carry the cursor of the last row emitted.
	var cursors []string
	for _, s := range first.states {
		var st streamState
		if err := json.Unmarshal(s.Stream.StreamState, &st); err != nil {
			t.Fatal(err)
		}
		cursors = append(cursors, string(st.Cursor))
	}
	want := []string{`"2024-01-01T00:00:00Z"`, `"2024-01-02T00:00:00Z"`, `"2024-01-03T00:00:00Z"`, `"2024-01-03T00:00:00Z"`}
	if !slices.Equal(cursors, want) {
		t.Fatalf("state cursors %v, want %v", cursors, want)
	}
	final := first.states[len(first.states)-1]

	// A late row with the boundary value, one after it, and an update.
	db.exec(t, "INSERT INTO "+db.rel("ev")+` VALUES (7, 'late-same', '2024-01-03 00:00:00+00'), (8, 'after', '2024-01-04 00:00:00+00')`)
	db.exec(t, "UPDATE "+db.rel("ev")+` SET v = 'a2', updated = '2024-01-05 00:00:00+00' WHERE id = 1`)
	second := readAll(t, src, cfg, cat, []airbyte.StateMessage{*final}, nil)
	got = ids(t, second.records)
	slices.Sort(got[:3])
	if !slices.Equal(got, []int64{4, 5, 7, 8, 1}) {
		t.Fatalf("second read: ids %v, want 4, 5, 7 (cursor = saved, in any order), 8, 1", got)
	}
	var st streamState
	if err := json.Unmarshal(second.states[len(second.states)-1].Stream.StreamState, &st); err != nil {
		t.Fatal(err)
	}
	if string(st.Cursor) != `"2024-01-05T00:00:00Z"` || st.CursorField[0] != "updated" {
		t.Fatalf("final state %s", second.states[len(second.states)-1].Stream.StreamState)
	}

	// A hand-written state (cursor only, no raw value) is bound as text.
	hand := airbyte.StateMessage{Type: airbyte.StateStream, Stream: &airbyte.StreamState{
		StreamDescriptor: airbyte.StreamDescriptor{Name: "ev", Namespace: db.schema},
		StreamState:      json.RawMessage(`{"cursor_field":["updated"],"cursor":"2024-01-04T00:00:00Z"}`),
	}}
	third := readAll(t, src, cfg, cat, []airbyte.StateMessage{hand}, nil)
	if got := ids(t, third.records); !slices.Equal(got, []int64{8, 1}) {
		t.Fatalf("read from a hand-written state: %v, want [8 1]", got)
	}
}

// TestXminIncremental: after the initial load, only rows inserted or
// updated since are read.
func TestXminIncremental(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("x")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "INSERT INTO "+db.rel("x")+" SELECT i, 'v' FROM generate_series(1, 10) i")
	src := New(WithChunkSize(4))
	cfg := db.config(t, map[string]any{"replication_method": map[string]any{"method": "Xmin"}})
	cat := configured(t, discover(t, src, cfg), airbyte.Incremental, nil, "x")
	first := readAll(t, src, cfg, cat, nil, nil)
	if len(first.records) != 10 {
		t.Fatalf("initial load read %d rows", len(first.records))
	}
	db.exec(t, "UPDATE "+db.rel("x")+" SET v = 'w' WHERE id = 3")
	db.exec(t, "INSERT INTO "+db.rel("x")+" VALUES (11, 'new')")
	second := readAll(t, src, cfg, cat, []airbyte.StateMessage{*first.states[len(first.states)-1]}, nil)
	got := ids(t, second.records)
	slices.Sort(got)
	if !slices.Equal(got, []int64{3, 11}) {
		t.Fatalf("xmin read: %v, want [3 11]", got)
	}
	third := readAll(t, src, cfg, cat, []airbyte.StateMessage{*second.states[len(second.states)-1]}, nil)
	if len(third.records) != 0 {
		t.Fatalf("nothing changed, yet read %v", ids(t, third.records))
	}
}
