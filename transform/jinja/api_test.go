package jinja

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func mustCompile(t *testing.T, env *Environment, name, src string) *Template {
	t.Helper()
	tmpl, err := env.Compile(name, src)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return tmpl
}

func render(t *testing.T, tmpl *Template, vars map[string]any) string {
	t.Helper()
	out, err := tmpl.Render(context.Background(), vars)
	if err != nil {
		t.Fatalf("render %s: %v", tmpl.Name(), err)
	}
	return out
}

func TestConcurrentRender(t *testing.T) {
	env := New()
	tmpl := mustCompile(t, env, "c.sql", `{% set acc = [] %}{% for i in range(n) %}{% do acc.append(i * k) %}{% endfor %}{{ name }}:{{ acc|sum }}`)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				n := g + i
				out, err := tmpl.Render(context.Background(), map[string]any{"n": n, "k": g, "name": fmt.Sprint("g", g)})
				want := fmt.Sprintf("g%d:%d", g, g*n*(n-1)/2)
				if err != nil || out != want {
					errs <- fmt.Errorf("goroutine %d: got %q, %v; want %q", g, out, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGoFunctions(t *testing.T) {
	var gotKw map[string]any
	env := New(WithGlobals(map[string]any{
		"config": Func(func(args []any, kwargs map[string]any) (any, error) {
			gotKw = kwargs
			return "", nil
		}),
		"add":  func(a, b int) int { return a + b },
		"join": func(sep string, parts ...string) string { return strings.Join(parts, sep) },
		"fail": Func(func(args []any, kwargs map[string]any) (any, error) { return nil, errBoom }),
		"env_var": ContextFunc(func(ctx context.Context, args []any, kwargs map[string]any) (any, error) {
			return "v:" + args[0].(string), ctx.Err()
		}),
		"cols": Func(func(args []any, kwargs map[string]any) (any, error) {
			return []map[string]any{{"name": "id"}, {"name": "x"}}, nil
		}),
	}))
	out := render(t, mustCompile(t, env, "f", `{{ config(materialized='table', tags=['a'], n=3) }}{{ add(2, 40) }} {{ join('-', 'a', 'b') }} {{ env_var('HOME') }} {{ cols()|map(attribute='name')|join(',') }}`), nil)
	if out != "42 a-b v:HOME id,x" {
		t.Errorf("output %q", out)
	}
	if gotKw["materialized"] != "table" || gotKw["n"] != int64(3) || fmt.Sprint(gotKw["tags"]) != "[a]" {
		t.Errorf("kwargs %#v", gotKw)
	}
	_, err := mustCompile(t, env, "boom.sql", "line1\n  {{ fail() }}").Render(context.Background(), nil)
	if !errors.Is(err, errBoom) {
		t.Fatalf("error %v does not wrap the host error", err)
	}
	var je *Error
	if !errors.As(err, &je) || je.Template != "boom.sql" || je.Line != 2 || je.Col != 6 {
		t.Errorf("error position %+v", je)
	}
}

var errBoom = errors.New("boom")

func TestErrorPositions(t *testing.T) {
	env := New()
	for _, tc := range []struct {
		src        string
		kind       ErrorKind
		line, col  int
		compileErr bool
	}{
		{"a\nb {{ x.y }}", ErrUndefined, 2, 6, false},
		{"a\n\n  {% if %}", ErrSyntax, 3, 9, true},
		{"{% for i in [1] %}\n{{ 1 / 0 }}{% endfor %}", ErrZeroDivision, 2, 4, false},
		{"{{ 'a' ~ 1 }}\n{{ 'a' + 1 }}", ErrType, 2, 4, false},
		{"{% macro m() %}\n\n{{ none.x.y }}{% endmacro %}{{ m() }}", ErrUndefined, 3, 4, false},
		{"x {{ 'x'|nosuch }}", ErrTemplateAssertion, 1, 10, true},
	} {
		tmpl, err := env.Compile("t.sql", tc.src)
		if err == nil {
			if tc.compileErr {
				t.Errorf("%q: compiled", tc.src)
				continue
			}
			_, err = tmpl.Render(context.Background(), nil)
		} else if !tc.compileErr {
			t.Errorf("%q: compile error %v", tc.src, err)
			continue
		}
		var je *Error
		if !errors.As(err, &je) {
			t.Errorf("%q: %v is not an *Error", tc.src, err)
			continue
		}
		if je.Kind != tc.kind || je.Template != "t.sql" || je.Line != tc.line || je.Col != tc.col {
			t.Errorf("%q: got %s %s:%d:%d, want %s t.sql:%d:%d", tc.src, je.Kind, je.Template, je.Line, je.Col, tc.kind, tc.line, tc.col)
		}
	}
}

func TestCallMacro(t *testing.T) {
	env := New()
	tmpl := mustCompile(t, env, "m.sql", `{% macro greet(who, punct='!') %}hi {{ who }}{{ punct }}{% endmacro %}`+
		`{% macro cols(rel) %}{{ return({'rel': rel, 'n': kwargs.n}) }}{% endmacro %}`)
	v, err := tmpl.CallMacro(context.Background(), "greet", nil, []any{"bob"}, map[string]any{"punct": "?"})
	if err != nil || v != "hi bob?" {
		t.Errorf("greet: %v, %v", v, err)
	}
	v, err = tmpl.CallMacro(context.Background(), "cols", nil, []any{"orders"}, map[string]any{"n": 2})
	m, ok := v.(map[string]any)
	if err != nil || !ok || m["rel"] != "orders" || m["n"] != int64(2) {
		t.Errorf("cols: %#v, %v", v, err)
	}
	if _, err := tmpl.CallMacro(context.Background(), "nope", nil, nil, nil); err == nil {
		t.Error("calling a missing macro succeeded")
	}
	if got := strings.Join(tmpl.Macros(), ","); got != "greet,cols" {
		t.Errorf("Macros() = %s", got)
	}
}

func TestRenderTag(t *testing.T) {
	var header TagHeader
	env := New(WithTag(Tag{Name: "snapshot", Render: func(ctx context.Context, b *TagBlock) (string, error) {
		header = b.Header
		body, err := b.Render()
		return "[" + strings.TrimSpace(body) + "]", err
	}}))
	out := render(t, mustCompile(t, env, "s.sql", `{% snapshot orders_snap %}select * from {{ src }}{% endsnapshot %}`), map[string]any{"src": "raw.orders"})
	if out != "[select * from raw.orders]" || header.Name != "orders_snap" {
		t.Errorf("out %q header %+v", out, header)
	}
	if _, err := env.Compile("bad", `{% snapshot x %}never closed`); err == nil {
		t.Error("unterminated host tag compiled")
	}
}

func TestLoaderErrors(t *testing.T) {
	env := New(WithLoader(MapLoader{"a.sql": "A{% include 'b.sql' %}", "b.sql": "B{{ x }}"}))
	tmpl, err := env.GetTemplate(context.Background(), "a.sql")
	if err != nil {
		t.Fatal(err)
	}
	if out := render(t, tmpl, map[string]any{"x": 1}); out != "AB1" {
		t.Errorf("include: %q", out)
	}
	var buf strings.Builder
	if err := tmpl.RenderTo(context.Background(), &buf, map[string]any{"x": 2}); err != nil || buf.String() != "AB2" {
		t.Errorf("RenderTo: %q, %v", buf.String(), err)
	}
	if again, _ := env.GetTemplate(context.Background(), "a.sql"); again != tmpl {
		t.Error("GetTemplate compiled a cached template again")
	}
	_, err = env.GetTemplate(context.Background(), "zzz.sql")
	if !errors.Is(err, ErrTemplateNotFound) {
		t.Errorf("missing template: %v", err)
	}
	_, err = mustCompile(t, env, "i", "{% include 'zzz.sql' %}").Render(context.Background(), nil)
	if !errors.Is(err, ErrTemplateNotFound) {
		t.Errorf("missing include: %v", err)
	}
}

func TestLimits(t *testing.T) {
	env := New(WithMaxDepth(50), WithMaxSteps(10000), WithMaxOutput(1000))
	cases := map[string]string{
		"recursion": `{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}`,
		"steps":     `{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}`,
		"output":    `{% for i in range(1000) %}xxxxxxxxxx{% endfor %}`,
		"repeat":    `{{ 'x' * 10 ** 12 }}`,
		"power":     `{{ 2 ** 100000000 }}`,
		"range":     `{{ range(10 ** 6)|length }}`,
		"range64":   `{{ range(-9223372036854775807, 9223372036854775807)|length }}`,
		"repeat64":  `{{ 'ab' * 9223372036854775807 }}`,
		"width":     `{{ '%*d' % (1000000000, 1) }}`,
		"precision": `{{ '{:.999999999f}'.format(1.0) }}`,
		"lipsum":    `{{ lipsum(100000, false, 1, 100000) }}`,
		"cycle":     `{% set a = [] %}{% set b = [] %}{% do a.append(a) %}{% do b.append(b) %}{{ a < b }}`,
	}
	for name, src := range cases {
		_, err := mustCompile(t, env, name, src).Render(context.Background(), nil)
		if err == nil {
			t.Errorf("%s: rendered without error", name)
		}
	}
	// self-referencing lists compare and render without exhausting the stack
	out := render(t, mustCompile(t, New(), "self", `{% set a = [] %}{% set b = [] %}{% do a.append(a) %}{% do b.append(b) %}{{ a == b }} {{ (a|string)[:6] }}`), nil)
	if out != "False [[...]" {
		t.Errorf("self-referencing lists: %q", out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustCompile(t, New(), "c", `{% for i in range(100000) %}{% endfor %}`).Render(ctx, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled render: %v", err)
	}
}

type relation struct{ db, schema, name string }

func (r relation) GetAttr(name string) (any, bool) {
	switch name {
	case "database":
		return r.db, true
	case "schema":
		return r.schema, true
	case "identifier":
		return r.name, true
	}
	return nil, false
}

func TestHostValues(t *testing.T) {
	type col struct {
		Name string `json:"name"`
		Type string
		skip int
	}
	env := New(
		WithFilter("quote", func(v any, args []any, kw map[string]any) (any, error) { return `"` + fmt.Sprint(v) + `"`, nil }),
		WithTest("relation", func(v any, args []any) (bool, error) { _, ok := v.(relation); return ok, nil }),
	)
	cols := []any{"a"}
	tmpl := mustCompile(t, env, "h", `{{ rel.database }}.{{ rel.schema }}.{{ rel.identifier|quote }} {{ rel is relation }} {{ c.name }}:{{ c.Type }} {{ c.skip is defined }} {% do cols.append('b') %}{{ cols }} {{ n + 1 }} {{ u }}`)
	out := render(t, tmpl, map[string]any{"rel": relation{"db", "s", "t"}, "c": col{Name: "id", Type: "int"}, "cols": cols, "n": uint8(41), "u": nil})
	if out != `db.s."t" True id:int False ['a', 'b'] 42 None` {
		t.Errorf("output %q", out)
	}
	if len(cols) != 1 {
		t.Errorf("the caller's slice changed: %v", cols)
	}
}

// A project's macros, rendered once as a module, are passed to other
// templates and called from Go, as a dbt runner does with adapter.dispatch.
func TestModuleMacros(t *testing.T) {
	env := New()
	lib := mustCompile(t, env, "macros/utils.sql", `{% set sep = ' || ' %}`+
		`{% macro default__concat(fields) %}concat({{ fields|join(', ') }}){% endmacro %}`+
		`{% macro duckdb__concat(fields) %}{{ fields|join(sep) }}{% endmacro %}`+
		`{% macro columns() %}{{ return(['a', 'b']) }}{% endmacro %}`)
	mod, err := lib.Module(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(mod.Names(), ","); got != "columns,default__concat,duckdb__concat,sep" {
		t.Errorf("names %s", got)
	}
	dispatch := Func(func(args []any, kwargs map[string]any) (any, error) {
		if m, ok := mod.Macro(kwargs["adapter"].(string) + "__" + args[0].(string)); ok {
			return m, nil
		}
		m, _ := mod.Macro("default__" + args[0].(string))
		return m, nil
	})
	model := mustCompile(t, env, "models/m.sql", `select {{ dispatch('concat', adapter=a)(columns()) }}`)
	for adapter, want := range map[string]string{"duckdb": "select a || b", "postgres": "select concat(a, b)"} {
		cols, _ := mod.Macro("columns")
		out := render(t, model, map[string]any{"dispatch": dispatch, "a": adapter, "columns": cols})
		if out != want {
			t.Errorf("%s: %q, want %q", adapter, out, want)
		}
	}
	m, _ := mod.Macro("duckdb__concat")
	v, err := m.Call(context.Background(), env, []any{[]string{"x", "y"}}, nil)
	if err != nil || v != "x || y" {
		t.Errorf("Call: %v, %v", v, err)
	}
	if v, ok := mod.Get("sep"); !ok || v != " || " {
		t.Errorf("Get(sep) = %v", v)
	}
}

// Values that contain themselves (twice, so naive recursion would be
// exponential) print, compare, serialise and convert as Python bounds them.
func TestSelfReference(t *testing.T) {
	src := `{% set a = [] %}{% do a.append(a) %}{% do a.append(a) %}{% set d = {} %}{% do d.update({'me': d, 'l': a}) %}` +
		`{{ a }} {{ d }} {{ a == a }} {{ a|pprint }} {{ [a]|string|length }}`
	out := render(t, mustCompile(t, New(), "self", src), nil)
	if out != "[[...], [...]] {'me': {...}, 'l': [[...], [...]]} True [[...], [...]] 16" {
		t.Errorf("output %q", out)
	}
	_, err := mustCompile(t, New(), "json", `{% set a = [] %}{% do a.append(a) %}{{ a|tojson }}`).Render(context.Background(), nil)
	var je *Error
	if !errors.As(err, &je) || je.Kind != ErrValue {
		t.Errorf("tojson of a cycle: %v", err)
	}
	var got any
	env := New(WithGlobals(map[string]any{"keep": Func(func(args []any, kw map[string]any) (any, error) { got = args[0]; return "", nil })}))
	render(t, mustCompile(t, env, "go", `{% set a = [1] %}{% do a.append(a) %}{% do a.append(a) %}{{ keep(a) }}`), nil)
	if l, ok := got.([]any); !ok || len(l) != 3 || l[1] != nil {
		t.Errorf("ToGo of a cycle: %#v", got)
	}
	b := []any{}
	cmp := mustCompile(t, New(), "cmp", `{% set a = [] %}{% set b = [] %}{% for i in range(2) %}{% do a.append(a) %}{% do b.append(b) %}{% endfor %}{{ a == b }}`)
	if out, err := cmp.Render(context.Background(), map[string]any{"b": b}); err != nil || out != "False" {
		t.Errorf("comparing cycles: %q %v", out, err)
	}
}

// RenderNative gives dbt's YAML-value semantics: a single dynamic
// expression keeps its type, constants and mixed output are text, and the
// as_* markers convert.
func TestRenderNative(t *testing.T) {
	env := New()
	vars := map[string]any{"n": 3, "flag": true, "cols": []string{"a"}}
	for src, want := range map[string]any{
		"{{ n }}":                      int64(3),
		"{{ flag }}":                   true,
		"{{ cols }}":                   []any{"a"},
		"{{ 1 }}":                      "1",
		"{{ n }} rows":                 "3 rows",
		"{{ '42'|as_number }}":         int64(42),
		"{{ 'False'|as_bool }}":        false,
		"{{ \"['x', 1]\"|as_native }}": []any{"x", int64(1)},
		"{{ '0123'|as_text }}":         "0123",
		"":                             "",
	} {
		got, err := mustCompile(t, env, "v.yml", src).RenderNative(context.Background(), vars)
		if err != nil || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Errorf("%q: got %#v, %v; want %#v", src, got, err, want)
		}
	}
	if _, err := mustCompile(t, env, "v.yml", "{{ 'yes'|as_bool }}").RenderNative(context.Background(), nil); err == nil {
		t.Error("as_bool of 'yes' succeeded")
	}
	// in text mode the markers are identities
	if out := render(t, mustCompile(t, env, "t.sql", "{{ '42'|as_number + '1' }}"), nil); out != "421" {
		t.Errorf("text mode as_number: %q", out)
	}
}

type callableCfg struct{ got map[string]any }

func (c *callableCfg) GetAttr(name string) (any, bool) {
	if name == "get" {
		return Func(func(args []any, _ map[string]any) (any, error) { return c.got[args[0].(string)], nil }), true
	}
	return nil, false
}

func (c *callableCfg) Call(_ context.Context, _ []any, kwargs map[string]any) (any, error) {
	for k, v := range kwargs {
		c.got[k] = v
	}
	return "", nil
}

func TestCallableObject(t *testing.T) {
	env := New()
	tmpl := mustCompile(t, env, "m.sql", "{{ config(materialized='table') }}{{ config.get('materialized') }}|{{ config is callable }}")
	cfg := &callableCfg{got: map[string]any{}}
	if got := render(t, tmpl, map[string]any{"config": cfg}); got != "table|True" {
		t.Fatalf("got %q", got)
	}
}

type nodeKey struct{}

// TestContextLookup: a macro defined once sees the name of the render that
// calls it, through the context, as dbt's macros see the current node.
func TestContextLookup(t *testing.T) {
	env := New(WithContextLookup(func(ctx context.Context, name string) (any, bool) {
		if name == "this" {
			v, ok := ctx.Value(nodeKey{}).(string)
			return v, ok
		}
		return nil, false
	}))
	lib := mustCompile(t, env, "lib.sql", "{% macro me() %}[{{ this }}]{% endmacro %}")
	mod, err := lib.Module(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	me, _ := mod.Macro("me")
	tmpl := mustCompile(t, env, "m.sql", "{{ me() }}{{ this }}{{ missing is defined }}")
	for _, node := range []string{"a", "b"} {
		ctx := context.WithValue(context.Background(), nodeKey{}, node)
		got, err := tmpl.Render(ctx, map[string]any{"me": me})
		if err != nil {
			t.Fatal(err)
		}
		if want := "[" + node + "]" + node + "False"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
