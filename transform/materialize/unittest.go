package materialize

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/dataopskit/dataops/warehouse"
)

// Fixture is the rows of a unit test's given input or expected output, in
// dbt's dict form (Rows) or csv form (CSV: a header line, then rows; an
// empty field or null is NULL). Columns gives the types the values are cast
// to (for an input: the columns of the relation it stands for); a column
// named by a row but absent from Columns is rendered as an untyped literal,
// and a column of Columns absent from a row is NULL.
type Fixture struct {
	Rows    []map[string]any
	CSV     string
	Columns []warehouse.Column
	// SQL is dbt's sql form: a query that returns the rows, used as given
	// (for an expectation, its columns are the ones compared).
	SQL string
}

// records returns the fixture's column names in order of appearance and its
// rows as maps.
func (f Fixture) records() ([]string, []map[string]any, error) {
	rows := slices.Clone(f.Rows)
	var names []string
	if strings.TrimSpace(f.CSV) != "" {
		r := csv.NewReader(strings.NewReader(strings.TrimSpace(f.CSV)))
		r.TrimLeadingSpace = true
		recs, err := r.ReadAll()
		if err != nil {
			return nil, nil, fmt.Errorf("csv fixture: %w", err)
		}
		header := recs[0]
		for i := range header {
			header[i] = strings.TrimSpace(header[i])
		}
		names = header
		for _, rec := range recs[1:] {
			m := map[string]any{}
			for i, v := range rec {
				if i < len(header) {
					v = strings.TrimSpace(v)
					if v == "" || strings.EqualFold(v, "null") {
						m[header[i]] = nil
					} else {
						m[header[i]] = v
					}
				}
			}
			rows = append(rows, m)
		}
	}
	for _, r := range f.Rows {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		slices.Sort(keys) // Go maps have no order; callers keep theirs in Columns
		for _, k := range keys {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	return names, rows, nil
}

// FixtureSQL renders rows as a query: one select of typed literals per row,
// joined by union all; no rows give a typed empty result. Only the listed
// columns are selected; nil lists all columns of the fixture (Columns first,
// then any others its rows name).
func FixtureSQL(d warehouse.Dialect, f Fixture, columns []string) (string, error) {
	if strings.TrimSpace(f.SQL) != "" {
		if columns == nil {
			return f.SQL, nil
		}
		return "select " + quoteList(d, columns) + " from (\n" + f.SQL + "\n) dbt_fixture", nil
	}
	names, rows, err := f.records()
	if err != nil {
		return "", err
	}
	if columns == nil {
		for _, c := range f.Columns {
			columns = append(columns, c.Name)
		}
		for _, n := range names {
			if !slices.ContainsFunc(columns, func(c string) bool { return sameName(d, c, n) }) {
				columns = append(columns, n)
			}
		}
	}
	if len(columns) == 0 {
		return "", errors.New("fixture has no columns")
	}
	lookup := func(r map[string]any, name string) (any, bool) {
		for k, v := range r {
			if sameName(d, k, name) {
				return v, true
			}
		}
		return nil, false
	}
	typeOf := func(name string) string {
		if c, ok := findColumn(d, f.Columns, name); ok {
			if ts, err := columnType(d, c); err == nil {
				return ts
			}
		}
		return ""
	}
	selectRow := func(r map[string]any) (string, error) {
		parts := make([]string, len(columns))
		for i, name := range columns {
			v, _ := lookup(r, name)
			lit, err := literalValue(v)
			if err != nil {
				return "", fmt.Errorf("column %s: %w", name, err)
			}
			if ts := typeOf(name); ts != "" {
				lit = "cast(" + lit + " as " + ts + ")"
			}
			parts[i] = lit + " as " + d.QuoteIdentifier(name)
		}
		return "select " + strings.Join(parts, ", "), nil
	}
	if len(rows) == 0 {
		q, err := selectRow(map[string]any{})
		if err != nil {
			return "", err
		}
		return q + " where false", nil
	}
	sels := make([]string, len(rows))
	for i, r := range rows {
		if sels[i], err = selectRow(r); err != nil {
			return "", fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return strings.Join(sels, "\nunion all\n"), nil
}

// literalValue renders a fixture value as an SQL literal.
func literalValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		return Literal(x), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case time.Time:
		return Literal(x.Format("2006-01-02 15:04:05.999999")), nil
	case warehouse.Decimal:
		return x.String(), nil
	}
	if n, ok := warehouse.ToInt64(v); ok {
		return strconv.FormatInt(n, 10), nil
	}
	return "", fmt.Errorf("unsupported fixture value %v (%T)", v, v)
}

// CTE is a named query to inject into a statement's WITH clause.
type CTE struct {
	Name string // emitted as is: dbt names them __dbt__cte__<model>
	SQL  string
}

// InjectCTEs adds ctes in front of sql's own, as dbt injects ephemeral
// models and unit test fixtures: into its leading WITH (after RECURSIVE) if
// it has one, else as a new WITH clause. Leading comments are kept.
func InjectCTEs(sql string, ctes []CTE) string {
	if len(ctes) == 0 {
		return sql
	}
	defs := make([]string, len(ctes))
	for i, c := range ctes {
		defs[i] = c.Name + " as (\n" + c.SQL + "\n)"
	}
	list := strings.Join(defs, ", ")
	i := skipSpaceAndComments(sql, 0)
	if word, end := keyword(sql, i); word == "with" {
		j := skipSpaceAndComments(sql, end)
		if w2, end2 := keyword(sql, j); w2 == "recursive" {
			end = end2
		}
		return sql[:end] + " " + list + ", " + sql[end:]
	}
	return sql[:i] + "with " + list + "\n" + sql[i:]
}

func skipSpaceAndComments(s string, i int) int {
	for i < len(s) {
		switch {
		case unicode.IsSpace(rune(s[i])):
			i++
		case strings.HasPrefix(s[i:], "--"):
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(s)
			}
		case strings.HasPrefix(s[i:], "/*"):
			if j := strings.Index(s[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(s)
			}
		default:
			return i
		}
	}
	return i
}

func keyword(s string, i int) (string, int) {
	j := i
	for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j]))) {
		j++
	}
	return strings.ToLower(s[i:j]), j
}

// UnitTestInput is one given input of a unit test: the fixture that stands
// in for a ref or source, injected as a CTE called Name (the name the model's
// ref or source rendered to).
type UnitTestInput struct {
	Name    string
	Fixture Fixture
}

// UnitTest is a dbt unit test ready to run: the model's compiled SQL with
// each input's ref or source rendered as its CTE name, the given inputs and
// the expected rows.
type UnitTest struct {
	Name     string
	ModelSQL string
	Given    []UnitTestInput
	Expect   Fixture
}

// UnitTestResult is the outcome of a unit test.
type UnitTestResult struct {
	// Pass is true when the actual rows equal the expected ones as
	// multisets over the expected columns.
	Pass bool
	// Missing are expected rows the model did not produce; Unexpected are
	// rows it produced that were not expected. Values are rendered as text
	// (NULL for null), in Columns order; the rows are sorted.
	Columns             []string
	Missing, Unexpected [][]string
	// Diff shows the differing rows, - for missing and + for unexpected.
	Diff string
	// ActualSQL and ExpectedSQL are the queries compared.
	ActualSQL, ExpectedSQL string
}

// UnitTestSQL returns the model's query with the given fixtures injected as
// CTEs (actual) and, for the expected columns (those the expect rows name),
// the query selecting them from it.
func UnitTestSQL(d warehouse.Dialect, ut UnitTest) (actual string, columns []string, err error) {
	ctes := make([]CTE, len(ut.Given))
	for i, g := range ut.Given {
		q, err := FixtureSQL(d, g.Fixture, nil)
		if err != nil {
			return "", nil, fmt.Errorf("unit test %s: given %s: %w", ut.Name, g.Name, err)
		}
		ctes[i] = CTE{Name: g.Name, SQL: q}
	}
	names, _, err := ut.Expect.records()
	if err != nil {
		return "", nil, fmt.Errorf("unit test %s: expect: %w", ut.Name, err)
	}
	if len(names) == 0 {
		for _, c := range ut.Expect.Columns {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 && strings.TrimSpace(ut.Expect.SQL) != "" {
		names = []string{"*"}
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("unit test %s: expect names no columns", ut.Name)
	}
	model := InjectCTEs(ut.ModelSQL, ctes)
	list := "*"
	if names[0] != "*" {
		list = quoteList(d, names)
	}
	return "select " + list + " from (\n" + model + "\n) dbt_internal_unit_test_actual", names, nil
}

// RunUnitTest runs a unit test: the model over its fixtures against the
// expected rows, cast to the types of the model's columns, compared as
// multisets (EXCEPT ALL both ways). Nothing is left in the warehouse.
func RunUnitTest(ctx context.Context, db DB, scratchNear warehouse.Relation, ut UnitTest) (UnitTestResult, error) {
	d := db.Dialect()
	actual, names, err := UnitTestSQL(d, ut)
	if err != nil {
		return UnitTestResult{}, err
	}
	res := UnitTestResult{Columns: names, ActualSQL: actual}
	run := func(tx *warehouse.Tx) error {
		cols, err := queryColumns(ctx, tx, scratch(d, scratchNear, "__dbt_unit"), actual)
		if err != nil {
			return err
		}
		if names[0] == "*" {
			names = columnNames(cols)
			res.Columns = names
		}
		expect := ut.Expect
		expect.Columns = cols
		if res.ExpectedSQL, err = FixtureSQL(d, expect, names); err != nil {
			return fmt.Errorf("expect: %w", err)
		}
		diff := func(a, b string) ([][]string, error) {
			var out [][]string
			q := "select * from (\n" + a + "\n) dbt_a except all select * from (\n" + b + "\n) dbt_b"
			for rec, err := range tx.Rows(ctx, q) {
				if err != nil {
					return nil, err
				}
				row := make([]string, len(rec.Values))
				for i, v := range rec.Values {
					row[i] = renderValue(v)
				}
				out = append(out, row)
			}
			return out, nil
		}
		if res.Missing, err = diff(res.ExpectedSQL, actual); err != nil {
			return err
		}
		res.Unexpected, err = diff(actual, res.ExpectedSQL)
		return err
	}
	if tx, ok := db.(*warehouse.Tx); ok {
		err = run(tx)
	} else if w, ok := db.(*warehouse.Warehouse); ok {
		var tx *warehouse.Tx
		if tx, err = w.Begin(ctx); err == nil {
			err = run(tx)
			tx.Rollback()
		}
	} else {
		err = ErrUnsupportedDB
	}
	if err != nil {
		return res, fail("unit test", ut.Name, err)
	}
	byText := func(a, b []string) int { return slices.Compare(a, b) }
	slices.SortFunc(res.Missing, byText)
	slices.SortFunc(res.Unexpected, byText)
	res.Pass = len(res.Missing) == 0 && len(res.Unexpected) == 0
	if !res.Pass {
		var b strings.Builder
		b.WriteString("  " + strings.Join(names, " | ") + "\n")
		for _, r := range res.Missing {
			b.WriteString("- " + strings.Join(r, " | ") + "\n")
		}
		for _, r := range res.Unexpected {
			b.WriteString("+ " + strings.Join(r, " | ") + "\n")
		}
		res.Diff = b.String()
	}
	return res, nil
}

// renderValue renders a value read from the warehouse for a diff.
func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format("2006-01-02 15:04:05.999999")
	case warehouse.Decimal:
		return x.String()
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
