package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/artifacts/artifactstest"
	"github.com/dataopskit/dataops/warehouse"
)

// dbtProject copies testdata/dbt_shop to a temporary directory whose DuckDB
// file is w.duckdb, and returns the directory.
func dbtProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dbt_shop")
	if err := os.CopyFS(dir, os.DirFS("testdata/dbt_shop")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DBT_SHOP_DUCKDB", filepath.Join(dir, "w.duckdb"))
	return dir
}

// dbt runs a dbt verb in-process on the project in dir and returns its
// output and exit code.
func dbt(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	code := 0
	saved := dbtExit
	dbtExit = func(c int) { code = c }
	defer func() { dbtExit = saved }()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	full := append([]string{}, args...)
	if dir != "" {
		full = append(full, "--project-dir", dir)
		if args[0] != "clean" {
			full = append(full, "--profiles-dir", dir)
		}
	}
	cmd.SetArgs(full)
	err := cmd.ExecuteContext(context.Background())
	if err != nil && code == 0 {
		code = 1 // main exits 1 on any other error
	}
	return out.String(), code
}

func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func queryInt(t *testing.T, url, q string) int64 {
	t.Helper()
	w, err := warehouse.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var n int64
	if err := w.Get(context.Background(), &n, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestDBTBuildDuckDB(t *testing.T) {
	dir := dbtProject(t)
	out, code := dbt(t, dir, "build")
	if code != 0 {
		t.Fatalf("build exited %d:\n%s", code, out)
	}
	mustContain(t, out,
		"Found 3 models, 2 seeds, 6 data tests, 1 unit test, 2 sources",
		"Concurrency: 2 threads (target='duckdb')",
		" of 12 START sql table model main.customers ....",
		" of 12 OK created sql table model main.customers ....",
		" of 12 OK loaded seed file main.raw_orders ....",
		" of 12 PASS unique_customers_customer_id ....",
		" of 12 PASS customers::test_lifetime_value ....",
		"Finished running 2 seeds, ",
		"1 table model", "2 view models", "6 data tests", "1 unit test",
		"Completed successfully",
		"Done. PASS=12 WARN=0 ERROR=0 SKIP=0 TOTAL=12")
	db := "duckdb:" + filepath.Join(dir, "w.duckdb")
	if n := queryInt(t, db, "select count(*) from main.customers"); n != 4 {
		t.Errorf("customers has %d rows, want 4", n)
	}
	if n := queryInt(t, db, "select sum(lifetime_value) from main.customers"); n != 90 {
		t.Errorf("sum(lifetime_value) = %d, want 90", n)
	}
	target := filepath.Join(dir, "target")
	artifactstest.ValidateFile(t, artifactstest.Manifest, filepath.Join(target, "manifest.json"))
	artifactstest.ValidateFile(t, artifactstest.RunResults, filepath.Join(target, "run_results.json"))
	m, err := artifacts.ReadManifest(filepath.Join(target, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	cust := m.Nodes["model.dbt_shop.customers"]
	if cust == nil || !cust.Compiled || cust.CompiledCode == nil || !strings.Contains(*cust.CompiledCode, `"raw_orders"`) && !strings.Contains(*cust.CompiledCode, "stg_orders") {
		t.Errorf("customers in the manifest: %+v", cust)
	}
	if sel, ok := m.Selectors["marts_only"].(map[string]any); !ok || sel["definition"] != "path:models/marts" {
		t.Errorf("manifest selectors: %v", m.Selectors)
	}
	// dbt's child map holds a model's data tests and its unit tests.
	if got := m.ChildMap["model.dbt_shop.customers"]; !reflect.DeepEqual(got, []string{
		"test.dbt_shop.not_null_customers_customer_id.5c9bf9911d", // the ids dbt gives jaffle_shop's
		"test.dbt_shop.unique_customers_customer_id.c5af1ff4b1",
		"unit_test.dbt_shop.customers.test_lifetime_value"}) {
		t.Errorf("child_map[customers] = %v, want its two tests and its unit test", got)
	}
	rr, err := artifacts.ReadRunResults(filepath.Join(target, "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	st := rr.Statuses()
	if len(st) != 12 || st["unit_test.dbt_shop.customers.test_lifetime_value"] != "pass" || st["model.dbt_shop.customers"] != "success" || st["test.dbt_shop.assert_small_orders"] != "pass" {
		t.Errorf("run results: %v", st)
	}
	if rr.Args["which"] != "build" {
		t.Errorf("args %v", rr.Args)
	}
}

func TestDBTFailureExitCodeAndRetry(t *testing.T) {
	dir := dbtProject(t)
	if out, code := dbt(t, dir, "seed"); code != 0 {
		t.Fatalf("seed exited %d:\n%s", code, out)
	}
	if out, code := dbt(t, dir, "run", "--select", "stg_orders"); code != 0 {
		t.Fatalf("run exited %d:\n%s", code, out)
	}
	out, code := dbt(t, dir, "test", "-s", "stg_orders", "--vars", "{max_amount: 30}")
	if code != exitFailure {
		t.Fatalf("a failing test exited %d, want 1:\n%s", code, out)
	}
	mustContain(t, out, "FAIL 1 assert_small_orders ....", "[FAIL 1 in ", "Completed with 1 error and 0 warnings:",
		"Failure in test assert_small_orders (tests/assert_small_orders.sql)", "Got 1 result, configured to fail if != 0",
		"Done. PASS=3 WARN=0 ERROR=1 SKIP=0 TOTAL=4")
	// retry runs only the failed test again, with today's vars: it passes.
	out, code = dbt(t, dir, "retry")
	if code != 0 {
		t.Fatalf("retry exited %d:\n%s", code, out)
	}
	mustContain(t, out, "1 of 1 START test assert_small_orders", "Done. PASS=1 WARN=0 ERROR=0 SKIP=0 TOTAL=1")
	out, code = dbt(t, dir, "retry")
	if code != 0 || !strings.Contains(out, "Nothing to do") {
		t.Errorf("second retry exited %d:\n%s", code, out)
	}
}

func TestDBTFailFastSkipsDownstream(t *testing.T) {
	dir := dbtProject(t)
	// With max_amount 1 every order fails assert_small_orders; fail-fast
	// stops the run and skips customers.
	out, code := dbt(t, dir, "build", "--vars", "{max_amount: 1}", "--threads", "1", "--fail-fast")
	if code != exitFailure {
		t.Fatalf("build exited %d, want 1:\n%s", code, out)
	}
	mustContain(t, out, "FAIL 5 assert_small_orders", "SKIP relation main.customers ....", "[SKIP]")
}

func TestDBTInvocationErrors(t *testing.T) {
	dir := dbtProject(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--project-dir", filepath.Join(dir, "nope")}, "dbt_project.yml"},
		{[]string{"run", "--project-dir", dir, "--profiles-dir", dir, "-s", "bogus:x"}, `"bogus" is not a valid method name`},
		{[]string{"run", "--project-dir", dir, "--profiles-dir", dir, "--selector", "nope"}, `unknown selector "nope"`},
		{[]string{"ls", "--project-dir", dir, "--profiles-dir", dir, "-s", "state:modified"}, "--state"},
		{[]string{"ls", "--project-dir", dir, "--profiles-dir", dir, "--output", "xml"}, `--output "xml"`},
		{[]string{"run", "--project-dir", dir, "--profiles-dir", dir, "--target", "nope"}, "nope"},
		{[]string{"run-operation", "m", "--args", "[1, 2", "--project-dir", dir, "--profiles-dir", dir}, "--args"},
	}
	// These connect before they fail.
	connecting := []struct {
		args []string
		want string
	}{
		{[]string{"show", "--project-dir", dir, "--profiles-dir", dir, "--inline", "select * from {{ ref('nope') }}"}, "nope"},
		{[]string{"compile", "--project-dir", dir, "--profiles-dir", dir, "--inline", "select {{ 1 + }}"}, "inline:1:15: TemplateSyntaxError"},
	}
	for i, tc := range append(cases, connecting...) {
		if i == len(cases) {
			if _, err := os.Stat(filepath.Join(dir, "w.duckdb")); err == nil {
				t.Error("a bad selection or flag connected to the warehouse and created it")
			}
		}
		out, code := dbt(t, "", tc.args...)
		if code != exitError || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 2 with %q:\n%s", tc.args, code, tc.want, out)
		}
		if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
			t.Errorf("%v: a stack trace reached the user:\n%s", tc.args, out)
		}
	}

}

func TestDBTList(t *testing.T) {
	dir := dbtProject(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"ls", "-s", "+customers", "--resource-type", "model", "--output", "name"}, "customers\nstg_customers\nstg_orders\n"},
		{[]string{"ls", "--resource-type", "source"}, "source:dbt_shop.raw.orders_fresh\nsource:dbt_shop.raw.orders_stale\n"},
		{[]string{"ls", "-s", "tag:nightly", "--output", "path", "--resource-type", "model"}, "models/marts/customers.sql\n"},
		{[]string{"ls", "--selector", "marts_only", "--output", "json", "--output-keys", "name,resource_type"},
			`{"name":"customers","resource_type":"model"}` + "\n" + `{"name":"not_null_customers_customer_id","resource_type":"test"}` + "\n" +
				`{"name":"test_lifetime_value","resource_type":"unit_test"}` + "\n" + `{"name":"unique_customers_customer_id","resource_type":"test"}` + "\n"},
		{[]string{"ls", "-s", "stg_orders", "--exclude", "test_type:generic", "--indirect-selection", "eager"}, "dbt_shop.assert_small_orders\ndbt_shop.staging.stg_orders\n"},
		{[]string{"ls", "-s", "stg_orders", "--indirect-selection", "empty"}, "dbt_shop.staging.stg_orders\n"},
		{[]string{"list", "-s", "config.materialized:table,tag:nightly"}, "dbt_shop.marts.customers\ndbt_shop.marts.not_null_customers_customer_id\ndbt_shop.marts.unique_customers_customer_id\nunit_test:dbt_shop.customers.test_lifetime_value\n"},
		{[]string{"ls", "-s", "test_type:unit"}, "unit_test:dbt_shop.customers.test_lifetime_value\n"},
		{[]string{"list", "-s", "config.materialized:table,tag:nightly", "--resource-type", "model"}, "dbt_shop.marts.customers\n"},
	}
	for _, tc := range cases {
		out, code := dbt(t, dir, tc.args...)
		if code != 0 || out != tc.want {
			t.Errorf("%v: exit %d, output:\n%s\nwant:\n%s", tc.args, code, out, tc.want)
		}
	}
	out, code := dbt(t, dir, "ls", "-s", "nothing_here")
	if code != 0 || !strings.Contains(out, "The selection criterion 'nothing_here' does not match any enabled nodes") {
		t.Errorf("ls of nothing: exit %d\n%s", code, out)
	}
	out, _ = dbt(t, dir, "ls", "--output", "json", "-s", "customers", "--resource-type", "model")
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil || obj["unique_id"] != "model.dbt_shop.customers" || obj["config"].(map[string]any)["materialized"] != "table" {
		t.Errorf("ls json: %v\n%s", err, out)
	}
}

func TestDBTStateModified(t *testing.T) {
	dir := dbtProject(t)
	if out, code := dbt(t, dir, "parse"); code != 0 {
		t.Fatalf("parse exited %d:\n%s", code, out)
	}
	artifactstest.ValidateFile(t, artifactstest.Manifest, filepath.Join(dir, "target", "manifest.json"))
	state := filepath.Join(t.TempDir(), "state")
	if err := os.Rename(filepath.Join(dir, "target"), state); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "models", "staging", "stg_customers.sql")
	if err := os.WriteFile(model, []byte("select id as customer_id, first_name, last_name, 1 as extra from {{ ref('raw_customers') }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := dbt(t, dir, "ls", "-s", "state:modified", "--state", state, "--indirect-selection", "empty")
	if code != 0 || out != "dbt_shop.staging.stg_customers\n" {
		t.Errorf("state:modified: exit %d:\n%s", code, out)
	}
	out, _ = dbt(t, dir, "ls", "-s", "state:modified+", "--state", state, "--resource-type", "model")
	if out != "dbt_shop.marts.customers\ndbt_shop.staging.stg_customers\n" {
		t.Errorf("state:modified+:\n%s", out)
	}
}

func TestDBTDocsFreshnessShowClean(t *testing.T) {
	dir := dbtProject(t)
	if out, code := dbt(t, dir, "build"); code != 0 {
		t.Fatalf("build exited %d:\n%s", code, out)
	}
	out, code := dbt(t, dir, "docs", "generate")
	if code != 0 {
		t.Fatalf("docs generate exited %d:\n%s", code, out)
	}
	catPath := filepath.Join(dir, "target", "catalog.json")
	artifactstest.ValidateFile(t, artifactstest.Catalog, catPath)
	cat, err := artifacts.ReadCatalog(catPath)
	if err != nil {
		t.Fatal(err)
	}
	c := cat.Nodes["model.dbt_shop.customers"]
	if c == nil || c.Metadata.Type != "BASE TABLE" || c.Columns["first_name"] == nil || c.Columns["first_name"].Index != 2 || c.Columns["first_name"].Type != "VARCHAR" {
		t.Errorf("catalog customers: %+v", c)
	}
	if v := cat.Nodes["model.dbt_shop.stg_orders"]; v == nil || v.Metadata.Type != "VIEW" {
		t.Errorf("catalog stg_orders: %+v", v)
	}
	if len(cat.Sources) != 2 {
		t.Errorf("catalog sources: %v", cat.Sources)
	}

	out, code = dbt(t, dir, "source-freshness")
	if code != exitFailure {
		t.Errorf("freshness with a stale source exited %d, want 1:\n%s", code, out)
	}
	mustContain(t, out, "PASS freshness of raw.orders_fresh ....", "ERROR STALE freshness of raw.orders_stale ....", "PASS=1 WARN=0 ERROR=1")
	srcPath := filepath.Join(dir, "target", "sources.json")
	artifactstest.ValidateFile(t, artifactstest.Sources, srcPath)
	out, code = dbt(t, dir, "freshness", "-s", "source:raw.orders_fresh")
	if code != 0 || !strings.Contains(out, "PASS=1 WARN=0 ERROR=0 RUNTIME_ERROR=0 TOTAL=1") {
		t.Errorf("fresh source: exit %d\n%s", code, out)
	}

	out, code = dbt(t, dir, "show", "-s", "customers", "--limit", "2")
	if code != 0 {
		t.Fatalf("show exited %d:\n%s", code, out)
	}
	mustContain(t, out, "Previewing node 'customers':", "| customer_id | first_name | order_count | lifetime_value |", "| 1           | Michael    | 2           | 15             |")
	if strings.Contains(out, "Kathleen") {
		t.Errorf("show --limit 2 printed a third row:\n%s", out)
	}
	out, code = dbt(t, dir, "show", "--inline", "select 41 + 1 as answer")
	if code != 0 || !strings.Contains(out, "| 42     |") {
		t.Errorf("show --inline: exit %d\n%s", code, out)
	}

	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, code = dbt(t, dir, "clean")
	if code != 0 {
		t.Fatalf("clean exited %d:\n%s", code, out)
	}
	for _, d := range []string{"target", "logs"} {
		if _, err := os.Stat(filepath.Join(dir, d)); !os.IsNotExist(err) {
			t.Errorf("%s survived clean: %v", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "models")); err != nil {
		t.Errorf("clean removed models: %v", err)
	}
}

func TestDBTCleanRefusesOutsideProject(t *testing.T) {
	dir := dbtProject(t)
	outside := filepath.Join(filepath.Dir(dir), "keep")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	text := "name: dbt_shop\nprofile: dbt_shop\nclean-targets: [target, ../keep]\n"
	if err := os.WriteFile(filepath.Join(dir, "dbt_project.yml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := dbt(t, dir, "clean")
	if code != exitError || !strings.Contains(out, "not inside the project directory") {
		t.Errorf("clean ../keep: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("clean deleted a directory outside the project: %v", err)
	}
}

func TestDBTLogFormatJSON(t *testing.T) {
	dir := dbtProject(t)
	out, code := dbt(t, dir, "seed", "--log-format", "json")
	if code != 0 {
		t.Fatalf("seed exited %d:\n%s", code, out)
	}
	var sawResult bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Info struct{ Name, Msg, Level, InvocationID string } `json:"info"`
			Data map[string]any                                  `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		if ev.Info.Name == "LogNodeResult" {
			sawResult = true
			if ev.Data["node_info"].(map[string]any)["resource_type"] != "seed" || !strings.Contains(ev.Info.Msg, "OK loaded seed file main.raw_") {
				t.Errorf("node result event: %+v", ev)
			}
		}
	}
	if !sawResult {
		t.Errorf("no LogNodeResult event:\n%s", out)
	}
}

func TestDBTBuildPostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	dir := dbtProject(t)
	schema := "cmd_dataops_dbt_shop"
	t.Setenv("DBT_SHOP_PG_SCHEMA", schema)
	w, err := warehouse.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	drop := func() { _ = w.DropSchema(context.Background(), schema, true) }
	drop()
	t.Cleanup(drop)
	out, code := dbt(t, dir, "build", "--target", "postgres")
	if code != 0 {
		t.Fatalf("build on PostgreSQL exited %d:\n%s", code, out)
	}
	mustContain(t, out, "Concurrency: 2 threads (target='postgres')", "OK created sql table model "+schema+".customers", "Done. PASS=12 WARN=0 ERROR=0 SKIP=0 TOTAL=12")
	var n int64
	if err := w.Get(context.Background(), &n, "select count(*) from "+w.Dialect().QuoteRelation(warehouse.Rel(schema, "customers"))); err != nil || n != 4 {
		t.Errorf("customers on PostgreSQL: %d rows (%v)", n, err)
	}
	artifactstest.ValidateFile(t, artifactstest.RunResults, filepath.Join(dir, "target", "run_results.json"))
	artifactstest.ValidateFile(t, artifactstest.Manifest, filepath.Join(dir, "target", "manifest.json"))
}

func TestDBTCompileAndNothingToDo(t *testing.T) {
	dir := dbtProject(t)
	out, code := dbt(t, dir, "compile", "-s", "stg_customers")
	if code != 0 {
		t.Fatalf("compile exited %d:\n%s", code, out)
	}
	mustContain(t, out, "Compiled node 'stg_customers' is:", `from "`, "raw_customers")
	if _, err := os.Stat(filepath.Join(dir, "target", "compiled", "dbt_shop", "models", "staging", "stg_customers.sql")); err != nil {
		t.Errorf("compiled file: %v", err)
	}
	out, code = dbt(t, dir, "run", "-s", "tag:nothing")
	if code != 0 || !strings.Contains(out, "Nothing to do.") || strings.Contains(out, "Concurrency") {
		t.Errorf("empty selection: exit %d\n%s", code, out)
	}
}

func TestDBTArgs(t *testing.T) {
	cases := []struct{ in, want string }{
		{"dataops --version", "dataops version"},
		{"dataops -V", "dataops version"},
		{"dataops run --version", "dataops run --version"},
		{"dataops source freshness -s source:raw", "dataops source-freshness -s source:raw"},
		{"dataops source discover --source postgres", "dataops source discover --source postgres"},
		{"dataops debug --project-dir p", "dataops dbt-debug --project-dir p"},
		{"dataops debug --profiles-dir=p", "dataops dbt-debug --profiles-dir=p"},
		{"dataops debug --url duckdb:", "dataops debug --url duckdb:"},
		{"dataops", "dataops"},
	}
	for _, tc := range cases {
		if got := strings.Join(dbtArgs(strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
		}
	}
	out, err := run(t, dbtArgs([]string{"dataops", "--version"})[1:]...)
	if err != nil || !strings.HasPrefix(out, "dataops ") {
		t.Errorf("dataops --version: %v\n%s", err, out)
	}
}

func TestDBTDebug(t *testing.T) {
	dir := dbtProject(t)
	out, code := dbt(t, dir, "dbt-debug")
	if code != 0 {
		t.Fatalf("dbt-debug exited %d:\n%s", code, out)
	}
	mustContain(t, out, "profiles.yml file [OK found and valid]", "dbt_project.yml file [OK found and valid]",
		"type: duckdb", "schema: main", "Connection test: [OK connection ok]", "All checks passed!")
	t.Setenv("DBT_SHOP_DUCKDB", "") // restored after the test
	os.Unsetenv("DBT_SHOP_DUCKDB")
	out, code = dbt(t, dir, "dbt-debug")
	if code != exitFailure || !strings.Contains(out, "[ERROR invalid]") || !strings.Contains(out, "DBT_SHOP_DUCKDB") {
		t.Errorf("dbt-debug without the env var: exit %d\n%s", code, out)
	}
}

func TestDBTInlineAndRunOperation(t *testing.T) {
	dir := dbtProject(t)
	if out, code := dbt(t, dir, "seed"); code != 0 {
		t.Fatalf("seed exited %d:\n%s", code, out)
	}
	out, code := dbt(t, dir, "compile", "--inline", "select count(*) from {{ ref('raw_orders') }}")
	if code != 0 {
		t.Fatalf("compile --inline exited %d:\n%s", code, out)
	}
	mustContain(t, out, "Compiled inline node is:", `"raw_orders"`)
	out, code = dbt(t, dir, "show", "--inline", "select sum(amount) as total from {{ ref('raw_orders') }}")
	if code != 0 {
		t.Fatalf("show --inline exited %d:\n%s", code, out)
	}
	mustContain(t, out, "| total |", "| 90    |")

	macro := "{% macro make_audit(name) %}{% do run_query('create table ' ~ target.schema ~ '.' ~ name ~ ' as select 1 as x') %}{% endmacro %}\n"
	if err := os.MkdirAll(filepath.Join(dir, "macros"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "macros", "audit.sql"), []byte(macro), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = dbt(t, dir, "run-operation", "make_audit", "--args", "{name: audit_log}")
	if code != 0 {
		t.Fatalf("run-operation exited %d:\n%s", code, out)
	}
	if n := queryInt(t, "duckdb:"+filepath.Join(dir, "w.duckdb"), "select count(*) from main.audit_log"); n != 1 {
		t.Errorf("audit_log has %d rows, want 1", n)
	}
	out, code = dbt(t, dir, "run-operation", "no_such_macro")
	if code != exitFailure || !strings.Contains(out, "no_such_macro") {
		t.Errorf("unknown macro: exit %d\n%s", code, out)
	}
}
