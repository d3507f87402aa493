package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
}

// cdcSetup returns a CDC config with a fresh slot and publication that are
// dropped after the test.
func cdcSetup(t *testing.T, db *testDB) (json.RawMessage, string) {
	slot, pub := randName("slot_"), randName("pub_")
	t.Cleanup(func() {
		ctx := context.Background()
		waitFor(t, 10*time.Second, "slot "+slot+" to be released", func() bool {
			var active bool
			err := db.conn.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
			return err != nil || !active
		})
		_, _ = db.conn.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot)
		_, _ = db.conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+quoteIdent(pub))
	})
	return db.config(t, map[string]any{"replication_method": map[string]any{
		"method": "CDC", "replication_slot": slot, "publication": pub, "initial_waiting_seconds": 30,
	}}), slot
}

type cdcRow struct {
	ID        int64   `json:"id"`
	V         *string `json:"v"`
	LSN       *uint64 `json:"_ab_cdc_lsn"`
	UpdatedAt *string `json:"_ab_cdc_updated_at"`
	DeletedAt *string `json:"_ab_cdc_deleted_at"`
}

func (r cdcRow) String() string {
	v := "<nil>"
	if r.V != nil {
		v = *r.V
	}
	return fmt.Sprintf("%d/%s/deleted=%v", r.ID, v, r.DeletedAt != nil)
}

func slotConfirmed(t testing.TB, db *testDB, slot string) pglogrepl.LSN {
	t.Helper()
	var s string
	if err := db.conn.QueryRow(context.Background(), "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&s); err != nil {
		t.Fatal(err)
	}
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

func stateLSN(t testing.TB, st *airbyte.StateMessage) pglogrepl.LSN {
	t.Helper()
	var sh sharedState
	if st.Type != airbyte.StateGlobal || json.Unmarshal(st.Global.SharedState, &sh) != nil {
		t.Fatalf("not a CDC GLOBAL state: %+v", st)
	}
	lsn, err := pglogrepl.ParseLSN(sh.LSN)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

// TestCDCConcurrentWrites snapshots a table while another goroutine inserts,
// updates and deletes, then reads (and re-reads from each final state)
// until every change has arrived: each exactly once, in commit order, with
// the _ab_cdc fields. The slot's confirmed_flush_lsn moves only on Ack.
func TestCDCConcurrentWrites(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("t")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT i, 'init' FROM generate_series(1, 20000) i")
	cfg, slot := cdcSetup(t, db)
	src := New(WithChunkSize(1000))
	cat := configured(t, discover(t, src, cfg), airbyte.Incremental, nil, "t")
	if cat.Streams[0].Stream.DefaultCursorField[0] != ColCDCLSN || !cat.Streams[0].Stream.SourceDefinedCursor {
		t.Fatalf("CDC stream: %+v", cat.Streams[0].Stream)
	}

	// The writer's changes, in commit order.
	var want []string
	type op struct {
		sql  string
		args []any
	}
	var ops []op
	for i := int64(1); i <= 150; i++ {
		switch i % 3 {
		case 0:
			id := 100000 + i
			ops = append(ops, op{"INSERT INTO " + db.rel("t") + " VALUES ($1, $2)", []any{id, fmt.Sprint("ins", i)}})
			v := fmt.Sprint("ins", i)
			want = append(want, cdcRow{ID: id, V: &v}.String())
		case 1:
			v := fmt.Sprint("upd", i)
			ops = append(ops, op{"UPDATE " + db.rel("t") + " SET v = $2 WHERE id = $1", []any{i, v}})
			want = append(want, cdcRow{ID: i, V: &v}.String())
		case 2:
			ops = append(ops, op{"DELETE FROM " + db.rel("t") + " WHERE id = $1", []any{i}})
			del := "x"
			want = append(want, cdcRow{ID: i, DeletedAt: &del}.String())
		}
	}
	wconn, err := pgx.Connect(context.Background(), db.url)
	if err != nil {
		t.Fatal(err)
	}
	defer wconn.Close(context.Background())
	writerDone := make(chan error, 1)
	started := false
	startWriter := func() {
		started = true
		go func() {
			for _, o := range ops {
				if _, err := wconn.Exec(context.Background(), o.sql, o.args...); err != nil {
					writerDone <- err
					return
				}
			}
			writerDone <- nil
		}()
	}

	var snapshot, changes []cdcRow
	var state []airbyte.StateMessage
	writerFinished := false
	var prevAck pglogrepl.LSN
	streamed0 := 0
	for round := 0; round < 50; round++ {
		rs, err := src.Read(context.Background(), cfg, cat, state)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		var last *airbyte.StateMessage
		for m, err := range rs.Messages() {
			if err != nil {
				t.Fatal(err)
			}
			switch m.Type {
			case airbyte.TypeRecord:
				var r cdcRow
				if err := json.Unmarshal(m.Record.Data, &r); err != nil {
					t.Fatal(err)
				}
				if r.LSN == nil || r.UpdatedAt == nil {
					t.Fatalf("record without _ab_cdc fields: %s", m.Record.Data)
				}
				if _, err := time.Parse(time.RFC3339Nano, *r.UpdatedAt); err != nil {
					t.Fatalf("_ab_cdc_updated_at: %v", err)
				}
				if round == 0 && len(snapshot) < 20000 {
					if prevAck == 0 {
						prevAck = pglogrepl.LSN(*r.LSN) // the slot's start
					}
					snapshot = append(snapshot, r)
					if !started {
						startWriter() // the slot and its snapshot exist now
					}
				} else {
					changes = append(changes, r)
				}
			case airbyte.TypeState:
				last = m.State
			}
		}
		if last == nil {
			t.Fatalf("round %d: no state", round)
		}
		// Nothing is confirmed before Ack.
		lsn := stateLSN(t, last)
		if before := slotConfirmed(t, db, slot); before >= lsn && lsn > prevAck {
			t.Fatalf("round %d: slot confirmed %s before Ack of %s", round, before, lsn)
		}
		prevAck = lsn
		if round == 0 {
			streamed0 = len(changes)
		}
		t.Logf("round %d: %d changes so far, state lsn %s", round, len(changes), lsn)
		if err := rs.Ack(context.Background(), last); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "confirmed_flush_lsn to reach the acked LSN", func() bool { return slotConfirmed(t, db, slot) >= lsn })
		if err := rs.Close(); err != nil {
			t.Fatal(err)
		}
		state = []airbyte.StateMessage{*last}
		if !writerFinished {
			select {
			case err := <-writerDone:
				if err != nil {
					t.Fatal(err)
				}
				writerFinished = true
			default:
			}
		}
		if writerFinished && len(changes) >= len(want) {
			break
		}
	}
	if len(snapshot) != 20000 {
		t.Fatalf("snapshot read %d rows, want 20000", len(snapshot))
	}
	for _, r := range snapshot {
		if *r.V != "init" || r.DeletedAt != nil {
			t.Fatalf("snapshot row %s saw a later change", r)
		}
	}
	if len(changes) != len(want) {
		t.Fatalf("got %d changes, want %d", len(changes), len(want))
	}
	var prev uint64
	for i, r := range changes {
		got := r.String()
		if r.DeletedAt != nil {
			got = cdcRow{ID: r.ID, DeletedAt: r.DeletedAt}.String()
		}
		if got != want[i] {
			t.Fatalf("change %d: got %s, want %s", i, got, want[i])
		}
		if *r.LSN <= prev {
			t.Fatalf("change %d: _ab_cdc_lsn %d not after %d (one transaction per change)", i, *r.LSN, prev)
		}
		prev = *r.LSN
		if r.DeletedAt != nil && *r.DeletedAt != *r.UpdatedAt {
			t.Fatalf("delete %d: deleted_at %s, updated_at %s", r.ID, *r.DeletedAt, *r.UpdatedAt)
		}
	}
	t.Logf("%d of %d changes streamed by the read that took the snapshot", streamed0, len(want))
	if *snapshot[0].LSN >= *changes[0].LSN {
		t.Fatalf("snapshot LSN %d not before the first change %d", *snapshot[0].LSN, *changes[0].LSN)
	}
}

// TestCDCLostSlot: a state whose slot was dropped, or whose LSN is behind
// the slot, fails with a typed error asking for a resync; an empty state
// resyncs.
func TestCDCLostSlot(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("t")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "INSERT INTO "+db.rel("t")+" VALUES (1, 'a'), (2, 'b')")
	cfg, slot := cdcSetup(t, db)
	src := New()
	cat := configured(t, discover(t, src, cfg), airbyte.Incremental, nil, "t")
	first := readAll(t, src, cfg, cat, nil, nil)
	if len(first.records) != 2 {
		t.Fatalf("snapshot: %d records", len(first.records))
	}
	final := *first.states[len(first.states)-1]

	// An LSN behind the slot.
	behind := final
	behind.Global = &airbyte.GlobalState{SharedState: json.RawMessage(`{"lsn":"0/1"}`), StreamStates: final.Global.StreamStates}
	_, err := src.Read(context.Background(), cfg, cat, []airbyte.StateMessage{behind})
	var lb *LSNBehindSlotError
	if !errors.As(err, &lb) || !errors.Is(err, ErrResyncRequired) || lb.Slot != slot {
		t.Fatalf("state behind the slot: %v", err)
	}

	waitFor(t, 10*time.Second, "slot to be released", func() bool {
		var active bool
		err := db.conn.QueryRow(context.Background(), "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
		return err == nil && !active
	})
	db.exec(t, "SELECT pg_drop_replication_slot($1)", slot)
	_, err = src.Read(context.Background(), cfg, cat, []airbyte.StateMessage{final})
	var lost *SlotLostError
	if !errors.As(err, &lost) || !errors.Is(err, ErrResyncRequired) || lost.Slot != slot || lost.Reason != "missing" {
		t.Fatalf("lost slot: %v", err)
	}

	// The documented resync: read with no state.
	again := readAll(t, src, cfg, cat, nil, nil)
	if len(again.records) != 2 {
		t.Fatalf("resync read %d records, want 2", len(again.records))
	}
}
