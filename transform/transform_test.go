package transform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/artifacts/artifactstest"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

// envMap is an env lookup over a map, so tests never touch the process
// environment.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// copyDir copies a fixture project to a temporary directory, so runs write
// target/ there.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, r), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, r), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeProject writes files (path → content) into a new directory; a
// profiles.yml with an in-directory DuckDB target is added unless given.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["profiles.yml"]; !ok {
		files["profiles.yml"] = "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: db.duckdb\n      threads: 2\n"
	}
	if _, ok := files["dbt_project.yml"]; !ok {
		files["dbt_project.yml"] = "name: proj\nprofile: p\n"
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// openProject loads the project in dir (with its own profiles.yml) and
// opens its warehouse, closed when the test ends.
func openProject(t testing.TB, dir string) (*Project, *warehouse.Warehouse) {
	t.Helper()
	p, err := Load(context.Background(), dir, WithProfilesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.OpenWarehouse(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return p, w
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type shopTarget struct {
	name   string
	env    map[string]string
	schema string
}

func duckTarget(t *testing.T) shopTarget {
	return shopTarget{name: "duckdb", env: map[string]string{"SHOP_DUCKDB_PATH": filepath.Join(t.TempDir(), "shop.duckdb")}, schema: "main"}
}

func pgTarget(t *testing.T) shopTarget {
	raw := testenv.PostgresURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	schema := "transform_shop_" + randomSuffix()
	pass, _ := u.User.Password()
	env := map[string]string{
		"SHOP_PG_HOST": u.Hostname(), "SHOP_PG_PORT": u.Port(), "SHOP_PG_USER": u.User.Username(),
		"SHOP_PG_PASSWORD": pass, "SHOP_PG_DBNAME": strings.TrimPrefix(u.Path, "/"), "SHOP_PG_SCHEMA": schema,
	}
	if env["SHOP_PG_PORT"] == "" {
		env["SHOP_PG_PORT"] = "5432"
	}
	t.Cleanup(func() {
		w, err := warehouse.Open(context.Background(), raw)
		if err != nil {
			return
		}
		defer w.Close()
		for _, s := range []string{schema, schema + "_marts", schema + "_dbt_test__audit"} {
			_ = w.DropSchema(context.Background(), s, true)
		}
	})
	return shopTarget{name: "postgres", env: env, schema: schema}
}

func loadShop(t *testing.T, tg shopTarget, opts ...Option) (*Project, *warehouse.Warehouse) {
	t.Helper()
	dir := copyDir(t, "testdata/shop")
	ctx := context.Background()
	opts = append([]Option{WithProfilesDir(dir), WithTarget(tg.name), WithEnv(envMap(tg.env))}, opts...)
	p, err := Load(ctx, dir, opts...)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	w, err := p.OpenWarehouse(ctx)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return p, w
}

func TestLoadShop(t *testing.T) {
	p, _ := loadShop(t, duckTarget(t))
	if p.Name != "shop" || p.Target.Type != "duckdb" || p.Target.Schema != "main" {
		t.Fatalf("project %q target %+v", p.Name, p.Target)
	}
	want := map[string]struct{ mat, schema string }{
		"model.shop.stg_customers":        {"view", "main"},
		"model.shop.stg_orders":           {"ephemeral", "main"},
		"model.shop.stg_completed_orders": {"ephemeral", "main"},
		"model.shop.dim_customers":        {"table", "main_marts"},
		"model.shop.fct_orders":           {"incremental", "main_marts"},
		"model.util.util_numbers":         {"view", "main"},
		"seed.shop.raw_orders":            {"seed", "main"},
	}
	for id, w := range want {
		n := p.Nodes[id]
		if n == nil {
			t.Fatalf("no node %s; have %v", id, keys(p.Nodes))
		}
		if n.Config.Materialized != w.mat || n.Schema != w.schema {
			t.Errorf("%s: materialized %q schema %q, want %q %q", id, n.Config.Materialized, n.Schema, w.mat, w.schema)
		}
	}
	dim := p.Nodes["model.shop.dim_customers"]
	if got := strings.Join(dim.DependsOn, ","); got != "model.shop.stg_completed_orders,model.shop.stg_customers" {
		t.Errorf("dim_customers depends on %s", got)
	}
	if got := strings.Join(dim.Tags, ","); got != "shop" {
		t.Errorf("dim_customers tags %q", got)
	}
	fct := p.Nodes["model.shop.fct_orders"]
	if got := strings.Join(fct.Tags, ","); got != "shop,facts" {
		t.Errorf("fct_orders tags %q", got)
	}
	if fct.Config.UniqueKey[0] != "order_id" || asMap(fct.Config.Raw["meta"])["owner"] != "sales" {
		t.Errorf("fct_orders config %+v", fct.Config.Raw)
	}
	if src := p.Sources["source.shop.raw.customers"]; src == nil || src.Schema != "main" || src.Identifier != "src_customers" {
		t.Errorf("source %+v", src)
	}
	if d := p.Docs["doc.shop.order_status"]; d == nil || !strings.Contains(d.Contents, "placed") {
		t.Errorf("doc %+v", d)
	}
	for _, c := range fct.Columns {
		if c.Name == "status" && c.Description != "One of placed, completed, returned." {
			t.Errorf("status description %q: doc() not rendered", c.Description)
		}
	}
	if e := p.Exposures["exposure.shop.revenue_dashboard"]; e == nil || strings.Join(e.DependsOn, ",") != "model.shop.dim_customers,model.shop.fct_orders" {
		t.Errorf("exposure %+v", e)
	}
	var tests []string
	for _, n := range p.NodesOf(ResourceTest) {
		tests = append(tests, n.Name)
	}
	for _, name := range []string{
		"unique_dim_customers_customer_id", "not_null_dim_customers_customer_id",
		"accepted_values_dim_customers_country__NO__SE__DK",
		"relationships_fct_orders_customer_id__customer_id__ref_dim_customers_",
		"unique_fct_orders_order_id_customer_id", "assert_revenue_matches",
		"source_unique_raw_customers_id", "no_nulls_here_fct_orders_customer_id", "unique_raw_orders_id",
	} {
		if !containsStr(tests, name) && !containsPrefix(tests, strings.TrimPrefix(name, "source_")) {
			t.Errorf("no test %s among %v", name, tests)
		}
	}
	warned := strings.Join(p.Warnings, "\n")
	if !strings.Contains(warned, `unknown config key "frobnicate"`) || strings.Count(warned, "frobnicate") != 1 {
		t.Errorf("warnings: %q", warned)
	}
}

func containsPrefix(ss []string, p string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, p) || strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBuildShopDuckDB(t *testing.T) { testBuildShop(t, duckTarget(t)) }

func TestBuildShopPostgres(t *testing.T) { testBuildShop(t, pgTarget(t)) }

func testBuildShop(t *testing.T, tg shopTarget) {
	ctx := context.Background()
	p, w := loadShop(t, tg)
	var mu sync.Mutex
	var starts, dones, skips int
	res, err := p.Run(ctx, w, RunOptions{Command: CommandBuild, OnEvent: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case EventNodeStart:
			starts++
		case EventNodeDone:
			dones++
			if e.Result.Status == StatusSkipped {
				skips++
			}
		}
	}})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	for _, r := range res.Results {
		ok := r.Status == StatusSuccess || r.Status == StatusPass
		if !ok {
			t.Errorf("%s: %s %s", r.UniqueID, r.Status, r.Message)
		}
	}
	if starts+skips != len(res.Results) || dones != len(res.Results) {
		t.Errorf("events: %d starts, %d dones for %d results", starts, dones, len(res.Results))
	}
	s := tg.schema
	var n int
	if err := w.Get(ctx, &n, "select count(*) from "+s+"_marts.dim_customers"); err != nil || n != 4 {
		t.Fatalf("dim_customers: %d rows, %v", n, err)
	}
	var revenue string
	if err := w.Get(ctx, &revenue, "select cast(sum(revenue) as varchar) from "+s+"_marts.dim_customers where country = 'NO'"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(revenue, "24.5") { // 12.50 + 5.00 + 7.00
		t.Errorf("revenue of NO customers = %s, want 24.50", revenue)
	}
	if err := w.Get(ctx, &n, "select count(*) from "+s+"_marts.fct_orders"); err != nil || n != 5 {
		t.Fatalf("fct_orders: %d rows, %v", n, err)
	}
	// Cross-database macros of the dbt namespace (date_trunc, concat,
	// safe_cast, type_string) rendered for the engine.
	var months int
	var code string
	if err := w.Get(ctx, &months, "select count(distinct order_month) from "+s+"_marts.fct_orders"); err != nil || months != 3 {
		t.Errorf("order months %d, %v", months, err)
	}
	if err := w.Get(ctx, &code, "select order_code from "+s+"_marts.fct_orders where order_id = 12"); err != nil || code != "o-12" {
		t.Errorf("order_code %q, %v", code, err)
	}
	var greeting string
	if err := w.Get(ctx, &greeting, "select greeting from "+s+".util_numbers"); err != nil || greeting != "hello from root" {
		t.Errorf("util_numbers greeting %q, %v", greeting, err)
	}
	// Hooks: on-run-start made the table, the post-hook and on-run-end wrote.
	if err := w.Get(ctx, &n, "select count(*) from "+s+".run_audit where event = 'post' and model = 'dim_customers'"); err != nil || n != 1 {
		t.Errorf("post-hook rows %d, %v", n, err)
	}
	if err := w.Get(ctx, &n, "select count(*) from "+s+".run_audit where event = 'end'"); err != nil || n != 1 {
		t.Errorf("on-run-end rows %d, %v", n, err)
	}
	// Ephemeral models were injected as nested CTEs.
	b, err := os.ReadFile(filepath.Join(p.Dir, "target/compiled/shop/models/marts/dim_customers.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if c := string(b); !strings.Contains(c, "__dbt__cte__stg_completed_orders as (") || !strings.Contains(c, "__dbt__cte__stg_orders as (") {
		t.Errorf("compiled dim_customers lacks the ephemeral CTEs:\n%s", c)
	}
	// A second run is incremental: a new raw order arrives, only it is added.
	if _, err := w.Exec(ctx, "insert into "+s+".raw_orders values (15, 4, 4000, 'completed', '2024-04-01')"); err != nil {
		t.Fatal(err)
	}
	res, err = p.Run(ctx, w, RunOptions{Command: CommandRun, Select: []string{"fct_orders"}})
	if err != nil || len(res.Results) != 1 || res.Results[0].Status != StatusSuccess {
		t.Fatalf("incremental run: %v %+v", err, res)
	}
	if err := w.Get(ctx, &n, "select count(*) from "+s+"_marts.fct_orders"); err != nil || n != 6 {
		t.Fatalf("fct_orders after the incremental run: %d rows, %v", n, err)
	}
	// Stored failures of the accepted_values test: none.
	if err := w.Get(ctx, &n, "select count(*) from "+s+"_dbt_test__audit.\"accepted_values_dim_customers_country__NO__SE__DK\""); err != nil || n != 0 {
		t.Errorf("stored failures: %d rows, %v", n, err)
	}
	// The snapshot recorded 4 customers; a change of country closes one
	// version and opens another.
	if err := w.Get(ctx, &n, "select count(*) from "+s+".customers_snapshot"); err != nil || n != 4 {
		t.Fatalf("snapshot: %d rows, %v", n, err)
	}
	if _, err := w.Exec(ctx, "update "+s+".src_customers set country = 'DK' where id = 2"); err != nil {
		t.Fatal(err)
	}
	res, err = p.Run(ctx, w, RunOptions{Command: CommandSnapshot})
	if err != nil || len(res.Results) != 1 || res.Results[0].Status != StatusSuccess {
		t.Fatalf("snapshot run: %v %+v", err, res.Results)
	}
	if err := w.Get(ctx, &n, "select count(*) from "+s+".customers_snapshot where customer_id = 2 and dbt_valid_to is not null"); err != nil || n != 1 {
		t.Errorf("closed versions of customer 2: %d, %v", n, err)
	}
	// The source test ran against the seeded table through the source.
	res, err = p.Run(ctx, w, RunOptions{Command: CommandTest, Select: []string{"source:raw"}})
	if err != nil || len(res.Results) != 2 {
		t.Fatalf("source tests: %v, %d results", err, len(res.Results))
	}
}

// TestFailingTestSkipsDownstream: in build, a failing test of a model skips
// the models built on it; FailFast skips everything after the first failure.
func TestFailingTestSkipsDownstream(t *testing.T) {
	files := map[string]string{
		"models/a.sql":      "select 1 as id union all select 1",
		"models/b.sql":      "select * from {{ ref('a') }}",
		"models/c.sql":      "select * from {{ ref('b') }}",
		"models/other.sql":  "select 2 as id",
		"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests: [unique]\n",
	}
	ctx := context.Background()
	dir := writeProject(t, files)
	p, w := openProject(t, dir)
	res, err := p.Run(ctx, w, RunOptions{Command: CommandBuild, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, r := range res.Results {
		got[r.Node.Name] = r.Status
	}
	want := map[string]Status{"a": StatusSuccess, "unique_a_id": StatusFail, "b": StatusSkipped, "c": StatusSkipped, "other": StatusSuccess}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s (all: %v)", k, got[k], v, got)
		}
	}
	if !res.Failed() {
		t.Error("Failed() = false")
	}
	for _, r := range res.Results {
		if r.Node.Name == "unique_a_id" && (r.Failures == nil || *r.Failures != 1 || !strings.Contains(r.Message, "Got 1 result, configured to fail if != 0")) {
			t.Errorf("test result %+v", r)
		}
	}
	// Fail fast: 'a' is built, its test fails, the rest are skipped.
	res, err = p.Run(ctx, w, RunOptions{Command: CommandBuild, Threads: 1, FailFast: true, Exclude: []string{"other"}})
	if err != nil {
		t.Fatal(err)
	}
	counts := res.Counts()
	if counts[StatusFail] != 1 || counts[StatusSkipped] != 2 {
		t.Errorf("fail-fast counts %v", counts)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
		is    error
	}{
		{"missing ref", map[string]string{
			"models/orders.sql":    "select 1 as id",
			"models/customers.sql": "select 1 as id\n-- line 2\nfrom {{ ref('order') }}",
		}, []string{"models/customers.sql:3", `ref("order")`, `did you mean "orders"`}, ErrMissingRef},
		{"missing source", map[string]string{
			"models/src.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n",
			"models/m.sql":   "select * from {{ source('raw', 'order') }}",
		}, []string{"models/m.sql:1", `did you mean "raw.orders"`}, ErrMissingRef},
		{"cycle", map[string]string{
			"models/a.sql": "select * from {{ ref('c') }}",
			"models/b.sql": "select * from {{ ref('a') }}",
			"models/c.sql": "select * from {{ ref('b') }}",
		}, []string{"model.proj.a → model.proj.b → model.proj.c → model.proj.a"}, ErrCycle},
		{"duplicate names", map[string]string{
			"models/x/dup.sql": "select 1",
			"models/y/dup.sql": "select 2",
		}, []string{"models/x/dup.sql", "models/y/dup.sql", `"dup"`}, nil},
		{"yaml syntax", map[string]string{
			"models/m.sql":      "select 1",
			"models/schema.yml": "version: 2\nmodels:\n  - name: m\n    columns: [a\n  - b: }\n",
		}, []string{"models/schema.yml:"}, nil},
		{"jinja syntax", map[string]string{
			"models/m.sql": "select 1\n{% if %}\n",
		}, []string{"models/m.sql:2:"}, nil},
		{"snowflake", map[string]string{
			"profiles.yml": "p:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: a\n",
		}, []string{"snowflake", "not supported yet"}, ErrNotSupported},
		{"hub package not vendored", map[string]string{
			"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n",
		}, []string{"dbt-labs/dbt_utils is not installed", "vendor"}, nil},
		{"unknown target", map[string]string{
			"profiles.yml": "p:\n  target: nope\n  outputs:\n    dev:\n      type: duckdb\n",
		}, []string{`no target "nope"`, "dev"}, nil},
		{"no project", map[string]string{"dbt_project.yml": "profile: p\n"}, []string{"no name"}, nil},
		{"error inside a macro", map[string]string{
			"macros/bad.sql": "{% macro bad() %}\n{{ 1 // 0 }}\n{% endmacro %}",
			"models/m.sql":   "select {{ bad() }}",
		}, []string{"macros/bad.sql:2", "ZeroDivisionError"}, nil},
		{"raise_compiler_error", map[string]string{
			"models/m.sql": "{{ exceptions.raise_compiler_error('bad input here') }}",
		}, []string{"bad input here"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, c.files)
			_, err := Load(context.Background(), dir, WithProfilesDir(dir))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if strings.Contains(err.Error(), "goroutine ") {
				t.Errorf("stack trace in %q", err)
			}
		})
	}
}

func TestYAMLErrorPosition(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"models/m.sql":      "select 1",
		"models/schema.yml": "version: 2\nmodels:\n  - name: m\n    description: \"unterminated\n",
	})
	_, err := Load(context.Background(), dir, WithProfilesDir(dir))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LoadError", err)
	}
	if le.File != "models/schema.yml" || le.Line == 0 || le.Col == 0 {
		t.Errorf("LoadError %+v", le)
	}
}

// TestSQLErrorNamesModel: a model whose SQL fails names the model and its
// compiled SQL file, and what depends on it is skipped.
func TestSQLErrorNamesModel(t *testing.T) {
	ctx := context.Background()
	dir := writeProject(t, map[string]string{
		"models/broken.sql": "select no_such_column from (select 1 as x) t",
		"models/after.sql":  "select * from {{ ref('broken') }}",
	})
	p, w := openProject(t, dir)
	res, err := p.Run(ctx, w, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var broken, after NodeResult
	for _, r := range res.Results {
		switch r.Node.Name {
		case "broken":
			broken = r
		case "after":
			after = r
		}
	}
	if broken.Status != StatusError || !strings.Contains(broken.Message, "model broken") || !strings.Contains(broken.Message, filepath.Join("target", "compiled", "proj", "models", "broken.sql")) {
		t.Errorf("broken: %s %q", broken.Status, broken.Message)
	}
	if after.Status != StatusSkipped {
		t.Errorf("after: %s", after.Status)
	}
	// The failure changed nothing: no relation named broken exists.
	if _, err := w.Relation(ctx, warehouse.Rel("main", "broken")); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("relation broken: %v", err)
	}
}

// TestConcurrentProjects: two projects load and build at once in one
// process without sharing anything.
func TestConcurrentProjects(t *testing.T) {
	ctx := context.Background()
	mk := func(val string) string {
		return writeProject(t, map[string]string{
			"dbt_project.yml": "name: proj\nprofile: p\nvars:\n  v: " + val + "\n",
			"models/m.sql":    "{{ config(materialized='table') }}select '{{ var(\"v\") }}' as v, '{{ this.identifier }}' as t",
			"models/n.sql":    "select v from {{ ref('m') }}",
		})
	}
	dirs := []string{mk("one"), mk("two")}
	var wg sync.WaitGroup
	got := make([]string, 2)
	errs := make([]error, 2)
	for i, dir := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := Load(ctx, dir, WithProfilesDir(dir))
			if err != nil {
				errs[i] = err
				return
			}
			w, err := p.OpenWarehouse(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			defer w.Close()
			if _, err := p.Run(ctx, w, RunOptions{}); err != nil {
				errs[i] = err
				return
			}
			errs[i] = w.Get(ctx, &got[i], "select v from main.n")
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	if got[0] != "one" || got[1] != "two" {
		t.Errorf("got %v", got)
	}
}

// TestCancel: a cancelled context stops the run; nothing more is built.
func TestCancel(t *testing.T) {
	files := map[string]string{}
	for i := range 20 {
		files["models/m"+string(rune('a'+i))+".sql"] = "select 1 as x"
	}
	dir := writeProject(t, files)
	p, err := Load(context.Background(), dir, WithProfilesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.OpenWarehouse(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := p.Run(ctx, w, RunOptions{Threads: 1, OnEvent: func(e Event) {
		if e.Kind == EventNodeDone {
			n++
			if n == 3 {
				cancel()
			}
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	c := res.Counts()
	if c[StatusSuccess] > 4 || c[StatusSkipped] < 15 {
		t.Errorf("counts after cancel: %v", c)
	}
}

// TestProjectOverrides: the project's generate_schema_name and a dispatch
// override of a built-in test replace dbt's defaults.
func TestProjectOverrides(t *testing.T) {
	ctx := context.Background()
	dir := writeProject(t, map[string]string{
		"macros/naming.sql": "{% macro generate_schema_name(custom_schema_name, node) -%}" +
			"{%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}" +
			"{%- endmacro %}\n" +
			"{% macro duckdb__test_not_null(model, column_name) %}select 1 as always_fails{% endmacro %}",
		"models/m.sql":      "{{ config(schema='custom') }}select 1 as id",
		"models/schema.yml": "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: id\n        tests: [not_null]\n",
	})
	p, err := Load(ctx, dir, WithProfilesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Nodes["model.proj.m"].Schema; s != "custom" {
		t.Errorf("schema %q, want custom", s)
	}
	w, err := p.OpenWarehouse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, err := p.Run(ctx, w, RunOptions{Command: CommandBuild})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts(); c[StatusSuccess] != 1 || c[StatusFail] != 1 {
		t.Errorf("counts %v (the overridden not_null always fails)", c)
	}
}

// TestJaffleShop runs dbt-labs/jaffle_shop when a copy is at
// $DATAOPS_JAFFLE_SHOP.
func TestJaffleShop(t *testing.T) {
	dir := os.Getenv("DATAOPS_JAFFLE_SHOP")
	if dir == "" {
		t.Skip("set DATAOPS_JAFFLE_SHOP to a copy of github.com/dbt-labs/jaffle_shop to run it")
	}
	for _, engine := range []string{"duckdb", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			work := copyDir(t, dir)
			var prof string
			var w *warehouse.Warehouse
			ctx := context.Background()
			switch engine {
			case "duckdb":
				prof = "jaffle_shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: jaffle.duckdb\n      threads: 4\n"
			case "postgres":
				raw := testenv.PostgresURL(t)
				u, _ := url.Parse(raw)
				schema := "transform_jaffle_" + randomSuffix()
				port := u.Port()
				if port == "" {
					port = "5432"
				}
				prof = "jaffle_shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: " + u.Hostname() + "\n      port: " + port + "\n      user: " + u.User.Username() + "\n      dbname: " + strings.TrimPrefix(u.Path, "/") + "\n      schema: " + schema + "\n      threads: 4\n"
				t.Cleanup(func() {
					if w, err := warehouse.Open(context.Background(), raw); err == nil {
						_ = w.DropSchema(context.Background(), schema, true)
						w.Close()
					}
				})
			}
			if err := os.WriteFile(filepath.Join(work, "profiles.yml"), []byte(prof), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := Load(ctx, work, WithProfilesDir(work))
			if err != nil {
				t.Fatal(err)
			}
			w, err = p.OpenWarehouse(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			res, err := p.Run(ctx, w, RunOptions{Command: CommandBuild})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Results {
				if r.Status != StatusSuccess && r.Status != StatusPass {
					t.Errorf("%s: %s %s", r.UniqueID, r.Status, r.Message)
				}
			}
			s := p.Target.Schema
			var customers, orders int
			var clv float64
			if err := w.Get(ctx, &customers, "select count(*) from "+s+".customers"); err != nil {
				t.Fatal(err)
			}
			if err := w.Get(ctx, &orders, "select count(*) from "+s+".orders"); err != nil {
				t.Fatal(err)
			}
			if err := w.Get(ctx, &clv, "select sum(customer_lifetime_value) from "+s+".customers"); err != nil {
				t.Fatal(err)
			}
			if customers != 100 || orders != 99 || clv != 1672 {
				t.Errorf("customers %d orders %d clv %v, want 100 99 1672", customers, orders, clv)
			}
		})
	}
}

// TestArtifactsValidate: a build writes manifest.json and run_results.json
// that validate against dbt's published schemas.
func TestArtifactsValidate(t *testing.T) {
	p, w := loadShop(t, duckTarget(t))
	res, err := p.Run(context.Background(), w, RunOptions{Command: CommandBuild})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(p.Dir, "target")
	artifactstest.ValidateFile(t, artifactstest.Manifest, filepath.Join(dir, "manifest.json"))
	artifactstest.ValidateFile(t, artifactstest.RunResults, filepath.Join(dir, "run_results.json"))
	rr, err := artifacts.ReadRunResults(filepath.Join(dir, "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Results) != len(res.Results) {
		t.Errorf("run_results.json has %d results, the run %d", len(rr.Results), len(res.Results))
	}
	m, err := artifacts.ReadManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.ChildMap["model.shop.stg_customers"]; len(got) == 0 {
		t.Errorf("child_map of stg_customers is empty")
	}
}

// TestUnitTests: a failing unit test fails and, in build, skips its model;
// a passing one lets it build.
func TestUnitTests(t *testing.T) {
	ctx := context.Background()
	dir := writeProject(t, map[string]string{
		"models/base.sql":    "select 1 as id, 10 as amount union all select 2, 20",
		"models/doubled.sql": "select id, amount * 2 as amount from {{ ref('base') }}",
		"models/tripled.sql": "select id, amount * 3 as amount from {{ ref('base') }}",
		"models/unit.yml": `version: 2
unit_tests:
  - name: doubles
    model: doubled
    given:
      - input: ref('base')
        rows: [{id: 7, amount: 5}]
    expect:
      rows: [{id: 7, amount: 10}]
  - name: doubles_sql_fixture
    model: doubled
    given:
      - input: ref('base')
        format: sql
        rows: select 3 as id, 4 as amount
    expect:
      format: sql
      rows: select 3 as id, 8 as amount
  - name: wrongly_expects_doubling
    model: tripled
    given:
      - input: ref('base')
        format: csv
        rows: |
          id,amount
          7,5
    expect:
      rows: [{id: 7, amount: 10}]
`,
	})
	p, w := openProject(t, dir)
	res, err := p.Run(ctx, w, RunOptions{Command: CommandBuild})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]NodeResult{}
	for _, r := range res.Results {
		got[r.UniqueID] = r
	}
	for id, want := range map[string]Status{
		"unit_test.proj.doubled.doubles":                  StatusPass,
		"unit_test.proj.doubled.doubles_sql_fixture":      StatusPass,
		"unit_test.proj.tripled.wrongly_expects_doubling": StatusFail,
		"model.proj.doubled":                              StatusSuccess,
		"model.proj.tripled":                              StatusSkipped,
		"model.proj.base":                                 StatusSuccess,
	} {
		if got[id].Status != want {
			t.Errorf("%s: %s %q, want %s", id, got[id].Status, got[id].Message, want)
		}
	}
	if m := got["unit_test.proj.tripled.wrongly_expects_doubling"].Message; !strings.Contains(m, "15") {
		t.Errorf("failure message lacks the actual row: %q", m)
	}
}

func TestOperationAndInline(t *testing.T) {
	ctx := context.Background()
	dir := writeProject(t, map[string]string{
		"models/base.sql": "{{ config(materialized='ephemeral') }}select 1 as id",
		"models/m.sql":    "select 2 as id",
		"macros/who.sql":  "{% macro who() %}{{ model.name }}@{{ this.identifier }}{% endmacro %}",
		"models/n.sql":    "select '{{ who() }}' as who",
		"models/g.sql":    "select {{ graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list | length }} as models, '{{ flags.WHICH }}' as which, {{ flags.FULL_REFRESH }} as fr",
		"macros/ops.sql": `{% macro make_marker(label) %}
{% do run_query("create table main.marker as select '" ~ label ~ "' as label") %}
{% set r = run_query("select count(*) from main.marker") %}
{{ return(r.rows[0][0]) }}
{% endmacro %}`,
	})
	p, w := openProject(t, dir)
	v, err := p.RunOperation(ctx, w, "make_marker", map[string]any{"label": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := toInt64(v); !ok || n != 1 {
		t.Errorf("make_marker returned %v (%T)", v, v)
	}
	var label string
	if err := w.Get(ctx, &label, "select label from main.marker"); err != nil || label != "hi" {
		t.Errorf("marker %q, %v", label, err)
	}
	if _, err := p.RunOperation(ctx, w, "make_markr", nil); err == nil || !strings.Contains(err.Error(), `did you mean "make_marker"`) {
		t.Errorf("unknown macro: %v", err)
	}
	sql, err := p.CompileInline(ctx, w, "select * from {{ ref('base') }} union all select * from {{ ref('m') }}")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sql, "__dbt__cte__base as (") || !strings.Contains(sql, `"main"."m"`) {
		t.Errorf("inline compiled to %s", sql)
	}
	// Macros see the calling node's model and this.
	out, err := p.Compile(ctx, nil, CompileOptions{Nodes: []string{"model.proj.n"}, TargetPath: "-"})
	if err != nil || !strings.Contains(out["model.proj.n"], "'n@n'") {
		t.Errorf("who() in n: %q, %v", out["model.proj.n"], err)
	}
	res, err := p.Run(ctx, w, RunOptions{Command: CommandRun, Select: []string{"g"}, FullRefresh: true})
	if err != nil || len(res.Results) != 1 {
		t.Fatalf("run g: %v %+v", err, res)
	}
	if c := res.Results[0].CompiledCode; !strings.Contains(c, "select 4 as models, 'run' as which, True as fr") {
		t.Errorf("graph/flags compiled to %q", c)
	}
	if _, err := p.CompileInline(ctx, w, "select * from {{ ref('nope') }}"); !errors.Is(err, ErrMissingRef) {
		t.Errorf("inline missing ref: %v", err)
	}
}

// TestVarsAndProfiles: --vars override project vars (global and per
// package), env_var() reads WithEnv, and profiles.yml is found through
// DBT_PROFILES_DIR before the project directory.
func TestVarsAndProfiles(t *testing.T) {
	ctx := context.Background()
	dir := writeProject(t, map[string]string{
		"dbt_project.yml": "name: proj\nprofile: p\nvars:\n  a: project\n  b: project\n  proj:\n    c: scoped\n",
		"models/m.sql":    "select '{{ var('a') }}/{{ var('b') }}/{{ var('c') }}/{{ var('d', 'dflt') }}/{{ env_var('WHO', 'nobody') }}' as v",
		"profiles.yml":    "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: in_project.duckdb\n",
	})
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "profiles.yml"), []byte("p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('DB_PATH') }}\"\n      schema: elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{"DBT_PROFILES_DIR": other, "DB_PATH": filepath.Join(other, "x.duckdb"), "WHO": "me"})
	p, err := Load(ctx, dir, WithEnv(env), WithVars("{a: cli}"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.Schema != "elsewhere" || p.Target.URL != "duckdb:"+filepath.Join(other, "x.duckdb") {
		t.Errorf("target %+v: DBT_PROFILES_DIR not used", p.Target)
	}
	out, err := p.Compile(ctx, nil, CompileOptions{TargetPath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["model.proj.m"]; !strings.Contains(got, "'cli/project/scoped/dflt/me'") {
		t.Errorf("compiled %q", got)
	}
	// Without DBT_PROFILES_DIR the project directory's profiles.yml is used.
	p, err = Load(ctx, dir, WithEnv(envMap(nil)), WithVars(map[string]any{"b": "map"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.URL != "duckdb:"+filepath.Join(dir, "in_project.duckdb") || p.Target.Schema != "main" {
		t.Errorf("target %+v", p.Target)
	}
	// A required var that is missing names itself.
	dir2 := writeProject(t, map[string]string{"models/m.sql": "select {{ var('nope') }}"})
	if _, err := Load(ctx, dir2, WithProfilesDir(dir2)); err == nil || !strings.Contains(err.Error(), `required var "nope"`) {
		t.Errorf("missing var: %v", err)
	}
}

// TestYAMLSnapshot: a snapshot defined in property YAML (dbt 1.9) records
// changes of its relation with the timestamp strategy.
func TestYAMLSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := writeProject(t, map[string]string{
		"models/src.sql": "{{ config(materialized='table') }}select 1 as id, 'a' as v, timestamp '2024-01-01 00:00:00' as updated_at",
		"snapshots/snap.yml": `snapshots:
  - name: src_history
    relation: ref('src')
    config:
      unique_key: id
      strategy: timestamp
      updated_at: updated_at
`,
	})
	p, w := openProject(t, dir)
	n := p.Nodes["snapshot.proj.src_history"]
	if n == nil || n.Config.Strategy != "timestamp" || len(n.DependsOn) != 1 || n.DependsOn[0] != "model.proj.src" {
		t.Fatalf("snapshot node %+v", n)
	}
	if res, err := p.Run(ctx, w, RunOptions{Command: CommandBuild}); err != nil || res.Failed() {
		t.Fatalf("build: %v %+v", err, res)
	}
	if _, err := w.Exec(ctx, "create or replace table main.src as select 1 as id, 'b' as v, timestamp '2024-02-01 00:00:00' as updated_at"); err != nil {
		t.Fatal(err)
	}
	if res, err := p.Run(ctx, w, RunOptions{Command: CommandSnapshot}); err != nil || res.Failed() {
		t.Fatalf("snapshot: %v %+v", err, res)
	}
	var versions, open int
	if err := w.Get(ctx, &versions, "select count(*) from main.src_history"); err != nil || versions != 2 {
		t.Errorf("versions %d, %v", versions, err)
	}
	if err := w.Get(ctx, &open, "select count(*) from main.src_history where dbt_valid_to is null and v = 'b'"); err != nil || open != 1 {
		t.Errorf("current version rows %d, %v", open, err)
	}
}

// TestVendoredPackageDispatch: a hub package vendored in dbt_packages/ is
// loaded; its dispatched macro resolves to the package's adapter variant,
// and the project's dispatch config puts the project's own variant first.
func TestVendoredPackageDispatch(t *testing.T) {
	files := map[string]string{
		"packages.yml":                            "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n",
		"dbt_packages/dbt_utils/dbt_project.yml":  "name: dbt_utils\nversion: '1.3.0'\n",
		"dbt_packages/dbt_utils/macros/greet.sql": "{% macro greet() %}{{ return(adapter.dispatch('greet', 'dbt_utils')()) }}{% endmacro %}\n{% macro default__greet() %}'default'{% endmacro %}\n{% macro duckdb__greet() %}'duckdb'{% endmacro %}\n",
		"models/m.sql":                            "select {{ dbt_utils.greet() }} as g",
	}
	ctx := context.Background()
	dir := writeProject(t, files)
	p, err := Load(ctx, dir, WithProfilesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Compile(ctx, nil, CompileOptions{TargetPath: "-"})
	if err != nil || !strings.Contains(out["model.proj.m"], "'duckdb'") {
		t.Fatalf("package dispatch: %q, %v", out["model.proj.m"], err)
	}
	files["dbt_project.yml"] = "name: proj\nprofile: p\ndispatch:\n  - macro_namespace: dbt_utils\n    search_order: ['proj', 'dbt_utils']\n"
	files["macros/mine.sql"] = "{% macro default__greet() %}'mine'{% endmacro %}"
	dir = writeProject(t, files)
	p, err = Load(ctx, dir, WithProfilesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	out, err = p.Compile(ctx, nil, CompileOptions{TargetPath: "-"})
	if err != nil || !strings.Contains(out["model.proj.m"], "'mine'") {
		t.Fatalf("project dispatch override: %q, %v", out["model.proj.m"], err)
	}
}

// TestFailFastSkipsRunning: with FailFast, the nodes interrupted while they
// run (a data test and a unit test here) are reported as skipped, not as
// errors; only the node that failed counts as a failure.
func TestFailFastSkipsRunning(t *testing.T) {
	files := map[string]string{
		"models/inp.sql": "select 1 as id",
		// Queries that only an interruption ends.
		"models/slowm.sql": "select count(*) as n from {{ ref('inp') }}, range(1000000000000) t(j) where j < 0",
		"tests/slow.sql":   "select i from range(1000000000000) t(i) where i < 0",
		"models/unit.yml":  "unit_tests:\n  - name: ut_slow\n    model: slowm\n    given:\n      - input: ref('inp')\n        rows:\n          - {id: 1}\n    expect:\n      rows:\n        - {n: 0}\n",
		// bad fails after a moment (it returns rows), while the others run.
		"tests/bad.sql": "select i from range(50000000) t(i) where i % 5 = 1 and i > 49999990",
	}
	dir := writeProject(t, files)
	p, w := openProject(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := p.Run(ctx, w, RunOptions{Command: CommandTest, Threads: 3, FailFast: true})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the slow nodes were not interrupted by fail fast")
	}
	got := map[string]NodeResult{}
	for _, r := range res.Results {
		got[r.Node.Name] = r
	}
	if r := got["bad"]; r.Status != StatusFail || r.Failures == nil || *r.Failures != 2 {
		t.Errorf("bad: %s %v", r.Status, r.Err)
	}
	for _, name := range []string{"slow", "ut_slow"} {
		if r := got[name]; r.Status != StatusSkipped || r.Err != nil || !strings.HasPrefix(r.Message, "skipped") {
			t.Errorf("%s: %s %q %v, want skipped", name, r.Status, r.Message, r.Err)
		}
	}
	if c := res.Counts(); c[StatusFail] != 1 || c[StatusSkipped] != 2 || len(res.Results) != 3 {
		t.Errorf("counts %v", c)
	}
}

// TestSelectByPatchPath: path: selects a model through the property file
// that describes it, not only the file that defines it.
func TestSelectByPatchPath(t *testing.T) {
	files := map[string]string{
		"models/a.sql":         "select 1 as id",
		"models/b.sql":         "select 2 as id",
		"models/sub/c.sql":     "select 3 as id",
		"models/props/a_b.yml": "version: 2\nmodels:\n  - name: a\n  - name: b\n",
		"models/props/c.yml":   "version: 2\nmodels:\n  - name: c\n",
	}
	dir := writeProject(t, files)
	p, err := Load(context.Background(), dir, WithProfilesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sel  string
		want []string
	}{
		{"path:models/props/a_b.yml", []string{"model.proj.a", "model.proj.b"}},
		{"path:models/props/c.yml", []string{"model.proj.c"}},
		{"path:models/sub", []string{"model.proj.c"}},
	} {
		ids, err := p.selectIDs(RunOptions{Select: []string{tc.sel}}, []ResourceType{ResourceModel})
		if err != nil {
			t.Fatal(err)
		}
		got := sortedBoolKeys(ids)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v, want %v", tc.sel, got, tc.want)
		}
	}
}
