package materialize

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

// engine is one warehouse under test with a schema of its own.
type engine struct {
	name   string
	w      *warehouse.Warehouse
	schema string
}

func (e engine) rel(name string) warehouse.Relation { return warehouse.Rel(e.schema, name) }

// q quotes a relation of the test schema for SQL.
func (e engine) q(name string) string { return e.w.Dialect().QuoteRelation(e.rel(name)) }

// engines opens DuckDB (in memory) and PostgreSQL, each with a fresh schema
// dropped when the test ends.
func engines(t *testing.T) []engine {
	t.Helper()
	ctx := context.Background()
	var out []engine
	for _, name := range []string{"duckdb", "postgres"} {
		url := "duckdb:"
		if name == "postgres" {
			url = testenv.PostgresURL(t)
		}
		w, err := warehouse.Open(ctx, url)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		b := make([]byte, 4)
		rand.Read(b)
		schema := "materialize_" + hex.EncodeToString(b)
		if err := w.CreateSchema(ctx, schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			w.DropSchema(context.Background(), schema, true)
			w.DropSchema(context.Background(), schema+"_dbt_test__audit", true)
			w.Close()
		})
		out = append(out, engine{name: name, w: w, schema: schema})
	}
	return out
}

// each runs fn as a subtest per engine.
func each(t *testing.T, fn func(t *testing.T, e engine)) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) { fn(t, e) })
	}
}

// rows runs query and renders each row as "v1|v2|…" (NULL for nil).
func rows(t *testing.T, db DB, query string) []string {
	t.Helper()
	var out []string
	for rec, err := range db.Rows(context.Background(), query) {
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		parts := make([]string, len(rec.Values))
		for i, v := range rec.Values {
			parts[i] = renderValue(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func mustExec(t *testing.T, db DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// colTypes lists "name:type" of a relation's columns, lower case.
func colTypes(t *testing.T, db DB, rel warehouse.Relation) []string {
	t.Helper()
	cols, err := db.Columns(context.Background(), rel)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cols {
		out = append(out, c.Name+":"+strings.ToLower(c.Type.Native))
	}
	return out
}
