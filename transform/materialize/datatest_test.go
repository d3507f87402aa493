package materialize

import (
	"context"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

func TestGenericTests(t *testing.T) {
	ctx := context.Background()
	no := false
	one := 1
	each(t, func(t *testing.T, e engine) {
		mustExec(t, e.w,
			"create table "+e.q("orders")+" (id integer, customer_id integer, status text, a text, b text)",
			"insert into "+e.q("orders")+" values (1, 1, 'placed', 'x', '1'), (2, 1, 'shipped', 'x', '2'), (3, 2, 'lost', 'y', '1'), (3, 9, 'placed', 'x', '1'), (4, null, null, null, '1'), (5, 2, 'returned', 'z', '1')",
			"create table "+e.q("customers")+" (id integer)",
			"insert into "+e.q("customers")+" values (1), (2)")
		orders, customers := e.q("orders"), e.q("customers")
		tests := []struct {
			name     string
			test     GenericTest
			where    string
			cfg      TestConfig
			status   string
			failures int64
			message  string
		}{
			{"unique fails", GenericTest{Name: "unique", Model: orders, ColumnName: "id"}, "", TestConfig{}, "fail", 1, "Got 1 result, configured to fail if != 0"},
			{"unique expression", GenericTest{Name: "unique", Model: orders, ColumnName: "concat(a, '_', b)"}, "", TestConfig{}, "fail", 1, ""},
			{"unique expression where", GenericTest{Name: "unique", Model: orders, ColumnName: "concat(a, '_', b)"}, "customer_id <> 9", TestConfig{}, "pass", 0, ""},
			{"unique passes", GenericTest{Name: "unique", Model: orders, ColumnName: "id * 10 + customer_id"}, "", TestConfig{}, "pass", 0, ""},
			{"not_null fails", GenericTest{Name: "not_null", Model: orders, ColumnName: "customer_id"}, "", TestConfig{}, "fail", 1, ""},
			{"not_null where", GenericTest{Name: "not_null", Model: orders, ColumnName: "customer_id"}, "id < 4", TestConfig{}, "pass", 0, ""},
			{"not_null warn severity", GenericTest{Name: "not_null", Model: orders, ColumnName: "status"}, "", TestConfig{Severity: "warn"}, "warn", 1, "Got 1 result, configured to warn if != 0"},
			{"accepted_values", GenericTest{Name: "accepted_values", Model: orders, ColumnName: "status", Values: []any{"placed", "shipped", "returned"}}, "", TestConfig{}, "fail", 1, ""},
			{"accepted_values quote false", GenericTest{Name: "accepted_values", Model: orders, ColumnName: "customer_id", Values: []any{1, 2}, Quote: &no}, "", TestConfig{}, "fail", 1, ""},
			{"accepted_values escapes quotes", GenericTest{Name: "accepted_values", Model: WhereSubquery(orders, "status = 'lost'"), ColumnName: "status || ''''", Values: []any{"lost'"}}, "", TestConfig{}, "pass", 0, ""},
			{"relationships", GenericTest{Name: "relationships", Model: orders, ColumnName: "customer_id", To: customers, Field: "id"}, "", TestConfig{}, "fail", 1, ""},
			{"error_if threshold", GenericTest{Name: "accepted_values", Model: orders, ColumnName: "a", Values: []any{"x"}}, "", TestConfig{ErrorIf: ">10", WarnIf: ">1"}, "warn", 2, "Got 2 results, configured to warn if >1"},
			{"warn_if not met", GenericTest{Name: "accepted_values", Model: orders, ColumnName: "a", Values: []any{"x"}}, "", TestConfig{ErrorIf: ">10", WarnIf: ">5"}, "pass", 2, ""},
			{"limit", GenericTest{Name: "accepted_values", Model: orders, ColumnName: "a", Values: []any{"x"}}, "", TestConfig{Limit: &one}, "fail", 1, ""},
			{"fail_calc", GenericTest{Name: "unique", Model: orders, ColumnName: "a"}, "", TestConfig{FailCalc: "sum(n_records)"}, "fail", 3, ""},
			{"store failures", GenericTest{Name: "not_null", Model: orders, ColumnName: "status"}, "", TestConfig{StoreFailures: true, StoreRelation: e.rel("nn_status")}, "fail", 1, ""},
			{"store failures as view", GenericTest{Name: "unique", Model: orders, ColumnName: "id"}, "", TestConfig{StoreFailures: true, StoreFailuresAs: "view", StoreRelation: e.rel("unique_id")}, "fail", 1, ""},
			{"store failures ephemeral", GenericTest{Name: "unique", Model: orders, ColumnName: "id"}, "", TestConfig{StoreFailures: true, StoreFailuresAs: "ephemeral", StoreRelation: e.rel("not_stored")}, "fail", 1, ""},
		}
		for _, tc := range tests {
			tc.test.Model = WhereSubquery(tc.test.Model, tc.where)
			sql, err := tc.test.SQL(tc.cfg.StoreFailures)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			res, err := RunTest(ctx, e.w, tc.name, sql, tc.cfg)
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.name, err, res.SQL)
			}
			if res.Status != tc.status || res.Failures != tc.failures {
				t.Errorf("%s: %s with %d failures, want %s with %d\n%s", tc.name, res.Status, res.Failures, tc.status, tc.failures, res.SQL)
			}
			if tc.message != "" && res.Message != tc.message {
				t.Errorf("%s: message %q, want %q", tc.name, res.Message, tc.message)
			}
		}
		// Stored failures hold every column of the failing rows.
		eq(t, "stored failures", rows(t, e.w, "select id, customer_id from "+e.q("nn_status")), []string{"4|NULL"})
		if ri, err := e.w.Relation(ctx, e.rel("unique_id")); err != nil || ri.Kind != warehouse.KindView {
			t.Errorf("failures as view: %v %v", ri, err)
		}
		eq(t, "failures view", rows(t, e.w, "select unique_field, n_records from "+e.q("unique_id")), []string{"3|2"})
		if _, err := e.w.Relation(ctx, e.rel("not_stored")); err == nil {
			t.Errorf("ephemeral failures were stored")
		}

		// A singular test runs the same way; a broken one is an error.
		res, err := RunTest(ctx, e.w, "assert_positive", "select * from "+orders+" where id < 0", TestConfig{})
		if err != nil || res.Status != "pass" {
			t.Errorf("singular: %+v %v", res, err)
		}
		res, err = RunTest(ctx, e.w, "broken", "select * from no_such_relation_xyz", TestConfig{})
		if err == nil || res.Status != "error" || !strings.Contains(err.Error(), "broken") {
			t.Errorf("broken: %+v %v", res, err)
		}
	})
}

func TestGenericTestErrors(t *testing.T) {
	for _, g := range []GenericTest{
		{Name: "unique", Model: "m"},
		{Name: "accepted_values", Model: "m", ColumnName: "c"},
		{Name: "relationships", Model: "m", ColumnName: "c"},
		{Name: "positive", Model: "m", ColumnName: "c"},
	} {
		if _, err := g.SQL(false); err == nil {
			t.Errorf("%+v: no error", g)
		}
	}
}

func TestInjectCTEs(t *testing.T) {
	ctes := []CTE{{Name: "__dbt__cte__a", SQL: "select 1 as x"}}
	tests := []struct{ in, want string }{
		{"select * from __dbt__cte__a", "with __dbt__cte__a as (\nselect 1 as x\n)\nselect * from __dbt__cte__a"},
		{"-- note\nWITH b as (select 2) select * from b", "-- note\nWITH __dbt__cte__a as (\nselect 1 as x\n),  b as (select 2) select * from b"},
		{"with recursive r as (select 1) select * from r", "with recursive __dbt__cte__a as (\nselect 1 as x\n),  r as (select 1) select * from r"},
		{"/* c */ select 1 as withdrawn", "/* c */ with __dbt__cte__a as (\nselect 1 as x\n)\nselect 1 as withdrawn"},
	}
	for _, tc := range tests {
		if got := InjectCTEs(tc.in, ctes); got != tc.want {
			t.Errorf("InjectCTEs(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
}

func TestAcceptedValuesRenderValuesAsJinja(t *testing.T) {
	no := false
	g := GenericTest{Name: "accepted_values", Model: "m", ColumnName: "c", Values: []any{1, 2.0, true, nil, "it's"}, Quote: &no}
	sql, err := g.SQL(false)
	if err != nil || !strings.Contains(sql, "1,2.0,True,None,it's") {
		t.Errorf("unquoted: %q %v", sql, err)
	}
	g.Quote = nil
	sql, _ = g.SQL(false)
	if !strings.Contains(sql, `'1','2.0','True','None','it''s'`) {
		t.Errorf("quoted: %q", sql)
	}
}
