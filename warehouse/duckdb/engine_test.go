package duckdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

func col(name string, t warehouse.Type) warehouse.Column {
	return warehouse.Column{Name: name, Type: t, Nullable: true}
}

func rowsOf(rows ...[]any) func(func([]any, error) bool) {
	return func(yield func([]any, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func openMem(t testing.TB) *warehouse.Warehouse {
	t.Helper()
	w := open(t, "duckdb:")
	t.Cleanup(func() { w.Close() })
	return w
}

// readAll reads a query's rows, copying each.
func readAll(t testing.TB, w *warehouse.Warehouse, query string, args ...any) ([]warehouse.Column, [][]any) {
	t.Helper()
	var cols []warehouse.Column
	var out [][]any
	for rec, err := range w.Rows(context.Background(), query, args...) {
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		cols = rec.Columns
		out = append(out, append([]any(nil), rec.Values...))
	}
	return cols, out
}

// TestLoadReadBack loads one value of every kind, NULLs and edge values, and
// reads them back as portable values.
func TestLoadReadBack(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	ist := time.FixedZone("IST", 5*3600+30*60)
	long := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	type cell struct {
		in, want any
	}
	tests := []struct {
		name  string
		typ   warehouse.Type
		cells []cell
	}{
		{"s", warehouse.String, []cell{
			{"héllo wörld — 表 🎉 \"q\" 'q' \\", "héllo wörld — 表 🎉 \"q\" 'q' \\"},
			{long, long},
			{"", ""},
			{[]byte("bytes"), "bytes"},
		}},
		{"i16", intN(16), []cell{{int16(math.MinInt16), int64(math.MinInt16)}, {int64(math.MaxInt16), int64(math.MaxInt16)}, {uint8(7), int64(7)}}},
		{"i32", intN(32), []cell{{int32(math.MinInt32), int64(math.MinInt32)}, {int(math.MaxInt32), int64(math.MaxInt32)}, {uint16(9), int64(9)}}},
		{"i64", warehouse.Integer, []cell{{int64(math.MinInt64), int64(math.MinInt64)}, {uint64(math.MaxInt64), int64(math.MaxInt64)}, {int8(-1), int64(-1)}}},
		{"d38", warehouse.DecimalType(38, 0), []cell{
			{warehouse.MustDecimal("-99999999999999999999999999999999999999"), "-99999999999999999999999999999999999999"},
			{warehouse.MustDecimal("99999999999999999999999999999999999999"), "99999999999999999999999999999999999999"},
			{int64(-5), "-5"},
		}},
		{"d38_10", warehouse.DecimalType(38, 10), []cell{
			{warehouse.MustDecimal("-1234567890123456789012345678.0123456789"), "-1234567890123456789012345678.0123456789"},
			{"0.0000000001", "0.0000000001"},
			{1.5, "1.5"},
			{big.NewInt(-3), "-3"},
		}},
		{"d10_2", warehouse.DecimalType(10, 2), []cell{
			{"-12.30", "-12.3"},
			{"99999999.99", "99999999.99"},
			{"1.005", "1.01"}, // rounded half away from zero
			{"-1.005", "-1.01"},
			{int64(7), "7"},
		}},
		{"f32", floatN(32), []cell{{float32(1.5), 1.5}, {float32(-0.25), -0.25}}},
		{"f64", warehouse.Float, []cell{{-1.25e-300, -1.25e-300}, {math.MaxFloat64, math.MaxFloat64}, {int64(3), 3.0}, {math.Inf(-1), math.Inf(-1)}}},
		{"b", warehouse.Boolean, []cell{{true, true}, {false, false}}},
		{"dt", warehouse.Date, []cell{
			{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
			{time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), time.Date(1969, 7, 20, 0, 0, 0, 0, time.UTC)},
			{time.Date(2024, 1, 1, 1, 0, 0, 0, ist), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, // the wall date
		}},
		{"tm", warehouse.Time, []cell{
			{time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC), time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC)},
			{time.Date(2024, 5, 6, 7, 8, 9, 10000, ist), time.Date(1, 1, 1, 7, 8, 9, 10000, time.UTC)},
		}},
		{"ts", warehouse.Timestamp, []cell{
			{time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC), time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)},
			{time.Date(2024, 2, 29, 13, 14, 15, 123456000, ist), time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)}, // wall clock kept
			{time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC)},
		}},
		{"tstz", warehouse.TimestampTZ, []cell{
			{time.Date(2024, 2, 29, 13, 14, 15, 123456000, ist), time.Date(2024, 2, 29, 7, 44, 15, 123456000, time.UTC)}, // instant kept
			{time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		}},
		{"j", warehouse.JSON, []cell{
			{json.RawMessage(`{"a": [1, 2.5, "x", null, true], "b": {"c": "ü"}}`), `{"a":[1,2.5,"x",null,true],"b":{"c":"ü"}}`},
			{`{"z":1,"a":12345678901234567890123}`, `{"z":1,"a":12345678901234567890123}`}, // key order and digits kept
			{`null`, `null`}, // a JSON null is not SQL NULL
			{[]byte(` 1.50 `), `1.50`},
			{`[1, "two"]`, `[1,"two"]`},
			{map[string]any{"k": 1}, `{"k":1}`},
			{`"just a string"`, `"just a string"`},
		}},
		{"bin", warehouse.Binary, []cell{{[]byte{0, 1, 2, 0xfe, 0xff}, []byte{0, 1, 2, 0xfe, 0xff}}, {[]byte{}, []byte{}}}},
		{"arr_i", warehouse.ArrayOf(warehouse.Integer), []cell{
			{[]any{int64(1), nil, int32(-3)}, []any{int64(1), nil, int64(-3)}},
			{[]any{}, []any{}},
			{[]int64{4, 5}, []any{int64(4), int64(5)}},
		}},
		{"arr_s", warehouse.ArrayOf(warehouse.String), []cell{{[]any{"a", `q"uote`, "表"}, []any{"a", `q"uote`, "表"}}, {[]string{"x"}, []any{"x"}}}},
		{"arr_d", warehouse.ArrayOf(warehouse.DecimalType(38, 2)), []cell{{[]any{"1.25", warehouse.MustDecimal("-99999999999999999999999999999999999.99")}, []any{"1.25", "-99999999999999999999999999999999999.99"}}}},
		{"arr_ts", warehouse.ArrayOf(warehouse.Timestamp), []cell{{[]any{time.Date(2024, 1, 2, 3, 4, 5, 6000, ist)}, []any{time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)}}}},
		{"arr_arr", warehouse.ArrayOf(warehouse.ArrayOf(warehouse.Integer)), []cell{{[]any{[]any{int64(1)}, []any{}, nil}, []any{[]any{int64(1)}, []any{}, nil}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := warehouse.Rel("main", "t_"+tc.name)
			if err := w.CreateTable(ctx, rel, []warehouse.Column{col("k", warehouse.Integer), col("v", tc.typ)}, nil); err != nil {
				t.Fatal(err)
			}
			rows := [][]any{{int64(0), nil}} // NULL
			for i, c := range tc.cells {
				rows = append(rows, []any{int64(i + 1), c.in})
			}
			n, err := w.Load(ctx, rel, nil, rowsOf(rows...))
			if err != nil || n != int64(len(rows)) {
				t.Fatalf("load: %d %v", n, err)
			}
			cols, got := readAll(t, w, `SELECT v FROM main."t_`+tc.name+`" ORDER BY k`)
			if !cols[0].Type.Equal(tc.typ) {
				t.Errorf("result type %s, want %s", cols[0].Type, tc.typ)
			}
			if got[0][0] != nil {
				t.Errorf("NULL read back as %#v", got[0][0])
			}
			for i, c := range tc.cells {
				if err := same(tc.typ, c.want, got[i+1][0]); err != nil {
					t.Errorf("value %d (%T %.40v): %v", i, c.in, c.in, err)
				}
			}
		})
	}
}

// same compares a read value with the expected one; decimals and JSON are
// given as text.
func same(typ warehouse.Type, want, got any) error {
	if want == nil || got == nil {
		if want != got {
			return fmt.Errorf("got %#v, want %#v", got, want)
		}
		return nil
	}
	switch typ.Kind {
	case warehouse.KindDecimal:
		d, ok := got.(warehouse.Decimal)
		if !ok || d.Cmp(warehouse.MustDecimal(want.(string))) != 0 {
			return fmt.Errorf("got %T %v, want %s", got, got, want)
		}
		return nil
	case warehouse.KindJSON:
		g, ok := got.(json.RawMessage)
		if !ok || string(g) != want.(string) {
			return fmt.Errorf("got %T %s, want %s", got, got, want)
		}
		return nil
	case warehouse.KindArray:
		g, ok := got.([]any)
		w := want.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %T %v, want %v", got, got, want)
		}
		for i := range w {
			if err := same(*typ.Elem, w[i], g[i]); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	case warehouse.KindDate, warehouse.KindTime, warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		g, ok := got.(time.Time)
		if !ok || !g.Equal(want.(time.Time)) || g.Location() != time.UTC {
			return fmt.Errorf("got %T %v, want %v", got, got, want)
		}
		return nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got %T %.60v, want %T %.60v", got, got, want, want)
	}
	return nil
}

// TestNativeTypes loads into DuckDB types that only widen to portable kinds.
func TestNativeTypes(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	if _, err := w.Exec(ctx, `CREATE TABLE n (ti TINYINT, ut UTINYINT, ui UINTEGER, ub UBIGINT, hi HUGEINT, u UUID, e ENUM('x', 'y'), iv INTERVAL, fixed INTEGER[2])`); err != nil {
		t.Fatal(err)
	}
	rel := warehouse.Rel("", "n")
	cols, err := w.Columns(ctx, rel)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []warehouse.Type{intN(16), intN(16), intN(64), warehouse.DecimalType(20, 0), warehouse.DecimalType(38, 0), warehouse.String, warehouse.String, {Native: "INTERVAL"}, warehouse.ArrayOf(intN(32))}
	for i, c := range cols {
		if !c.Type.Equal(wantTypes[i]) || c.Type.Native == "" {
			t.Errorf("column %s: %s (native %q), want %s", c.Name, c.Type, c.Type.Native, wantTypes[i])
		}
	}
	id := "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	row := []any{int64(-128), int64(255), int64(math.MaxUint32), "18446744073709551615", warehouse.MustDecimal("-99999999999999999999999999999999999999"), id, "y", nil, []any{int64(1), int64(2)}}
	if _, err := w.Load(ctx, rel, nil, rowsOf(row)); err != nil {
		t.Fatal(err)
	}
	_, got := readAll(t, w, "SELECT * FROM n")
	want := []any{int64(-128), int64(255), int64(math.MaxUint32), "18446744073709551615", "-99999999999999999999999999999999999999", id, "y", nil, []any{int64(1), int64(2)}}
	for i := range want {
		if err := same(wantTypes[i], want[i], got[0][i]); err != nil {
			t.Errorf("column %s: %v", cols[i].Name, err)
		}
	}
	// Out-of-range values fail with the row and column named.
	for _, tc := range []struct {
		col string
		v   any
	}{
		{"ti", int64(128)}, {"ut", int64(-1)}, {"ut", int64(256)}, {"ui", int64(-1)},
		{"ub", int64(-1)}, {"ub", "18446744073709551616"}, {"hi", "1e38"}, {"u", "not-a-uuid"}, {"fixed", "x"},
	} {
		_, err := w.Load(ctx, rel, []string{"iv", tc.col}, rowsOf([]any{nil, nil}, []any{nil, tc.v}))
		if err == nil {
			t.Errorf("load %v into %s: no error", tc.v, tc.col)
			continue
		}
		if !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), `"`+tc.col+`"`) {
			t.Errorf("load %v into %s: error %q names neither row 2 nor the column", tc.v, tc.col, err)
		}
	}
}

func TestLoadValueErrors(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	rel := warehouse.Rel("", "e")
	cols := []warehouse.Column{col("i16", intN(16)), col("d", warehouse.DecimalType(5, 2)), col("s", warehouse.String), col("ts", warehouse.Timestamp), col("j", warehouse.JSON), col("a", warehouse.ArrayOf(warehouse.Integer))}
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		col  string
		v    any
		want string
	}{
		{"i16", int64(40000), "out of range"},
		{"i16", uint64(math.MaxUint64), "out of range"},
		{"i16", 1.5, "cannot use float64"},
		{"d", "1000.00", "does not fit decimal(5,2)"},
		{"d", "abc", "invalid decimal"},
		{"s", "bad \xff utf-8", "UTF-8"},
		{"s", 12, "cannot use int"},
		{"ts", "2024-01-01", "cannot use string"},
		{"j", "{not json", "not valid JSON"},
		{"a", []any{int64(1), "two"}, "element 1"},
	} {
		_, err := w.Load(ctx, rel, []string{tc.col}, rowsOf([]any{nil}, []any{tc.v}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), tc.col) {
			t.Errorf("load %#v into %s: %v; want an error about %q naming row 2 and the column", tc.v, tc.col, err, tc.want)
		}
	}
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM e"); err != nil || n != 0 {
		t.Fatalf("failed loads left %d rows (%v)", n, err)
	}
}

// TestLoadCancel cancels the context while rows stream in.
func TestLoadCancel(t *testing.T) {
	w := openMem(t)
	rel := warehouse.Rel("", "c")
	if err := w.CreateTable(context.Background(), rel, []warehouse.Column{col("i", warehouse.Integer), col("s", warehouse.String)}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	produced := 0
	rows := func(yield func([]any, error) bool) {
		row := make([]any, 2)
		for i := range 100_000_000 {
			produced++
			if i == 100_000 {
				cancel()
			}
			row[0], row[1] = int64(i), "x"
			if !yield(row, nil) {
				return
			}
		}
	}
	n, err := w.Load(ctx, rel, nil, rows)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled load: %d rows, %v; want context.Canceled", n, err)
	}
	if produced > 100_000+2048 {
		t.Fatalf("load read %d rows after the cancel at 100,000", produced-100_000)
	}
	var count int64
	if err := w.Get(context.Background(), &count, "SELECT count(*) FROM c"); err != nil || count != 0 {
		t.Fatalf("a cancelled load left %d rows (%v)", count, err)
	}
}

func TestClassify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.db")
	w := open(t, "duckdb:"+path)
	defer w.Close()
	if _, err := w.Exec(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sql  string
		kind error
	}{
		{"SELECT * FROM no_such_table", warehouse.ErrNotFound},
		{"SELECT * FROM no_such_schema.t", warehouse.ErrNotFound},
		{"DROP TABLE no_such_table", warehouse.ErrNotFound},
		{"SELECT no_such_column FROM t", warehouse.ErrNotFound},
		{"CREATE TABLE t (y INTEGER)", warehouse.ErrAlreadyExists},
		{"CREATE SCHEMA main", warehouse.ErrAlreadyExists},
		{"ALTER TABLE t ADD COLUMN x INTEGER", warehouse.ErrAlreadyExists},
		{"SELECT 1/'x'", nil},
		{"SELEKT 1", nil},
	} {
		_, err := w.Exec(ctx, tc.sql)
		if err == nil {
			t.Errorf("%s: no error", tc.sql)
			continue
		}
		if tc.kind == nil {
			for _, k := range []error{warehouse.ErrNotFound, warehouse.ErrAlreadyExists, warehouse.ErrPermission} {
				if errors.Is(err, k) {
					t.Errorf("%s: %v classified as %v", tc.sql, err, k)
				}
			}
		} else if !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v does not match %v", tc.sql, err, tc.kind)
		}
	}
	if _, err := w.Columns(ctx, warehouse.Rel("", "nope")); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("columns of a missing table: %v", err)
	}
	if _, err := w.Load(ctx, warehouse.Rel("main", "nope"), nil, rowsOf([]any{int64(1)})); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("load into a missing table: %v", err)
	}
	// A read-only database refuses writes with ErrPermission.
	if _, err := w.Exec(ctx, "ATTACH '"+filepath.Join(dir, "ro.db")+"' AS ro; CREATE TABLE ro.t (x INTEGER); DETACH ro"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "ATTACH '"+filepath.Join(dir, "ro.db")+"' AS ro (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	_, err := w.Exec(ctx, "INSERT INTO ro.t VALUES (1)")
	if !errors.Is(err, warehouse.ErrPermission) {
		t.Errorf("write to a read-only database: %v; want ErrPermission", err)
	}
	eng := w.Engine()
	if eng.Classify(nil) != nil || eng.Classify(errors.New("Catalog Error: Table with name x does not exist!")) != warehouse.ErrNotFound {
		t.Errorf("Classify of untyped errors")
	}
}

func TestSchemaParam(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	w := open(t, "duckdb:"+path)
	if err := w.CreateSchema(ctx, "raw"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w = open(t, "duckdb:"+path+"?schema=raw&threads=2")
	defer w.Close()
	info, err := w.Info(ctx)
	if err != nil || info.Schema != "raw" || info.Engine != "duckdb" || !strings.HasPrefix(info.Version, "v") || info.Database != "s" {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	// Unqualified names resolve in the schema on every pooled connection,
	// for SQL and for the appender.
	rel := warehouse.Rel("", "t")
	if err := w.CreateTable(ctx, rel, []warehouse.Column{col("x", warehouse.Integer)}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.Load(ctx, rel, nil, rowsOf([]any{int64(i)})); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM raw.t"); err != nil || n != 8 {
		t.Fatalf("raw.t has %d rows (%v), want 8", n, err)
	}
	rels, err := w.Relations(ctx, "")
	if err != nil || len(rels) != 1 || rels[0].Name != "t" {
		t.Fatalf("Relations(current) = %+v, %v", rels, err)
	}
	schemas, err := w.Schemas(ctx)
	if err != nil || !reflect.DeepEqual(schemas, []string{"main", "raw"}) {
		t.Fatalf("Schemas = %q, %v", schemas, err)
	}
}

func TestMemoryDatabasesAreSeparate(t *testing.T) {
	ctx := context.Background()
	a, b := openMem(t), openMem(t)
	if _, err := a.Exec(ctx, "CREATE TABLE only_in_a (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Relation(ctx, warehouse.Rel("", "only_in_a")); !errors.Is(err, warehouse.ErrNotFound) {
		t.Fatalf("second in-memory database sees the first's table: %v", err)
	}
	// Each pool keeps its own database across its connections.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			if err := a.Get(ctx, &n, "SELECT count(*) FROM only_in_a"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestQueryArgs(t *testing.T) {
	w := openMem(t)
	_, rows := readAll(t, w, "SELECT CAST($1 AS DECIMAL(10,2)) AS d, CAST($2 AS JSON) AS j, $3::BIGINT AS u, $4::TIMESTAMPTZ AS ts, $5::BIGINT[] AS a",
		warehouse.MustDecimal("-12.5"), json.RawMessage(`{"x":1}`), uint32(7), time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)), []int64{1, 2})
	want := []any{"-12.5", `{"x":1}`, int64(7), time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC), []any{int64(1), int64(2)}}
	types := []warehouse.Type{warehouse.DecimalType(10, 2), warehouse.JSON, warehouse.Integer, warehouse.TimestampTZ, warehouse.ArrayOf(warehouse.Integer)}
	for i := range want {
		if err := same(types[i], want[i], rows[0][i]); err != nil {
			t.Errorf("column %d: %v", i, err)
		}
	}
	// duckdb-go panics binding []int64 to an INTEGER[] parameter: an error here.
	for _, err := range w.Rows(context.Background(), "SELECT $1::INTEGER[]", []int64{1}) {
		if err == nil {
			t.Errorf("binding []int64 to INTEGER[]: no error")
		}
	}
	// Stopping early stops the query.
	n := 0
	for _, err := range w.Rows(context.Background(), "SELECT * FROM range(1000000)") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 10 {
			break
		}
	}
	var one int64
	if err := w.Get(context.Background(), &one, "SELECT 1"); err != nil || one != 1 {
		t.Fatalf("after break: %v", err)
	}
}

func TestEngine(t *testing.T) {
	w := openMem(t)
	caps := w.Capabilities()
	if !caps.TransactionalDDL || !caps.Merge || !caps.MultipleDatabases || caps.Clone || caps.TimeTravel || caps.ChangeStreams {
		t.Errorf("Capabilities = %+v", caps)
	}
	eng, ok := w.Engine().(*duckdb.Engine)
	if !ok || eng.DriverName() != "duckdb" || eng.Config().Path != "" {
		t.Fatalf("engine %T", w.Engine())
	}
	// sqlx rebinds to DuckDB's "?" parameters.
	if q := w.DB().Rebind("SELECT ? + ?"); q != "SELECT ? + ?" {
		t.Errorf("Rebind = %q", q)
	}
	var sum int64
	if err := w.Get(context.Background(), &sum, "SELECT ?::BIGINT + ?::BIGINT", 1, 2); err != nil || sum != 3 {
		t.Errorf("bind: %d %v", sum, err)
	}
}

// TestLoadReusedBuffers: a producer may reuse its row and its byte buffers
// after each yield, while the appender still works on earlier rows.
func TestLoadReusedBuffers(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	rel := warehouse.Rel("", "r")
	cols := []warehouse.Column{col("i", warehouse.Integer), col("s", warehouse.String), col("b", warehouse.Binary), col("j", warehouse.JSON), col("a", warehouse.ArrayOf(warehouse.Integer))}
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	rows := func(yield func([]any, error) bool) {
		row := make([]any, 5)
		buf := make([]byte, 0, 32)
		js := make([]byte, 0, 32)
		arr := make([]any, 1)
		for i := range n {
			buf = strconv.AppendInt(buf[:0], int64(i), 10)
			js = strconv.AppendInt(append(js[:0], `{"i":`...), int64(i), 10)
			js = append(js, '}')
			arr[0] = int64(i)
			row[0], row[1], row[2], row[3], row[4] = int64(i), buf, buf, json.RawMessage(js), arr
			if !yield(row, nil) {
				return
			}
		}
	}
	if got, err := w.Load(ctx, rel, nil, rows); err != nil || got != n {
		t.Fatalf("load: %d %v", got, err)
	}
	var bad int64
	if err := w.Get(ctx, &bad, `SELECT count(*) FROM r WHERE s <> CAST(i AS VARCHAR) OR b <> CAST(CAST(i AS VARCHAR) AS BLOB) OR CAST(j->>'i' AS BIGINT) <> i OR a <> [i]`); err != nil || bad != 0 {
		t.Fatalf("%d rows hold another row's values (%v)", bad, err)
	}
}

// TestLoadAppenderErrors: errors that DuckDB's appender raises name the row
// and fail the whole load.
func TestLoadAppenderErrors(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	if _, err := w.Exec(ctx, "CREATE TABLE f (k BIGINT PRIMARY KEY, fixed INTEGER[2])"); err != nil {
		t.Fatal(err)
	}
	rel := warehouse.Rel("", "f")
	many := func(bad int) func(func([]any, error) bool) {
		return func(yield func([]any, error) bool) {
			for i := range 5000 {
				v := any([]any{int64(1), int64(2)})
				if i == bad {
					v = []any{int64(1), int64(2), int64(3)}
				}
				if !yield([]any{int64(i), v}, nil) {
					return
				}
			}
		}
	}
	_, err := w.Load(ctx, rel, nil, many(4321))
	if err == nil || !strings.Contains(err.Error(), "row 4322") {
		t.Fatalf("wrong array size: %v; want an error naming row 4322", err)
	}
	_, err = w.Load(ctx, rel, nil, rowsOf([]any{int64(1), nil}, []any{int64(1), nil}))
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "duplicate key") {
		t.Fatalf("duplicate key: %v", err)
	}
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM f"); err != nil || n != 0 {
		t.Fatalf("failed loads left %d rows (%v)", n, err)
	}
	// The warehouse stays usable.
	if _, err := w.Load(ctx, rel, nil, many(-1)); err != nil {
		t.Fatal(err)
	}
}

// TestSharedFile: two warehouses on one file share DuckDB's instance, and
// closing one leaves the other working.
func TestSharedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	a := open(t, "duckdb:"+path)
	b := open(t, "duckdb://"+path)
	defer b.Close()
	if _, err := a.Exec(ctx, "CREATE TABLE t AS SELECT 42 AS x"); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var x int64
	if err := b.Get(ctx, &x, "SELECT x FROM t"); err != nil || x != 42 {
		t.Fatalf("after closing the other warehouse: %d %v", x, err)
	}
	// Reopened, the data is there.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c := open(t, "duckdb:"+path+"?access_mode=READ_ONLY")
	defer c.Close()
	if err := c.Get(ctx, &x, "SELECT x FROM t"); err != nil || x != 42 {
		t.Fatalf("reopened: %d %v", x, err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO t VALUES (1)"); !errors.Is(err, warehouse.ErrPermission) {
		t.Fatalf("write to a read-only database: %v; want ErrPermission", err)
	}
}

// TestQueryJSON: JSON columns read back as their text; queries that cannot
// be wrapped fall back to duckdb-go's decoded values, and nothing runs twice.
func TestQueryJSON(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	if _, err := w.Exec(ctx, `CREATE TABLE j (k INTEGER, v JSON); INSERT INTO j VALUES (2, '{"b":1,"a":12345678901234567890}'), (1, 'null'), (3, NULL)`); err != nil {
		t.Fatal(err)
	}
	cols, rows := readAll(t, w, "SELECT k, v FROM j ORDER BY k DESC -- trailing comment")
	if !cols[1].Type.Equal(warehouse.JSON) {
		t.Errorf("type %s", cols[1].Type)
	}
	want := [][]any{{int64(3), nil}, {int64(2), json.RawMessage(`{"b":1,"a":12345678901234567890}`)}, {int64(1), json.RawMessage(`null`)}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %s, want %s", fmt.Sprint(rows), fmt.Sprint(want))
	}
	// Several statements: the first runs once, the JSON is decoded.
	_, rows = readAll(t, w, "INSERT INTO j VALUES (4, '[1]'); SELECT v FROM j WHERE k = 4")
	if len(rows) != 1 || string(rows[0][0].(json.RawMessage)) != "[1]" {
		t.Errorf("multi-statement rows = %v", rows)
	}
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM j WHERE k = 4"); err != nil || n != 1 {
		t.Errorf("the first statement ran %d times (%v)", n, err)
	}
	// Duplicate names: decoded, still JSON.
	cols, rows = readAll(t, w, "SELECT v, v FROM j WHERE k = 2")
	if !cols[0].Type.Equal(warehouse.JSON) || len(rows) != 1 {
		t.Fatalf("duplicate names: %v %v", cols, rows)
	}
	var doc map[string]any
	if err := json.Unmarshal(rows[0][1].(json.RawMessage), &doc); err != nil || doc["b"] != 1.0 {
		t.Errorf("duplicate names: %s %v", rows[0][1], err)
	}
	// Parameters reach the wrapped query.
	_, rows = readAll(t, w, "SELECT v FROM j WHERE k = ?", 2)
	if len(rows) != 1 || string(rows[0][0].(json.RawMessage)) != `{"b":1,"a":12345678901234567890}` {
		t.Errorf("with a parameter: %v", rows)
	}
}

// TestVacuumDefault: Opens keep DuckDB's checkpoint vacuum unless the URL
// sets max_vacuum_tasks.
func TestVacuumDefault(t *testing.T) {
	ctx := context.Background()
	for url, want := range map[string]int64{
		"duckdb:": 100,
		"duckdb:" + filepath.Join(t.TempDir(), "v.db"): 100,
		"duckdb:?" + duckdb.VacuumOption + "=0":        0,
	} {
		w := open(t, url)
		var got int64
		if err := w.Get(ctx, &got, "SELECT CAST(current_setting('max_vacuum_tasks') AS BIGINT)"); err != nil || got != want {
			t.Errorf("%s: max_vacuum_tasks is %d (%v), want %d", url, got, err, want)
		}
		w.Close()
	}
}
