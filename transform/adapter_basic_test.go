package transform_test

// The behaviours dbt's adapter test suite ("dbt-tests-adapter", package
// dbt/tests/adapter/basic) checks for every adapter, as our own scenarios
// with our own fixtures (testdata/adapter_basic), run through the public
// API on DuckDB and PostgreSQL. Each scenario is a sequence of dbt
// invocations (a fresh Load with the invocation's --vars, then Run) over
// one warehouse, asserting what dbt's suite asserts: result counts and
// statuses, relation kinds, row counts, relations equal to one another,
// error messages. The catalog that docs generate writes is checked by
// cmd/dataops (adapter_basic_test.go there), which owns that verb.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/transform"
	"github.com/dataopskit/dataops/warehouse"

	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

// abEngines are the targets every scenario runs on.
var abEngines = []string{"duckdb", "postgres"}

// abCase is one scenario on one engine: a project in a temporary
// directory, its profile's environment, and the warehouse every invocation
// of the scenario runs on.
type abCase struct {
	t      *testing.T
	dir    string
	target string
	schema string
	env    map[string]string
	w      *warehouse.Warehouse
	last   *transform.Project
}

// newABCase copies testdata/adapter_basic/<scenario> and the named seeds to
// a temporary project and prepares the engine: a DuckDB file there, or a
// fresh PostgreSQL schema dropped (with the schemas derived from it) when
// the test ends.
func newABCase(t *testing.T, engine, scenario string, seeds ...string) *abCase {
	t.Helper()
	const root = "testdata/adapter_basic"
	dir := filepath.Join(t.TempDir(), scenario)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, scenario))); err != nil {
		t.Fatal(err)
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(root, "profiles.yml"), filepath.Join(dir, "profiles.yml"))
	for _, s := range seeds {
		copyFile(filepath.Join(root, "seeds", s+".csv"), filepath.Join(dir, "seeds", s+".csv"))
	}
	c := &abCase{t: t, dir: dir, target: engine, schema: "ab_" + scenario + "_" + abSuffix()}
	switch engine {
	case "duckdb":
		c.env = map[string]string{"ADAPTER_DUCKDB_PATH": filepath.Join(dir, "w.duckdb"), "ADAPTER_SCHEMA": c.schema}
	case "postgres":
		raw := testenv.PostgresURL(t)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		pass, _ := u.User.Password()
		c.env = map[string]string{
			"ADAPTER_PG_HOST": u.Hostname(), "ADAPTER_PG_PORT": u.Port(), "ADAPTER_PG_USER": u.User.Username(),
			"ADAPTER_PG_PASSWORD": pass, "ADAPTER_PG_DBNAME": strings.TrimPrefix(u.Path, "/"), "ADAPTER_SCHEMA": c.schema,
		}
		if c.env["ADAPTER_PG_PORT"] == "" {
			c.env["ADAPTER_PG_PORT"] = "5432"
		}
		t.Cleanup(func() { abDropSchemas(raw, c.schema) })
	default:
		t.Fatalf("unknown engine %q", engine)
	}
	return c
}

// abSuffix is a short random suffix for schema names.
func abSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// abDropSchemas drops the schema and every schema whose name starts with
// it plus "_" (custom schemas, test audit schemas).
func abDropSchemas(rawURL, schema string) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, rawURL)
	if err != nil {
		return
	}
	defer w.Close()
	names, err := w.Schemas(ctx)
	if err != nil {
		return
	}
	for _, s := range names {
		if s == schema || strings.HasPrefix(s, schema+"_") {
			_ = w.DropSchema(ctx, s, true)
		}
	}
}

// load is a dbt invocation's load: the project with these --vars.
func (c *abCase) load(vars map[string]any) *transform.Project {
	c.t.Helper()
	ctx := context.Background()
	env := c.env
	p, err := transform.Load(ctx, c.dir, transform.WithProfilesDir(c.dir), transform.WithTarget(c.target),
		transform.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }), transform.WithVars(vars))
	if err != nil {
		c.t.Fatalf("load: %v", err)
	}
	if c.w == nil {
		w, err := p.OpenWarehouse(ctx)
		if err != nil {
			c.t.Fatalf("open warehouse: %v", err)
		}
		c.w = w
		c.t.Cleanup(func() { w.Close() })
	}
	c.last = p
	return p
}

// run is one dbt invocation: command with options and --vars.
func (c *abCase) run(cmd transform.Command, opts transform.RunOptions, vars map[string]any) *transform.RunResults {
	c.t.Helper()
	p := c.load(vars)
	opts.Command = cmd
	res, err := p.Run(context.Background(), c.w, opts)
	if err != nil {
		c.t.Fatalf("%s: %v", cmd, err)
	}
	return res
}

// statuses maps each result's node name to its status.
func statuses(res *transform.RunResults) map[string]transform.Status {
	m := map[string]transform.Status{}
	for _, r := range res.Results {
		m[r.Node.Name] = r.Status
	}
	return m
}

// resultNames is the sorted node names of the results.
func resultNames(res *transform.RunResults) []string {
	var out []string
	for _, r := range res.Results {
		out = append(out, r.Node.Name)
	}
	sort.Strings(out)
	return out
}

// expectResults checks the result nodes are exactly names, each with want
// status (any status when want is empty).
func (c *abCase) expectResults(step string, res *transform.RunResults, want transform.Status, names ...string) {
	c.t.Helper()
	sort.Strings(names)
	if got := resultNames(res); !slices.Equal(got, names) {
		c.t.Fatalf("%s: result nodes %v, want %v", step, got, names)
	}
	if want == "" {
		return
	}
	for _, r := range res.Results {
		if r.Status != want {
			c.t.Errorf("%s: %s is %s (%s), want %s", step, r.Node.Name, r.Status, r.Message, want)
		}
	}
}

// relation is the relation the node called name builds.
func (c *abCase) relation(name string) warehouse.Relation {
	c.t.Helper()
	for _, n := range c.last.Nodes {
		if n.Name == name && n.ResourceType != transform.ResourceTest {
			return n.Relation()
		}
	}
	c.t.Fatalf("no node %q", name)
	return warehouse.Relation{}
}

func (c *abCase) quoted(name string) string { return c.w.Dialect().QuoteRelation(c.relation(name)) }

// kinds checks each named relation exists with its kind.
func (c *abCase) kinds(want map[string]warehouse.RelationKind) {
	c.t.Helper()
	for name, k := range want {
		info, err := c.w.Relation(context.Background(), c.relation(name))
		if err != nil {
			c.t.Errorf("%s: %v", name, err)
			continue
		}
		if info.Kind != k {
			c.t.Errorf("%s is a %s, want a %s", name, info.Kind, k)
		}
	}
}

// count is the row count of the relation the node called name built.
func (c *abCase) count(name string) int64 {
	c.t.Helper()
	return c.queryInt("select count(*) from " + c.quoted(name))
}

func (c *abCase) expectCount(name string, want int64) {
	c.t.Helper()
	if n := c.count(name); n != want {
		c.t.Errorf("%s has %d rows, want %d", name, n, want)
	}
}

func (c *abCase) queryInt(q string) int64 {
	c.t.Helper()
	var n int64
	if err := c.w.Get(context.Background(), &n, q); err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (c *abCase) exec(q string) {
	c.t.Helper()
	if _, err := c.w.Exec(context.Background(), q); err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
}

// equal checks the relations have the same columns and the same rows as
// the first (as multisets: counts equal and no row of one missing in the
// other).
func (c *abCase) equal(names ...string) {
	c.t.Helper()
	ctx := context.Background()
	cols, err := c.w.Columns(ctx, c.relation(names[0]))
	if err != nil {
		c.t.Fatalf("%s: %v", names[0], err)
	}
	var colNames, quotedCols []string
	for _, col := range cols {
		colNames = append(colNames, col.Name)
		quotedCols = append(quotedCols, c.w.Dialect().QuoteIdentifier(col.Name))
	}
	list := strings.Join(quotedCols, ", ")
	for _, other := range names[1:] {
		oc, err := c.w.Columns(ctx, c.relation(other))
		if err != nil {
			c.t.Fatalf("%s: %v", other, err)
		}
		var on []string
		for _, col := range oc {
			on = append(on, col.Name)
		}
		if !slices.Equal(on, colNames) {
			c.t.Errorf("%s has columns %v, %s has %v", other, on, names[0], colNames)
			continue
		}
		a, b := c.quoted(names[0]), c.quoted(other)
		diff := c.queryInt("select count(*) from (select "+list+" from "+a+" except select "+list+" from "+b+
			") as d1") + c.queryInt("select count(*) from (select "+list+" from "+b+" except select "+list+" from "+a+") as d2")
		if diff != 0 || c.count(names[0]) != c.count(other) {
			c.t.Errorf("%s and %s differ (%d rows in one but not the other; %d vs %d rows)", names[0], other, diff, c.count(names[0]), c.count(other))
		}
	}
}

// forEngines runs the scenario as a subtest per engine, in parallel.
func forEngines(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range abEngines {
		t.Run(e, func(t *testing.T) {
			t.Parallel()
			fn(t, e)
		})
	}
}

// TestAdapterBase: seed, then a view, a table and a model whose
// materialization comes from a var; the relations have the right kinds and
// the seed's rows; re-running one model as a view then as an incremental
// swaps the relation's kind in place.
func TestAdapterBase(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "base", "towns")
		res := c.run(transform.CommandSeed, transform.RunOptions{}, nil)
		c.expectResults("seed", res, transform.StatusSuccess, "towns")
		res = c.run(transform.CommandRun, transform.RunOptions{}, nil)
		c.expectResults("run", res, transform.StatusSuccess, "town_view", "town_table", "town_swap")
		c.kinds(map[string]warehouse.RelationKind{"towns": warehouse.KindTable, "town_view": warehouse.KindView,
			"town_table": warehouse.KindTable, "town_swap": warehouse.KindTable})
		c.expectCount("towns", 10)
		c.equal("towns", "town_view", "town_table", "town_swap")

		// The same run again replaces every relation in place.
		res = c.run(transform.CommandRun, transform.RunOptions{}, nil)
		c.expectResults("second run", res, transform.StatusSuccess, "town_view", "town_table", "town_swap")
		c.equal("towns", "town_view", "town_table", "town_swap")

		res = c.run(transform.CommandRun, transform.RunOptions{Select: []string{"town_swap"}}, map[string]any{"swap_to": "view"})
		c.expectResults("run as view", res, transform.StatusSuccess, "town_swap")
		c.kinds(map[string]warehouse.RelationKind{"towns": warehouse.KindTable, "town_view": warehouse.KindView,
			"town_table": warehouse.KindTable, "town_swap": warehouse.KindView})
		c.equal("towns", "town_swap")

		res = c.run(transform.CommandRun, transform.RunOptions{Select: []string{"town_swap"}}, map[string]any{"swap_to": "incremental"})
		c.expectResults("run as incremental", res, transform.StatusSuccess, "town_swap")
		c.kinds(map[string]warehouse.RelationKind{"towns": warehouse.KindTable, "town_view": warehouse.KindView,
			"town_table": warehouse.KindTable, "town_swap": warehouse.KindTable})
		c.equal("towns", "town_swap")

		// And back to a view from the incremental table.
		res = c.run(transform.CommandRun, transform.RunOptions{Select: []string{"town_swap"}}, map[string]any{"swap_to": "view"})
		c.expectResults("back to a view", res, transform.StatusSuccess, "town_swap")
		c.kinds(map[string]warehouse.RelationKind{"town_swap": warehouse.KindView})
		c.equal("towns", "town_swap")
	})
}

// TestAdapterEmpty: a project with nothing in it seeds, runs and tests
// nothing, without error.
func TestAdapterEmpty(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "empty")
		for _, cmd := range []transform.Command{transform.CommandSeed, transform.CommandRun, transform.CommandTest, transform.CommandBuild} {
			res := c.run(cmd, transform.RunOptions{}, nil)
			c.expectResults(string(cmd), res, "")
			if res.Failed() {
				c.t.Errorf("%s failed", cmd)
			}
		}
	})
}

// TestAdapterEphemeral: an ephemeral model is injected into the view and
// the table that select from it, never built itself; the manifest still
// holds it.
func TestAdapterEphemeral(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "ephemeral", "towns")
		res := c.run(transform.CommandSeed, transform.RunOptions{}, nil)
		c.expectResults("seed", res, transform.StatusSuccess, "towns")
		res = c.run(transform.CommandRun, transform.RunOptions{}, nil)
		c.expectResults("run", res, transform.StatusSuccess, "eph_view", "eph_table")
		c.expectCount("towns", 10)
		c.equal("towns", "eph_view", "eph_table")
		c.kinds(map[string]warehouse.RelationKind{"eph_view": warehouse.KindView, "eph_table": warehouse.KindTable})
		if _, err := c.w.Relation(context.Background(), c.relation("town_eph")); err == nil {
			t.Errorf("the ephemeral model was built as a relation")
		}
		for _, r := range res.Results {
			if !strings.Contains(r.CompiledCode, "__dbt__cte__town_eph") {
				t.Errorf("%s compiled without the ephemeral CTE:\n%s", r.Node.Name, r.CompiledCode)
			}
		}
		m := c.last.Manifest(nil)
		if len(m.Nodes) != 4 || len(m.Sources) != 1 {
			t.Errorf("manifest has %d nodes and %d sources, want 4 and 1", len(m.Nodes), len(m.Sources))
		}
	})
}

// TestAdapterIncremental: an incremental model over a source whose
// identifier comes from a var first copies the small seed, then appends
// only the new rows of the grown one.
func TestAdapterIncremental(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "incremental", "towns", "towns_grown")
		res := c.run(transform.CommandSeed, transform.RunOptions{}, nil)
		c.expectResults("seed", res, transform.StatusSuccess, "towns", "towns_grown")
		c.expectCount("towns", 10)
		c.expectCount("towns_grown", 20)
		res = c.run(transform.CommandRun, transform.RunOptions{}, map[string]any{"town_seed": "towns"})
		c.expectResults("first run", res, transform.StatusSuccess, "town_incr")
		c.equal("towns", "town_incr")
		res = c.run(transform.CommandRun, transform.RunOptions{}, map[string]any{"town_seed": "towns_grown"})
		c.expectResults("incremental run", res, transform.StatusSuccess, "town_incr")
		c.equal("towns_grown", "town_incr")
		// Nothing new: the model stays as it is.
		res = c.run(transform.CommandRun, transform.RunOptions{}, map[string]any{"town_seed": "towns_grown"})
		c.expectResults("idle run", res, transform.StatusSuccess, "town_incr")
		c.equal("towns_grown", "town_incr")
	})
}

// TestAdapterIncrementalNotSchemaChange: with on_schema_change
// sync_all_columns, a second run whose text column is narrower is not a
// schema change and succeeds.
func TestAdapterIncrementalNotSchemaChange(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "incremental_schema")
		for i, step := range []string{"first run", "incremental run"} {
			res := c.run(transform.CommandRun, transform.RunOptions{Select: []string{"stamped"}}, nil)
			c.expectResults(step, res, transform.StatusSuccess, "stamped")
			if n := c.count("stamped"); n != int64(i+1) {
				t.Errorf("%s: stamped has %d rows, want %d", step, n, i+1)
			}
		}
		var notes []string
		if err := c.w.Select(context.Background(), &notes, "select note from "+c.quoted("stamped")+" order by note"); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(notes, []string{"second pass", "the very first pass"}) {
			t.Errorf("notes %q", notes)
		}
	})
}

// TestAdapterIncrementalBadStrategy: an unknown incremental_strategy fails
// the model on its first run, naming the strategy macro dbt looks for.
func TestAdapterIncrementalBadStrategy(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "incremental_bad", "towns", "towns_grown")
		res := c.run(transform.CommandSeed, transform.RunOptions{}, nil)
		c.expectResults("seed", res, transform.StatusSuccess, "towns", "towns_grown")
		res = c.run(transform.CommandRun, transform.RunOptions{}, nil)
		c.expectResults("run", res, transform.StatusError, "town_incr")
		if !res.Failed() {
			t.Error("the run did not fail")
		}
		want := `could not find an incremental strategy macro with the name "get_incremental_no_such_strategy_sql"`
		if m := res.Results[0].Message; !strings.Contains(m, want) {
			t.Errorf("message %q lacks %q", m, want)
		}
		if _, err := c.w.Relation(context.Background(), c.relation("town_incr")); err == nil {
			t.Error("the model was built despite its bad strategy")
		}
	})
}

// TestAdapterIncrementalCustomStrategy: an incremental_strategy the project
// defines as a get_incremental_<name>_sql macro builds the first run whole,
// then writes what the macro's SQL writes from the new rows.
func TestAdapterIncrementalCustomStrategy(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "incremental_custom", "towns", "towns_grown")
		c.expectResults("seed", c.run(transform.CommandSeed, transform.RunOptions{}, nil), transform.StatusSuccess, "towns", "towns_grown")
		c.expectResults("first run", c.run(transform.CommandRun, transform.RunOptions{}, nil), transform.StatusSuccess, "town_incr")
		c.equal("towns", "town_incr")
		grown := map[string]any{"town_seed": "towns_grown"}
		c.expectResults("ten new rows", c.run(transform.CommandRun, transform.RunOptions{}, grown), transform.StatusSuccess, "town_incr")
		c.equal("towns_grown", "town_incr")
		// A changed row with a key the table holds is left alone (the
		// built-in strategies would append or replace it).
		c.exec("update " + c.quoted("towns_grown") + " set name = name || '_changed' where id = 1")
		c.expectResults("a changed row", c.run(transform.CommandRun, transform.RunOptions{}, grown), transform.StatusSuccess, "town_incr")
		c.expectCount("town_incr", 20)
		if n := c.queryInt("select count(*) from " + c.quoted("town_incr") + " where name like '%_changed'"); n != 0 {
			t.Errorf("the custom strategy wrote the changed row (%d rows)", n)
		}
	})
}

// TestAdapterGenericTests: generic tests on a seed, a view and a table
// (one a project test called through the project's namespace); selecting
// the seed tests only its test.
func TestAdapterGenericTests(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "generic_tests", "towns")
		c.expectResults("seed", c.run(transform.CommandSeed, transform.RunOptions{}, nil), transform.StatusSuccess, "towns")
		res := c.run(transform.CommandTest, transform.RunOptions{Select: []string{"towns"}}, nil)
		c.expectResults("test towns", res, transform.StatusPass, "not_null_towns_id")
		res = c.run(transform.CommandRun, transform.RunOptions{}, nil)
		c.expectResults("run", res, transform.StatusSuccess, "town_view", "town_table")
		res = c.run(transform.CommandTest, transform.RunOptions{}, nil)
		c.expectResults("test", res, transform.StatusPass, "not_null_towns_id", "not_null_town_view_id", "not_null_town_table_id",
			"adapter_generic_tests_positive_town_table_id")
	})
}

// TestAdapterSingularTests: a singular test that selects no row passes, one
// that selects a row fails.
func TestAdapterSingularTests(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "singular")
		res := c.run(transform.CommandTest, transform.RunOptions{}, nil)
		c.expectResults("test", res, "", "finds_nothing", "finds_one")
		st := statuses(res)
		if st["finds_nothing"] != transform.StatusPass || st["finds_one"] != transform.StatusFail {
			t.Errorf("statuses %v", st)
		}
		if !res.Failed() {
			t.Error("a failing test did not fail the invocation")
		}
	})
}

// TestAdapterSingularTestsEphemeral: singular tests over an ephemeral model
// run before any model is built (the ephemeral is injected); the same
// queries as models build, the ephemeral itself does not.
func TestAdapterSingularTestsEphemeral(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "singular_ephemeral", "towns")
		c.expectResults("seed", c.run(transform.CommandSeed, transform.RunOptions{}, nil), transform.StatusSuccess, "towns")
		res := c.run(transform.CommandTest, transform.RunOptions{}, nil)
		c.expectResults("test", res, "", "no_big_ids", "no_small_ids")
		st := statuses(res)
		if st["no_big_ids"] != transform.StatusPass || st["no_small_ids"] != transform.StatusFail {
			t.Errorf("statuses %v", st)
		}
		for _, r := range res.Results {
			if r.Node.Name == "no_small_ids" && (r.Failures == nil || *r.Failures != 10) {
				t.Errorf("no_small_ids found %v failures, want 10", r.Failures)
			}
		}
		res = c.run(transform.CommandRun, transform.RunOptions{}, nil)
		c.expectResults("run", res, transform.StatusSuccess, "big_ids", "small_ids")
		c.expectCount("big_ids", 0)
		c.expectCount("small_ids", 10)
	})
}

// TestAdapterSnapshotCheckCols: check-strategy snapshots over all columns,
// over the name and over the timestamp see new rows, and new versions only
// when a checked column changes.
func TestAdapterSnapshotCheckCols(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "snapshot_check", "towns", "towns_grown")
		c.expectResults("seed", c.run(transform.CommandSeed, transform.RunOptions{}, nil), transform.StatusSuccess, "towns", "towns_grown")
		snaps := []string{"snap_all", "snap_name", "snap_founded"}
		snapshot := func(step string, vars map[string]any, all, name, founded int64) {
			t.Helper()
			res := c.run(transform.CommandSnapshot, transform.RunOptions{}, vars)
			c.expectResults(step, res, transform.StatusSuccess, snaps...)
			c.expectCount("snap_all", all)
			c.expectCount("snap_name", name)
			c.expectCount("snap_founded", founded)
		}
		grown := map[string]any{"town_seed": "towns_grown"}
		snapshot("first snapshot", nil, 10, 10, 10)
		snapshot("ten new rows", grown, 20, 20, 20)
		c.exec("update " + c.quoted("towns_grown") + " set founded_at = founded_at + interval '1 day' where id > 10 and id < 21")
		snapshot("timestamps changed", grown, 30, 20, 30)
		c.exec("update " + c.quoted("towns_grown") + " set name = name || '_renamed' where id < 11")
		snapshot("names changed", grown, 40, 30, 30)
		// Every key has exactly one current version.
		for _, s := range snaps {
			if n := c.queryInt("select count(*) from " + c.quoted(s) + " where dbt_valid_to is null"); n != 20 {
				t.Errorf("%s has %d current rows, want 20", s, n)
			}
		}
		if n := c.queryInt("select count(*) from " + c.quoted("snap_name") + " where dbt_valid_to is null and name like '%_renamed'"); n != 10 {
			t.Errorf("snap_name has %d current renamed rows, want 10", n)
		}
	})
}

// TestAdapterSnapshotTimestamp: a timestamp-strategy snapshot sees new rows
// and rows whose timestamp moved, not rows changed without a new timestamp.
func TestAdapterSnapshotTimestamp(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "snapshot_timestamp", "towns", "towns_grown", "towns_regions")
		c.expectResults("seed", c.run(transform.CommandSeed, transform.RunOptions{}, nil), transform.StatusSuccess, "towns", "towns_grown", "towns_regions")
		grown := map[string]any{"town_seed": "towns_grown"}
		snapshot := func(step string, vars map[string]any, want int64) {
			t.Helper()
			c.expectResults(step, c.run(transform.CommandSnapshot, transform.RunOptions{}, vars), transform.StatusSuccess, "snap_ts")
			c.expectCount("snap_ts", want)
		}
		snapshot("first snapshot", nil, 10)
		snapshot("ten new rows", grown, 20)
		c.exec("update " + c.quoted("towns_grown") + " set founded_at = founded_at + interval '1 day' where id > 10 and id < 21")
		snapshot("timestamps moved", grown, 30)
		c.exec("update " + c.quoted("towns_grown") + " set name = name || '_renamed' where id < 11")
		snapshot("names changed, timestamps not", grown, 30)
		if n := c.queryInt("select count(*) from " + c.quoted("snap_ts") + " where name like '%_renamed'"); n != 0 {
			t.Errorf("%d renamed rows reached the snapshot", n)
		}
		if n := c.queryInt("select count(*) from " + c.quoted("snap_ts") + " where dbt_valid_to is null"); n != 20 {
			t.Errorf("snap_ts has %d current rows, want 20", n)
		}
		// The timestamp strategy's validity starts at the row's timestamp.
		if n := c.queryInt("select count(*) from " + c.quoted("snap_ts") + " where dbt_valid_from <> founded_at or dbt_updated_at <> founded_at"); n != 0 {
			t.Errorf("%d rows whose dbt_valid_from/dbt_updated_at is not founded_at", n)
		}
	})
}

// TestAdapterTableConfig: a table model with configs this engine does not
// use (sort, dist) builds the same rows as its input.
func TestAdapterTableConfig(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "table_config", "towns")
		c.expectResults("seed", c.run(transform.CommandSeed, transform.RunOptions{}, nil), transform.StatusSuccess, "towns")
		c.expectResults("run", c.run(transform.CommandRun, transform.RunOptions{}, nil), transform.StatusSuccess, "copied")
		c.equal("towns", "copied")
	})
}

// TestAdapterMethods: a model that, while it compiles, drops its schema
// (adapter.drop_schema), checks the upstream relation is gone
// (get_relation), recreates the schema (create_schema) and the upstream as
// a view of other rows (create_view_as + run_query), and calls a macro that
// moves a scratch table about (create_table_as, rename_relation,
// get_columns_in_relation, drop_relation). Compile, then run, succeed; the
// model selects what the recreated view holds; a test that introspects the
// model's columns passes.
func TestAdapterMethods(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		c := newABCase(t, engine, "adapter_methods")
		res := c.run(transform.CommandCompile, transform.RunOptions{}, nil)
		for _, r := range res.Results {
			if r.Status == transform.StatusError {
				t.Fatalf("compile %s: %s", r.Node.Name, r.Message)
			}
		}
		res = c.run(transform.CommandRun, transform.RunOptions{}, nil)
		c.expectResults("run", res, transform.StatusSuccess, "source_view", "rebuilt", "expected")
		c.equal("rebuilt", "expected")
		if n := c.queryInt("select id from " + c.quoted("source_view")); n != 2 {
			t.Errorf("source_view holds %d, want the 2 create_view_as put there", n)
		}
		for _, name := range []string{"source_view_scratch", "source_view_moved"} {
			if _, err := c.w.Relation(context.Background(), warehouse.Rel(c.schema, name)); err == nil {
				t.Errorf("%s was left behind", name)
			}
		}
		res = c.run(transform.CommandTest, transform.RunOptions{}, nil)
		c.expectResults("test", res, transform.StatusPass, "columns_seen")
	})
}
