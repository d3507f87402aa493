package postgres_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// rowsOf returns an iterator over the given rows.
func rowsOf(rows ...[]any) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

var (
	kathmandu = time.FixedZone("Asia/Kathmandu", 5*3600+45*60)
	newYork   = mustLoadLocation("America/New_York")
)

func mustLoadLocation(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone(name, -5*3600)
	}
	return l
}

func dec(s string) warehouse.Decimal { return warehouse.MustDecimal(s) }

// bigString is 64 KiB of mixed-width UTF-8.
var bigString = func() string {
	var b strings.Builder
	for b.Len() < 64<<10 {
		b.WriteString("aé日🎉")
	}
	return b.String()
}()

// column is one column of the round-trip table: the values loaded, row by
// row, what reading them back gives (nil: the same as loaded), and how the
// server renders each with ::text (nil: not checked), which proves what was
// stored independently of the driver's decoding.
type column struct {
	name string
	typ  warehouse.Type
	in   []any
	want []any
	text []any
}

var roundTrip = []column{
	{name: "str", typ: warehouse.String,
		in:   []any{"", "hello", "héllo wörld — 日本語 🎉", bigString, nil, "tab\tnew\nline\\back'quote\"", []byte("bytes")},
		want: []any{"", "hello", "héllo wörld — 日本語 🎉", bigString, nil, "tab\tnew\nline\\back'quote\"", "bytes"}},
	{name: "vc", typ: varcharT(20),
		in: []any{"abc", "日本語日本語日本語日本語日本語日本語🎉🎉", nil}},
	{name: "i16", typ: int16T(),
		in:   []any{int64(math.MinInt16), int(math.MaxInt16), int8(-1), nil, uint8(200)},
		want: []any{int64(math.MinInt16), int64(math.MaxInt16), int64(-1), nil, int64(200)}},
	{name: "i32", typ: int32T(),
		in:   []any{int64(math.MinInt32), int32(math.MaxInt32), uint16(7), nil},
		want: []any{int64(math.MinInt32), int64(math.MaxInt32), int64(7), nil}},
	{name: "i64", typ: warehouse.Integer,
		in:   []any{int64(math.MinInt64), int64(math.MaxInt64), 0, nil, uint64(1 << 62)},
		want: []any{int64(math.MinInt64), int64(math.MaxInt64), int64(0), nil, int64(1 << 62)}},
	{name: "d38_10", typ: warehouse.DecimalType(38, 10),
		in:   []any{dec("-9999999999999999999999999999.9999999999"), "1.5", 42, 0.25, warehouse.Decimal{}, nil, dec("1e-10"), dec("-0.1")},
		want: []any{dec("-9999999999999999999999999999.9999999999"), dec("1.5000000000"), dec("42.0000000000"), dec("0.2500000000"), dec("0.0000000000"), nil, dec("0.0000000001"), dec("-0.1000000000")},
		text: []any{"-9999999999999999999999999999.9999999999", "1.5000000000", "42.0000000000", "0.2500000000", "0.0000000000", nil, "0.0000000001", "-0.1000000000"}},
	{name: "d38_0", typ: warehouse.DecimalType(38, 0),
		in:   []any{dec("-99999999999999999999999999999999999999"), "12345678901234567890123456789012345678", int64(math.MinInt64), dec("10000"), dec("1e4")},
		want: []any{dec("-99999999999999999999999999999999999999"), dec("12345678901234567890123456789012345678"), dec("-9223372036854775808"), dec("10000"), dec("10000")},
		text: []any{"-99999999999999999999999999999999999999", "12345678901234567890123456789012345678", "-9223372036854775808", "10000", "10000"}},
	{name: "d38_38", typ: warehouse.DecimalType(38, 38),
		in:   []any{dec("-0.00000000000000000000000000000000000001"), dec("0.99999999999999999999999999999999999999")},
		text: []any{"-0.00000000000000000000000000000000000001", "0.99999999999999999999999999999999999999"}},
	{name: "f32", typ: float32T(),
		in:   []any{float32(1.5), -2.25, nil, int64(3)},
		want: []any{1.5, -2.25, nil, 3.0}},
	{name: "f64", typ: warehouse.Float,
		in: []any{math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(-1), -0.5, nil}},
	{name: "b", typ: warehouse.Boolean,
		in: []any{true, false, nil}},
	{name: "dt", typ: warehouse.Date,
		in:   []any{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 2, 0, 0, 0, kathmandu), nil},
		want: []any{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), nil},
		text: []any{"2024-02-29", "0001-01-01", "9999-12-31", "2024-03-01", nil}},
	{name: "tm", typ: warehouse.Time,
		in:   []any{time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC), time.Date(2024, 5, 6, 1, 2, 3, 4567, kathmandu), 90 * time.Minute, nil},
		want: []any{time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC), time.Date(1, 1, 1, 1, 2, 3, 4000, time.UTC), time.Date(1, 1, 1, 1, 30, 0, 0, time.UTC), nil},
		text: []any{"23:59:59.999999", "01:02:03.000004", "01:30:00", nil}},
	{name: "ts", typ: warehouse.Timestamp,
		in: []any{
			time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC),
			time.Date(2024, 6, 1, 12, 0, 0, 1000, kathmandu), // wall clock kept, zone dropped
			time.Date(2024, 3, 10, 2, 30, 0, 0, time.UTC),    // a wall clock that does not exist in New York
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			nil,
		},
		want: []any{
			time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC),
			time.Date(2024, 6, 1, 12, 0, 0, 1000, time.UTC),
			time.Date(2024, 3, 10, 2, 30, 0, 0, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			nil,
		},
		text: []any{"2024-02-29 23:59:59.123456", "2024-06-01 12:00:00.000001", "2024-03-10 02:30:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59.999999", nil}},
	{name: "tstz", typ: warehouse.TimestampTZ,
		in: []any{
			time.Date(2024, 2, 29, 23, 59, 59, 123456000, kathmandu),
			time.Date(2024, 11, 3, 1, 30, 0, 1000, newYork),
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			nil,
		},
		want: []any{
			time.Date(2024, 2, 29, 18, 14, 59, 123456000, time.UTC),
			time.Date(2024, 11, 3, 1, 30, 0, 1000, newYork).UTC(),
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			nil,
		},
		text: []any{"2024-02-29 18:14:59.123456", time.Date(2024, 11, 3, 1, 30, 0, 1000, newYork).UTC().Format("2006-01-02 15:04:05.999999"), "2000-01-01 00:00:00", nil}},
	{name: "js", typ: warehouse.JSON,
		in: []any{
			json.RawMessage(`{"b": 1, "a": [1, 2.5, "x", null], "u": "日本 🎉", "big": 12345678901234567890}`),
			`"a string"`,
			[]byte(`[1,2,3]`),
			map[string]any{"k": true},
			json.RawMessage(`null`),
			nil,
			`{"long":"` + strings.Repeat("x", 70000) + `"}`,
		},
		want: []any{
			json.RawMessage(`{"a": [1, 2.5, "x", null], "b": 1, "u": "日本 🎉", "big": 12345678901234567890}`),
			json.RawMessage(`"a string"`),
			json.RawMessage(`[1, 2, 3]`),
			json.RawMessage(`{"k": true}`),
			json.RawMessage(`null`),
			nil,
			json.RawMessage(`{"long":"` + strings.Repeat("x", 70000) + `"}`),
		}},
	{name: "bin", typ: warehouse.Binary,
		in:   []any{[]byte{0, 1, 2, 255}, []byte{}, "abc", nil},
		want: []any{[]byte{0, 1, 2, 255}, []byte{}, []byte("abc"), nil}},
	{name: "ai64", typ: warehouse.ArrayOf(warehouse.Integer),
		in:   []any{[]any{int64(1), nil, int64(3)}, []int64{4, 5}, []any{}, nil, []int{math.MaxInt32}},
		want: []any{[]any{int64(1), nil, int64(3)}, []any{int64(4), int64(5)}, []any{}, nil, []any{int64(math.MaxInt32)}}},
	{name: "ai16", typ: warehouse.ArrayOf(int16T()),
		in:   []any{[]any{int16(-5), 7}},
		want: []any{[]any{int64(-5), int64(7)}}},
	{name: "astr", typ: warehouse.ArrayOf(warehouse.String),
		in:   []any{[]any{"a", "b,c", `q"uote`, "", nil, "NULL", "{x}"}, []string{"日本"}},
		want: []any{[]any{"a", "b,c", `q"uote`, "", nil, "NULL", "{x}"}, []any{"日本"}}},
	{name: "adec", typ: warehouse.ArrayOf(warehouse.DecimalType(10, 2)),
		in:   []any{[]any{dec("1.5"), "-2.25", nil}},
		want: []any{[]any{dec("1.50"), dec("-2.25"), nil}},
		text: []any{"{1.50,-2.25,NULL}"}},
	{name: "atstz", typ: warehouse.ArrayOf(warehouse.TimestampTZ),
		in:   []any{[]any{time.Date(2024, 1, 2, 3, 4, 5, 6000, kathmandu)}},
		want: []any{[]any{time.Date(2024, 1, 1, 21, 19, 5, 6000, time.UTC)}}},
	{name: "ats", typ: warehouse.ArrayOf(warehouse.Timestamp),
		in:   []any{[]any{time.Date(2024, 1, 2, 3, 4, 5, 6000, kathmandu)}},
		want: []any{[]any{time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)}},
		text: []any{`{"2024-01-02 03:04:05.000006"}`}},
	{name: "ajs", typ: warehouse.ArrayOf(warehouse.JSON),
		in:   []any{[]any{json.RawMessage(`{"a":1}`), `[1]`, nil}},
		want: []any{[]any{json.RawMessage(`{"a": 1}`), json.RawMessage(`[1]`), nil}}},
	{name: "ab", typ: warehouse.ArrayOf(warehouse.Boolean),
		in: []any{[]any{true, false, nil}}},
	{name: "adt", typ: warehouse.ArrayOf(warehouse.Date),
		in: []any{[]any{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}}},
	{name: "atm", typ: warehouse.ArrayOf(warehouse.Time),
		in:   []any{[]any{time.Date(1, 1, 1, 12, 0, 0, 1000, time.UTC)}},
		text: []any{"{12:00:00.000001}"}},
	{name: "af64", typ: warehouse.ArrayOf(warehouse.Float),
		in:   []any{[]any{1.5, float32(2.5), nil}},
		want: []any{[]any{1.5, 2.5, nil}}},
	{name: "abin", typ: warehouse.ArrayOf(warehouse.Binary),
		in: []any{[]any{[]byte{1, 2}, nil}}},
}

// equalValue compares a value read back with the expected one.
func equalValue(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case warehouse.Decimal:
		g, ok := got.(warehouse.Decimal)
		return ok && g.String() == w.String() && g.Scale == w.Scale
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	case json.RawMessage:
		g, ok := got.(json.RawMessage)
		if !ok {
			return false
		}
		var a, b any
		da := json.NewDecoder(bytes.NewReader(g))
		da.UseNumber()
		db := json.NewDecoder(bytes.NewReader(w))
		db.UseNumber()
		return da.Decode(&a) == nil && db.Decode(&b) == nil && reflect.DeepEqual(a, b)
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !equalValue(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

func show(v any) string {
	s := fmt.Sprintf("%T %v", v, v)
	if d, ok := v.(warehouse.Decimal); ok {
		s = fmt.Sprintf("Decimal %s (scale %d)", d, d.Scale)
	}
	if r, ok := v.(json.RawMessage); ok {
		s = "json " + string(r)
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// TestLoadRoundTrip loads a value of every kind, NULLs included, and reads
// them back, under several session time zones and both the binary (extended
// protocol) and the text (simple protocol) result formats.
func TestLoadRoundTrip(t *testing.T) {
	variants := []struct {
		name   string
		params []string
	}{
		{"default", nil},
		{"tz New York", []string{"timezone", "America/New_York"}},
		{"tz Kathmandu simple protocol", []string{"timezone", "Asia/Kathmandu", "default_query_exec_mode", "simple_protocol"}},
		{"cache statement", []string{"default_query_exec_mode", "cache_statement"}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			w, schema := testWarehouse(t, v.params...)
			testRoundTrip(t, w, schema)
		})
	}
}

func testRoundTrip(t *testing.T, w *warehouse.Warehouse, schema string) {
	ctx := context.Background()
	rel := warehouse.Rel(schema, "all_kinds")
	cols := make([]warehouse.Column, 0, len(roundTrip)+1)
	cols = append(cols, warehouse.Column{Name: "row", Type: warehouse.Integer})
	nrows := 0
	for _, c := range roundTrip {
		cols = append(cols, warehouse.Column{Name: c.name, Type: c.typ, Nullable: true})
		nrows = max(nrows, len(c.in))
	}
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	// One row slice, reused for every row as producers may do.
	row := make([]any, len(cols))
	rows := func(yield func([]any, error) bool) {
		for r := 0; r < nrows; r++ {
			row[0] = int64(r)
			for i, c := range roundTrip {
				row[i+1] = nil
				if r < len(c.in) {
					row[i+1] = c.in[r]
				}
			}
			if !yield(row, nil) {
				return
			}
		}
	}
	n, err := w.Load(ctx, rel, nil, rows)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(nrows) {
		t.Fatalf("loaded %d rows, want %d", n, nrows)
	}

	got := 0
	for rec, err := range w.Rows(ctx, "SELECT * FROM "+w.Dialect().QuoteRelation(rel)+" ORDER BY row") {
		if err != nil {
			t.Fatal(err)
		}
		r := got
		got++
		if rec.Values[0] != int64(r) {
			t.Fatalf("row %d: id %v", r, rec.Values[0])
		}
		for i, c := range roundTrip {
			col := rec.Columns[i+1]
			if col.Name != c.name || !col.Type.Equal(c.typ) {
				t.Errorf("result column %d: %s %s, want %s %s", i+1, col.Name, col.Type, c.name, c.typ)
			}
			var want any
			if r < len(c.in) {
				want = c.in[r]
				if c.want != nil {
					want = c.want[r]
				}
			}
			if !equalValue(rec.Values[i+1], want) {
				t.Errorf("row %d, %s (%s): got %s, want %s", r, c.name, c.typ, show(rec.Values[i+1]), show(want))
			}
		}
	}
	if got != nrows {
		t.Errorf("read %d rows, want %d", got, nrows)
	}

	// What the server stored, in its own words.
	for _, c := range roundTrip {
		if c.text == nil {
			continue
		}
		expr := w.Dialect().QuoteIdentifier(c.name)
		if c.typ.Kind == warehouse.KindTimestampTZ {
			expr += " AT TIME ZONE 'UTC'"
		}
		var texts []sql.NullString
		if err := w.Select(ctx, &texts, "SELECT ("+expr+")::text FROM "+w.Dialect().QuoteRelation(rel)+" ORDER BY row"); err != nil {
			t.Fatal(err)
		}
		for r, want := range c.text {
			var g any
			if texts[r].Valid {
				g = texts[r].String
			}
			if g != want {
				t.Errorf("row %d, %s::text = %v, want %v", r, c.name, g, want)
			}
		}
	}
}

func TestLoadColumnsSubsetAndTx(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	rel := warehouse.Rel(schema, "sub")
	cols := []warehouse.Column{
		{Name: "id", Type: warehouse.Integer},
		{Name: "Name", Type: warehouse.String, Nullable: true},
		{Name: "note", Type: warehouse.String, Nullable: true},
	}
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	// Columns in another order, one left out.
	if _, err := w.Load(ctx, rel, []string{"Name", "id"}, rowsOf([]any{"x", int64(1)}, []any{nil, int64(2)})); err != nil {
		t.Fatal(err)
	}
	// Inside a transaction: visible in it, gone after rollback.
	tx, err := w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := tx.Load(ctx, rel, nil, rowsOf([]any{int64(3), "y", "z"})); err != nil || n != 1 {
		t.Fatalf("load in tx: %d, %v", n, err)
	}
	var inTx int
	if err := tx.Get(ctx, &inTx, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(rel)); err != nil || inTx != 3 {
		t.Errorf("count in tx = %d, %v", inTx, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var names []sql.NullString
	if err := w.Select(ctx, &names, `SELECT "Name" FROM `+w.Dialect().QuoteRelation(rel)+" ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0].String != "x" || names[1].Valid {
		t.Errorf("rows after rollback: %v", names)
	}
	// Empty input loads nothing.
	if n, err := w.Load(ctx, rel, nil, rowsOf()); err != nil || n != 0 {
		t.Errorf("empty load: %d, %v", n, err)
	}
}

var errProducer = errors.New("producer failed")

func TestLoadErrors(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	rel := warehouse.Rel(schema, "e")
	cols := []warehouse.Column{
		{Name: "id", Type: warehouse.Integer},
		{Name: "n32", Type: int32T(), Nullable: true},
		{Name: "d", Type: warehouse.DecimalType(10, 2), Nullable: true},
		{Name: "j", Type: warehouse.JSON, Nullable: true},
		{Name: "v3", Type: varcharT(3), Nullable: true},
		{Name: "a", Type: warehouse.ArrayOf(warehouse.Integer), Nullable: true},
	}
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	good := func(i int) []any { return []any{int64(i), 1, "1.25", `{}`, "abc", []any{int64(1)}} }
	with := func(i, col int, v any) []any { r := good(i); r[col] = v; return r }
	cases := []struct {
		name string
		rows iter.Seq2[[]any, error]
		want []string
		is   error
	}{
		{"wrong type", rowsOf(good(1), good(2), with(3, 1, "seven")), []string{"row 3", `"n32"`, "string"}, nil},
		{"null in not null", rowsOf(good(1), with(2, 0, nil)), []string{"row 2", `"id"`, "NULL"}, nil},
		{"int32 overflow", rowsOf(with(1, 1, int64(math.MaxInt32)+1)), []string{"row 1", `"n32"`, "out of range"}, nil},
		{"uint64 overflow", rowsOf(with(1, 0, uint64(math.MaxUint64))), []string{"row 1", `"id"`, "out of range"}, nil},
		{"decimal digits lost", rowsOf(good(1), with(2, 2, "1.234")), []string{"row 2", `"d"`, "1.234"}, nil},
		{"decimal text", rowsOf(with(1, 2, "abc")), []string{"row 1", `"d"`, "invalid decimal"}, nil},
		{"invalid json", rowsOf(with(1, 3, `{"a":`)), []string{"row 1", `"j"`, "not valid JSON"}, nil},
		{"array element", rowsOf(with(1, 5, []any{int64(1), "two"})), []string{"row 1", `"a"`, "element 1"}, nil},
		{"short row", rowsOf(good(1), []any{int64(2)}), []string{"row 2", "1 values for 6 columns"}, nil},
		{"producer error", func(yield func([]any, error) bool) {
			for i := 1; i <= 4; i++ {
				if !yield(good(i), nil) {
					return
				}
			}
			yield(nil, errProducer)
		}, []string{"row 5", "producer failed"}, errProducer},
		{"producer panic", func(yield func([]any, error) bool) {
			yield(good(1), nil)
			panic("boom")
		}, []string{"row 2", "panicked", "boom"}, nil},
		{"server check", rowsOf(good(1), with(2, 4, "abcd")), []string{"line 2", "v3", "22001"}, nil},
		{"numeric overflow on server", rowsOf(with(1, 2, "123456789.5")), []string{"line 1", "numeric field overflow"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := w.Load(ctx, rel, nil, tc.rows)
			if err == nil {
				t.Fatalf("loaded %d rows, want an error", n)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			var count int
			if err := w.Get(ctx, &count, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(rel)); err != nil || count != 0 {
				t.Errorf("after a failed load: %d rows, %v", count, err)
			}
		})
	}
}

func TestLoadCancel(t *testing.T) {
	w, schema := testWarehouse(t)
	rel := warehouse.Rel(schema, "c")
	cols := []warehouse.Column{{Name: "id", Type: warehouse.Integer}, {Name: "s", Type: warehouse.String}}
	if err := w.CreateTable(context.Background(), rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	endless := func(onRow func(int)) iter.Seq2[[]any, error] {
		return func(yield func([]any, error) bool) {
			row := make([]any, 2)
			for i := 0; ; i++ {
				onRow(i)
				row[0], row[1] = int64(i), "some text to send"
				if !yield(row, nil) {
					return
				}
			}
		}
	}
	// stoppedAt is when the load was told to stop: the producer's cancel or
	// the deadline. How long the load takes to return is counted from there,
	// not from its start (producing the rows before a cancel takes long under
	// -race on a loaded machine).
	var stoppedAt time.Time
	cases := []struct {
		name string
		run  func() (context.Context, iter.Seq2[[]any, error])
	}{
		{"cancel from producer", func() (context.Context, iter.Seq2[[]any, error]) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, endless(func(i int) {
				if i == 300_000 {
					stoppedAt = time.Now()
					cancel()
				}
			})
		}},
		{"deadline", func() (context.Context, iter.Seq2[[]any, error]) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			t.Cleanup(cancel)
			stoppedAt, _ = ctx.Deadline()
			return ctx, endless(func(int) {})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, rows := tc.run()
			n, err := w.Load(ctx, rel, nil, rows)
			took := time.Since(stoppedAt)
			if err == nil {
				t.Fatalf("loaded %d rows from an endless producer", n)
			}
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v is not the context's", err)
			}
			if took > 20*time.Second {
				t.Errorf("took %s to stop after the cancel", took)
			}
			t.Logf("stopped %s after the cancel: %v", took, err)
			var count int
			if err := w.Get(context.Background(), &count, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(rel)); err != nil || count != 0 {
				t.Errorf("after a cancelled load: %d rows, %v", count, err)
			}
		})
	}
}

// TestQueryValues reads types that only queries produce: unconstrained
// numerics, uuids, multi-dimensional arrays, types without a portable kind.
func TestQueryValues(t *testing.T) {
	for _, mode := range []string{"describe_exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			w, _ := testWarehouse(t, "default_query_exec_mode", mode)
			ctx := context.Background()
			cases := []struct {
				sql  string
				args []any
				typ  warehouse.Type
				want any
			}{
				{"SELECT 1.50::numeric", nil, warehouse.Type{Kind: warehouse.KindDecimal}, dec("1.50")},
				{"SELECT -123456789012345678901234567890.123456789::numeric", nil, warehouse.Type{Kind: warehouse.KindDecimal}, dec("-123456789012345678901234567890.123456789")},
				{"SELECT 0.000::numeric", nil, warehouse.Type{Kind: warehouse.KindDecimal}, dec("0.000")},
				{"SELECT 10000000::numeric(20,0)", nil, warehouse.DecimalType(20, 0), dec("10000000")},
				{"SELECT $1::numeric(38,10)", []any{dec("-1.25")}, warehouse.DecimalType(38, 10), dec("-1.2500000000")},
				{"SELECT $1::numeric", []any{ptr(dec("7.000"))}, warehouse.Type{Kind: warehouse.KindDecimal}, dec("7.000")},
				{"SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", nil, warehouse.String, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
				{"SELECT 7::int2", nil, int16T(), int64(7)},
				{"SELECT 7::oid", nil, warehouse.Integer, int64(7)},
				{"SELECT 1.5::float4", nil, float32T(), 1.5},
				{"SELECT 'x'::char(3)", nil, varcharT(3), "x  "},
				{"SELECT 'n'::name", nil, warehouse.String, "n"},
				{`SELECT '{"a": [1, 2]}'::json`, nil, warehouse.JSON, json.RawMessage(`{"a": [1, 2]}`)},
				{"SELECT ARRAY[[1,2],[3,4]]::int[]", nil, warehouse.ArrayOf(int32T()), []any{[]any{int64(1), int64(2)}, []any{int64(3), int64(4)}}},
				{"SELECT '{}'::text[]", nil, warehouse.ArrayOf(warehouse.String), []any{}},
				{"SELECT ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, NULL]", nil, warehouse.ArrayOf(warehouse.String), []any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", nil}},
				{"SELECT ARRAY[1.5::numeric, -2]", nil, warehouse.ArrayOf(warehouse.Type{Kind: warehouse.KindDecimal}), []any{dec("1.5"), dec("-2")}},
				{`SELECT ARRAY['{"a":1}'::jsonb]`, nil, warehouse.ArrayOf(warehouse.JSON), []any{json.RawMessage(`{"a": 1}`)}},
				{"SELECT '1 day 02:00:00'::interval", nil, warehouse.Type{Kind: warehouse.KindUnknown, Native: "interval"}, "1 day 02:00:00"},
				{"SELECT '192.168.0.1/24'::inet", nil, warehouse.Type{Kind: warehouse.KindUnknown, Native: "inet"}, "192.168.0.1/24"},
				{"SELECT $1::timestamptz", []any{time.Date(2024, 1, 1, 5, 45, 0, 0, kathmandu)}, warehouse.TimestampTZ, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
				{"SELECT '2024-01-01 12:00'::timestamp", nil, warehouse.Timestamp, time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
				{"SELECT '24:00:00'::time", nil, warehouse.Time, time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)},
				{"SELECT NULL::bigint[]", nil, warehouse.ArrayOf(warehouse.Integer), nil},
			}
			for _, tc := range cases {
				n := 0
				for rec, err := range w.Rows(ctx, tc.sql, tc.args...) {
					if err != nil {
						t.Errorf("%s: %v", tc.sql, err)
						break
					}
					n++
					if !rec.Columns[0].Type.Equal(tc.typ) {
						t.Errorf("%s: type %s (native %q), want %s", tc.sql, rec.Columns[0].Type, rec.Columns[0].Type.Native, tc.typ)
					}
					if !equalValue(rec.Values[0], tc.want) {
						t.Errorf("%s: %s, want %s", tc.sql, show(rec.Values[0]), show(tc.want))
					}
				}
				if n != 1 {
					t.Errorf("%s: %d rows", tc.sql, n)
				}
			}
			// Values that have no portable value are errors, not guesses.
			for _, q := range []string{"SELECT 'NaN'::numeric", "SELECT 'infinity'::timestamptz", "SELECT '-infinity'::date"} {
				var err error
				for _, e := range w.Rows(ctx, q) {
					err = e
				}
				if err == nil || !strings.Contains(err.Error(), "portable") {
					t.Errorf("%s: %v, want a no-portable-value error", q, err)
				}
			}
			// Breaking out of the loop early leaves the connection usable, also in a transaction.
			err := w.WithTx(ctx, func(tx *warehouse.Tx) error {
				seen := 0
				for _, err := range tx.Rows(ctx, "SELECT g FROM generate_series(1, 100000) g") {
					if err != nil {
						return err
					}
					if seen++; seen == 3 {
						break
					}
				}
				var one int
				return tx.Get(ctx, &one, "SELECT 1")
			})
			if err != nil {
				t.Errorf("after breaking out: %v", err)
			}
			// An error in the query.
			for _, err := range w.Rows(ctx, "SELECT * FROM no_such_table_q") {
				if !errors.Is(err, warehouse.ErrNotFound) {
					t.Errorf("query of a missing table: %v", err)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestDecimalArgs passes warehouse.Decimal as a bind parameter through
// database/sql (Exec, Get) and through Rows.
func TestDecimalArgs(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	rel := warehouse.Rel(schema, "d")
	if err := w.CreateTable(ctx, rel, []warehouse.Column{{Name: "x", Type: warehouse.DecimalType(38, 10), Nullable: true}}, nil); err != nil {
		t.Fatal(err)
	}
	vals := []warehouse.Decimal{dec("-1234567890123456789012345678.0123456789"), dec("0.0000000001"), {}}
	for _, v := range vals {
		if _, err := w.Exec(ctx, "INSERT INTO "+w.Dialect().QuoteRelation(rel)+" VALUES ($1)", v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Exec(ctx, "INSERT INTO "+w.Dialect().QuoteRelation(rel)+" VALUES ($1)", (*warehouse.Decimal)(nil)); err != nil {
		t.Fatal(err)
	}
	var texts []sql.NullString
	if err := w.Select(ctx, &texts, "SELECT x::text FROM "+w.Dialect().QuoteRelation(rel)); err != nil {
		t.Fatal(err)
	}
	want := []string{"-1234567890123456789012345678.0123456789", "0.0000000001", "0.0000000000"}
	for i, s := range want {
		if texts[i].String != s {
			t.Errorf("row %d: %v, want %s", i, texts[i], s)
		}
	}
	if texts[3].Valid {
		t.Errorf("nil *Decimal stored %v", texts[3])
	}
	var count int
	if err := w.Get(ctx, &count, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(rel)+" WHERE x = $1", vals[0]); err != nil || count != 1 {
		t.Errorf("Get with a Decimal argument: %d, %v", count, err)
	}
	for rec, err := range w.Rows(ctx, "SELECT x FROM "+w.Dialect().QuoteRelation(rel)+" WHERE x < $1", dec("0")) {
		if err != nil {
			t.Fatal(err)
		}
		if !equalValue(rec.Values[0], vals[0]) {
			t.Errorf("Rows with a Decimal argument: %s", show(rec.Values[0]))
		}
	}
}

// TestLoadNativeTypes loads columns of types without a portable kind (or
// read as string, like uuid) from their text form.
func TestLoadNativeTypes(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	rel := warehouse.Rel(schema, "native")
	q := w.Dialect().QuoteIdentifier(schema)
	for _, stmt := range []string{
		"CREATE TYPE " + q + ".mood AS ENUM ('sad', 'ok', 'happy')",
		"CREATE DOMAIN " + q + ".short_text AS varchar(5)",
		"CREATE TABLE " + w.Dialect().QuoteRelation(rel) + " (u uuid, iv interval, ip inet, m " + q + ".mood, st " + q + ".short_text, ms " + q + ".mood[])",
		"CREATE TABLE " + q + ".tz (tz timetz)",
	} {
		if _, err := w.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	cols, err := w.Columns(ctx, rel)
	if err != nil {
		t.Fatal(err)
	}
	if !cols[0].Type.Equal(warehouse.String) || cols[1].Type.Kind != warehouse.KindUnknown || cols[1].Type.Native != "interval" {
		t.Errorf("columns %+v", cols)
	}
	in := []any{"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "1 day 02:00:00", "10.0.0.1/8", "happy", "abc", []any{"sad", nil}}
	if _, err := w.Load(ctx, rel, nil, rowsOf(in, make([]any, len(in)))); err != nil {
		t.Fatal(err)
	}
	want := []any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "1 day 02:00:00", "10.0.0.1/8", "happy", "abc", "{sad,NULL}"}
	n := 0
	for rec, err := range w.Rows(ctx, "SELECT * FROM "+w.Dialect().QuoteRelation(rel)+" ORDER BY u NULLS LAST") {
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			exp := want[i]
			if n == 1 {
				exp = nil
			}
			if !equalValue(rec.Values[i], exp) {
				t.Errorf("row %d column %s: %s, want %s", n, rec.Columns[i].Name, show(rec.Values[i]), show(exp))
			}
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d rows", n)
	}
	// A type pgx cannot encode is named before anything is sent.
	_, err = w.Load(ctx, warehouse.Rel(schema, "tz"), nil, rowsOf([]any{"12:00:00+05:45"}))
	if err == nil || !strings.Contains(err.Error(), `column "tz"`) || !strings.Contains(err.Error(), "time with time zone") {
		t.Errorf("load of timetz: %v", err)
	}
}
