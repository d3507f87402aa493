package postgres

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

type idRow struct {
	ID int64  `json:"id"`
	V  string `json:"v"`
}

func ids(t testing.TB, recs []*airbyte.RecordMessage) []int64 {
	t.Helper()
	out := make([]int64, 0, len(recs))
	for _, r := range recs {
		var row idRow
		if err := json.Unmarshal(r.Data, &row); err != nil {
			t.Fatal(err)
		}
		out = append(out, row.ID)
	}
	return out
}

// TestFullRefreshResumes interrupts a chunked full refresh after its third
// checkpoint and resumes it from that state: together the two reads emit
// every row exactly once.
func TestFullRefreshResumes(t *testing.T) {
	for _, withKey := range []bool{true, false} {
		name := map[bool]string{true: "primary key", false: "ctid"}[withKey]
		t.Run(name, func(t *testing.T) {
			db := newTestDB(t)
			ddl := "CREATE TABLE " + db.rel("t") + " (id bigint, v text)"
			if withKey {
				ddl = "CREATE TABLE " + db.rel("t") + " (id bigint PRIMARY KEY, v text)"
			}
			db.exec(t, ddl)
			// Insert out of key order so key order and heap order differ.
			db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT (i * 7919) % 1000, repeat('x', 100) FROM generate_series(0, 999) i")
			db.exec(t, "ANALYZE "+db.rel("t"))
			src := New(WithChunkSize(100))
			cfg := db.config(t, nil)
			cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "t")

			states := 0
			first := readAll(t, src, cfg, cat, nil, func(m *airbyte.Message) bool {
				if m.Type == airbyte.TypeState {
					states++
				}
				return states == 3
			})
			if len(first.states) != 3 {
				t.Fatalf("got %d states before stopping", len(first.states))
			}
			last := first.states[2]
			var st streamState
			if err := json.Unmarshal(last.Stream.StreamState, &st); err != nil {
				t.Fatal(err)
			}
			if st.Load == nil || st.LoadDone {
				t.Fatalf("interrupted state is not a load in progress: %s", last.Stream.StreamState)
			}
			// Tables are read in physical order, keyed or not: the state
			// holds the last ctid and the relfilenode.
			if st.Load.Ctid == "" || st.Load.Filenode == 0 || len(st.Load.PK) > 0 {
				t.Fatalf("state after 3 chunks of 100: %s", last.Stream.StreamState)
			}
			if *last.SourceStats.RecordCount != 100 {
				t.Errorf("state record count %v, want 100", *last.SourceStats.RecordCount)
			}
			second := readAll(t, src, cfg, cat, []airbyte.StateMessage{*last}, nil)
			all := append(ids(t, first.records), ids(t, second.records)...)
			seen := map[int64]int{}
			for _, id := range all {
				seen[id]++
			}
			for i := int64(0); i < 1000; i++ {
				if seen[i] != 1 {
					t.Fatalf("id %d read %d times (first read %d rows, second %d)", i, seen[i], len(first.records), len(second.records))
				}
			}
			if len(all) != 1000 {
				t.Fatalf("read %d rows, want 1000", len(all))
			}
			var end streamState
			if err := json.Unmarshal(second.states[len(second.states)-1].Stream.StreamState, &end); err != nil || !end.LoadDone {
				t.Fatalf("final state %s", second.states[len(second.states)-1].Stream.StreamState)
			}
			// A finished state starts over.
			third := readAll(t, src, cfg, cat, []airbyte.StateMessage{*second.states[len(second.states)-1]}, nil)
			if len(third.records) != 1000 {
				t.Fatalf("read after a finished refresh: %d rows, want 1000", len(third.records))
			}
		})
	}
}

// TestSnapshotIsConsistent: rows committed while a read runs are not seen
// by any stream of that read.
func TestSnapshotIsConsistent(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("a")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "CREATE TABLE "+db.rel("b")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "INSERT INTO "+db.rel("a")+" SELECT i, 'a' FROM generate_series(1, 500) i")
	db.exec(t, "INSERT INTO "+db.rel("b")+" SELECT i, 'b' FROM generate_series(1, 500) i")
	src := New(WithChunkSize(50))
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "a", "b")
	inserted := false
	res := readAll(t, src, cfg, cat, nil, func(m *airbyte.Message) bool {
		if !inserted && m.Type == airbyte.TypeRecord {
			// After the snapshot is taken: both tables get more rows.
			db.exec(t, "INSERT INTO "+db.rel("a")+" SELECT i, 'late' FROM generate_series(501, 600) i")
			db.exec(t, "INSERT INTO "+db.rel("b")+" SELECT i, 'late' FROM generate_series(501, 600) i")
			db.exec(t, "DELETE FROM "+db.rel("b")+" WHERE id <= 100")
			inserted = true
		}
		return false
	})
	if len(res.records) != 1000 {
		t.Fatalf("read %d rows, want the 1000 of the snapshot", len(res.records))
	}
}

// TestMillionRows reads a 1M-row table: count and checksum match the
// database's, and the heap stays flat while the consumer keeps nothing.
func TestMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 1M-row read")
	}
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("big")+" (id bigint PRIMARY KEY, v text, x double precision, ts timestamptz)")
	db.exec(t, "INSERT INTO "+db.rel("big")+" SELECT i, md5(i::text), i / 3.0, '2024-01-01'::timestamptz + i * interval '1 second' FROM generate_series(1, 1000000) i")
	var wantSum int64
	var wantLen int64
	if err := db.conn.QueryRow(context.Background(), "SELECT sum(id)::bigint, sum(length(v))::bigint FROM "+db.rel("big")).Scan(&wantSum, &wantLen); err != nil {
		t.Fatal(err)
	}
	src := New()
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "big")

	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	rs, err := src.Read(context.Background(), cfg, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var n, sum, length int64
	h := fnv.New64a()
	states := 0
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case airbyte.TypeRecord:
			var row idRow
			if err := json.Unmarshal(m.Record.Data, &row); err != nil {
				t.Fatal(err)
			}
			n++
			sum += row.ID
			length += int64(len(row.V))
			h.Write(m.Record.Data)
		case airbyte.TypeState:
			states++
		}
	}
	close(stop)
	wg.Wait()
	if n != 1000000 || sum != wantSum || length != wantLen {
		t.Fatalf("read %d rows, sum(id) %d, sum(length(v)) %d; want 1000000, %d, %d", n, sum, length, wantSum, wantLen)
	}
	if states != 21 { // one per 50000-row chunk, and the final one
		t.Errorf("%d states, want 21", states)
	}
	t.Logf("peak HeapInuse %.1f MiB, checksum %x", float64(peak.Load())/(1<<20), h.Sum64())
	// The heap holds the read's GC ballast (never touched, not resident)
	// and up to about as much garbage between collections.
	if peak.Load() > 64<<20+2*defaultGCBallast {
		t.Errorf("peak HeapInuse %d MiB: memory is not flat", peak.Load()>>20)
	}
}
