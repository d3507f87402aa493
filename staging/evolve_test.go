package staging_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

func TestSchemaEvolution(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		ctx := context.Background()
		o := opts(schema)
		steps := 0
		step := func(xType, value string) (*staging.Result, error) {
			steps++ // a connection per step: each reads its one record from the start
			o.Connection = "step" + string(rune('0'+steps))
			src := &genSource{streams: []genStream{{name: "evo", n: 1,
				schema: `{"type":"object","properties":{"id":{"type":"integer"},"x":` + xType + `}}`,
				data:   func(int) string { return `{"id":1,"x":` + value + `}` }}}, stateEvery: 1}
			return load(t, w, o, src, airbyte.Append)
		}
		xType := func() warehouse.Type {
			cols, err := w.Columns(ctx, warehouse.Rel(schema, "evo"))
			if err != nil {
				t.Fatal(err)
			}
			return cols[1].Type
		}
		if _, err := step(`{"type":"integer"}`, `7`); err != nil {
			t.Fatal(err)
		}
		// integer → number widens to float, keeping the old value.
		res, err := step(`{"type":"number"}`, `2.5`)
		if err != nil {
			t.Fatal(err)
		}
		if got := xType(); !got.Equal(warehouse.Float) || len(res.Stream("evo").ColumnsWidened) != 1 {
			t.Fatalf("after number: x is %s, widened %v", got, res.Stream("evo").ColumnsWidened)
		}
		// A narrower schema does not narrow the column.
		if _, err := step(`{"type":"integer"}`, `3`); err != nil {
			t.Fatal(err)
		}
		if got := xType(); !got.Equal(warehouse.Float) {
			t.Fatalf("after integer again: x is %s", got)
		}
		// Policy fail: an error naming stream, column and both types.
		o.SchemaPolicy = staging.Fail
		_, err = step(`{"type":"string"}`, `"text"`)
		if err == nil || !strings.Contains(err.Error(), "evo") || !strings.Contains(err.Error(), `"x"`) || !strings.Contains(err.Error(), "float") || !strings.Contains(err.Error(), "string") {
			t.Fatalf("policy fail: %v", err)
		}
		o.SchemaPolicy = staging.Widen
		if _, err := step(`{"type":"string"}`, `"text"`); err != nil {
			t.Fatal(err)
		}
		if got := xType(); !got.Equal(warehouse.String) {
			t.Fatalf("after string: x is %s", got)
		}
		var n int64
		d := w.Dialect()
		if err := w.Get(ctx, &n, "SELECT count(*) FROM "+d.QuoteRelation(warehouse.Rel(schema, "evo"))+" WHERE "+d.QuoteIdentifier("x")+" IS NOT NULL"); err != nil || n != 4 {
			t.Fatalf("%d non-null values of x after widening, want 4 (%v)", n, err)
		}
	})
}
