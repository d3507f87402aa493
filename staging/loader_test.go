package staging_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

func opts(schema string) staging.Options {
	return staging.Options{Schema: schema, StateSchema: schema + "_state", BatchRows: 64, CommitRows: 1, Logger: slog.New(slog.DiscardHandler)}
}

// load runs one Load from the committed state.
func load(t *testing.T, w *warehouse.Warehouse, o staging.Options, src *genSource, mode airbyte.DestinationSyncMode) (*staging.Result, error) {
	t.Helper()
	ctx := context.Background()
	l := staging.NewLoader(w, o)
	state, err := l.State(ctx)
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	cat := src.catalog(mode)
	rs, err := src.Read(ctx, nil, cat, state)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	return l.Load(ctx, cat, rs)
}

func count(t *testing.T, w *warehouse.Warehouse, schema, table, where string) int64 {
	t.Helper()
	var n int64
	q := "SELECT count(*) FROM " + w.Dialect().QuoteRelation(warehouse.Rel(schema, table))
	if where != "" {
		q += " WHERE " + where
	}
	if err := w.Get(context.Background(), &n, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestAppendExactlyOnce(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		src := &genSource{streams: []genStream{{name: "orders", n: 2500}, {name: "users", n: 300}}, stateEvery: 100, failAfter: 1234}
		o := opts(schema)
		_, err := load(t, w, o, src, airbyte.Append)
		if !errors.Is(err, errBroken) {
			t.Fatalf("first load: %v, want the source's error", err)
		}
		// Only what the last committed state covers is there.
		if n := count(t, w, schema, "orders", ""); n != 1200 {
			t.Fatalf("after the failure: %d rows, want 1200 (the last state)", n)
		}
		if last := src.acks[len(src.acks)-1]; strings.ReplaceAll(string(last.Stream.StreamState), " ", "") != `{"offset":1200}` {
			t.Fatalf("last ack %s, want offset 1200", last.Stream.StreamState)
		}
		// The second run resumes from the committed state.
		src.failAfter = 0
		res, err := load(t, w, o, src, airbyte.Append)
		if err != nil {
			t.Fatalf("second load: %v", err)
		}
		if got := res.Stream("orders").Records; got != 1300 {
			t.Fatalf("second load staged %d orders, want the remaining 1300", got)
		}
		for table, n := range map[string]int64{"orders": 2500, "users": 300} {
			if got := count(t, w, schema, table, ""); got != n {
				t.Fatalf("%s: %d rows, want %d", table, got, n)
			}
			var distinctIDs, distinctRaw int64
			d := w.Dialect()
			rel := d.QuoteRelation(warehouse.Rel(schema, table))
			if err := w.Get(context.Background(), &distinctIDs, "SELECT count(DISTINCT "+d.QuoteIdentifier("id")+") FROM "+rel); err != nil {
				t.Fatal(err)
			}
			if err := w.Get(context.Background(), &distinctRaw, "SELECT count(DISTINCT "+d.QuoteIdentifier("_airbyte_raw_id")+") FROM "+rel); err != nil {
				t.Fatal(err)
			}
			if distinctIDs != n || distinctRaw != n {
				t.Fatalf("%s: %d distinct ids, %d distinct raw ids, want %d (duplicates)", table, distinctIDs, distinctRaw, n)
			}
		}
		// The committed state equals the source's final state.
		st, err := staging.NewLoader(w, o).State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range st {
			got[s.Stream.StreamDescriptor.Name] = strings.ReplaceAll(string(s.Stream.StreamState), " ", "")
		}
		if got["orders"] != `{"offset":2500}` || got["users"] != `{"offset":300}` {
			t.Fatalf("committed states %v", got)
		}
		// Typed columns and metadata.
		var amount float64
		var name string
		d := w.Dialect()
		if err := w.DB().QueryRowContext(context.Background(), w.DB().Rebind("SELECT "+d.QuoteIdentifier("amount")+", "+d.QuoteIdentifier("name")+" FROM "+d.QuoteRelation(warehouse.Rel(schema, "orders"))+" WHERE "+d.QuoteIdentifier("id")+" = ?"), 7).Scan(&amount, &name); err != nil {
			t.Fatal(err)
		}
		if amount != 3.5 || name != "name-7" {
			t.Fatalf("row 7 = (%v, %q)", amount, name)
		}
		cols, err := w.Columns(context.Background(), warehouse.Rel(schema, "orders"))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"id integer", "name string", "amount float", "updated_at timestamptz", "_airbyte_raw_id string", "_airbyte_extracted_at timestamptz", "_airbyte_meta json", "_airbyte_generation_id integer"}
		for i, c := range cols {
			if i >= len(want) || c.Name+" "+c.Type.String() != want[i] {
				t.Fatalf("columns %v, want %v", cols, want)
			}
		}
	})
}

func TestOverwriteIsAtomic(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		o := opts(schema)
		first := &genSource{streams: []genStream{{name: "items", n: 5}}, stateEvery: 2}
		if _, err := load(t, w, o, first, airbyte.Overwrite); err != nil {
			t.Fatal(err)
		}
		if n := count(t, w, schema, "items", ""); n != 5 {
			t.Fatalf("first sync: %d rows", n)
		}
		// Mid-stream, after several commits, readers still see the old table.
		seen := -1
		second := &genSource{streams: []genStream{{name: "items", n: 500}}, stateEvery: 50}
		second.hook = func(records int) {
			if records == 300 {
				seen = int(count(t, w, schema, "items", ""))
			}
		}
		res, err := load(t, w, o, second, airbyte.Overwrite)
		if err != nil {
			t.Fatal(err)
		}
		if seen != 5 {
			t.Fatalf("mid-stream readers saw %d rows, want the old 5", seen)
		}
		if n := count(t, w, schema, "items", ""); n != 500 {
			t.Fatalf("after overwrite: %d rows, want 500", n)
		}
		if res.StatesCommitted != 10 {
			t.Fatalf("states committed %d, want 10", res.StatesCommitted)
		}
		rels, err := w.Relations(context.Background(), schema)
		if err != nil || len(rels) != 1 {
			t.Fatalf("tables left in %s: %+v %v", schema, rels, err)
		}
		// A completed overwrite leaves no state: the next sync refreshes fully.
		st, _ := staging.NewLoader(w, o).State(context.Background())
		if len(st) != 0 {
			t.Fatalf("state after a completed overwrite: %+v", st)
		}
		// An interrupted overwrite keeps the old table and resumes.
		third := &genSource{streams: []genStream{{name: "items", n: 300}}, stateEvery: 50, failAfter: 120}
		if _, err := load(t, w, o, third, airbyte.Overwrite); !errors.Is(err, errBroken) {
			t.Fatalf("third: %v", err)
		}
		if n := count(t, w, schema, "items", ""); n != 500 {
			t.Fatalf("after an interrupted overwrite: %d rows, want the old 500", n)
		}
		third.failAfter = 0
		if _, err := load(t, w, o, third, airbyte.Overwrite); err != nil {
			t.Fatal(err)
		}
		if n := count(t, w, schema, "items", ""); n != 300 {
			t.Fatalf("after the resumed overwrite: %d rows, want 300", n)
		}
		if n := count(t, w, schema, "items", w.Dialect().QuoteIdentifier("id")+" < 100"); n != 100 {
			t.Fatalf("resumed overwrite lost or duplicated the first chunks: %d rows with id < 100", n)
		}
	})
}

func TestAppendDedup(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		o := opts(schema)
		schemaJSON := `{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"string"},"seq":{"type":"integer"},"_ab_cdc_deleted_at":{"type":["null","string"],"format":"date-time"}}}`
		// Row i touches key i%10 with seq i; every key's last event wins, and
		// key 3's last event is a delete. Events arrive out of order within
		// a batch for key 5 (seq 95 after seq 105 is skipped by the cursor).
		events := func(i int) string {
			k := i % 10
			del := "null"
			if k == 3 && i >= 90 {
				del = `"2024-02-01T00:00:00Z"`
			}
			return fmt.Sprintf(`{"id":%d,"v":"v%d","seq":%d,"_ab_cdc_deleted_at":%s}`, k, i, i, del)
		}
		src := &genSource{streams: []genStream{{name: "kv", n: 100, schema: schemaJSON, data: events}}, stateEvery: 7}
		cat := src.catalog(airbyte.AppendDedup)
		cat.Streams[0].CursorField = []string{"seq"}
		ctx := context.Background()
		l := staging.NewLoader(w, o)
		rs, _ := src.Read(ctx, nil, cat, nil)
		if _, err := l.Load(ctx, cat, rs); err != nil {
			t.Fatal(err)
		}
		if n := count(t, w, schema, "kv", ""); n != 9 {
			t.Fatalf("%d rows, want 9 keys (key 3 deleted)", n)
		}
		d := w.Dialect()
		var v string
		if err := w.Get(ctx, &v, w.DB().Rebind("SELECT "+d.QuoteIdentifier("v")+" FROM "+d.QuoteRelation(warehouse.Rel(schema, "kv"))+" WHERE "+d.QuoteIdentifier("id")+" = ?"), 5); err != nil || v != "v95" {
			t.Fatalf("key 5 = %q, %v; want v95", v, err)
		}
		// An older event arriving later does not win over a newer cursor.
		late := &genSource{streams: []genStream{{name: "kv", n: 1, schema: schemaJSON, data: func(int) string { return `{"id":5,"v":"stale","seq":1}` }}}, stateEvery: 1}
		rs, _ = late.Read(ctx, nil, cat, nil)
		if _, err := l.Load(ctx, cat, rs); err != nil {
			t.Fatal(err)
		}
		if err := w.Get(ctx, &v, w.DB().Rebind("SELECT "+d.QuoteIdentifier("v")+" FROM "+d.QuoteRelation(warehouse.Rel(schema, "kv"))+" WHERE "+d.QuoteIdentifier("id")+" = ?"), 5); err != nil || v != "v95" {
			t.Fatalf("key 5 after a stale event = %q, %v; want v95", v, err)
		}
		// KeepDeleted keeps the deleted key, flagged.
		o2 := o
		o2.Connection = "keep"
		o2.Schema = schema + "_keep"
		o2.KeepDeleted = true
		t.Cleanup(func() { _ = w.DropSchema(context.Background(), o2.Schema, true) })
		rs, _ = src.Read(ctx, nil, cat, nil)
		if _, err := staging.NewLoader(w, o2).Load(ctx, cat, rs); err != nil {
			t.Fatal(err)
		}
		if n := count(t, w, o2.Schema, "kv", d.QuoteIdentifier("_ab_cdc_deleted_at")+" IS NOT NULL"); n != 1 {
			t.Fatalf("KeepDeleted: %d flagged rows, want 1", n)
		}
		if n := count(t, w, o2.Schema, "kv", ""); n != 10 {
			t.Fatalf("KeepDeleted: %d rows, want 10", n)
		}
	})
}

func TestTypecastAndNewColumns(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		ctx := context.Background()
		o := opts(schema)
		rows := []string{
			`{"id":1,"name":"ok","amount":1.25,"updated_at":"2024-03-04T05:06:07.123456+02:00","extra":{"a":[1,2]}}`,
			`{"id":"2","name":42,"amount":"not a number","updated_at":"yesterday"}`,
		}
		src := &genSource{streams: []genStream{{name: "t", n: len(rows), data: func(i int) string { return rows[i] }}}, stateEvery: 1}
		res, err := load(t, w, o, src, airbyte.Append)
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Stream("t"); r.ValuesNulled != 2 || len(r.ColumnsAdded) != 1 || r.ColumnsAdded[0] != "extra" {
			t.Fatalf("result %+v", r)
		}
		d := w.Dialect()
		q := "SELECT * FROM " + d.QuoteRelation(warehouse.Rel(schema, "t")) + " ORDER BY " + d.QuoteIdentifier("id")
		var got []map[string]any
		for rec, err := range w.Rows(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]any{}
			for i, c := range rec.Columns {
				m[c.Name] = rec.Values[i]
			}
			got = append(got, m)
		}
		if len(got) != 2 {
			t.Fatalf("%d rows", len(got))
		}
		if got[0]["updated_at"] == nil || got[0]["amount"] != 1.25 || string(got[0]["extra"].(json.RawMessage)) == "" {
			t.Fatalf("row 1 = %v", got[0])
		}
		if got[1]["id"] != int64(2) || got[1]["name"] != "42" || got[1]["amount"] != nil || got[1]["updated_at"] != nil {
			t.Fatalf("row 2 = %v", got[1])
		}
		meta := string(got[1]["_airbyte_meta"].(json.RawMessage))
		for _, field := range []string{"amount", "updated_at"} {
			if !strings.Contains(strings.ReplaceAll(meta, " ", ""), `{"field":"`+field+`","change":"NULLED","reason":"DESTINATION_TYPECAST_ERROR"}`) {
				t.Fatalf("meta %s lacks the change for %s", meta, field)
			}
		}
	})
}

func TestBadInput(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		ctx := context.Background()
		o := opts(schema)
		cases := []struct {
			name string
			data func(int) string
			mode airbyte.DestinationSyncMode
			want string
		}{
			{"not an object", func(int) string { return `[1,2]` }, airbyte.Append, "not a JSON object"},
			{"null primary key", func(int) string { return `{"id":null,"name":"x"}` }, airbyte.AppendDedup, "no value for its primary key"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				src := &genSource{streams: []genStream{{name: "bad", n: 1, data: tc.data}}, stateEvery: 1}
				_, err := load(t, w, o, src, tc.mode)
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad") {
					t.Fatalf("err = %v, want %q naming stream bad", err, tc.want)
				}
			})
		}
		// A record for a stream that is not in the catalog.
		src := &genSource{streams: []genStream{{name: "known", n: 1}}, stateEvery: 1}
		cat := src.catalog(airbyte.Append)
		other := &genSource{streams: []genStream{{name: "stranger", n: 1}}, stateEvery: 1, rogue: true}
		rs, _ := other.Read(ctx, nil, cat, nil)
		_, err := staging.NewLoader(w, o).Load(ctx, cat, rs)
		if err == nil || !strings.Contains(err.Error(), "stranger") {
			t.Fatalf("unknown stream: %v", err)
		}
		// A foreign table where the state table should be.
		o3 := o
		o3.StateSchema = schema + "_foreign"
		t.Cleanup(func() { _ = w.DropSchema(context.Background(), o3.StateSchema, true) })
		if err := w.CreateSchema(ctx, o3.StateSchema); err != nil {
			t.Fatal(err)
		}
		if err := w.CreateTable(ctx, warehouse.Rel(o3.StateSchema, "sync_state"), []warehouse.Column{{Name: "x", Type: warehouse.Integer}}, nil); err != nil {
			t.Fatal(err)
		}
		_, err = staging.NewLoader(w, o3).State(ctx)
		if !errors.Is(err, staging.ErrCorruptState) || !strings.Contains(err.Error(), "sync_state") {
			t.Fatalf("foreign state table: %v", err)
		}
	})
}
