package materialize

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/dataopskit/dataops/transform/jinja"
	"github.com/dataopskit/dataops/warehouse"
)

// Test statuses, as dbt reports them.
const (
	StatusPass  = "pass"
	StatusFail  = "fail"
	StatusWarn  = "warn"
	StatusError = "error"
)

// GenericTest is one of dbt's built-in generic data tests applied to a
// model: unique, not_null, accepted_values or relationships.
type GenericTest struct {
	// Name is "unique", "not_null", "accepted_values" or "relationships".
	Name string
	// Model is the tested relation as SQL (a quoted relation, or a
	// subquery such as WhereSubquery returns).
	Model string
	// ColumnName is the tested column; it may be an expression such as
	// concat(a, '_', b), as in dbt.
	ColumnName string
	// Values are accepted_values' values; Quote (default true) renders
	// them as string literals, otherwise as SQL as given.
	Values []any
	Quote  *bool
	// To (the parent relation as SQL) and Field are relationships'
	// arguments.
	To    string
	Field string
}

// WhereSubquery is how dbt applies a test's where config: the model is
// replaced by (select * from model where <where>) dbt_subquery. An empty
// where returns model unchanged.
func WhereSubquery(model, where string) string {
	if strings.TrimSpace(where) == "" {
		return model
	}
	return "(select * from " + model + " where " + where + ") dbt_subquery"
}

// AuditSchema is the schema dbt stores test failures in by default: the
// target schema followed by _dbt_test__audit.
func AuditSchema(targetSchema string) string { return targetSchema + "_dbt_test__audit" }

// SQL renders the test's query, which returns the failing rows, as dbt's
// test_unique, test_not_null, test_accepted_values and test_relationships
// macros do. storeFailures makes not_null select every column, as dbt's
// does when failures are stored.
func (g GenericTest) SQL(storeFailures bool) (string, error) {
	if g.Model == "" || g.ColumnName == "" {
		return "", fmt.Errorf("test %s: model and column_name are required", g.Name)
	}
	col, model := g.ColumnName, g.Model
	switch g.Name {
	case "unique":
		return "select\n    " + col + " as unique_field,\n    count(*) as n_records\nfrom " + model +
			"\nwhere " + col + " is not null\ngroup by " + col + "\nhaving count(*) > 1", nil
	case "not_null":
		sel := col
		if storeFailures {
			sel = "*"
		}
		return "select " + sel + "\nfrom " + model + "\nwhere " + col + " is null", nil
	case "accepted_values":
		if len(g.Values) == 0 {
			return "", errors.New("test accepted_values: values are required")
		}
		quote := g.Quote == nil || *g.Quote
		vals := make([]string, len(g.Values))
		for i, v := range g.Values {
			if quote {
				vals[i] = Literal(pyString(v))
			} else {
				vals[i] = pyString(v)
			}
		}
		return "with all_values as (\n    select\n        " + col + " as value_field,\n        count(*) as n_records\n    from " + model +
			"\n    group by " + col + "\n)\nselect *\nfrom all_values\nwhere value_field not in (\n    " + strings.Join(vals, ",") + "\n)", nil
	case "relationships":
		if g.To == "" || g.Field == "" {
			return "", errors.New("test relationships: to and field are required")
		}
		return "with child as (\n    select " + col + " as from_field\n    from " + model + "\n    where " + col + " is not null\n),\n\nparent as (\n    select " +
			g.Field + " as to_field\n    from " + g.To + "\n)\n\nselect\n    from_field\n\nfrom child\nleft join parent\n    on child.from_field = parent.to_field\n\nwhere parent.to_field is null", nil
	}
	return "", fmt.Errorf("unknown generic test %q (want unique, not_null, accepted_values or relationships)", g.Name)
}

// printValue is {{ v }}: how Jinja prints a value into SQL.
var printValue = sync.OnceValues(func() (*jinja.Template, error) {
	return jinja.New().Compile("value", "{{ v }}")
})

// pyString renders a YAML value as Jinja prints it into SQL (Python's str:
// None, True, 1.0).
func pyString(v any) string {
	if t, err := printValue(); err == nil {
		if s, err := t.Render(context.Background(), map[string]any{"v": v}); err == nil {
			return s
		}
	}
	return fmt.Sprint(v)
}

// TestConfig is a data test's config, as dbt's.
type TestConfig struct {
	// Severity is "error" (default) or "warn".
	Severity string
	// WarnIf and ErrorIf are conditions on the failure count (default
	// "!=0"), such as ">10".
	WarnIf, ErrorIf string
	// FailCalc computes the failure count from the failing rows (default
	// "count(*)").
	FailCalc string
	// Limit, if set, bounds the failing rows considered.
	Limit *int
	// StoreFailures keeps the failing rows in StoreRelation (by dbt's
	// default <target schema>_dbt_test__audit.<test name>), as a table, or
	// a view if StoreFailuresAs is "view".
	StoreFailures   bool
	StoreFailuresAs string
	StoreRelation   warehouse.Relation
}

// TestResult is the outcome of a data test.
type TestResult struct {
	// Status is pass, fail, warn or error.
	Status string
	// Failures is the fail_calc value (the failing rows by default).
	Failures int64
	// Message says why a test failed or warned, as dbt's: "Got 3 results,
	// configured to fail if != 0".
	Message string
	// SQL is the query that was run.
	SQL string
}

// TestSQL wraps a test's query as dbt's get_test_sql does: one row with the
// failure count and whether it should warn and error.
func TestSQL(mainSQL string, cfg TestConfig) string {
	cfg = cfg.withDefaults()
	limit := ""
	if cfg.Limit != nil {
		limit = "\n    limit " + strconv.Itoa(*cfg.Limit)
	}
	return "select\n    " + cfg.FailCalc + " as failures,\n    (" + cfg.FailCalc + ") " + cfg.WarnIf + " as should_warn,\n    (" + cfg.FailCalc + ") " + cfg.ErrorIf +
		" as should_error\nfrom (\n" + mainSQL + limit + "\n) dbt_internal_test"
}

func (c TestConfig) withDefaults() TestConfig {
	if c.Severity == "" {
		c.Severity = "error"
	}
	if c.FailCalc == "" {
		c.FailCalc = "count(*)"
	}
	if c.WarnIf == "" {
		c.WarnIf = "!= 0"
	}
	if c.ErrorIf == "" {
		c.ErrorIf = "!= 0"
	}
	return c
}

// RunTest runs a data test — a generic test's SQL or a singular test's
// compiled SQL, which returns failing rows — as dbt's test materialization
// does: failures stored first when configured, then the get_test_sql query,
// whose result gives the status: fail if it should error and the severity is
// error, else warn if it should warn, else pass. name names the test in
// errors. A query that cannot run gives status error and the error.
func RunTest(ctx context.Context, db DB, name, mainSQL string, cfg TestConfig) (TestResult, error) {
	cfg = cfg.withDefaults()
	sev := strings.ToLower(cfg.Severity)
	if sev != "error" && sev != "warn" {
		return TestResult{Status: StatusError}, fail("test", name, fmt.Errorf("severity %q (want error or warn)", cfg.Severity))
	}
	main := mainSQL
	if cfg.StoreFailures {
		rel := cfg.StoreRelation
		if rel.Name == "" {
			return TestResult{Status: StatusError}, fail("test", name, errors.New("store_failures needs the relation to store them in"))
		}
		var err error
		switch cfg.StoreFailuresAs {
		case "", "table":
			_, err = Table(ctx, db, rel, mainSQL, TableConfig{})
		case "view":
			_, err = View(ctx, db, rel, mainSQL, ViewConfig{})
		case "ephemeral":
		default:
			err = fmt.Errorf("store_failures_as %q (want table, view or ephemeral)", cfg.StoreFailuresAs)
		}
		if err != nil {
			return TestResult{Status: StatusError}, fail("test", name, err)
		}
		if cfg.StoreFailuresAs != "ephemeral" {
			main = "select * from " + db.Dialect().QuoteRelation(rel)
		}
	}
	q := TestSQL(main, cfg)
	res := TestResult{SQL: q}
	var failures any
	var shouldWarn, shouldError bool
	for rec, err := range db.Rows(ctx, q) {
		if err != nil {
			res.Status = StatusError
			return res, fail("test", name, err)
		}
		failures = rec.Values[0]
		shouldWarn, _ = rec.Values[1].(bool)
		shouldError, _ = rec.Values[2].(bool)
	}
	if failures != nil {
		n, ok := warehouse.ToInt64(failures)
		if !ok {
			d, err := warehouse.ToDecimal(failures)
			if err != nil {
				res.Status = StatusError
				return res, fail("test", name, fmt.Errorf("fail_calc %s gave %v, not a number", cfg.FailCalc, failures))
			}
			f, _ := d.Rat().Float64()
			n = int64(f)
		}
		res.Failures = n
	}
	switch {
	case sev == "error" && shouldError:
		res.Status = StatusFail
		res.Message = fmt.Sprintf("Got %d result%s, configured to fail if %s", res.Failures, plural(res.Failures), cfg.ErrorIf)
	case shouldWarn:
		res.Status = StatusWarn
		res.Message = fmt.Sprintf("Got %d result%s, configured to warn if %s", res.Failures, plural(res.Failures), cfg.WarnIf)
	default:
		res.Status = StatusPass
	}
	return res, nil
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
