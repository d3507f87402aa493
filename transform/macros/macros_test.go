package macros

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/transform/jinja"
	"github.com/dataopskit/dataops/transform/materialize"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

// namespace exposes a module's macros as attributes, as the dbt namespace
// object does; the module is filled in once rendered.
type namespace struct{ mod *jinja.Module }

func (n *namespace) GetAttr(name string) (any, bool) {
	if n.mod == nil {
		return nil, false
	}
	m, ok := n.mod.Macro(name)
	return m, ok
}

// adapterStub is the least of dbt's adapter object these macros need:
// dispatch resolves <engine>__name, then default__name, in the dbt namespace.
type adapterStub struct {
	engine string
	ns     *namespace
}

func (a *adapterStub) GetAttr(name string) (any, bool) {
	if name != "dispatch" {
		return nil, false
	}
	return jinja.Func(func(args []any, kwargs map[string]any) (any, error) {
		macro, _ := args[0].(string)
		for _, prefix := range []string{a.engine + "__", "default__"} {
			if m, ok := a.ns.GetAttr(prefix + macro); ok {
				return m, nil
			}
		}
		return nil, fmt.Errorf("no implementation of %s for %s", macro, a.engine)
	}), true
}

// configStub is config.get over fixed values.
type configStub map[string]any

func (c configStub) GetAttr(name string) (any, bool) {
	if name != "get" {
		return nil, false
	}
	return jinja.Func(func(args []any, _ map[string]any) (any, error) {
		v, ok := c[fmt.Sprint(args[0])]
		if !ok && len(args) > 1 {
			return args[1], nil
		}
		return v, nil
	}), true
}

type exceptionsStub struct{}

func (exceptionsStub) GetAttr(name string) (any, bool) {
	if name != "raise_compiler_error" {
		return nil, false
	}
	return jinja.Func(func(args []any, _ map[string]any) (any, error) {
		return nil, fmt.Errorf("compiler error: %v", args[0])
	}), true
}

// renderer renders expressions with the dbt namespace of one engine.
type renderer struct {
	env  *jinja.Environment
	vars map[string]any
}

// statementStub is dbt's statement call block, for the macros that query
// while compiling; the Go side runs the SQL and keeps the result for
// load_result.
const statementStub = `{% macro statement(name=None, fetch_result=False, auto_begin=True) -%}
  {%- do store_statement(name, caller()) -%}
{%- endmacro %}
`

func newRenderer(t *testing.T, engine string, storeFailures bool, w ...*warehouse.Warehouse) *renderer {
	t.Helper()
	ns := &namespace{}
	results := map[string]any{}
	vars := map[string]any{
		"adapter":    &adapterStub{engine: engine, ns: ns},
		"dbt":        ns,
		"exceptions": exceptionsStub{},
		"config":     configStub{"store_failures": storeFailures},
		"flags":      map[string]any{"STORE_FAILURES": false},
		"store_statement": jinja.Func(func(args []any, _ map[string]any) (any, error) {
			if len(w) == 0 {
				return nil, fmt.Errorf("no warehouse to run statement %v", args[0])
			}
			var data [][]any
			for rec, err := range w[0].Rows(context.Background(), fmt.Sprint(args[1])) {
				if err != nil {
					return nil, err
				}
				data = append(data, append([]any(nil), rec.Values...))
			}
			results[fmt.Sprint(args[0])] = map[string]any{"data": data}
			return nil, nil
		}),
		"load_result": jinja.Func(func(args []any, _ map[string]any) (any, error) {
			return results[fmt.Sprint(args[0])], nil
		}),
	}
	env := jinja.New(jinja.WithTag(jinja.Tag{
		Name:  "test",
		Macro: func(h jinja.TagHeader) (string, error) { return "test_" + h.Name, nil },
	}), jinja.WithGlobals(vars))
	var src strings.Builder
	src.WriteString(statementStub)
	for _, name := range Names() {
		src.WriteString(Files()[name])
		src.WriteString("\n")
	}
	tmpl, err := env.Compile("dbt", src.String())
	if err != nil {
		t.Fatal(err)
	}
	if ns.mod, err = tmpl.Module(context.Background(), vars); err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.mod.Names() {
		if m, ok := ns.mod.Macro(n); ok && !strings.Contains(n, "__") {
			vars[n] = m // the test blocks and macros are also globals, as in dbt
		}
	}
	return &renderer{env: env, vars: vars}
}

func (r *renderer) render(t *testing.T, expr string) string {
	t.Helper()
	tmpl, err := r.env.Compile("case", expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	out, err := tmpl.Render(context.Background(), r.vars)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return out
}

type engine struct {
	name string
	w    *warehouse.Warehouse
}

func engines(t *testing.T) []engine {
	t.Helper()
	var out []engine
	for _, name := range []string{"duckdb", "postgres"} {
		url := "duckdb:"
		if name == "postgres" {
			url = testenv.PostgresURL(t)
		}
		w, err := warehouse.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { w.Close() })
		out = append(out, engine{name, w})
	}
	return out
}

// value runs a query returning one value and renders it as text.
func value(t *testing.T, w *warehouse.Warehouse, q string) string {
	t.Helper()
	var out []string
	for rec, err := range w.Rows(context.Background(), q) {
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, fmt.Sprint(rec.Values[0]))
	}
	if len(out) != 1 {
		t.Fatalf("%s: %d rows", q, len(out))
	}
	return out[0]
}

const letters = "(select * from (values ('a'), ('b'), ('c')) as t(x)) v"

// TestMacroValues renders each macro for DuckDB and PostgreSQL and checks
// the value the SQL it produces computes on that engine.
func TestMacroValues(t *testing.T) {
	tests := []struct {
		name, query, want string
		only              string // engine, when the value is engine-specific
	}{
		{"dateadd day", `select cast({{ dbt.dateadd('day', 1, "cast('2024-01-31' as date)") }} as date) = date '2024-02-01'`, "true", ""},
		{"dateadd month", `select cast({{ dbt.dateadd('month', 1, "cast('2024-01-31' as date)") }} as date) = date '2024-02-29'`, "true", ""},
		{"dateadd negative hours", `select {{ dbt.dateadd('hour', -2, "cast('2024-01-01 01:00:00' as timestamp)") }} = timestamp '2023-12-31 23:00:00'`, "true", ""},
		{"datediff day", `select {{ dbt.datediff("cast('2024-01-01' as date)", "cast('2024-03-15' as date)", 'day') }}`, "74", ""},
		{"datediff month", `select {{ dbt.datediff("cast('2024-01-31' as date)", "cast('2024-03-01' as date)", 'month') }}`, "2", ""},
		{"datediff year", `select {{ dbt.datediff("cast('2023-12-31' as date)", "cast('2024-01-01' as date)", 'year') }}`, "1", ""},
		{"datediff quarter", `select {{ dbt.datediff("cast('2023-11-30' as date)", "cast('2024-04-01' as date)", 'quarter') }}`, "2", ""},
		{"datediff week", `select {{ dbt.datediff("cast('2024-01-01' as date)", "cast('2024-01-15' as date)", 'week') }}`, "2", ""},
		{"datediff hour", `select {{ dbt.datediff("cast('2024-01-01 10:00:00' as timestamp)", "cast('2024-01-02 09:30:00' as timestamp)", 'hour') }}`, "23", ""},
		{"datediff minute", `select {{ dbt.datediff("cast('2024-01-01 10:00:00' as timestamp)", "cast('2024-01-01 10:42:10' as timestamp)", 'minute') }}`, "42", ""},
		{"date_trunc", `select cast({{ dbt.date_trunc('month', "cast('2024-02-17' as date)") }} as date) = date '2024-02-01'`, "true", ""},
		{"last_day month", `select {{ dbt.last_day("cast('2024-02-10' as date)", 'month') }} = date '2024-02-29'`, "true", ""},
		{"last_day quarter", `select {{ dbt.last_day("cast('2024-02-10' as date)", 'quarter') }} = date '2024-03-31'`, "true", ""},
		{"last_day year", `select {{ dbt.last_day("cast('2024-02-10' as date)", 'year') }} = date '2024-12-31'`, "true", ""},
		{"date", `select {{ dbt.date(2024, 2, 9) }} = date '2024-02-09'`, "true", ""},
		{"current_timestamp", `select {{ dbt.current_timestamp() }} is not null`, "true", ""},
		{"snapshot_get_time", `select {{ dbt.snapshot_get_time() }} <= {{ dbt.current_timestamp() }}::timestamp`, "true", ""},
		{"hash is md5", `select {{ dbt.hash("'abc'") }}`, "900150983cd24fb0d6963f7d28e17f72", ""},
		{"concat", `select {{ dbt.concat(["'a'", "'b'", "'c'"]) }}`, "abc", ""},
		{"split_part", `select {{ dbt.split_part("'a,b,c'", "','", 2) }}`, "b", ""},
		{"split_part negative", `select {{ dbt.split_part("'a,b,c'", "','", -1) }}`, "c", ""},
		{"listagg", `select {{ dbt.listagg('x', "'|'", "order by x") }} from ` + letters, "a|b|c", ""},
		{"listagg order and limit", `select {{ dbt.listagg('x', "'|'", "order by x desc", 2) }} from ` + letters, "c|b", ""},
		{"any_value", `select {{ dbt.any_value('x') }} from ` + letters + ` where x = 'b'`, "b", ""},
		{"bool_or", `select {{ dbt.bool_or("x = 'c'") }} from ` + letters, "true", ""},
		{"safe_cast", `select {{ dbt.safe_cast("'12'", dbt.type_int()) }}`, "12", ""},
		{"safe_cast bad value", `select {{ dbt.safe_cast("'x'", dbt.type_int()) }} is null`, "true", "duckdb"},
		{"cast", `select {{ dbt.cast("'2024-01-02'", 'date') }} = date '2024-01-02'`, "true", ""},
		{"cast_bool_to_text", `select {{ dbt.cast_bool_to_text('1 = 1') }}`, "true", ""},
		{"escape_single_quotes", `select '{{ dbt.escape_single_quotes("o'hara") }}'`, "o'hara", ""},
		{"string_literal", `select {{ dbt.string_literal('abc') }}`, "abc", ""},
		{"length", `select {{ dbt.length("'abcd'") }}`, "4", ""},
		{"position", `select {{ dbt.position("'c'", "'abcd'") }}`, "3", ""},
		{"replace", `select {{ dbt.replace("'aXbX'", "'X'", "'-'") }}`, "a-b-", ""},
		{"right", `select {{ dbt.right("'abcdef'", 2) }}`, "ef", ""},
		{"type_string", `select cast(12 as {{ dbt.type_string() }})`, "12", ""},
		{"type_bigint", `select cast('9000000000' as {{ dbt.type_bigint() }})`, "9000000000", ""},
		{"type_numeric", `select cast(1.5 as {{ dbt.type_numeric() }})`, "1.500000", ""},
		{"type_boolean", `select cast('true' as {{ dbt.type_boolean() }})`, "true", ""},
		{"type_timestamp", `select cast('2024-01-02 03:04:05' as {{ dbt.type_timestamp() }}) = timestamp '2024-01-02 03:04:05'`, "true", ""},
		{"type_float", `select cast('0.5' as {{ dbt.type_float() }})`, "0.5", ""},
		{"generate_series", `select count(*) || '|' || sum(generated_number) from ({{ dbt.generate_series(5) }}) s`, "5|15", ""},
		{"portable generate_series", `select count(*) || '|' || cast(max(generated_number) as integer) from ({{ dbt.default__generate_series(10) }}) s`, "10|10", ""},
		{"date_spine days", `select count(*) || '|' || cast(min(date_day) as date) || '|' || cast(max(date_day) as date) from ({{ dbt.date_spine('day', "cast('2024-01-30' as date)", "cast('2024-02-02' as date)") }}) s`, "3|2024-01-30|2024-02-01", ""},
		{"date_spine months", `select count(*) from ({{ dbt.date_spine('month', "cast('2024-01-01' as date)", "cast('2024-12-01' as date)") }}) s`, "11", ""},
		{"arrays", `select array_to_string({{ dbt.array_concat(dbt.array_append(dbt.array_construct([1, 2]), 3), dbt.array_construct([4])) }}, ',')`, "1,2,3,4", ""},
		{"empty array", `select coalesce(array_to_string({{ dbt.array_construct([], 'integer') }}, ','), '') = ''`, "true", ""},
		{"except", `select count(*) from (select x from (values (1), (2)) as a(x) {{ dbt.except() }} select 2) q`, "1", ""},
		{"intersect", `select count(*) from (select x from (values (1), (2)) as a(x) {{ dbt.intersect() }} select 2) q`, "1", ""},
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			r := newRenderer(t, e.name, false, e.w)
			for _, tc := range tests {
				if tc.only != "" && tc.only != e.name {
					continue
				}
				q := r.render(t, tc.query)
				got := value(t, e.w, q)
				if fmt.Sprint(got) != tc.want {
					t.Errorf("%s: %s gave %s, want %s", tc.name, q, got, tc.want)
				}
			}
		})
	}
}

func TestDispatchPicksEngine(t *testing.T) {
	for engine, want := range map[string]string{
		"duckdb":    "try_cast(x as int)",
		"postgres":  "cast(x as int)",
		"snowflake": "cast(x as int)",
	} {
		r := newRenderer(t, engine, false)
		if got := strings.TrimSpace(r.render(t, `{{ dbt.safe_cast('x', 'int') }}`)); got != want {
			t.Errorf("%s: %q, want %q", engine, got, want)
		}
	}
	r := newRenderer(t, "postgres", false)
	tmpl, _ := r.env.Compile("bad", `{{ dbt.datediff('a', 'b', 'fortnight') }}`)
	if _, err := tmpl.Render(context.Background(), r.vars); err == nil || !strings.Contains(err.Error(), "fortnight") {
		t.Errorf("unsupported datepart: %v", err)
	}
}

// TestGenericTestMacros renders the generic test blocks and checks that
// they find the same failing rows as the Go implementation in package
// materialize.
func TestGenericTestMacros(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			schema := "macros_" + strings.ReplaceAll(t.Name(), "/", "_")
			schema = strings.ToLower(schema)
			d := e.w.Dialect()
			e.w.DropSchema(ctx, schema, true)
			if err := e.w.CreateSchema(ctx, schema); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.w.DropSchema(context.Background(), schema, true) })
			m := d.QuoteRelation(warehouse.Rel(schema, "m"))
			p := d.QuoteRelation(warehouse.Rel(schema, "p"))
			for _, q := range []string{
				"create table " + m + " (id integer, s text, a text, b text)",
				"insert into " + m + " values (1, 'x', 'a', '1'), (1, 'y', 'a', '2'), (2, null, 'a', '1'), (3, 'it''s', 'b', '1')",
				"create table " + p + " (id integer)",
				"insert into " + p + " values (1), (2)",
			} {
				if _, err := e.w.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			cases := []struct {
				jinja string
				gen   materialize.GenericTest
				want  int64
			}{
				{`{{ test_unique(model=m, column_name='id') }}`, materialize.GenericTest{Name: "unique", ColumnName: "id"}, 1},
				{`{{ test_unique(model=m, column_name="concat(a, '_', b)") }}`, materialize.GenericTest{Name: "unique", ColumnName: "concat(a, '_', b)"}, 1},
				{`{{ test_not_null(model=m, column_name='s') }}`, materialize.GenericTest{Name: "not_null", ColumnName: "s"}, 1},
				{`{{ test_accepted_values(model=m, column_name='s', values=['x', 'y']) }}`, materialize.GenericTest{Name: "accepted_values", ColumnName: "s", Values: []any{"x", "y"}}, 1},
				{`{{ test_accepted_values(model=m, column_name='id', values=[1, 2], quote=false) }}`, materialize.GenericTest{Name: "accepted_values", ColumnName: "id", Values: []any{1, 2}, Quote: new(bool)}, 1},
				{`{{ test_relationships(model=m, column_name='id', to=p, field='id') }}`, materialize.GenericTest{Name: "relationships", ColumnName: "id", To: p, Field: "id"}, 1},
			}
			r := newRenderer(t, e.name, false)
			r.vars["m"], r.vars["p"] = m, p
			for _, c := range cases {
				q := r.render(t, c.jinja)
				fromMacro, err := materialize.RunTest(ctx, e.w, c.jinja, q, materialize.TestConfig{})
				if err != nil {
					t.Fatalf("%s: %v\n%s", c.jinja, err, q)
				}
				c.gen.Model = m
				goSQL, err := c.gen.SQL(false)
				if err != nil {
					t.Fatal(err)
				}
				fromGo, err := materialize.RunTest(ctx, e.w, c.jinja, goSQL, materialize.TestConfig{})
				if err != nil {
					t.Fatal(err)
				}
				if fromMacro.Failures != c.want || fromGo.Failures != c.want {
					t.Errorf("%s: macro %d failures, Go %d, want %d\n%s", c.jinja, fromMacro.Failures, fromGo.Failures, c.want, q)
				}
			}
			// With stored failures, not_null keeps every column.
			r = newRenderer(t, e.name, true)
			r.vars["m"] = m
			if q := r.render(t, `{{ test_not_null(model=m, column_name='s') }}`); !strings.Contains(q, "select *") {
				t.Errorf("not_null storing failures: %s", q)
			}
		})
	}
}

func TestFiles(t *testing.T) {
	files := Files()
	if len(files) != len(Names()) || len(files) < 5 {
		t.Fatalf("files: %v", Names())
	}
	for _, want := range []string{"default__dateadd", "postgres__datediff", "duckdb__listagg", "test unique"} {
		found := false
		for _, src := range files {
			found = found || strings.Contains(src, want)
		}
		if !found {
			t.Errorf("no file defines %s", want)
		}
	}
}
