package staging_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

func TestAirbyteLayout(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		ctx := context.Background()
		o := opts(schema)
		o.Layout = staging.LayoutAirbyte
		o.RawSchema = schema + "_raw"
		t.Cleanup(func() { _ = w.DropSchema(context.Background(), o.RawSchema, true) })
		rawName := schema + "_raw__stream_users"
		for _, tc := range []struct {
			mode airbyte.DestinationSyncMode
			n    int
			raw  int64
		}{
			{airbyte.Append, 120, 120},
			{airbyte.Overwrite, 80, 80}, // an overwrite replaces the raw table too
		} {
			o.Connection = string(tc.mode)
			src := &genSource{streams: []genStream{{name: "users", n: tc.n}}, stateEvery: 25}
			if _, err := load(t, w, o, src, tc.mode); err != nil {
				t.Fatalf("%s: %v", tc.mode, err)
			}
			if n := count(t, w, schema, "users", ""); n != int64(tc.n) {
				t.Fatalf("%s: final table has %d rows, want %d", tc.mode, n, tc.n)
			}
			if n := count(t, w, o.RawSchema, rawName, ""); n != tc.raw {
				t.Fatalf("%s: raw table has %d rows, want %d", tc.mode, n, tc.raw)
			}
		}
		// The raw table holds the record as sent, keyed like the final table.
		d := w.Dialect()
		q := "SELECT r." + d.QuoteIdentifier("_airbyte_data") + " FROM " + d.QuoteRelation(warehouse.Rel(o.RawSchema, rawName)) + " r JOIN " +
			d.QuoteRelation(warehouse.Rel(schema, "users")) + " f ON f." + d.QuoteIdentifier("_airbyte_raw_id") + " = r." + d.QuoteIdentifier("_airbyte_raw_id") +
			" WHERE f." + d.QuoteIdentifier("id") + " = 7"
		n := 0
		for rec, err := range w.Rows(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			var got, want map[string]any
			_ = json.Unmarshal(rec.Values[0].(json.RawMessage), &got)
			_ = json.Unmarshal([]byte(defaultData(7)), &want)
			if got["name"] != want["name"] || got["id"] != want["id"] {
				t.Fatalf("raw data %v, want %v", got, want)
			}
			n++
		}
		if n != 1 {
			t.Fatalf("%d raw rows joined to final id 7, want 1", n)
		}
	})
}
