package materialize

import (
	"context"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

func TestUnitTests(t *testing.T) {
	ctx := context.Background()
	model := "with o as (select * from __dbt__cte__orders)\n" +
		"select c.id as customer_id, c.name, count(o.id) as n_orders, sum(o.amount) as total\n" +
		"from __dbt__cte__customers c left join o on o.customer_id = c.id\ngroup by c.id, c.name"
	orderCols := []warehouse.Column{{Name: "id", Type: warehouse.Integer}, {Name: "customer_id", Type: warehouse.Integer}, {Name: "amount", Type: warehouse.DecimalType(10, 2)}, {Name: "placed_at", Type: warehouse.Timestamp}}
	custCols := []warehouse.Column{{Name: "id", Type: warehouse.Integer}, {Name: "name", Type: warehouse.String}}
	given := []UnitTestInput{
		{Name: "__dbt__cte__orders", Fixture: Fixture{Columns: orderCols, Rows: []map[string]any{
			{"id": 1, "customer_id": 1, "amount": 10.5},
			{"id": 2, "customer_id": 1, "amount": "4.5", "placed_at": "2024-01-01 10:00:00"},
			{"id": 3, "customer_id": 2, "amount": 1},
		}}},
		{Name: "__dbt__cte__customers", Fixture: Fixture{Columns: custCols, CSV: "id,name\n1,ann\n2,o'hara\n3,\n"}},
	}
	tests := []struct {
		name       string
		expect     Fixture
		pass       bool
		missing    []string
		unexpected []string
	}{
		{"dict expect passes", Fixture{Rows: []map[string]any{
			{"customer_id": 1, "n_orders": 2, "total": 15},
			{"customer_id": 2, "n_orders": 1, "total": "1.00"},
			{"customer_id": 3, "n_orders": 0, "total": nil},
		}}, true, nil, nil},
		{"csv expect on fewer columns passes", Fixture{CSV: "customer_id,name\n1,ann\n2,o'hara\n3,null"}, true, nil, nil},
		{"sql expect", Fixture{SQL: "select 1 as customer_id, 'ann' as name, 2 as n_orders, 15 as total union all select 2, 'o''hara', 1, 1 union all select 3, null, 0, null"}, true, nil, nil},
		{"sql expect differs", Fixture{SQL: "select 1 as customer_id, 'ann' as name, 2 as n_orders, 15 as total union all select 2, 'o''hara', 1, 1"}, false, nil, []string{"3|NULL|0|NULL"}},
		{"differences", Fixture{CSV: "customer_id,n_orders\n1,2\n2,5\n3,0\n3,0"}, false, []string{"2|5", "3|0"}, []string{"2|1"}},
	}
	each(t, func(t *testing.T, e engine) {
		for _, tc := range tests {
			res, err := RunUnitTest(ctx, e.w, e.rel("m"), UnitTest{Name: tc.name, ModelSQL: model, Given: given, Expect: tc.expect})
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.name, err, res.ActualSQL)
			}
			if res.Pass != tc.pass {
				t.Errorf("%s: pass %v\n%s", tc.name, res.Pass, res.Diff)
			}
			join := func(rs [][]string) []string {
				var out []string
				for _, r := range rs {
					out = append(out, strings.Join(r, "|"))
				}
				return out
			}
			eq(t, tc.name+" missing", join(res.Missing), tc.missing)
			eq(t, tc.name+" unexpected", join(res.Unexpected), tc.unexpected)
			if tc.name == "differences" && !strings.Contains(res.Diff, "- 2 | 5") {
				t.Errorf("%s: diff %q", tc.name, res.Diff)
			}
		}
		rels, _ := e.w.Relations(ctx, e.schema)
		if len(rels) != 0 {
			t.Errorf("unit tests left %v", rels)
		}
		// Bad fixture values and models are errors naming the test.
		_, err := RunUnitTest(ctx, e.w, e.rel("m"), UnitTest{Name: "broken", ModelSQL: "select x from nowhere_xyz", Expect: Fixture{CSV: "x\n1"}})
		if err == nil || !strings.Contains(err.Error(), "broken") {
			t.Errorf("broken model: %v", err)
		}
		_, err = RunUnitTest(ctx, e.w, e.rel("m"), UnitTest{Name: "badvalue", ModelSQL: "select 1 as x", Expect: Fixture{Rows: []map[string]any{{"x": []int{1}}}}})
		if err == nil || !strings.Contains(err.Error(), "unsupported fixture value") {
			t.Errorf("bad value: %v", err)
		}
	})
}
