package warehousetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

var hostileNames = []string{`a"b`, "select", "Mixed Case", "with space", "ünïcödé 表", "semi;colon --", "dot.name", "'single'", `back\slash`}

func testHostileIdentifiers(t *testing.T, f *fixture) {
	ctx := context.Background()
	// A hostile schema too, dropped at the end.
	schema := `S "` + randomName("x") + `" ü`
	if err := f.w.CreateSchema(ctx, schema); err != nil {
		t.Fatalf("create schema %q: %v", schema, err)
	}
	t.Cleanup(func() { _ = f.w.DropSchema(context.Background(), schema, true) })
	schemas, err := f.w.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(schemas, schema) {
		t.Errorf("Schemas() = %q, lacks %q", schemas, schema)
	}
	for _, name := range hostileNames {
		t.Run(name, func(t *testing.T) {
			rel := warehouse.Rel(schema, name)
			cols := []warehouse.Column{col(name, warehouse.String), col("v "+name, warehouse.Integer)}
			if err := f.w.CreateTable(ctx, rel, cols, nil); err != nil {
				t.Fatalf("create table %q: %v", name, err)
			}
			if n, err := f.w.Load(ctx, rel, []string{"v " + name, name}, rowsOf([]any{int64(7), name})); err != nil || n != 1 {
				t.Fatalf("load %q: n=%d err=%v", name, n, err)
			}
			got, err := f.w.Columns(ctx, rel)
			if err != nil {
				t.Fatalf("columns %q: %v", name, err)
			}
			if len(got) != 2 || got[0].Name != name || got[1].Name != "v "+name {
				t.Fatalf("columns of %q = %+v", name, got)
			}
			ri, err := f.w.Relation(ctx, rel)
			if err != nil || ri.Name != name || ri.Kind != warehouse.KindTable {
				t.Fatalf("relation %q = %+v, %v", name, ri, err)
			}
			d := f.w.Dialect()
			var s string
			var v int64
			if err := f.w.DB().QueryRowContext(ctx, "SELECT "+d.QuoteIdentifier(name)+", "+d.QuoteIdentifier("v "+name)+" FROM "+d.QuoteRelation(rel)).Scan(&s, &v); err != nil {
				t.Fatalf("select from %q: %v", name, err)
			}
			if s != name || v != 7 {
				t.Fatalf("read (%q, %d), want (%q, 7)", s, v, name)
			}
		})
	}
	rels, err := f.w.Relations(ctx, schema)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rels {
		names = append(names, r.Name)
	}
	for _, n := range hostileNames {
		if !slices.Contains(names, n) {
			t.Errorf("Relations(%q) = %q, lacks %q", schema, names, n)
		}
	}
	if f.w.Dialect().CaseSensitive() {
		// "Mixed Case" exists; "mixed case" is another relation.
		if _, err := f.w.Relation(ctx, warehouse.Rel(schema, "mixed case")); !errors.Is(err, warehouse.ErrNotFound) {
			t.Errorf("case-sensitive engine: relation %q found: %v", "mixed case", err)
		}
	}
}

func testOverlongIdentifier(t *testing.T, f *fixture) {
	ctx := context.Background()
	max := f.w.Dialect().MaxIdentifierLength()
	if max == 0 {
		long := strings.Repeat("l", 300)
		f.mustCreate(t, long, col(long, warehouse.Integer))
		cols, err := f.w.Columns(ctx, f.rel(long))
		if err != nil || cols[0].Name != long {
			t.Fatalf("300-byte names: %v %v", cols, err)
		}
		return
	}
	exact := strings.Repeat("e", max)
	f.mustCreate(t, exact, col(exact, warehouse.Integer))
	if ri, err := f.w.Relation(ctx, f.rel(exact)); err != nil || ri.Name != exact {
		t.Fatalf("name of %d bytes: %+v %v", max, ri, err)
	}
	// Multi-byte characters count in bytes.
	multi := strings.Repeat("é", max/2)
	f.mustCreate(t, multi, col("x", warehouse.Integer))
	over := strings.Repeat("o", max+1)
	err := f.w.CreateTable(ctx, f.rel(over), []warehouse.Column{col("x", warehouse.Integer)}, nil)
	expectKind(t, err, warehouse.ErrInvalidIdentifier, "bytes long")
	err = f.w.CreateTable(ctx, f.rel("t_long_col"), []warehouse.Column{col(over, warehouse.Integer)}, nil)
	expectKind(t, err, warehouse.ErrInvalidIdentifier, "column name")
	if _, err := f.w.Relation(ctx, f.rel(over[:max])); !errors.Is(err, warehouse.ErrNotFound) {
		t.Fatalf("a truncated table was created: %v", err)
	}
	// Replace builds under a scratch name: a name at the limit still works.
	if err := f.w.ReplaceTableAs(ctx, f.rel(exact), "SELECT 1 AS x"); err != nil {
		t.Fatalf("replace %d-byte name: %v", max, err)
	}
}

func testIntrospection(t *testing.T, f *fixture) {
	ctx := context.Background()
	cols := []warehouse.Column{
		{Name: "id", Type: warehouse.Integer, Nullable: false},
		{Name: "name", Type: warehouse.String, Nullable: true},
		{Name: "amount", Type: warehouse.DecimalType(12, 2), Nullable: true},
	}
	r := f.mustCreate(t, "t1", cols...)
	if _, err := f.w.Exec(ctx, "CREATE VIEW "+f.q("v1")+" AS SELECT "+f.id("id")+", "+f.id("amount")+" FROM "+f.q("t1")); err != nil {
		t.Fatal(err)
	}
	schemas, err := f.w.Schemas(ctx)
	if err != nil || !slices.Contains(schemas, f.schema) {
		t.Fatalf("Schemas() = %q, %v; want it to hold %q", schemas, err, f.schema)
	}
	for _, internal := range []string{"information_schema", "pg_catalog"} {
		if slices.Contains(schemas, internal) {
			t.Errorf("Schemas() lists internal schema %q", internal)
		}
	}
	rels, err := f.w.Relations(ctx, f.schema)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rels, func(a, b warehouse.RelationInfo) int { return strings.Compare(a.Name, b.Name) })
	want := []warehouse.RelationInfo{
		{Relation: warehouse.Relation{Schema: f.schema, Name: "t1"}, Kind: warehouse.KindTable},
		{Relation: warehouse.Relation{Schema: f.schema, Name: "v1"}, Kind: warehouse.KindView},
	}
	if len(rels) != 2 || rels[0].Name != "t1" || rels[0].Kind != want[0].Kind || rels[1].Name != "v1" || rels[1].Kind != want[1].Kind ||
		rels[0].Schema != f.schema || rels[1].Schema != f.schema {
		t.Fatalf("Relations(%s) = %+v, want %+v", f.schema, rels, want)
	}
	got, err := f.w.Columns(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Columns = %+v", got)
	}
	for i, c := range cols {
		if got[i].Name != c.Name || !got[i].Type.Equal(c.Type) || got[i].Nullable != c.Nullable {
			t.Errorf("column %d = %+v, want %+v", i, got[i], c)
		}
	}
	vcols, err := f.w.Columns(ctx, f.rel("v1"))
	if err != nil || len(vcols) != 2 || vcols[0].Name != "id" || !vcols[1].Type.Equal(warehouse.DecimalType(12, 2)) {
		t.Fatalf("view columns = %+v, %v", vcols, err)
	}
	missing := f.rel("no_such_table")
	_, err = f.w.Relation(ctx, missing)
	expectKind(t, err, warehouse.ErrNotFound, "no_such_table")
	_, err = f.w.Columns(ctx, missing)
	expectKind(t, err, warehouse.ErrNotFound, "no_such_table")
	rels, err = f.w.Relations(ctx, "no_such_schema_"+f.schema)
	if err != nil || len(rels) != 0 {
		t.Fatalf("relations of a missing schema = %v, %v; want none", rels, err)
	}
}

func testCreateErrors(t *testing.T, f *fixture) {
	ctx := context.Background()
	r := f.mustCreate(t, "dup", col("x", warehouse.Integer))
	err := f.w.CreateTable(ctx, r, []warehouse.Column{col("x", warehouse.Integer)}, nil)
	expectKind(t, err, warehouse.ErrAlreadyExists, "dup")
	if err := f.w.CreateTable(ctx, r, []warehouse.Column{col("y", warehouse.String)}, &warehouse.TableOptions{IfNotExists: true}); err != nil {
		t.Fatalf("IfNotExists on an existing table: %v", err)
	}
	if err := f.w.CreateSchema(ctx, f.schema); err != nil {
		t.Fatalf("create existing schema: %v", err)
	}
	err = f.w.CreateTable(ctx, warehouse.Rel("no_such_schema_"+f.schema, "t"), []warehouse.Column{col("x", warehouse.Integer)}, nil)
	expectKind(t, err, warehouse.ErrNotFound, "no_such_schema_")
	err = f.w.CreateTable(ctx, f.rel(""), []warehouse.Column{col("x", warehouse.Integer)}, nil)
	expectKind(t, err, warehouse.ErrInvalidIdentifier, "empty")
	err = f.w.CreateTable(ctx, f.rel("nul\x00name"), []warehouse.Column{col("x", warehouse.Integer)}, nil)
	expectKind(t, err, warehouse.ErrInvalidIdentifier, "NUL")
	// Primary keys are enforced.
	pk := f.rel("pk")
	if err := f.w.CreateTable(ctx, pk, []warehouse.Column{{Name: "id", Type: warehouse.Integer}, col("v", warehouse.String)}, &warehouse.TableOptions{PrimaryKey: []string{"id"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Load(ctx, pk, nil, rowsOf([]any{int64(1), "a"}, []any{int64(1), "b"})); err == nil {
		t.Fatalf("duplicate primary key loaded without error")
	}
	if n := f.count(t, "pk"); n != 0 {
		t.Fatalf("a failed load left %d rows", n)
	}
}

func testAlterAndDrop(t *testing.T, f *fixture) {
	ctx := context.Background()
	r := f.mustCreate(t, "alter_me", col("a", warehouse.Integer))
	if _, err := f.w.Load(ctx, r, nil, rowsOf([]any{int64(1)}, []any{int64(2)})); err != nil {
		t.Fatal(err)
	}
	if err := f.w.AddColumns(ctx, r, []warehouse.Column{col("b", warehouse.String), col("c", warehouse.TimestampTZ)}); err != nil {
		t.Fatalf("add columns: %v", err)
	}
	cols, err := f.w.Columns(ctx, r)
	if err != nil || len(cols) != 3 || cols[1].Name != "b" || !cols[2].Type.Equal(warehouse.TimestampTZ) || !cols[2].Nullable {
		t.Fatalf("after add columns: %+v %v", cols, err)
	}
	err = f.w.AddColumns(ctx, r, []warehouse.Column{col("a", warehouse.String)})
	expectKind(t, err, warehouse.ErrAlreadyExists, "alter_me")
	// Widening a column keeps its values.
	for _, ty := range []warehouse.Type{warehouse.DecimalType(38, 0), warehouse.Float, warehouse.String} {
		if err := f.w.AlterColumnType(ctx, r, "a", ty); err != nil {
			t.Fatalf("widen a to %s: %v", ty, err)
		}
		cols, err := f.w.Columns(ctx, r)
		if err != nil || !cols[0].Type.Equal(ty) {
			t.Fatalf("after widening to %s: %+v %v", ty, cols, err)
		}
	}
	var sum int64
	dbl, _ := f.w.Dialect().TypeSQL(warehouse.Float)
	if err := f.w.Get(ctx, &sum, "SELECT count(*) FROM "+f.q("alter_me")+" WHERE CAST("+f.id("a")+" AS "+dbl+") IN (1, 2)"); err != nil || sum != 2 {
		t.Fatalf("values after widening to string: %d matching, %v", sum, err)
	}
	err = f.w.AlterColumnType(ctx, r, "no_such_column", warehouse.String)
	expectKind(t, err, warehouse.ErrNotFound, "alter_me")
	if err := f.w.Rename(ctx, r, "renamed"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if _, err := f.w.Relation(ctx, r); !errors.Is(err, warehouse.ErrNotFound) {
		t.Fatalf("old name still there: %v", err)
	}
	if n := f.count(t, "renamed"); n != 2 {
		t.Fatalf("renamed table has %d rows, want 2", n)
	}
	err = f.w.Rename(ctx, f.rel("no_such"), "x")
	expectKind(t, err, warehouse.ErrNotFound, "no_such")
	if _, err := f.w.Exec(ctx, "CREATE VIEW "+f.q("v")+" AS SELECT * FROM "+f.q("renamed")); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Drop(ctx, f.rel("v")); err != nil {
		t.Fatalf("drop view: %v", err)
	}
	if err := f.w.Drop(ctx, f.rel("renamed")); err != nil {
		t.Fatalf("drop table: %v", err)
	}
	if err := f.w.Drop(ctx, f.rel("renamed")); err != nil {
		t.Fatalf("drop of a missing table: %v", err)
	}
	rels, _ := f.w.Relations(ctx, f.schema)
	if len(rels) != 0 {
		t.Fatalf("after drops: %+v", rels)
	}
}

// generation builds a table of 100 rows all carrying gen.
func generation(gen int) string {
	g := strconv.Itoa(gen)
	return "SELECT " + g + " AS gen, x AS v FROM generate_series(1, 100) AS s(x)"
}

func testAtomicReplace(t *testing.T, f *fixture) {
	ctx := context.Background()
	r := f.rel("swapped")
	if err := f.w.ReplaceTableAs(ctx, r, generation(0)); err != nil {
		t.Fatalf("first replace: %v", err)
	}
	query := "SELECT count(*), min(" + f.id("gen") + "), max(" + f.id("gen") + ") FROM " + f.q("swapped")
	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n, lo, hi int64
				if err := f.w.DB().QueryRowContext(ctx, query).Scan(&n, &lo, &hi); err != nil {
					errs <- err
					return
				}
				if n != 100 || lo != hi {
					errs <- errors.New("reader saw a partial table: count " + strconv.FormatInt(n, 10) + " generations " + strconv.FormatInt(lo, 10) + ".." + strconv.FormatInt(hi, 10))
					return
				}
				reads.Add(1)
			}
		}()
	}
	const swaps = 25
	var swapErr error
	for gen := 1; gen <= swaps && swapErr == nil; gen++ {
		swapErr = f.w.ReplaceTableAs(ctx, r, generation(gen))
		// Let the readers in between swaps.
		deadline := time.Now().Add(2 * time.Second)
		for start := reads.Load(); reads.Load() < start+2 && time.Now().Before(deadline) && len(errs) == 0; {
			time.Sleep(time.Millisecond)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	if swapErr != nil {
		t.Fatalf("replace: %v", swapErr)
	}
	for err := range errs {
		t.Fatalf("concurrent reader: %v", err)
	}
	if reads.Load() < swaps {
		t.Fatalf("readers completed only %d reads over %d swaps", reads.Load(), swaps)
	}
	var gen int64
	if err := f.w.Get(ctx, &gen, "SELECT max("+f.id("gen")+") FROM "+f.q("swapped")); err != nil || gen != swaps {
		t.Fatalf("final generation %d, %v; want %d", gen, err, swaps)
	}
	rels, _ := f.w.Relations(ctx, f.schema)
	if len(rels) != 1 {
		t.Fatalf("scratch relations left behind: %+v", rels)
	}
	// A failing query leaves the old table in place.
	if err := f.w.ReplaceTableAs(ctx, r, "SELECT no_such_column FROM "+f.q("swapped")); err == nil {
		t.Fatal("replace with a bad query: no error")
	} else if !strings.Contains(err.Error(), "swapped") {
		t.Fatalf("error %q does not name the relation", err)
	}
	if n := f.count(t, "swapped"); n != 100 {
		t.Fatalf("after a failed replace: %d rows, want 100", n)
	}
}

func testReplaceView(t *testing.T, f *fixture) {
	ctx := context.Background()
	r := f.rel("vt")
	if err := f.w.ReplaceViewAs(ctx, r, "SELECT 1 AS a"); err != nil {
		t.Fatalf("create view: %v", err)
	}
	// New column list, which CREATE OR REPLACE VIEW refuses on PostgreSQL.
	if err := f.w.ReplaceViewAs(ctx, r, "SELECT 'x' AS b, 2 AS c"); err != nil {
		t.Fatalf("replace view: %v", err)
	}
	cols, err := f.w.Columns(ctx, r)
	if err != nil || len(cols) != 2 || cols[0].Name != "b" {
		t.Fatalf("view columns after replace: %+v %v", cols, err)
	}
	// A view replaced by a table, and back.
	if err := f.w.ReplaceTableAs(ctx, r, generation(3)); err != nil {
		t.Fatalf("view -> table: %v", err)
	}
	if ri, err := f.w.Relation(ctx, r); err != nil || ri.Kind != warehouse.KindTable {
		t.Fatalf("after view -> table: %+v %v", ri, err)
	}
	if err := f.w.ReplaceViewAs(ctx, r, "SELECT 5 AS z"); err != nil {
		t.Fatalf("table -> view: %v", err)
	}
	if ri, err := f.w.Relation(ctx, r); err != nil || ri.Kind != warehouse.KindView {
		t.Fatalf("after table -> view: %+v %v", ri, err)
	}
	var z int64
	if err := f.w.Get(ctx, &z, "SELECT "+f.id("z")+" FROM "+f.q("vt")); err != nil || z != 5 {
		t.Fatalf("read view: %d %v", z, err)
	}
}

func testMerge(t *testing.T, f *fixture) {
	ctx := context.Background()
	cols := []warehouse.Column{col("id", warehouse.Integer), col("region", warehouse.String), col("v", warehouse.String)}
	target := f.mustCreate(t, "target", cols...)
	source := f.mustCreate(t, "source", cols...)
	if _, err := f.w.Load(ctx, target, nil, rowsOf(
		[]any{int64(1), "eu", "a"}, []any{int64(2), "eu", "b"}, []any{int64(3), "us", "c"}, []any{int64(2), "us", "b-us"})); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Load(ctx, source, nil, rowsOf([]any{int64(2), "eu", "B"}, []any{int64(4), "us", "D"})); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Merge(ctx, target, source, []string{"id", "region"}, nil); err != nil {
		t.Fatalf("merge: %v", err)
	}
	got := map[string]string{}
	for rec, err := range f.w.Rows(ctx, "SELECT "+f.id("id")+", "+f.id("region")+", "+f.id("v")+" FROM "+f.q("target")) {
		if err != nil {
			t.Fatal(err)
		}
		got[strconv.FormatInt(rec.Values[0].(int64), 10)+"/"+rec.Values[1].(string)] = rec.Values[2].(string)
	}
	want := map[string]string{"1/eu": "a", "2/eu": "B", "3/us": "c", "2/us": "b-us", "4/us": "D"}
	if len(got) != len(want) {
		t.Fatalf("after merge: %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("after merge: %v, want %v", got, want)
		}
	}
	err := f.w.Merge(ctx, target, f.rel("no_such_source"), []string{"id"}, nil)
	expectKind(t, err, warehouse.ErrNotFound, "no_such_source")
}
