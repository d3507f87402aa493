package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// TestDiscoverViewsAndModes: views are discovered (full refresh only under
// CDC), tables without a key are not offered CDC, and CDC streams carry the
// _ab_cdc columns.
func TestDiscoverViewsAndModes(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("keyed")+" (a int, b text, PRIMARY KEY (b, a))")
	db.exec(t, "CREATE TABLE "+db.rel("heap")+" (x int)")
	db.exec(t, "CREATE VIEW "+db.rel("v")+" AS SELECT a, b FROM "+db.rel("keyed"))
	db.exec(t, "INSERT INTO "+db.rel("keyed")+" VALUES (1, 'x'), (2, 'x'), (1, 'y')")
	src := New()
	byName := func(cat *airbyte.Catalog) map[string]airbyte.Stream {
		m := map[string]airbyte.Stream{}
		for _, s := range cat.Streams {
			m[s.Name] = s
		}
		return m
	}
	std := byName(discover(t, src, db.config(t, nil)))
	if len(std) != 3 {
		t.Fatalf("streams %v", std)
	}
	if got := std["keyed"].SourceDefinedPrimaryKey; !slices.EqualFunc(got, [][]string{{"b"}, {"a"}}, slices.Equal) {
		t.Errorf("composite key in key order: %v", got)
	}
	if !slices.Equal(std["v"].SupportedSyncModes, []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental}) || *std["v"].IsResumable {
		t.Errorf("view under Standard: %+v", std["v"])
	}
	cdcCfg, _ := cdcSetup(t, db)
	cdc := byName(discover(t, src, cdcCfg))
	if !slices.Equal(cdc["heap"].SupportedSyncModes, []airbyte.SyncMode{airbyte.FullRefresh}) ||
		!slices.Equal(cdc["v"].SupportedSyncModes, []airbyte.SyncMode{airbyte.FullRefresh}) ||
		!slices.Equal(cdc["keyed"].SupportedSyncModes, []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental}) {
		t.Errorf("CDC sync modes: heap %v, v %v, keyed %v", cdc["heap"].SupportedSyncModes, cdc["v"].SupportedSyncModes, cdc["keyed"].SupportedSyncModes)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(cdc["keyed"].JSONSchema, &schema); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{ColCDCLSN, ColCDCUpdatedAt, ColCDCDeletedAt} {
		if _, ok := schema.Properties[c]; !ok {
			t.Errorf("CDC schema lacks %s", c)
		}
	}
	// The composite key pages correctly, and the view reads in one query.
	res := readAll(t, New(WithChunkSize(1)), db.config(t, nil), configured(t, discover(t, src, db.config(t, nil)), airbyte.FullRefresh, nil, "keyed", "v"), nil, nil)
	if len(res.records) != 6 {
		t.Fatalf("read %d records, want 3 + 3", len(res.records))
	}
	if string(res.records[0].Data) != `{"a":1,"b":"x"}` || string(res.records[1].Data) != `{"a":2,"b":"x"}` || string(res.records[2].Data) != `{"a":1,"b":"y"}` {
		t.Errorf("key order: %s %s %s", res.records[0].Data, res.records[1].Data, res.records[2].Data)
	}
}

// TestCDCAckInsideLoopAndMixedStreams: a CDC read that also reads a
// full-refresh stream emits GLOBAL states for both; Ack from inside the
// loop moves the slot while the read is still streaming.
func TestCDCAckInsideLoopAndMixedStreams(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("c")+" (id int PRIMARY KEY, v text)")
	db.exec(t, "CREATE TABLE "+db.rel("f")+" (x int)")
	db.exec(t, "INSERT INTO "+db.rel("c")+" VALUES (1, 'a')")
	db.exec(t, "INSERT INTO "+db.rel("f")+" VALUES (1), (2)")
	cfg, slot := cdcSetup(t, db)
	src := New()
	cat := discover(t, src, cfg)
	cc := configured(t, cat, airbyte.Incremental, nil, "c")
	cc.Streams = append(cc.Streams, configured(t, cat, airbyte.FullRefresh, nil, "f").Streams...)
	first := readAll(t, src, cfg, cc, nil, nil)
	if len(first.records) != 3 {
		t.Fatalf("first read: %d records", len(first.records))
	}
	for _, s := range first.states {
		if s.Type != airbyte.StateGlobal || len(s.Global.StreamStates) != 2 {
			t.Fatalf("state %+v is not GLOBAL over both streams", s)
		}
	}
	before := slotConfirmed(t, db, slot)
	db.exec(t, "INSERT INTO "+db.rel("c")+" VALUES (2, 'b')")
	db.exec(t, "UPDATE "+db.rel("c")+" SET v = 'a2' WHERE id = 1")
	rs, err := src.Read(context.Background(), cfg, cc, []airbyte.StateMessage{*first.states[len(first.states)-1]})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var changes []string
	acked := false
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case airbyte.TypeRecord:
			if m.Record.Stream == "c" {
				var r cdcRow
				if err := json.Unmarshal(m.Record.Data, &r); err != nil {
					t.Fatal(err)
				}
				changes = append(changes, r.String())
			}
		case airbyte.TypeState:
			if len(changes) == 2 && !acked {
				lsn := stateLSN(t, m.State)
				if err := rs.Ack(context.Background(), m.State); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 10*time.Second, "the slot to move on Ack", func() bool { return slotConfirmed(t, db, slot) >= lsn })
				acked = true
			}
		}
	}
	if !acked || !slices.Equal(changes, []string{"2/b/deleted=false", "1/a2/deleted=false"}) {
		t.Fatalf("acked %v, changes %v", acked, changes)
	}
	if after := slotConfirmed(t, db, slot); after <= before {
		t.Fatalf("slot did not move: %s -> %s", before, after)
	}
}
