package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dataopskit/dataops/warehouse"
)

// Query runs query on raw, the *duckdb.Conn of a connection, and calls fn
// for each row with portable values (see warehouse.Type); the values slice is
// reused between rows. Column types come from DuckDB's result types through
// Dialect.ParseType. Arguments are converted as database/sql would, plus
// warehouse.Decimal (bound as its text) and json.RawMessage (as text).
func (e *Engine) Query(ctx context.Context, raw any, query string, args []any, fn func(cols []warehouse.Column, values []any) error) error {
	conn, ok := raw.(*duckdb.Conn)
	if !ok {
		return fmt.Errorf("duckdb: query: connection is %T, not a DuckDB connection", raw)
	}
	nargs, err := namedArgs(raw, args)
	if err != nil {
		return err
	}
	stmt, jsonCols, err := prepare(ctx, conn, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	rows, err := queryStmt(ctx, stmt, nargs)
	if err != nil {
		return err
	}
	defer rows.Close()
	names := rows.Columns()
	typed, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
	cols := make([]warehouse.Column, len(names))
	convs := make([]readConverter, len(names))
	for i, name := range names {
		cols[i] = warehouse.Column{Name: name, Nullable: true}
		if typed != nil {
			cols[i].Type = Dialect{}.ParseType(typed.ColumnTypeDatabaseTypeName(i))
		}
		if jsonCols[i] {
			cols[i].Type = warehouse.Type{Kind: warehouse.KindJSON, Native: "JSON"}
		}
		convs[i] = readConverterFor(cols[i].Type)
	}
	dst := make([]driver.Value, len(names))
	vals := make([]any, len(names))
	for n := 0; ; n++ {
		if n%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := rows.Next(dst); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		for i, v := range dst {
			if v == nil || convs[i] == nil {
				vals[i] = v
				continue
			}
			cv, err := convs[i](v)
			if err != nil {
				return fmt.Errorf("duckdb: query: row %d, column %q: %w", n+1, names[i], err)
			}
			vals[i] = cv
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
}

// prepare prepares query (running all but its last statement, as
// database/sql does with DuckDB). duckdb-go decodes JSON columns into Go
// values, which loses key order, number precision and the difference
// between a JSON null and SQL NULL; so a single SELECT with JSON columns is
// prepared again wrapped in a projection that casts them to text, and
// jsonCols marks them. Anything else (several statements, duplicate column
// names) keeps the decoded values.
func prepare(ctx context.Context, conn *duckdb.Conn, query string) (stmt *duckdb.Stmt, jsonCols map[int]bool, err error) {
	ds, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	stmt, ok := ds.(*duckdb.Stmt)
	if !ok {
		ds.Close()
		return nil, nil, fmt.Errorf("duckdb: query: prepared statement is %T", ds)
	}
	count, err := stmt.ColumnCount()
	if err != nil || count == 0 {
		return stmt, nil, nil
	}
	seen := make(map[string]bool, count)
	var replace []string
	for i := range count {
		name, err := stmt.ColumnName(i)
		if err != nil || seen[strings.ToLower(name)] {
			return stmt, nil, nil // duplicate names cannot be replaced by name
		}
		seen[strings.ToLower(name)] = true
		info, err := stmt.ColumnTypeInfo(i)
		if err != nil {
			return stmt, nil, nil
		}
		if info.Alias() == "JSON" && info.InternalType() == duckdb.TYPE_VARCHAR {
			if jsonCols == nil {
				jsonCols = map[int]bool{}
			}
			jsonCols[i] = true
			q := Dialect{}.QuoteIdentifier(name)
			replace = append(replace, "CAST("+q+" AS VARCHAR) AS "+q)
		}
	}
	if len(replace) == 0 {
		return stmt, nil, nil
	}
	if st, err := stmt.StatementType(); err != nil || st != duckdb.STATEMENT_TYPE_SELECT {
		return stmt, nil, nil
	}
	// A query of several statements does not parse inside the parentheses,
	// so nothing runs twice.
	body := strings.TrimRight(query, " \t\r\n;")
	wrapped := "SELECT * REPLACE (" + strings.Join(replace, ", ") + ") FROM (\n" + body + "\n) AS \"__dataops_json\""
	ws, err := conn.PrepareContext(ctx, wrapped)
	if err != nil {
		return stmt, nil, nil
	}
	w, ok := ws.(*duckdb.Stmt)
	if !ok {
		ws.Close()
		return stmt, nil, nil
	}
	stmt.Close()
	return w, jsonCols, nil
}

// queryStmt runs the statement, turning a panic in duckdb-go's binding of
// arguments (it type-asserts list elements, e.g. []int64 for an INTEGER[]
// parameter) into an error.
func queryStmt(ctx context.Context, stmt *duckdb.Stmt, args []driver.NamedValue) (rows driver.Rows, err error) {
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("duckdb: query: duckdb-go failed on the arguments: %v", p)
		}
	}()
	return stmt.QueryContext(ctx, args)
}

// namedArgs converts query arguments as database/sql does for a statement on
// raw, and portable values that database/sql does not know.
func namedArgs(raw any, args []any) ([]driver.NamedValue, error) {
	if len(args) == 0 {
		return nil, nil
	}
	checker, _ := raw.(driver.NamedValueChecker)
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv := driver.NamedValue{Ordinal: i + 1, Value: a}
		if na, ok := a.(sql.NamedArg); ok {
			nv.Name, nv.Value = na.Name, na.Value
		}
		switch x := nv.Value.(type) {
		case warehouse.Decimal:
			nv.Value = x.String()
		case *warehouse.Decimal:
			if x == nil {
				nv.Value = nil
			} else {
				nv.Value = x.String()
			}
		case json.RawMessage:
			nv.Value = string(x)
		}
		if checker != nil {
			err := checker.CheckNamedValue(&nv)
			if err == nil {
				out[i] = nv
				continue
			}
			if !errors.Is(err, driver.ErrSkip) {
				return nil, fmt.Errorf("duckdb: argument %d: %w", i+1, err)
			}
		}
		v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
		if err != nil {
			return nil, fmt.Errorf("duckdb: argument %d: %w", i+1, err)
		}
		nv.Value = v
		out[i] = nv
	}
	return out, nil
}

// A readConverter turns a non-nil value from duckdb-go into the portable
// value of its column's kind; nil means the value is kept as it is.
type readConverter func(v any) (any, error)

func readConverterFor(t warehouse.Type) readConverter {
	switch t.Kind {
	case warehouse.KindString:
		return readString
	case warehouse.KindInteger:
		return readInteger
	case warehouse.KindDecimal:
		return readDecimal
	case warehouse.KindFloat:
		return readFloat
	case warehouse.KindDate, warehouse.KindTime, warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		return readTime
	case warehouse.KindJSON:
		return readJSON
	case warehouse.KindArray:
		var elem readConverter
		if t.Elem != nil {
			elem = readConverterFor(*t.Elem)
		}
		return func(v any) (any, error) { return readArray(v, elem) }
	}
	// Booleans, bytes and kinds without a portable value come as they are.
	return nil
}

func readString(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return v, nil
	case []byte:
		if len(x) == 16 { // UUID
			u := duckdb.UUID(x)
			return u.String(), nil
		}
		return string(x), nil
	}
	// Elements of a JSON[] list, which duckdb-go decodes: keep their text.
	b, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func readInteger(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	}
	return nil, fmt.Errorf("unexpected %T for an integer column", v)
}

func readDecimal(v any) (any, error) {
	switch x := v.(type) {
	case duckdb.Decimal:
		return warehouse.Decimal{Unscaled: x.Value, Scale: int(x.Scale)}, nil
	case *big.Int:
		return warehouse.Decimal{Unscaled: x}, nil
	case uint64:
		return warehouse.Decimal{Unscaled: new(big.Int).SetUint64(x)}, nil
	case int64:
		return warehouse.Decimal{Unscaled: big.NewInt(x)}, nil
	}
	return nil, fmt.Errorf("unexpected %T for a decimal column", v)
}

func readFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return v, nil
	case float32:
		return float64(x), nil
	}
	return nil, fmt.Errorf("unexpected %T for a float column", v)
}

func readTime(v any) (any, error) {
	if t, ok := v.(time.Time); ok && t.Location() != time.UTC {
		return t.UTC(), nil
	}
	return v, nil
}

func readJSON(v any) (any, error) {
	if s, ok := v.(string); ok { // the text, cast by prepare
		return json.RawMessage(s), nil
	}
	// A value duckdb-go decoded.
	b, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func readArray(v any, elem readConverter) (any, error) {
	s, ok := v.([]any)
	if !ok || elem == nil {
		return v, nil
	}
	for i, e := range s {
		if e == nil {
			continue
		}
		c, err := elem(e)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		s[i] = c
	}
	return s, nil
}
