package selector

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/dataopskit/dataops/transform/artifacts"
)

// writeState writes the artifacts of a "previous run" of the shop project to
// a directory, with these differences from shop(): stg_customers had another
// body, orders was a table, customers had another schema and another
// version of the macro it calls, util_model did not exist.
func writeState(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m := artifacts.NewManifest(artifacts.NewMetadata("", "prev"))
	for _, n := range shop() {
		info := *(n.(*Info))
		conf := map[string]any{}
		for k, v := range info.Conf {
			conf[k] = v
		}
		switch info.ID {
		case "model.utils.util_model":
			continue
		case "model.shop.stg_customers":
			info.Sum = "old body"
		case "model.shop.orders":
			conf["materialized"] = "table"
		case "model.shop.customers":
			conf["schema"] = "old"
		}
		switch info.Type {
		case Source:
			m.Sources[info.ID] = &artifacts.Source{UniqueID: info.ID, Name: info.NodeName, PackageName: info.Package, FQN: info.FullName, Tags: info.TagList, OriginalFilePath: info.Path, Config: conf}
		case Exposure:
			m.Exposures[info.ID] = &artifacts.Exposure{UniqueID: info.ID, Name: info.NodeName, PackageName: info.Package, FQN: info.FullName, Type: "dashboard", Config: conf, DependsOn: artifacts.DependsOn{Nodes: info.Parents}}
		case UnitTest:
			m.UnitTests[info.ID] = &artifacts.UnitTest{UniqueID: info.ID, Name: info.NodeName, PackageName: info.Package, FQN: info.FullName, Config: conf, DependsOn: artifacts.DependsOn{Nodes: info.Parents}}
		default:
			node := &artifacts.Node{UniqueID: info.ID, ResourceType: info.Type, Name: info.NodeName, PackageName: info.Package, FQN: info.FullName, Tags: info.TagList,
				OriginalFilePath: info.Path, Config: conf, Checksum: artifacts.FileHash{Name: "sha256", Checksum: info.Sum},
				DependsOn: artifacts.DependsOn{Nodes: info.Parents, Macros: info.Macros}}
			if info.GenericTest != "" {
				node.TestMetadata = &artifacts.TestMetadata{Name: info.GenericTest}
			}
			m.Nodes[info.ID] = node
		}
	}
	m.Macros["macro.shop.cents"] = &artifacts.Macro{UniqueID: "macro.shop.cents", MacroSQL: "{% macro cents(x) %}{{ x }} / 100{% endmacro %}"}
	if err := artifacts.WriteFile(filepath.Join(dir, "manifest.json"), m); err != nil {
		t.Fatal(err)
	}
	r := artifacts.NewRunResults(artifacts.NewMetadata("", "prev"))
	r.Results = append(r.Results,
		artifacts.RunResult{UniqueID: "model.shop.orders", Status: "error"},
		artifacts.RunResult{UniqueID: "test.shop.assert_positive", Status: "fail"},
		artifacts.RunResult{UniqueID: "model.shop.customers", Status: "success"},
	)
	if err := artifacts.WriteFile(filepath.Join(dir, "run_results.json"), r); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStateSelection(t *testing.T) {
	st, err := LoadState(writeState(t))
	if err != nil {
		t.Fatal(err)
	}
	g := NewGraph(shop())
	macros := map[string]Macro{"macro.shop.cents": {SQL: "{% macro cents(x) %}{{ x }} / 100.0{% endmacro %}"}}
	cases := []struct {
		sel  string
		want string
	}{
		{"state:new", "util_model"},
		{"state:modified", "customers orders stg_customers util_model"},
		{"state:modified.body", "stg_customers util_model"},
		{"state:modified.configs", "orders util_model"},
		{"state:modified.relation", "customers util_model"},
		{"state:modified.macros", "customers"},
		{"state:modified.contract", "util_model"},
		{"state:old,resource_type:model", "customers orders stg_customers stg_orders"},
		{"state:unmodified,resource_type:model", "stg_orders"},
		{"state:modified+,resource_type:model", "customers orders stg_customers util_model"},
		{"result:error", "orders"},
		{"result:fail", "assert_positive"},
		{"1+result:fail", "assert_positive orders"},
	}
	for _, tc := range cases {
		res, err := Select(g, Options{Select: []string{tc.sel}, State: st, Macros: macros, Indirect: Empty})
		if err != nil {
			t.Fatalf("%s: %v", tc.sel, err)
		}
		if got := short(res.Selected); got != tc.want {
			t.Errorf("%s: selected %q, want %q", tc.sel, got, tc.want)
		}
	}
	// With the same macro text, macros are unmodified.
	same := map[string]Macro{"macro.shop.cents": st.Macros["macro.shop.cents"]}
	res, err := Select(g, Options{Select: []string{"state:modified.macros"}, State: st, Macros: same})
	if err != nil || len(res.Selected) != 0 {
		t.Errorf("unchanged macros selected %v (%v)", res.Selected, err)
	}
}

func TestLoadStateErrors(t *testing.T) {
	if _, err := LoadState(t.TempDir()); !errors.Is(err, ErrNoState) {
		t.Errorf("empty dir: %v", err)
	}
}

func TestHooksCompareBySQL(t *testing.T) {
	a := map[string]any{"post-hook": []any{"grant x"}}
	b := map[string]any{"post-hook": []any{map[string]any{"sql": "grant x", "transaction": true}}}
	if !sameJSON(withoutKeys(a), withoutKeys(b)) {
		t.Error("a hook as a string and as a Hook object differ")
	}
}

func TestConfigDefaultsCompareEqual(t *testing.T) {
	cur := &Info{ID: "model.p.m", Type: Model, FullName: []string{"p", "m"}, Conf: map[string]any{"materialized": "table"}}
	prev := &Info{ID: "model.p.m", Type: Model, FullName: []string{"p", "m"}, Conf: map[string]any{"materialized": "table", "enabled": true, "tags": []any{}, "severity": "ERROR"}}
	e := &evaluator{}
	if e.modified(cur, prev, "configs") {
		t.Error("spelling out dbt's defaults counts as a config change")
	}
	prev.Conf["post-hook"], prev.Conf["meta"], prev.Conf["alias"] = []any{}, map[string]any{}, nil
	if e.modified(cur, prev, "configs") {
		t.Error("empty hooks and meta as a manifest writes them count as a config change")
	}
	prev.Conf["enabled"] = false
	if !e.modified(cur, prev, "configs") {
		t.Error("enabled: false is not a change")
	}
}

func TestSourceStatusFresher(t *testing.T) {
	dir := t.TempDir()
	prev := artifacts.NewSources(artifacts.NewMetadata("", "prev"))
	prev.Results = append(prev.Results, artifacts.FreshnessResult{UniqueID: "source.shop.raw.orders", Status: "pass", MaxLoadedAt: "2024-01-01T00:00:00.000000Z"})
	if err := artifacts.WriteFile(filepath.Join(dir, "sources.json"), prev); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGraph(shop())
	for _, tc := range []struct {
		current map[string]string
		sel     string
		want    string
	}{
		{map[string]string{"source.shop.raw.orders": "2024-01-02T00:00:00Z"}, "source_status:fresher", "orders"},
		{map[string]string{"source.shop.raw.orders": "2024-01-02T00:00:00Z"}, "source_status:fresher+", "customers orders orders orders_snapshot stg_orders"},
		{map[string]string{"source.shop.raw.orders": "2023-12-31T00:00:00Z"}, "source_status:fresher", ""},
		{map[string]string{"source.shop.raw.orders": ""}, "source_status:fresher", ""},
	} {
		st.CurrentFreshness = tc.current
		res, err := Select(g, Options{Select: []string{tc.sel}, State: st, Indirect: Empty, ResourceTypes: []string{Source, Model, Snapshot}})
		if err != nil {
			t.Fatal(err)
		}
		if got := short(res.Selected); got != tc.want {
			t.Errorf("%s with %v: %q, want %q", tc.sel, tc.current, got, tc.want)
		}
	}
	st.CurrentFreshness = nil
	if _, err := Select(g, Options{Select: []string{"source_status:fresher"}, State: st}); !errors.Is(err, ErrNoState) {
		t.Errorf("no current freshness: %v", err)
	}
}
