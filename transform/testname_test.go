package transform

import (
	"context"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/transform/jinja"
)

// TestGenericTestNamesAsDBT checks generic tests' names, unique ids, paths
// and aliases against dbt-core's (synthesize_generic_test_names and the
// unique_id hash of SchemaGenericTestParser.create_test_node, computed with
// dbt-core's own Python for these arguments): lists and mappings flatten to
// their items and values written as Python's str(), column_name sorts among
// the arguments, a source's tests start with source_, and a name of 64
// characters or more gets a short alias and file name.
func TestGenericTestNamesAsDBT(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"models/orders.sql":                           "select 1 as id",
		"tests/generic/my_check.sql":                  "{% test my_check(model, column_name=none, mapping=none, flag=none, ratio=none, nothing=none) %}select 1 where false{% endtest %}",
		"models/a_very_long_customers_model_name.sql": "select 1 as customer_identifier",
		"models/schema.yml": `version: 2
sources:
  - name: raw
    tables:
      - name: customers
        columns:
          - name: id
            tests: [not_null]
models:
  - name: orders
    columns:
      - name: status
        tests:
          - accepted_values:
              values: ['placed', 'shipped']
      - name: id
        tests:
          - my_check:
              mapping: {x: 1, y: 'b c'}
              flag: true
      - name: customer_identifier_of_the_order
        tests:
          - relationships:
              to: ref('a_very_long_customers_model_name')
              field: customer_identifier
    tests:
      - my_check:
          mapping: {a: [1, 2]}
          ratio: 0.5
          nothing: null
`,
	})
	p, err := Load(context.Background(), dir, WithProfilesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, path, alias string }{
		{"test.proj.accepted_values_orders_status__placed__shipped.7de09bf3cd", "accepted_values_orders_status__placed__shipped.sql", ""},
		{"test.proj.my_check_orders_id__True__1__b_c.ff051c6bb1", "my_check_orders_id__True__1__b_c.sql", ""},
		{"test.proj.my_check_orders__1_2___None__0_5.3bc6252226", "my_check_orders__1_2___None__0_5.sql", ""},
		{"test.proj.relationships_orders_customer_identifier_of_the_order__customer_identifier__ref_a_very_long_customers_model_name_.5d61d9945d",
			"relationships_orders_5a4a8fe6dbcf138c5956d5ab7f848694.sql", "relationships_orders_5a4a8fe6dbcf138c5956d5ab7f848694"},
		{"test.proj.source_not_null_raw_customers_id.bb348d55ac", "source_not_null_raw_customers_id.sql", ""},
	} {
		n := p.Nodes[c.id]
		if n == nil {
			var ids []string
			for _, t := range p.NodesOf(ResourceTest) {
				ids = append(ids, t.UniqueID)
			}
			t.Errorf("no node %s among %v", c.id, ids)
			continue
		}
		if n.Path != c.path {
			t.Errorf("%s: path %q, want %q", c.id, n.Path, c.path)
		}
		if n.Alias != firstNonEmpty(c.alias, n.Name) {
			t.Errorf("%s: alias %q, want %q", c.id, n.Alias, firstNonEmpty(c.alias, n.Name))
		}
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// TestPyStr checks the Python str()/repr() forms test names are made of.
func TestPyStr(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {false, "False"}, {3, "3"}, {int64(-7), "-7"}, {uint64(9), "9"},
		{1.0, "1.0"}, {0.5, "0.5"}, {1e16, "1e+16"}, {1.5e-7, "1.5e-07"}, {0.0001, "0.0001"}, {123456789.125, "123456789.125"},
		{"it's", "it's"}, {[]any{"a", 1, nil}, "['a', 1, None]"}, {[]any{"it's"}, `["it's"]`}, {[]any{`a"b'c`}, `['a"b\'c']`},
		{map[string]any{"b": 1, "a": "x"}, "{'a': 'x', 'b': 1}"}, {[]any{"tab\tnl\n"}, `['tab\tnl\n']`},
	} {
		if got := pyStr(c.v); got != c.want {
			t.Errorf("pyStr(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}

// TestWriteQuoted holds the fast path of writeQuoted to jinja.PyRepr.
func TestWriteQuoted(t *testing.T) {
	for _, s := range []string{"", "plain", "ref('x')", `say "hi"`, `it's "q"`, `back\slash`, "tab\t", "é", "{{ get_where_subquery(ref('m')) }}"} {
		var b strings.Builder
		writeQuoted(&b, s)
		if want := jinja.PyRepr(s); b.String() != want {
			t.Errorf("writeQuoted(%q) = %s, want %s", s, b.String(), want)
		}
	}
}
