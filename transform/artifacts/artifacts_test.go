package artifacts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/artifacts/artifactstest"
)

func sampleManifest() *artifacts.Manifest {
	m := artifacts.NewManifest(artifacts.NewMetadata(artifacts.ManifestV12, "inv-1"))
	m.Metadata.ProjectName = artifacts.Str("shop")
	m.Metadata.AdapterType = artifacts.Str("duckdb")
	db := artifacts.Str("memory")
	sum := artifacts.FileHash{Name: "sha256", Checksum: "abc"}
	m.Nodes["seed.shop.raw_customers"] = &artifacts.Node{Database: db, Schema: "main", Name: "raw_customers", ResourceType: "seed", PackageName: "shop",
		Path: "raw_customers.csv", OriginalFilePath: "seeds/raw_customers.csv", UniqueID: "seed.shop.raw_customers", FQN: []string{"shop", "raw_customers"},
		Alias: "raw_customers", Checksum: sum, Config: map[string]any{"materialized": "seed", "column_types": map[string]any{"id": "integer"}},
		RootPath: artifacts.Str("/p"), DependsOn: artifacts.DependsOn{Macros: []string{"macro.dbt.load_csv_rows"}, Nodes: []string{"ignored"}}}
	m.Nodes["model.shop.customers"] = &artifacts.Node{Database: db, Schema: "main", Name: "customers", ResourceType: "model", PackageName: "shop",
		Path: "customers.sql", OriginalFilePath: "models/customers.sql", UniqueID: "model.shop.customers", FQN: []string{"shop", "customers"},
		Alias: "customers", Checksum: sum, Config: map[string]any{"materialized": "table", "post-hook": []string{"grant select on {{ this }} to x"}, "unique_key": []string{"a", "b"}, "group": "finance"},
		Group:     artifacts.Str("finance"),
		Columns:   map[string]*artifacts.Column{"id": {Name: "id", Description: "key", DataType: artifacts.Str("integer")}},
		RawCode:   "select * from {{ ref('raw_customers') }}",
		DependsOn: artifacts.DependsOn{Nodes: []string{"seed.shop.raw_customers"}}, Refs: []artifacts.RefArgs{{Name: "raw_customers"}},
		Compiled: true, CompiledCode: artifacts.Str("select * from main.raw_customers"), RelationName: artifacts.Str(`"memory"."main"."customers"`)}
	m.Nodes["test.shop.unique_customers_id.1a"] = &artifacts.Node{Database: db, Schema: "main_dbt_test__audit", Name: "unique_customers_id", ResourceType: "test", PackageName: "shop",
		Path: "unique_customers_id.sql", OriginalFilePath: "models/schema.yml", UniqueID: "test.shop.unique_customers_id.1a", FQN: []string{"shop", "unique_customers_id"},
		Alias: "unique_customers_id", Checksum: artifacts.FileHash{Name: "none"}, Config: map[string]any{"severity": "ERROR", "materialized": "test"},
		ColumnName: artifacts.Str("id"), AttachedNode: artifacts.Str("model.shop.customers"), FileKeyName: artifacts.Str("models.customers"),
		TestMetadata: &artifacts.TestMetadata{Name: "unique", Kwargs: map[string]any{"column_name": "id", "model": "{{ get_where_subquery(ref('customers')) }}"}},
		DependsOn:    artifacts.DependsOn{Nodes: []string{"model.shop.customers"}, Macros: []string{"macro.dbt.test_unique"}}}
	m.Nodes["test.shop.assert_positive"] = &artifacts.Node{Database: db, Schema: "main", Name: "assert_positive", ResourceType: "test", PackageName: "shop",
		Path: "assert_positive.sql", OriginalFilePath: "tests/assert_positive.sql", UniqueID: "test.shop.assert_positive", FQN: []string{"shop", "assert_positive"},
		Alias: "assert_positive", Checksum: sum, ColumnName: artifacts.Str("x"), DependsOn: artifacts.DependsOn{Nodes: []string{"model.shop.customers"}}}
	m.Nodes["snapshot.shop.snap"] = &artifacts.Node{Database: db, Schema: "snapshots", Name: "snap", ResourceType: "snapshot", PackageName: "shop",
		Path: "snap.sql", OriginalFilePath: "snapshots/snap.sql", UniqueID: "snapshot.shop.snap", FQN: []string{"shop", "snap", "snap"},
		Alias: "snap", Checksum: sum, Config: map[string]any{"strategy": "check", "check_cols": "all", "unique_key": "id"}, DependsOn: artifacts.DependsOn{Nodes: []string{"source.shop.raw.orders"}}}
	idx := 0
	m.Nodes["operation.shop.shop-on-run-start-0"] = &artifacts.Node{Database: db, Schema: "main", Name: "shop-on-run-start-0", ResourceType: "operation", PackageName: "shop",
		Path: "hooks/shop-on-run-start-0.sql", OriginalFilePath: "./dbt_project.yml", UniqueID: "operation.shop.shop-on-run-start-0", FQN: []string{"shop", "hooks", "shop-on-run-start-0"},
		Alias: "shop-on-run-start-0", Checksum: sum, Index: &idx}
	m.Nodes["analysis.shop.a"] = &artifacts.Node{Database: db, Schema: "main", Name: "a", ResourceType: "analysis", PackageName: "shop",
		Path: "analysis/a.sql", OriginalFilePath: "analyses/a.sql", UniqueID: "analysis.shop.a", FQN: []string{"shop", "analysis", "a"}, Alias: "a", Checksum: sum}
	m.Sources["source.shop.raw.orders"] = &artifacts.Source{Database: db, Schema: "raw", Name: "orders", PackageName: "shop", Path: "models/sources.yml",
		OriginalFilePath: "models/sources.yml", UniqueID: "source.shop.raw.orders", FQN: []string{"shop", "raw", "orders"}, SourceName: "raw", Identifier: "orders",
		LoadedAtField: artifacts.Str("_loaded_at"),
		Freshness:     &artifacts.Freshness{WarnAfter: &artifacts.Period{Count: new(12), Period: artifacts.Str("hour")}, ErrorAfter: &artifacts.Period{}},
		RelationName:  artifacts.Str(`"memory"."raw"."orders"`)}
	m.Macros["macro.shop.cents"] = &artifacts.Macro{Name: "cents", PackageName: "shop", Path: "macros/cents.sql", OriginalFilePath: "macros/cents.sql",
		UniqueID: "macro.shop.cents", MacroSQL: "{% macro cents(x) %}{{ x }}/100{% endmacro %}", Docs: artifacts.Docs{Show: true}}
	m.Docs["doc.shop.orders"] = &artifacts.Doc{Name: "orders", ResourceType: "doc", PackageName: "shop", Path: "docs.md", OriginalFilePath: "models/docs.md", UniqueID: "doc.shop.orders", BlockContents: "Orders."}
	m.Exposures["exposure.shop.dash"] = &artifacts.Exposure{Name: "dash", PackageName: "shop", Path: "models/exposures.yml", OriginalFilePath: "models/exposures.yml",
		UniqueID: "exposure.shop.dash", FQN: []string{"shop", "dash"}, Type: "dashboard", Owner: artifacts.Owner{Email: "a@b.c"}, DependsOn: artifacts.DependsOn{Nodes: []string{"model.shop.customers"}}}
	m.Groups["group.shop.finance"] = &artifacts.Group{Name: "finance", ResourceType: "group", PackageName: "shop", Path: "models/groups.yml", OriginalFilePath: "models/groups.yml",
		UniqueID: "group.shop.finance", Owner: artifacts.Owner{Name: artifacts.Str("Fin")}}
	m.UnitTests["unit_test.shop.customers.t1"] = &artifacts.UnitTest{Model: "customers", Name: "t1", PackageName: "shop", Path: "models/schema.yml", OriginalFilePath: "models/schema.yml",
		UniqueID: "unit_test.shop.customers.t1", FQN: []string{"shop", "customers", "t1"},
		Given:     []artifacts.UnitTestInput{{Input: "ref('raw_customers')", Rows: []map[string]any{{"id": 1}}}, {Input: "ref('x')", Rows: "id\n1", Format: "csv"}},
		Expect:    artifacts.UnitTestOutput{Rows: []map[string]any{{"id": 1}}},
		DependsOn: artifacts.DependsOn{Nodes: []string{"model.shop.customers"}}}
	m.Selectors["nightly"] = map[string]any{"name": "nightly", "definition": "tag:nightly"}
	m.BuildMaps()
	return m
}

func TestManifestValidates(t *testing.T) {
	m := sampleManifest()
	var buf bytes.Buffer
	if err := artifacts.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	artifactstest.Validate(t, artifactstest.Manifest, buf.Bytes())

	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	nodes := raw["nodes"].(map[string]any)
	seed := nodes["seed.shop.raw_customers"].(map[string]any)
	if _, ok := seed["refs"]; ok {
		t.Error("a seed carries refs, which its schema forbids")
	}
	if got := seed["depends_on"]; !reflect.DeepEqual(got, map[string]any{"macros": []any{"macro.dbt.load_csv_rows"}}) {
		t.Errorf("seed depends_on %v", got)
	}
	hooks := nodes["model.shop.customers"].(map[string]any)["config"].(map[string]any)["post-hook"].([]any)
	if h := hooks[0].(map[string]any); h["sql"] != "grant select on {{ this }} to x" || h["transaction"] != true {
		t.Errorf("post-hook %v", hooks)
	}
	singular := nodes["test.shop.assert_positive"].(map[string]any)
	if _, ok := singular["column_name"]; ok {
		t.Error("a singular test carries column_name")
	}
	if got := m.ChildMap["model.shop.customers"]; !reflect.DeepEqual(got, []string{"exposure.shop.dash", "test.shop.assert_positive", "test.shop.unique_customers_id.1a", "unit_test.shop.customers.t1"}) {
		t.Errorf("child_map[customers] = %v", got)
	}
	if got := m.ParentMap["source.shop.raw.orders"]; got == nil || len(got) != 0 {
		t.Errorf("parent_map[source] = %#v, want []", got)
	}
	if got := m.GroupMap["finance"]; !reflect.DeepEqual(got, []string{"model.shop.customers"}) {
		t.Errorf("group_map = %v", m.GroupMap)
	}
}

// TestSchemaCatchesErrors proves the validation can fail: a manifest node
// with a field its kind does not have, and one without a required field.
func TestSchemaCatchesErrors(t *testing.T) {
	s := artifactstest.Schema(t, artifactstest.Manifest)
	var buf bytes.Buffer
	if err := artifacts.Encode(&buf, sampleManifest()); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(map[string]any){
		"unknown field": func(n map[string]any) { n["colour"] = "red" },
		"missing alias": func(n map[string]any) { delete(n, "alias") },
		"bad checksum":  func(n map[string]any) { n["checksum"] = "abc" },
	} {
		var doc map[string]any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		mutate(doc["nodes"].(map[string]any)["model.shop.customers"].(map[string]any))
		if err := s.Validate(doc); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target", "manifest.json")
	m := sampleManifest()
	if err := artifacts.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	artifactstest.ValidateFile(t, artifactstest.Manifest, path)
	back, err := artifacts.ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Nodes["model.shop.customers"]; got == nil || *got.CompiledCode != "select * from main.raw_customers" || got.Checksum.Checksum != "abc" || got.Config["materialized"] != "table" {
		t.Errorf("read back %+v", got)
	}
	if back.Macros["macro.shop.cents"].MacroSQL == "" || len(back.Sources) != 1 || len(back.UnitTests) != 1 {
		t.Error("macros, sources or unit tests lost")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestRunResultsValidate(t *testing.T) {
	r := artifacts.NewRunResults(artifacts.NewMetadata("", "inv"))
	now := time.Now()
	for i, st := range []string{artifacts.StatusSuccess, artifacts.StatusError, artifacts.StatusSkipped, artifacts.StatusPass, artifacts.StatusFail, artifacts.StatusWarn} {
		res := artifacts.RunResult{Status: st, ThreadID: "Thread-1", ExecutionTime: 0.5, UniqueID: "model.shop.m" + string(rune('a'+i)),
			Timing:  []artifacts.Timing{artifacts.NewTiming("compile", now, now), artifacts.NewTiming("execute", now, now.Add(time.Second))},
			Message: artifacts.Str("OK"), Compiled: new(true), CompiledCode: artifacts.Str("select 1"), RelationName: artifacts.Str("main.m")}
		if st == artifacts.StatusFail {
			res.Failures = new(3)
		}
		r.Results = append(r.Results, res)
	}
	r.Results = append(r.Results, artifacts.RunResult{Status: artifacts.StatusSkipped, UniqueID: "model.shop.z"})
	r.ElapsedTime = 1.5
	r.Args["which"] = "build"
	dir := t.TempDir()
	path := filepath.Join(dir, "run_results.json")
	if err := artifacts.WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	artifactstest.ValidateFile(t, artifactstest.RunResults, path)
	back, err := artifacts.ReadRunResults(path)
	if err != nil {
		t.Fatal(err)
	}
	st := back.Statuses()
	if st["model.shop.me"] != "fail" || *back.Results[4].Failures != 3 || len(st) != 7 {
		t.Errorf("statuses %v", st)
	}
	// A run_results.json is not a manifest.
	if _, err := artifacts.ReadManifest(path); !errors.Is(err, artifacts.ErrSchemaVersion) {
		t.Errorf("read as manifest: %v", err)
	}
}

func TestCatalogValidates(t *testing.T) {
	c := artifacts.NewCatalog(artifacts.NewMetadata("", "inv"))
	c.Nodes["model.shop.customers"] = &artifacts.CatalogTable{
		Metadata: artifacts.TableMetadata{Type: "BASE TABLE", Schema: "main", Name: "customers", Database: artifacts.Str("memory")},
		Columns: map[string]*artifacts.CatalogColumn{
			"id":   {Type: "INTEGER", Index: 1, Name: "id"},
			"name": {Type: "VARCHAR", Index: 2, Name: "name"},
		},
		Stats:    artifacts.RowCountStats(100),
		UniqueID: artifacts.Str("model.shop.customers"),
	}
	c.Sources["source.shop.raw.orders"] = &artifacts.CatalogTable{
		Metadata: artifacts.TableMetadata{Type: "VIEW", Schema: "raw", Name: "orders"},
		Columns:  map[string]*artifacts.CatalogColumn{},
		Stats:    artifacts.NoStats(),
	}
	path := filepath.Join(t.TempDir(), "catalog.json")
	if err := artifacts.WriteFile(path, c); err != nil {
		t.Fatal(err)
	}
	artifactstest.ValidateFile(t, artifactstest.Catalog, path)
	back, err := artifacts.ReadCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	if col := back.Nodes["model.shop.customers"].Columns["name"]; col.Index != 2 || col.Type != "VARCHAR" {
		t.Errorf("column %+v", col)
	}
}

func TestSourcesValidates(t *testing.T) {
	s := artifacts.NewSources(artifacts.NewMetadata("", "inv"))
	now := time.Now()
	s.Results = append(s.Results,
		artifacts.FreshnessResult{UniqueID: "source.shop.raw.orders", MaxLoadedAt: artifacts.Timestamp(now.Add(-time.Hour)), SnapshottedAt: artifacts.Timestamp(now),
			MaxLoadedAtTimeAgoInS: 3600, Status: artifacts.StatusWarn, ThreadID: "Thread-1", ExecutionTime: 0.1,
			Criteria: artifacts.Freshness{WarnAfter: &artifacts.Period{Count: new(30), Period: artifacts.Str("minute")}},
			Timing:   []artifacts.Timing{artifacts.NewTiming("execute", now, now)}},
		artifacts.FreshnessResult{UniqueID: "source.shop.raw.gone", Status: artifacts.StatusRuntimeError, Error: "table raw.gone does not exist"},
	)
	s.ElapsedTime = 0.2
	path := filepath.Join(t.TempDir(), "sources.json")
	if err := artifacts.WriteFile(path, s); err != nil {
		t.Fatal(err)
	}
	artifactstest.ValidateFile(t, artifactstest.Sources, path)
	back, err := artifacts.ReadSources(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Results[1].Error != "table raw.gone does not exist" || back.Results[0].Status != "warn" {
		t.Errorf("read back %+v", back.Results)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(bad, []byte("{\n  \"metadata\": {\n  oops\n}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := artifacts.ReadManifest(bad); err == nil || !strings.Contains(err.Error(), "manifest.json:3") {
		t.Errorf("bad JSON: %v", err)
	}
	if _, err := artifacts.ReadManifest(filepath.Join(dir, "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A failed write leaves the old artifact in place.
	good := filepath.Join(dir, "run_results.json")
	if err := artifacts.WriteFile(good, artifacts.NewRunResults(artifacts.NewMetadata("", "x"))); err != nil {
		t.Fatal(err)
	}
	if err := artifacts.WriteFile(good, map[string]any{"bad": func() {}}); err == nil {
		t.Fatal("encoding a func succeeded")
	}
	if _, err := artifacts.ReadRunResults(good); err != nil {
		t.Errorf("old artifact damaged: %v", err)
	}
}
