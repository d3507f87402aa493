package duckdb

import (
	"context"
	"strconv"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// TestChunkJSONType: dataops_load gives JSON columns DuckDB's JSON type,
// so the INSERT does not cast (and parse) their text again; the values land
// as JSON.
func TestChunkJSONType(t *testing.T) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if jsonType == nil || jsonType.Alias() != "JSON" {
		t.Fatalf("dataops_load's JSON type: %v", jsonType)
	}
	plan, ok := chunkPlan([]warehouse.Column{{Name: "j", Type: warehouse.Type{Kind: warehouse.KindJSON}}})
	if !ok || plan[0].info != jsonType {
		t.Fatalf("plan of a JSON column: %+v, %v", plan, ok)
	}
	if _, err := w.Exec(ctx, "CREATE TABLE t (j JSON)"); err != nil {
		t.Fatal(err)
	}
	rows := func(yield func([]any, error) bool) {
		for i := range 3000 {
			if !yield([]any{`{"a":[1,2],"i":` + strconv.Itoa(i) + `}`}, nil) {
				return
			}
		}
	}
	if _, err := w.Load(ctx, warehouse.Rel("main", "t"), []string{"j"}, rows); err != nil {
		t.Fatal(err)
	}
	var n, sum int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM t WHERE json_valid(j) AND json_type(j) = 'OBJECT'"); err != nil || n != 3000 {
		t.Fatalf("JSON objects: %d, %v", n, err)
	}
	if err := w.Get(ctx, &sum, "SELECT sum(CAST(j->>'i' AS BIGINT) + CAST(j->'a'->>1 AS BIGINT)) FROM t"); err != nil || sum != 2999*3000/2+2*3000 {
		t.Fatalf("sum: %d, %v", sum, err)
	}
	// Text that is not JSON is still refused.
	bad := func(yield func([]any, error) bool) { yield([]any{`{"a":`}, nil) }
	if _, err := w.Load(ctx, warehouse.Rel("main", "t"), []string{"j"}, bad); err == nil {
		t.Fatal("invalid JSON loaded")
	}
}
