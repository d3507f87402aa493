package selector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const selectorsYML = `
selectors:
  - name: staging
    definition: 'tag:staging'
  - name: nightly_tables
    description: nightly models that are tables or views, but not orders
    default: true
    definition:
      union:
        - intersection:
            - tag: nightly
            - method: config.materialized
              value: view
        - method: fqn
          value: customers
          parents: true
          parents_depth: 1
          indirect_selection: empty
        - exclude:
            - stg_customers
  - name: reuse
    definition:
      intersection:
        - method: selector
          value: staging
        - exclude:
            - method: tag
              value: nightly
  - name: with_exclude
    definition:
      method: path
      value: models/marts
      exclude:
        - "orders+"
  - name: children
    definition:
      method: source
      value: raw
      children: true
      children_depth: 1
  - name: at
    definition:
      method: fqn
      value: stg_customers
      childrens_parents: true
`

func TestSelectorsYAML(t *testing.T) {
	sel, err := ParseSelectors("selectors.yml", []byte(selectorsYML), SelectorsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := sel.Default(); d == nil || d.Name != "nightly_tables" || d.Line != 5 {
		t.Fatalf("default selector %+v, want nightly_tables at line 5", d)
	}
	g := NewGraph(shop())
	cases := []struct {
		opts Options
		want string
	}{
		{Options{Selector: "staging", ResourceTypes: []string{Model}}, "stg_customers stg_orders"},
		{Options{ResourceTypes: []string{Model, Test, UnitTest}}, "customers stg_orders"},
		{Options{Select: []string{"orders"}, ResourceTypes: []string{Model}}, "orders"},
		{Options{Selector: "reuse"}, "stg_customers"},
		{Options{Selector: "with_exclude"}, "customers test_customers unique_customers_id"},
		{Options{Selector: "children", Indirect: Empty}, "orders orders_snapshot stg_orders"},
		{Options{Selector: "at", ResourceTypes: []string{Model}}, "customers orders stg_customers stg_orders"},
	}
	for _, tc := range cases {
		tc.opts.Selectors = sel
		res, err := Select(g, tc.opts)
		if err != nil {
			t.Fatalf("%+v: %v", tc.opts, err)
		}
		if got := short(res.Selected); got != tc.want {
			t.Errorf("%s: selected %q, want %q", tc.opts.Selector, got, tc.want)
		}
	}
	if _, err := Select(g, Options{Selector: "nope", Selectors: sel}); !errors.Is(err, ErrUnknownSelector) || !strings.Contains(err.Error(), "known: at, children") {
		t.Errorf("unknown selector: %v", err)
	}
}

func TestSelectorsYAMLErrors(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"bad yaml", "selectors:\n  - name: a\n   definition: [", "selectors.yml: invalid selector: [3:"},
		{"not a list", "selectors: 3", "selectors.yml:1: invalid selector: `selectors:` must be a list"},
		{"no name", "selectors:\n  - definition: a", "selectors.yml:2: invalid selector: selector has no name"},
		{"duplicate", "selectors:\n  - name: a\n    definition: x\n  - name: a\n    definition: y", `selectors.yml:4: selector "a": invalid selector: duplicate selector name (first defined at line 2)`},
		{"two defaults", "selectors:\n  - name: a\n    default: true\n    definition: x\n  - name: b\n    default: true\n    definition: y", "more than one selector is marked default: a, b"},
		{"bad method", "selectors:\n  - name: a\n    definition:\n      union:\n        - 'tag:x'\n        - method: colour\n          value: red", `selectors.yml:6: selector "a": invalid selector: invalid selector: "colour" is not a valid method name`},
		{"bad cli", "selectors:\n  - name: a\n    definition:\n      intersection:\n        - '@+x'", `selectors.yml:5: selector "a"`},
		{"bad depth", "selectors:\n  - name: a\n    definition:\n      method: tag\n      value: x\n      parents: true\n      parents_depth: -2", `selectors.yml:7: selector "a": invalid selector: parents_depth must be a non-negative integer`},
		{"union and intersection", "selectors:\n  - name: a\n    definition:\n      union: [x]\n      intersection: [y]", "cannot hold both union and intersection"},
		{"two keys", "selectors:\n  - name: a\n    definition:\n      tag: x\n      path: y", "got path, tag"},
		{"exclude twice", "selectors:\n  - name: a\n    definition:\n      union:\n        - x\n        - exclude: [y]\n        - exclude: [z]", "selectors.yml:7: selector \"a\": invalid selector: only one exclude"},
		{"default string", "selectors:\n  - name: a\n    default: \"{{ target.name == 'prod' }}\"\n    definition: x", "default must be a boolean"},
		{"no definition", "selectors:\n  - name: a", "selector has no definition"},
	}
	for _, tc := range cases {
		_, err := ParseSelectors("selectors.yml", []byte(tc.text), SelectorsOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestSelectorsRenderDefaultAndLoad(t *testing.T) {
	dir := t.TempDir()
	if s, err := LoadSelectors(dir, SelectorsOptions{}); s != nil || err != nil {
		t.Fatalf("no selectors.yml: %v, %v", s, err)
	}
	text := "selectors:\n  - name: a\n    default: \"{{ target.name == 'prod' }}\"\n    definition: x\n"
	if err := os.WriteFile(filepath.Join(dir, "selectors.yml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var rendered string
	s, err := LoadSelectors(dir, SelectorsOptions{RenderDefault: func(s string) (bool, error) { rendered = s; return true, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if s.Default() == nil || rendered != "{{ target.name == 'prod' }}" {
		t.Errorf("default not rendered: %q", rendered)
	}
}

func TestSelectorCycle(t *testing.T) {
	sel, err := ParseSelectors("selectors.yml", []byte("selectors:\n  - name: a\n    definition:\n      method: selector\n      value: a\n"), SelectorsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Select(NewGraph(shop()), Options{Selector: "a", Selectors: sel}); err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Errorf("cycle: %v", err)
	}
}
