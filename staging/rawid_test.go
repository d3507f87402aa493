package staging_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// rawIDNative returns the engine's type of a table's _airbyte_raw_id.
func rawIDNative(t *testing.T, w *warehouse.Warehouse, schema, table string) string {
	t.Helper()
	cols, err := w.Columns(context.Background(), warehouse.Rel(schema, table))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		if c.Name == staging.ColRawID {
			if c.Type.Kind != warehouse.KindString {
				t.Fatalf("%s.%s: _airbyte_raw_id is %s", schema, table, c.Type)
			}
			return strings.ToUpper(c.Type.Native)
		}
	}
	t.Fatalf("%s.%s has no _airbyte_raw_id", schema, table)
	return ""
}

// TestRawIDType: the direct layout makes new tables' raw ids UUID on
// DuckDB (text on PostgreSQL); the airbyte layout keeps Airbyte's VARCHAR;
// a table made with VARCHAR ids keeps them through append, append_dedup
// and overwrite loads of the direct layout; ids stay unique.
func TestRawIDType(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		isDuck := w.Dialect().Name() == "duckdb"
		uuid, text := "TEXT", "TEXT"
		if isDuck {
			uuid, text = "UUID", "VARCHAR"
		}
		distinct := func(table string) int64 {
			var n int64
			d := w.Dialect()
			if err := w.Get(context.Background(), &n, "SELECT count(DISTINCT "+d.QuoteIdentifier(staging.ColRawID)+") FROM "+d.QuoteRelation(warehouse.Rel(schema, table))); err != nil {
				t.Fatal(err)
			}
			return n
		}
		o := opts(schema)
		o.Connection = "fresh"
		if _, err := load(t, w, o, &genSource{streams: []genStream{{name: "fresh", n: 300}}, stateEvery: 50}, airbyte.Append); err != nil {
			t.Fatal(err)
		}
		if got := rawIDNative(t, w, schema, "fresh"); got != uuid {
			t.Fatalf("new direct table: raw id is %s, want %s", got, uuid)
		}
		if n := distinct("fresh"); n != 300 {
			t.Fatalf("new direct table: %d distinct raw ids, want 300", n)
		}

		// A table of the airbyte layout: VARCHAR ids.
		ao := opts(schema)
		ao.Layout, ao.RawSchema, ao.Connection = staging.LayoutAirbyte, schema+"_raw", "legacy"
		t.Cleanup(func() { _ = w.DropSchema(context.Background(), ao.RawSchema, true) })
		if _, err := load(t, w, ao, &genSource{streams: []genStream{{name: "legacy", n: 100}}, stateEvery: 50}, airbyte.Append); err != nil {
			t.Fatal(err)
		}
		if got := rawIDNative(t, w, schema, "legacy"); got != text {
			t.Fatalf("airbyte layout: raw id is %s, want %s", got, text)
		}
		if got := rawIDNative(t, w, ao.RawSchema, schema+"_raw__stream_legacy"); got != text {
			t.Fatalf("airbyte layout's raw table: raw id is %s, want %s", got, text)
		}
		// The direct layout writes on into it, in every mode.
		for i, tc := range []struct {
			mode airbyte.DestinationSyncMode
			n    int
			want int64
		}{
			{airbyte.Append, 200, 300},      // ids 0..199 added to 0..99
			{airbyte.AppendDedup, 250, 250}, // one row per id
			{airbyte.Overwrite, 120, 120},
		} {
			o := opts(schema)
			o.Connection = "direct" + string(rune('a'+i))
			if _, err := load(t, w, o, &genSource{streams: []genStream{{name: "legacy", n: tc.n}}, stateEvery: 40}, tc.mode); err != nil {
				t.Fatalf("%s into a VARCHAR-id table: %v", tc.mode, err)
			}
			if n := count(t, w, schema, "legacy", ""); n != tc.want {
				t.Fatalf("%s: %d rows, want %d", tc.mode, n, tc.want)
			}
			if n := distinct("legacy"); n != tc.want {
				t.Fatalf("%s: %d distinct raw ids, want %d", tc.mode, n, tc.want)
			}
			if got := rawIDNative(t, w, schema, "legacy"); got != text {
				t.Fatalf("%s: raw id became %s, want %s", tc.mode, got, text)
			}
		}
	})
}
