package materialize

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

func TestViewAndTable(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		mustExec(t, e.w, "CREATE TABLE "+e.q("src")+" (id integer, v text)",
			"INSERT INTO "+e.q("src")+" VALUES (1, 'a'), (2, 'b'), (3, 'c')")
		tests := []struct {
			name     string
			run      func() (Response, error)
			kind     warehouse.RelationKind
			rows     []string
			wantCode string
		}{
			{"view", func() (Response, error) {
				return View(ctx, e.w, e.rel("m"), "select id, v from "+e.q("src")+" where id > 1", ViewConfig{})
			}, warehouse.KindView, []string{"2|b", "3|c"}, map[string]string{"duckdb": "OK", "postgres": "CREATE VIEW"}[e.name]},
			{"table replaces view", func() (Response, error) {
				return Table(ctx, e.w, e.rel("m"), "select id, v from "+e.q("src"), TableConfig{})
			}, warehouse.KindTable, []string{"1|a", "2|b", "3|c"}, map[string]string{"duckdb": "OK", "postgres": "SELECT 3"}[e.name]},
			{"table replaces table", func() (Response, error) {
				return Table(ctx, e.w, e.rel("m"), "select id * 10 as id from "+e.q("src")+" where id = 1", TableConfig{})
			}, warehouse.KindTable, []string{"10"}, map[string]string{"duckdb": "OK", "postgres": "SELECT 1"}[e.name]},
			{"view replaces table", func() (Response, error) {
				return View(ctx, e.w, e.rel("m"), "select 'x' as s", ViewConfig{})
			}, warehouse.KindView, []string{"x"}, map[string]string{"duckdb": "OK", "postgres": "CREATE VIEW"}[e.name]},
		}
		for _, tc := range tests {
			res, err := tc.run()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if res.Code != tc.wantCode {
				t.Errorf("%s: code %q, want %q", tc.name, res.Code, tc.wantCode)
			}
			ri, err := e.w.Relation(ctx, e.rel("m"))
			if err != nil || ri.Kind != tc.kind {
				t.Fatalf("%s: relation %v %v, want %s", tc.name, ri, err, tc.kind)
			}
			eq(t, tc.name, rows(t, e.w, "select * from "+e.q("m")+" order by 1"), tc.rows)
			rels, _ := e.w.Relations(ctx, e.schema)
			for _, r := range rels {
				if strings.Contains(r.Name, "__dbt") {
					t.Errorf("%s: scratch relation %s left behind", tc.name, r.Name)
				}
			}
		}
	})
}

func TestTableFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		if _, err := Table(ctx, e.w, e.rel("m"), "select 1 as id", TableConfig{}); err != nil {
			t.Fatal(err)
		}
		_, err := Table(ctx, e.w, e.rel("m"), "select id from no_such_table_xyz", TableConfig{})
		var me *Error
		if !errors.As(err, &me) || me.Op != "table" || !strings.Contains(err.Error(), e.schema+".m") {
			t.Fatalf("error %v does not name the model", err)
		}
		eq(t, "old table kept", rows(t, e.w, "select * from "+e.q("m")), []string{"1"})
		// A failing post-hook rolls the new table back too.
		_, err = Table(ctx, e.w, e.rel("m"), "select 2 as id", TableConfig{Hooks: Hooks{Post: []Hook{{SQL: "select * from no_such_table_xyz"}}}})
		if err == nil || !strings.Contains(err.Error(), "post-hook 1") {
			t.Fatalf("post-hook error = %v", err)
		}
		eq(t, "old table kept after hook failure", rows(t, e.w, "select * from "+e.q("m")), []string{"1"})
	})
}

func TestHooksOrder(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		log := e.q("log")
		mustExec(t, e.w, "CREATE TABLE "+log+" (step integer, what text)")
		ins := func(step int, what string) string {
			return "insert into " + log + " values (" + string(rune('0'+step)) + ", '" + what + "')"
		}
		hooks := Hooks{
			Pre:  []Hook{{SQL: ins(1, "pre-outside"), OutsideTransaction: true}, {SQL: ins(2, "pre-inside")}},
			Post: []Hook{{SQL: ins(4, "post-outside"), OutsideTransaction: true}, {SQL: "insert into " + log + " select 3, 'post sees ' || count(*) from " + e.q("m")}},
		}
		if _, err := Table(ctx, e.w, e.rel("m"), "select 1 as id union all select 2", TableConfig{Hooks: hooks}); err != nil {
			t.Fatal(err)
		}
		eq(t, "hook log", rows(t, e.w, "select step, what from "+log+" order by step"),
			[]string{"1|pre-outside", "2|pre-inside", "3|post sees 2", "4|post-outside"})
		if err := RunHooks(ctx, e.w, "on-run-end", []string{"", ins(5, "end")}); err != nil {
			t.Fatal(err)
		}
		if err := RunHooks(ctx, e.w, "on-run-end", []string{"select nonsense from nowhere_xyz"}); err == nil || !strings.Contains(err.Error(), "on-run-end 1 of 1") {
			t.Fatalf("RunHooks error = %v", err)
		}
		eq(t, "count", rows(t, e.w, "select count(*) from "+log), []string{"5"})
	})
}

func TestConcurrentModelsCreateTheirSchema(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		schema := e.schema + "_new"
		t.Cleanup(func() { e.w.DropSchema(context.Background(), schema, true) })
		errs := make(chan error, 6)
		for i := range 6 {
			go func() {
				_, err := Table(ctx, e.w, warehouse.Rel(schema, "t"+string(rune('a'+i))), "select 1 as x", TableConfig{})
				errs <- err
			}()
		}
		for range 6 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		rels, _ := e.w.Relations(ctx, schema)
		if len(rels) != 6 {
			t.Errorf("%d relations", len(rels))
		}
	})
}

func TestTableInCallersTransaction(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		if _, err := View(ctx, e.w, e.rel("m"), "select 1 as x", ViewConfig{}); err != nil {
			t.Fatal(err)
		}
		tx, err := e.w.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Table(ctx, tx, e.rel("m"), "select 2 as x", TableConfig{}); err != nil {
			t.Fatal(err)
		}
		if _, err := Table(ctx, tx, e.rel("n"), "select x + 1 as x from "+e.q("m"), TableConfig{}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		ri, err := e.w.Relation(ctx, e.rel("m"))
		if err != nil || ri.Kind != warehouse.KindTable {
			t.Fatalf("m is %v %v", ri, err)
		}
		eq(t, "rows", rows(t, e.w, "select x from "+e.q("n")), []string{"3"})
	})
}

func TestTableReadsItsOldSelf(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		if _, err := Table(ctx, e.w, e.rel("m"), "select 1 as x", TableConfig{}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := Table(ctx, e.w, e.rel("m"), "select x + 1 as x from "+e.q("m"), TableConfig{}); err != nil {
				t.Fatal(err)
			}
		}
		eq(t, "rows", rows(t, e.w, "select x from "+e.q("m")), []string{"3"})
	})
}

// A view on a table model: rebuilding the table keeps the view on DuckDB
// (which binds views when queried) and drops it on PostgreSQL, as
// dbt-postgres's drop … cascade does; the view's own model rebuilds it.
func TestTableWithDependentView(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		if _, err := Table(ctx, e.w, e.rel("base"), "select 1 as x", TableConfig{}); err != nil {
			t.Fatal(err)
		}
		if _, err := View(ctx, e.w, e.rel("on_base"), "select x from "+e.q("base"), ViewConfig{}); err != nil {
			t.Fatal(err)
		}
		if _, err := Table(ctx, e.w, e.rel("base"), "select 2 as x", TableConfig{}); err != nil {
			t.Fatal(err)
		}
		_, err := e.w.Relation(ctx, e.rel("on_base"))
		if kept := err == nil; kept != (e.name == "duckdb") {
			t.Errorf("dependent view kept = %v", kept)
		}
		if _, err := View(ctx, e.w, e.rel("on_base"), "select x from "+e.q("base"), ViewConfig{}); err != nil {
			t.Fatal(err)
		}
		eq(t, "view", rows(t, e.w, "select x from "+e.q("on_base")), []string{"2"})
	})
}
