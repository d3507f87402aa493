package main

// The parts of dbt's adapter test suite ("basic") that go through the
// artifacts the CLI writes: the catalog and manifest of docs generate, the
// run_results of an empty project, and debug's connection check. The
// fixtures are transform/testdata/adapter_basic (the scenarios themselves
// are tested through the library in transform/adapter_basic_test.go).

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/transform/artifacts/artifactstest"
	"github.com/dataopskit/dataops/warehouse"
)

// abProject is a fixture project of transform/testdata/adapter_basic copied
// to a temporary directory, with the environment its profile reads set for
// the engine.
type abProject struct {
	t      *testing.T
	dir    string
	engine string
	schema string
	url    string // the warehouse the project builds in
}

func newABProject(t *testing.T, engine, scenario string, seeds ...string) *abProject {
	t.Helper()
	root := filepath.Join("..", "..", "transform", "testdata", "adapter_basic")
	dir := filepath.Join(t.TempDir(), scenario)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, scenario))); err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{"profiles.yml"}, seeds...) {
		from, to := filepath.Join(root, f), filepath.Join(dir, f)
		if f != "profiles.yml" {
			from, to = filepath.Join(root, "seeds", f+".csv"), filepath.Join(dir, "seeds", f+".csv")
		}
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
	p := &abProject{t: t, dir: dir, engine: engine, schema: "abcli_" + strings.ReplaceAll(scenario, "_", "") + "_" + newInvocationID()[:8]}
	t.Setenv("ADAPTER_SCHEMA", p.schema)
	switch engine {
	case "duckdb":
		path := filepath.Join(dir, "w.duckdb")
		t.Setenv("ADAPTER_DUCKDB_PATH", path)
		p.url = "duckdb://" + path
	case "postgres":
		raw := testenv.PostgresURL(t)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		pass, _ := u.User.Password()
		port := u.Port()
		if port == "" {
			port = "5432"
		}
		t.Setenv("ADAPTER_PG_HOST", u.Hostname())
		t.Setenv("ADAPTER_PG_PORT", port)
		t.Setenv("ADAPTER_PG_USER", u.User.Username())
		t.Setenv("ADAPTER_PG_PASSWORD", pass)
		t.Setenv("ADAPTER_PG_DBNAME", strings.TrimPrefix(u.Path, "/"))
		p.url = raw
		t.Cleanup(func() {
			ctx := context.Background()
			w, err := warehouse.Open(ctx, raw)
			if err != nil {
				return
			}
			defer w.Close()
			names, _ := w.Schemas(ctx)
			for _, s := range names {
				if s == p.schema || strings.HasPrefix(s, p.schema+"_") {
					_ = w.DropSchema(ctx, s, true)
				}
			}
		})
	}
	return p
}

// dbt runs a verb on the project, with --target for the engine, and fails
// the test unless it exits with code want.
func (p *abProject) dbt(want int, args ...string) string {
	p.t.Helper()
	full := append(slices.Clone(args), "--target", p.engine)
	out, code := dbt(p.t, p.dir, full...)
	if code != want {
		p.t.Fatalf("%s exited %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

// artifact reads target/<name> as JSON.
func (p *abProject) artifact(name string) map[string]any {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dir, "target", name))
	if err != nil {
		p.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Fatalf("%s: %v", name, err)
	}
	return m
}

func (p *abProject) exists(rel ...string) bool {
	_, err := os.Stat(filepath.Join(append([]string{p.dir}, rel...)...))
	return err == nil
}

func (p *abProject) removeArtifacts(names ...string) {
	p.t.Helper()
	for _, n := range names {
		if err := os.Remove(filepath.Join(p.dir, "target", n)); err != nil && !os.IsNotExist(err) {
			p.t.Fatal(err)
		}
	}
}

// resultIDs is the unique ids in run_results.json, sorted.
func (p *abProject) resultIDs() []string {
	p.t.Helper()
	var ids []string
	for _, r := range p.artifact("run_results.json")["results"].([]any) {
		ids = append(ids, r.(map[string]any)["unique_id"].(string))
	}
	sort.Strings(ids)
	return ids
}

// catalogCounts is the number of nodes and sources in catalog.json, which
// must validate against dbt's schema.
func (p *abProject) catalogCounts() (int, int) {
	p.t.Helper()
	artifactstest.ValidateFile(p.t, artifactstest.Catalog, filepath.Join(p.dir, "target", "catalog.json"))
	c := p.artifact("catalog.json")
	return len(c["nodes"].(map[string]any)), len(c["sources"].(map[string]any))
}

// owner is the role that owns what the project builds (dbt-postgres puts
// it in the catalog; DuckDB has no owners).
func (p *abProject) owner() any {
	if p.engine != "postgres" {
		return nil
	}
	u, _ := url.Parse(p.url)
	return u.User.Username()
}

func forEachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range []string{"duckdb", "postgres"} {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

func vars(p *abProject) string {
	return `{test_schema: ` + p.schema + `, alternate_schema: ` + p.schema + `_snapshots}`
}

// TestAdapterCatalogCounts: after seed and run, docs generate catalogs every
// relation the project built or reads — not ephemeral models — for the
// base, ephemeral and incremental scenarios.
func TestAdapterCatalogCounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		for _, sc := range []struct {
			name           string
			seeds          []string
			nodes, sources int
		}{
			{"base", []string{"towns"}, 4, 1},
			{"ephemeral", []string{"towns"}, 3, 1},
			{"incremental", []string{"towns", "towns_grown"}, 3, 1},
		} {
			t.Run(sc.name, func(t *testing.T) {
				p := newABProject(t, engine, sc.name, sc.seeds...)
				p.dbt(0, "seed")
				p.dbt(0, "run")
				p.dbt(0, "docs", "generate")
				if n, s := p.catalogCounts(); n != sc.nodes || s != sc.sources {
					t.Errorf("catalog has %d nodes and %d sources, want %d and %d", n, s, sc.nodes, sc.sources)
				}
				if sc.name == "ephemeral" {
					m := p.artifact("manifest.json")
					if n, s := len(m["nodes"].(map[string]any)), len(m["sources"].(map[string]any)); n != 4 || s != 1 {
						t.Errorf("manifest has %d nodes and %d sources, want 4 and 1", n, s)
					}
				}
			})
		}
	})
}

// TestAdapterEmptyArtifacts: an empty project seeds and runs nothing, still
// writing run_results.json; there is no catalog until docs generate, which
// writes an empty one.
func TestAdapterEmptyArtifacts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		p := newABProject(t, engine, "empty")
		p.dbt(0, "seed")
		if !p.exists("target", "run_results.json") || len(p.resultIDs()) != 0 {
			t.Errorf("seed of an empty project: run_results.json missing or not empty")
		}
		artifactstest.ValidateFile(t, artifactstest.RunResults, filepath.Join(p.dir, "target", "run_results.json"))
		p.dbt(0, "run")
		if len(p.resultIDs()) != 0 {
			t.Errorf("run of an empty project ran %v", p.resultIDs())
		}
		if p.exists("target", "catalog.json") {
			t.Error("catalog.json before docs generate")
		}
		p.dbt(0, "docs", "generate")
		if !p.exists("target", "run_results.json") {
			t.Error("run_results.json gone after docs generate")
		}
		if n, s := p.catalogCounts(); n != 0 || s != 0 {
			t.Errorf("catalog has %d nodes and %d sources, want none", n, s)
		}
	})
}

// catalogColumns are the columns every relation of the docs scenario has,
// with their type as the engine's catalog spells it.
func catalogColumns(engine string) map[string]string {
	if engine == "postgres" {
		return map[string]string{"id": "integer", "first_name": "text", "email": "text", "ip_address": "text", "updated_at": "timestamp without time zone"}
	}
	return map[string]string{"id": "INTEGER", "first_name": "VARCHAR", "email": "VARCHAR", "ip_address": "VARCHAR", "updated_at": "TIMESTAMP"}
}

// checkCatalogEntry compares one catalog entry's metadata, columns and
// stats with what dbt's suite expects.
func checkCatalogEntry(t *testing.T, p *abProject, got map[string]any, id, schema, name, kind string, cols map[string]string) {
	t.Helper()
	if got == nil {
		t.Errorf("catalog lacks %s", id)
		return
	}
	if got["unique_id"] != id {
		t.Errorf("%s: unique_id %v", id, got["unique_id"])
	}
	md := got["metadata"].(map[string]any)
	want := map[string]any{"schema": schema, "name": name, "type": kind, "comment": nil, "owner": p.owner()}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("%s: metadata %s is %#v, want %#v", id, k, md[k], v)
		}
	}
	gotCols := got["columns"].(map[string]any)
	if len(gotCols) != len(cols) {
		t.Errorf("%s: columns %v, want %v", id, gotCols, cols)
	}
	indexes := map[float64]bool{}
	for name, typ := range cols {
		c, _ := gotCols[name].(map[string]any)
		if c == nil {
			t.Errorf("%s: no column %s", id, name)
			continue
		}
		if c["name"] != name || c["type"] != typ || c["comment"] != nil {
			t.Errorf("%s: column %s is %v, want type %s", id, name, c, typ)
		}
		idx, _ := c["index"].(float64)
		if idx < 1 || indexes[idx] {
			t.Errorf("%s: column %s has index %v", id, name, c["index"])
		}
		indexes[idx] = true
	}
	stats := got["stats"].(map[string]any)
	hs, _ := stats["has_stats"].(map[string]any)
	if len(stats) != 1 || hs == nil || hs["value"] != false || hs["include"] != false || hs["label"] != "Has Stats?" {
		t.Errorf("%s: stats %v, want has_stats false only", id, stats)
	}
}

// checkCatalogFile checks catalog.json's shape and metadata as dbt's suite
// does, and returns it.
func checkCatalogFile(t *testing.T, p *abProject, start time.Time) map[string]any {
	t.Helper()
	artifactstest.ValidateFile(t, artifactstest.Catalog, filepath.Join(p.dir, "target", "catalog.json"))
	c := p.artifact("catalog.json")
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"errors", "metadata", "nodes", "sources"}) {
		t.Errorf("catalog keys %v", keys)
	}
	if errs, _ := c["errors"].([]any); len(errs) != 0 {
		t.Errorf("catalog errors %v", errs)
	}
	md := c["metadata"].(map[string]any)
	if md["dbt_schema_version"] != "https://schemas.getdbt.com/dbt/catalog/v1.json" {
		t.Errorf("catalog schema %v", md["dbt_schema_version"])
	}
	gen, err := time.Parse(time.RFC3339Nano, md["generated_at"].(string))
	if err != nil || gen.Before(start.Add(-time.Second)) || gen.After(time.Now().Add(time.Second)) {
		t.Errorf("generated_at %v (%v) is not within the docs generate run that began at %v", md["generated_at"], err, start)
	}
	if env, _ := md["env"].(map[string]any); len(env) != 1 || env["env_key"] != "env_value" {
		t.Errorf("catalog env %v, want the DBT_ENV_CUSTOM_ENV_ variable", md["env"])
	}
	return c
}

// TestAdapterDocsGenerate: seed and run a project with a view, a view in a
// custom schema, a source, exposures, a custom generic test, macro docs and
// a snapshot not yet taken; docs generate (with and without --no-compile)
// catalogs the seed, both views and the source with dbt's metadata, column
// types and stats, copies the asset paths that exist, and — unless
// --no-compile — writes a manifest holding the descriptions, docs and
// exposures.
func TestAdapterDocsGenerate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		p := newABProject(t, engine, "docs_generate")
		t.Setenv("DBT_ENV_CUSTOM_ENV_env_key", "env_value")
		v := vars(p)
		p.dbt(0, "seed", "--vars", v)
		p.dbt(0, "run", "--vars", v)
		if ids := p.resultIDs(); !slices.Equal(ids, []string{"model.adapter_docs.member_view", "model.adapter_docs.member_view_alt"}) {
			t.Fatalf("run results %v", ids)
		}
		cols := catalogColumns(engine)
		for _, noCompile := range []bool{true, false} {
			p.removeArtifacts("manifest.json", "run_results.json", "catalog.json")
			start := time.Now()
			args := []string{"docs", "generate", "--vars", v}
			if noCompile {
				args = append(args, "--no-compile")
			}
			p.dbt(0, args...)
			if got := p.exists("target", "manifest.json"); got == noCompile {
				t.Errorf("--no-compile %v: manifest.json written: %v", noCompile, got)
			}
			c := checkCatalogFile(t, p, start)
			nodes, sources := c["nodes"].(map[string]any), c["sources"].(map[string]any)
			if len(nodes) != 3 || len(sources) != 1 {
				t.Errorf("catalog has nodes %v and sources %v", keysOf(nodes), keysOf(sources))
			}
			entry := func(m map[string]any, id string) map[string]any { e, _ := m[id].(map[string]any); return e }
			checkCatalogEntry(t, p, entry(nodes, "model.adapter_docs.member_view"), "model.adapter_docs.member_view", p.schema, "member_view", "VIEW", cols)
			checkCatalogEntry(t, p, entry(nodes, "model.adapter_docs.member_view_alt"), "model.adapter_docs.member_view_alt", p.schema+"_alt", "member_view_alt", "VIEW", cols)
			checkCatalogEntry(t, p, entry(nodes, "seed.adapter_docs.members"), "seed.adapter_docs.members", p.schema, "members", "BASE TABLE", cols)
			checkCatalogEntry(t, p, entry(sources, "source.adapter_docs.club.roster"), "source.adapter_docs.club.roster", p.schema, "members", "BASE TABLE", cols)
		}
		if !p.exists("target", "assets", "diagram.txt") {
			t.Error("the asset path's file was not copied to target/assets")
		}
		if p.exists("target", "no-such-assets") {
			t.Error("a missing asset path appeared in target")
		}

		artifactstest.ValidateFile(t, artifactstest.Manifest, filepath.Join(p.dir, "target", "manifest.json"))
		m := p.artifact("manifest.json")
		nodes := m["nodes"].(map[string]any)
		var tests []string
		for id, n := range nodes {
			if n.(map[string]any)["resource_type"] == "test" {
				tests = append(tests, strings.Split(id, ".")[2])
			}
		}
		sort.Strings(tests)
		// A model-level test without arguments keeps dbt's trailing underscore.
		if !slices.Equal(tests, []string{"adapter_docs_does_nothing_member_view_", "not_null_member_view_id", "unique_member_view_id"}) {
			t.Errorf("manifest tests %v", tests)
		}
		for _, id := range []string{"seed.adapter_docs.members", "model.adapter_docs.member_view", "model.adapter_docs.member_view_alt", "snapshot.adapter_docs.members_snapshot"} {
			if nodes[id] == nil {
				t.Errorf("manifest lacks %s", id)
			}
		}
		mv, _ := nodes["model.adapter_docs.member_view"].(map[string]any)
		if mv != nil {
			if mv["description"] != "Members, as a view" || mv["docs"].(map[string]any)["show"] != false {
				t.Errorf("member_view description %v, docs %v", mv["description"], mv["docs"])
			}
			if c, _ := mv["columns"].(map[string]any)["email"].(map[string]any); c == nil || c["description"] != "Contact address" {
				t.Errorf("member_view email column %v", c)
			}
		}
		if alt, _ := nodes["model.adapter_docs.member_view_alt"].(map[string]any); alt != nil && alt["schema"] != p.schema+"_alt" {
			t.Errorf("member_view_alt schema %v", alt["schema"])
		}
		if s, _ := nodes["snapshot.adapter_docs.members_snapshot"].(map[string]any); s != nil && s["schema"] != p.schema+"_snapshots" {
			t.Errorf("snapshot schema %v, want the alternate_schema var", s["schema"])
		}
		src, _ := m["sources"].(map[string]any)["source.adapter_docs.club.roster"].(map[string]any)
		if src == nil || src["schema"] != p.schema || src["identifier"] != "members" || src["loader"] != "a_loader" || src["source_description"] != "The club's own tables" {
			t.Errorf("manifest source %v", src)
		}
		exps, _ := m["exposures"].(map[string]any)
		if len(exps) != 2 {
			t.Errorf("manifest exposures %v", keysOf(exps))
		}
		if e, _ := exps["exposure.adapter_docs.member_notebook"].(map[string]any); e == nil || e["maturity"] != "medium" ||
			!slices.Equal(sortedAny(e["depends_on"].(map[string]any)["nodes"]), []string{"model.adapter_docs.member_view", "model.adapter_docs.member_view_alt"}) {
			t.Errorf("member_notebook exposure %v", e)
		}
		mac, _ := m["macros"].(map[string]any)["macro.adapter_docs.test_does_nothing"].(map[string]any)
		if mac == nil || mac["description"] != "A custom test that never finds anything" || mac["meta"].(map[string]any)["some_key"] != float64(100) ||
			mac["patch_path"] != "adapter_docs://macros/macros.yml" {
			t.Errorf("test_does_nothing macro %v", mac)
		} else if args, _ := mac["arguments"].([]any); len(args) != 1 || args[0].(map[string]any)["description"] != "The model under test" ||
			args[0].(map[string]any)["name"] != "model" || args[0].(map[string]any)["type"] != "Relation" {
			t.Errorf("test_does_nothing arguments %v", mac["arguments"])
		}
		if d, _ := m["docs"].(map[string]any)["doc.adapter_docs.does_nothing_info"].(map[string]any); d == nil {
			t.Errorf("manifest lacks the does_nothing_info docs block")
		}
	})
}

// TestAdapterDocsReferences: descriptions made of docs blocks are rendered
// in the manifest; the catalog holds the table and the view built over an
// ephemeral copy of a source, not the ephemeral model.
func TestAdapterDocsReferences(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		p := newABProject(t, engine, "docs_references")
		t.Setenv("DBT_ENV_CUSTOM_ENV_env_key", "env_value")
		v := vars(p)
		p.dbt(0, "seed", "--vars", v)
		p.dbt(0, "run", "--vars", v)
		if ids := p.resultIDs(); !slices.Equal(ids, []string{"model.adapter_docs_refs.name_counts", "model.adapter_docs_refs.name_counts_view"}) {
			t.Fatalf("run results %v", ids)
		}
		p.removeArtifacts("manifest.json", "run_results.json")
		start := time.Now()
		p.dbt(0, "docs", "generate", "--vars", v)
		c := checkCatalogFile(t, p, start)
		nodes, sources := c["nodes"].(map[string]any), c["sources"].(map[string]any)
		if !slices.Equal(keysOf(nodes), []string{"model.adapter_docs_refs.name_counts", "model.adapter_docs_refs.name_counts_view", "seed.adapter_docs_refs.members"}) ||
			!slices.Equal(keysOf(sources), []string{"source.adapter_docs_refs.club.roster"}) {
			t.Errorf("catalog nodes %v, sources %v", keysOf(nodes), keysOf(sources))
		}
		cols := catalogColumns(engine)
		counts := map[string]string{"first_name": cols["first_name"], "n": "bigint"}
		if engine == "duckdb" {
			counts["n"] = "BIGINT"
		}
		entry := func(m map[string]any, id string) map[string]any { e, _ := m[id].(map[string]any); return e }
		checkCatalogEntry(t, p, entry(nodes, "model.adapter_docs_refs.name_counts"), "model.adapter_docs_refs.name_counts", p.schema, "name_counts", "BASE TABLE", counts)
		checkCatalogEntry(t, p, entry(nodes, "model.adapter_docs_refs.name_counts_view"), "model.adapter_docs_refs.name_counts_view", p.schema, "name_counts_view", "VIEW", counts)
		checkCatalogEntry(t, p, entry(nodes, "seed.adapter_docs_refs.members"), "seed.adapter_docs_refs.members", p.schema, "members", "BASE TABLE", cols)
		checkCatalogEntry(t, p, entry(sources, "source.adapter_docs_refs.club.roster"), "source.adapter_docs_refs.club.roster", p.schema, "members", "BASE TABLE", cols)

		artifactstest.ValidateFile(t, artifactstest.Manifest, filepath.Join(p.dir, "target", "manifest.json"))
		m := p.artifact("manifest.json")
		nodes = m["nodes"].(map[string]any)
		nc, _ := nodes["model.adapter_docs_refs.name_counts"].(map[string]any)
		if nc == nil || nc["description"] != "How many members share each given name" {
			t.Errorf("name_counts description %v", nc["description"])
		} else if col, _ := nc["columns"].(map[string]any)["n"].(map[string]any); col == nil || col["description"] != "Members with that name" {
			t.Errorf("name_counts column n %v", col)
		}
		if eph, _ := nodes["model.adapter_docs_refs.roster_copy"].(map[string]any); eph == nil || eph["config"].(map[string]any)["materialized"] != "ephemeral" {
			t.Errorf("manifest roster_copy %v", eph)
		}
		src, _ := m["sources"].(map[string]any)["source.adapter_docs_refs.club.roster"].(map[string]any)
		if src == nil || src["description"] != "Who is in the club" || src["source_description"] != "The club's own tables" {
			t.Errorf("manifest source %v", src)
		} else if col, _ := src["columns"].(map[string]any)["id"].(map[string]any); col == nil || col["description"] != "Member number" {
			t.Errorf("source column id %v", col)
		}
		if e, _ := m["exposures"].(map[string]any)["exposure.adapter_docs_refs.count_notebook"].(map[string]any); e == nil || e["description"] != "Where names are counted" {
			t.Errorf("count_notebook exposure %v", e)
		}
	})
}

// TestAdapterValidateConnection: debug's connection check passes on each
// engine's target and fails, exit code 1, on a target it cannot reach.
func TestAdapterValidateConnection(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		p := newABProject(t, engine, "empty")
		out := p.dbt(0, "dbt-debug")
		mustContain(t, out, "Connection test: [OK connection ok]", "All checks passed!")
		switch engine {
		case "postgres":
			t.Setenv("ADAPTER_PG_PORT", "1") // nothing listens there
		case "duckdb":
			t.Setenv("ADAPTER_DUCKDB_PATH", filepath.Join(p.dir, "no", "such", "dir", "w.duckdb"))
		}
		out = p.dbt(exitFailure, "dbt-debug")
		if strings.Contains(out, "Connection test: [OK") {
			t.Errorf("an unreachable target passed the connection test:\n%s", out)
		}
	})
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedAny(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	sort.Strings(out)
	return out
}
