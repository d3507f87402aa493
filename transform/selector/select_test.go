package selector

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// shop is a small project graph:
//
//	seed raw_customers ─▶ stg_customers ─┐
//	source raw.orders ──▶ stg_orders ────┼─▶ customers ─▶ exposure dashboard
//	                  │                  └─▶ orders
//	                  └─▶ snapshot orders_snapshot
//
// with tests on customers (unique), orders+customers (relationships),
// orders (singular) and a unit test on customers.
func shop() []Node {
	return []Node{
		&Info{ID: "seed.shop.raw_customers", Type: Seed, NodeName: "raw_customers", Package: "shop", FullName: []string{"shop", "raw_customers"}, Path: "seeds/raw_customers.csv", Sum: "s1"},
		&Info{ID: "source.shop.raw.orders", Type: Source, NodeName: "orders", Package: "shop", FullName: []string{"shop", "staging", "raw", "orders"}, Path: "models/staging/sources.yml", TagList: []string{"raw"}},
		&Info{ID: "model.shop.stg_customers", Type: Model, NodeName: "stg_customers", Package: "shop", FullName: []string{"shop", "staging", "stg_customers"}, Path: "models/staging/stg_customers.sql",
			TagList: []string{"staging"}, Conf: map[string]any{"materialized": "view"}, Parents: []string{"seed.shop.raw_customers"}, Sum: "a"},
		&Info{ID: "model.shop.stg_orders", Type: Model, NodeName: "stg_orders", Package: "shop", FullName: []string{"shop", "staging", "stg_orders"}, Path: "models/staging/stg_orders.sql",
			TagList: []string{"staging", "nightly"}, Conf: map[string]any{"materialized": "view"}, Parents: []string{"source.shop.raw.orders"}, Sum: "b"},
		&Info{ID: "model.shop.customers", Type: Model, NodeName: "customers", Package: "shop", FullName: []string{"shop", "marts", "customers"}, Path: "models/marts/customers.sql", Patch: "shop://models/marts/schema.yml",
			Conf:    map[string]any{"materialized": "table", "meta": map[string]any{"owner": "ann", "pii": true}, "unique_key": []any{"id", "x"}, "group": "finance", "access": "public"},
			Parents: []string{"model.shop.stg_customers", "model.shop.stg_orders"}, Sum: "c", Macros: []string{"macro.shop.cents"}},
		&Info{ID: "model.shop.orders", Type: Model, NodeName: "orders", Package: "shop", FullName: []string{"shop", "marts", "orders"}, Path: "models/marts/orders.sql",
			TagList: []string{"nightly"}, Conf: map[string]any{"materialized": "incremental", "schema": "marts"}, Parents: []string{"model.shop.stg_orders"}, Sum: "d"},
		&Info{ID: "test.shop.unique_customers_id.abc", Type: Test, NodeName: "unique_customers_id", Package: "shop", FullName: []string{"shop", "marts", "unique_customers_id"}, Path: "models/marts/schema.yml",
			Parents: []string{"model.shop.customers"}, GenericTest: "unique", Conf: map[string]any{"severity": "warn"}},
		&Info{ID: "test.shop.relationships_orders.def", Type: Test, NodeName: "relationships_orders", Package: "shop", FullName: []string{"shop", "marts", "relationships_orders"}, Path: "models/marts/schema.yml",
			Parents: []string{"model.shop.orders", "model.shop.customers"}, GenericTest: "relationships"},
		&Info{ID: "test.shop.assert_positive", Type: Test, NodeName: "assert_positive", Package: "shop", FullName: []string{"shop", "assert_positive"}, Path: "tests/assert_positive.sql",
			Parents: []string{"model.shop.orders"}},
		&Info{ID: "unit_test.shop.customers.test_customers", Type: UnitTest, NodeName: "test_customers", Package: "shop", FullName: []string{"shop", "marts", "customers", "test_customers"}, Path: "models/marts/schema.yml",
			Parents: []string{"model.shop.customers"}},
		&Info{ID: "exposure.shop.dashboard", Type: Exposure, NodeName: "dashboard", Package: "shop", FullName: []string{"shop", "dashboard"}, Path: "models/exposures.yml",
			Parents: []string{"model.shop.customers"}},
		&Info{ID: "snapshot.shop.orders_snapshot", Type: Snapshot, NodeName: "orders_snapshot", Package: "shop", FullName: []string{"shop", "orders_snapshot", "orders_snapshot"}, Path: "snapshots/orders_snapshot.sql",
			Parents: []string{"source.shop.raw.orders"}, Conf: map[string]any{"strategy": "timestamp"}},
		&Info{ID: "model.utils.util_model", Type: Model, NodeName: "util_model", Package: "utils", FullName: []string{"utils", "util_model"}, Path: "models/util_model.sql", Conf: map[string]any{"materialized": "view"}},
	}
}

// short turns unique ids into their last part for readable expectations.
func short(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		parts := strings.Split(id, ".")
		out[i] = parts[len(parts)-1]
		if strings.HasPrefix(id, "test.") && len(parts) == 4 {
			out[i] = parts[2]
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestSelect(t *testing.T) {
	g := NewGraph(shop())
	models := []string{Model}
	cases := []struct {
		name    string
		opts    Options
		want    string
		warning bool
	}{
		{name: "by name", opts: Options{Select: []string{"customers"}, ResourceTypes: models}, want: "customers"},
		{name: "fqn prefix", opts: Options{Select: []string{"shop.staging"}, ResourceTypes: models}, want: "stg_customers stg_orders"},
		{name: "fqn glob", opts: Options{Select: []string{"shop.staging.*"}, ResourceTypes: models}, want: "stg_customers stg_orders"},
		{name: "fqn glob across dots", opts: Options{Select: []string{"*.stg_*"}, ResourceTypes: models}, want: "stg_customers stg_orders"},
		{name: "package name as fqn", opts: Options{Select: []string{"utils"}}, want: "util_model"},
		{name: "fqn without the package", opts: Options{Select: []string{"staging.stg_orders"}, Indirect: Empty}, want: "stg_orders"},
		{name: "fqn glob without the package", opts: Options{Select: []string{"marts.*"}, ResourceTypes: models}, want: "customers orders"},
		{name: "fqn selects exposures", opts: Options{Select: []string{"dashboard"}}, want: "dashboard"},
		{name: "resource_type source", opts: Options{Select: []string{"resource_type:source"}}, want: "orders"},
		{name: "path of the property file", opts: Options{Select: []string{"path:models/marts/schema.yml"}, ResourceTypes: models, Indirect: Empty}, want: "customers"},
		{name: "severity without case", opts: Options{Select: []string{"config.severity:WARN"}}, want: "unique_customers_id"},
		{name: "cautious test command keeps tests whose parents are selected", opts: Options{Select: []string{"orders customers"}, Indirect: Cautious, ResourceTypes: []string{Test}}, want: "assert_positive relationships_orders unique_customers_id"},
		{name: "cautious intersection", opts: Options{Select: []string{"+relationships_orders,tag:nightly", "customers"}, Indirect: Cautious, ResourceTypes: []string{Model, Test}}, want: "assert_positive customers orders relationships_orders stg_orders unique_customers_id"},
		{name: "fqn method excludes sources", opts: Options{Select: []string{"fqn:orders"}}, want: "assert_positive orders relationships_orders"},
		{name: "warning names the command-line item", opts: Options{Select: []string{"tag:nightly,tag:staging,config.materialized:table"}}, want: "", warning: true},
		{name: "parents", opts: Options{Select: []string{"+customers"}, ResourceTypes: models}, want: "customers stg_customers stg_orders"},
		{name: "parents all types", opts: Options{Select: []string{"+customers"}, Indirect: Empty}, want: "customers orders raw_customers stg_customers stg_orders"},
		{name: "parents depth 1", opts: Options{Select: []string{"1+customers"}, Indirect: Empty}, want: "customers stg_customers stg_orders"},
		{name: "children", opts: Options{Select: []string{"stg_orders+"}, ResourceTypes: models}, want: "customers orders stg_orders"},
		{name: "children depth", opts: Options{Select: []string{"source:raw+1"}, Indirect: Empty}, want: "orders orders_snapshot stg_orders"},
		{name: "children and parents", opts: Options{Select: []string{"1+stg_orders+1"}, Indirect: Empty}, want: "customers orders orders stg_orders"},
		{name: "at operator", opts: Options{Select: []string{"@stg_customers"}, ResourceTypes: models}, want: "customers orders stg_customers stg_orders"},
		{name: "union by space", opts: Options{Select: []string{"orders stg_customers"}, ResourceTypes: models}, want: "orders stg_customers"},
		{name: "union by flags", opts: Options{Select: []string{"orders", "stg_customers"}, ResourceTypes: models}, want: "orders stg_customers"},
		{name: "intersection", opts: Options{Select: []string{"tag:nightly,config.materialized:view"}}, want: "stg_orders"},
		{name: "intersection with graph", opts: Options{Select: []string{"+customers,tag:staging"}}, want: "stg_customers stg_orders"},
		{name: "exclude", opts: Options{Select: []string{"tag:staging"}, Exclude: []string{"stg_orders"}}, want: "stg_customers"},
		{name: "exclude only", opts: Options{Exclude: []string{"package:shop"}}, want: "util_model"},
		{name: "tag glob", opts: Options{Select: []string{"tag:night*"}, ResourceTypes: models}, want: "orders stg_orders"},
		{name: "tag on source", opts: Options{Select: []string{"tag:raw"}}, want: "orders"},
		{name: "path dir", opts: Options{Select: []string{"models/staging"}}, want: "orders stg_customers stg_orders"},
		{name: "path dir trailing slash", opts: Options{Select: []string{"path:models/staging/"}, ResourceTypes: models}, want: "stg_customers stg_orders"},
		{name: "path file", opts: Options{Select: []string{"models/marts/orders.sql"}, Indirect: Empty}, want: "orders"},
		{name: "path glob", opts: Options{Select: []string{"path:models/*/stg_*.sql"}}, want: "stg_customers stg_orders"},
		{name: "file", opts: Options{Select: []string{"stg_orders.sql"}}, want: "stg_orders"},
		{name: "file stem", opts: Options{Select: []string{"file:stg_*"}}, want: "stg_customers stg_orders"},
		{name: "file csv", opts: Options{Select: []string{"raw_customers.csv"}}, want: "raw_customers"},
		{name: "package", opts: Options{Select: []string{"package:utils"}}, want: "util_model"},
		{name: "package this", opts: Options{Select: []string{"package:this"}, ProjectName: "utils"}, want: "util_model"},
		{name: "config nested", opts: Options{Select: []string{"config.meta.owner:ann"}, Indirect: Empty}, want: "customers"},
		{name: "config list member", opts: Options{Select: []string{"config.unique_key:x"}, Indirect: Empty}, want: "customers"},
		{name: "config bool", opts: Options{Select: []string{"config.meta.pii:TRUE"}, Indirect: Empty}, want: "customers"},
		{name: "config bool no match", opts: Options{Select: []string{"config.meta.pii:false"}}, want: "", warning: true},
		{name: "config schema", opts: Options{Select: []string{"config.schema:marts"}, Indirect: Empty}, want: "orders"},
		{name: "source", opts: Options{Select: []string{"source:raw"}}, want: "orders"},
		{name: "source table", opts: Options{Select: []string{"source:raw.orders"}}, want: "orders"},
		{name: "source package glob", opts: Options{Select: []string{"source:shop.raw.ord*"}}, want: "orders"},
		{name: "source children", opts: Options{Select: []string{"source:raw+"}, ResourceTypes: models}, want: "customers orders stg_orders"},
		{name: "exposure parents", opts: Options{Select: []string{"+exposure:dashboard"}, ResourceTypes: []string{Model, Seed}}, want: "customers raw_customers stg_customers stg_orders"},
		{name: "resource_type", opts: Options{Select: []string{"resource_type:snapshot"}}, want: "orders_snapshot"},
		{name: "test_type generic", opts: Options{Select: []string{"test_type:generic"}}, want: "relationships_orders unique_customers_id"},
		{name: "test_type singular", opts: Options{Select: []string{"test_type:singular"}}, want: "assert_positive"},
		{name: "test_type data", opts: Options{Select: []string{"test_type:data"}}, want: "assert_positive relationships_orders unique_customers_id"},
		{name: "test_type unit", opts: Options{Select: []string{"test_type:unit"}}, want: "test_customers"},
		{name: "test_name", opts: Options{Select: []string{"test_name:uniq*"}}, want: "unique_customers_id"},
		{name: "group", opts: Options{Select: []string{"group:finance"}, Indirect: Empty}, want: "customers"},
		{name: "access", opts: Options{Select: []string{"access:protected"}, ResourceTypes: models}, want: "orders stg_customers stg_orders util_model"},
		{name: "everything", opts: Options{Select: []string{"*"}, ResourceTypes: []string{Seed, Snapshot}}, want: "orders_snapshot raw_customers"},
		{name: "default is all", opts: Options{ResourceTypes: []string{Source, Exposure}}, want: "dashboard orders"},
		{name: "no match warns", opts: Options{Select: []string{"nope"}}, want: "", warning: true},

		// Indirect selection of tests.
		{name: "eager: tests of tests' parents", opts: Options{Select: []string{"+customers"}}, want: "customers orders raw_customers relationships_orders stg_customers stg_orders test_customers unique_customers_id"},
		{name: "eager: any parent selected", opts: Options{Select: []string{"orders"}}, want: "assert_positive orders relationships_orders"},
		{name: "cautious: all parents selected", opts: Options{Select: []string{"orders"}, Indirect: Cautious}, want: "assert_positive orders"},
		{name: "cautious: parents selected by union", opts: Options{Select: []string{"orders customers"}, Indirect: Cautious}, want: "assert_positive customers orders relationships_orders test_customers unique_customers_id"},
		{name: "buildable: parents upstream", opts: Options{Select: []string{"+orders"}, Indirect: Buildable, ResourceTypes: []string{Model, Test}}, want: "assert_positive orders stg_orders"},
		{name: "buildable: ancestors count", opts: Options{Select: []string{"customers"}, Indirect: Buildable}, want: "customers test_customers unique_customers_id"},
		{name: "empty: no tests", opts: Options{Select: []string{"customers"}, Indirect: Empty}, want: "customers"},
		{name: "excluding a model excludes its tests", opts: Options{Select: []string{"shop.marts"}, Exclude: []string{"orders"}}, want: "customers test_customers unique_customers_id"},
		{name: "test command types", opts: Options{Select: []string{"customers"}, ResourceTypes: []string{Test, UnitTest}}, want: "relationships_orders test_customers unique_customers_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Select(g, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := short(res.Selected); got != tc.want {
				t.Errorf("selected %q, want %q", got, tc.want)
			}
			if got := len(res.Warnings) > 0; got != tc.warning {
				t.Errorf("warnings %q, want some: %v", res.Warnings, tc.warning)
			}
		})
	}
}

func TestParseCriterion(t *testing.T) {
	cases := []struct {
		in   string
		want string
		err  string
	}{
		{in: "orders", want: "fqn:orders"},
		{in: "+orders", want: "+fqn:orders"},
		{in: "2+orders+3", want: "2+fqn:orders+3"},
		{in: "@tag:x", want: "@tag:x"},
		{in: "config.meta.owner:ann+", want: "config.meta.owner:ann+"},
		{in: "models/staging", want: "path:models/staging"},
		{in: "a.SQL", want: "file:a.SQL"},
		{in: "state:modified.body+", want: "state:modified.body+"},
		{in: "a+b", want: "fqn:a+b"},
		{in: "@+orders", err: "cannot be combined"},
		{in: "bogus:x", err: `"bogus" is not a valid method name`},
		{in: "config:x", err: "needs an argument"},
		{in: "tag.x:y", err: "takes no argument"},
		{in: "tag:", err: "no value"},
		{in: "+", err: "no value"},
		{in: "99999999999999999999+a", err: "parents depth"},
	}
	for _, tc := range cases {
		c, err := ParseCriterion(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSyntax) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := c.String(); got != tc.want {
			t.Errorf("%q parsed as %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSelectErrors(t *testing.T) {
	g := NewGraph(shop())
	cases := []struct {
		opts Options
		is   error
		text string
	}{
		{Options{Select: []string{"state:modified"}}, ErrNoState, "manifest.json"},
		{Options{Select: []string{"result:error"}}, ErrNoState, "run_results.json"},
		{Options{Select: []string{"source:a.b.c.d"}}, ErrSyntax, "source_name"},
		{Options{Select: []string{"test_type:weird"}}, ErrSyntax, "test_type"},
		{Options{Select: []string{"resource_type:cube"}}, ErrSyntax, "unknown resource type"},
		{Options{Selector: "nightly"}, ErrUnknownSelector, "none are defined"},
		{Options{Selector: "x", Select: []string{"a"}}, ErrSyntax, "cannot be combined"},
		{Options{Select: []string{"a"}, Indirect: "sometimes"}, ErrSyntax, "indirect selection"},
		{Options{Select: []string{"state:modified.color"}, State: &State{Nodes: map[string]Node{}}}, ErrSyntax, "unknown state"},
	}
	for _, tc := range cases {
		_, err := Select(g, tc.opts)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%+v: error %v, want %v containing %q", tc.opts, err, tc.is, tc.text)
		}
	}
}

func TestFnmatch(t *testing.T) {
	cases := []struct {
		name, pat string
		want      bool
	}{
		{"abc", "abc", true}, {"abc", "a*", true}, {"a.b/c", "a*c", true}, {"abc", "a?c", true},
		{"abc", "a[bx]c", true}, {"abc", "a[!b]c", false}, {"a-c", "a[a-z-]c", true}, {"abc", "a[c-d]c", false},
		{"a[c", "a[c", true}, {"", "*", true}, {"x", "", false}, {"aaab", "*a*b", true}, {"ab", "*a*b*c", false},
		{"a]", "a[]]", true}, {"ünï", "?n?", true},
	}
	for _, tc := range cases {
		if got := fnmatch(tc.name, tc.pat); got != tc.want {
			t.Errorf("fnmatch(%q, %q) = %v", tc.name, tc.pat, got)
		}
	}
}
