package warehousetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// allTypes is one column of every portable type.
func allTypes() []warehouse.Column {
	return []warehouse.Column{
		col("s", warehouse.String),
		col("i16", warehouse.Type{Kind: warehouse.KindInteger, Bits: 16}),
		col("i32", warehouse.Type{Kind: warehouse.KindInteger, Bits: 32}),
		col("i64", warehouse.Integer),
		col("d38_0", warehouse.DecimalType(38, 0)),
		col("d38_10", warehouse.DecimalType(38, 10)),
		col("d10_2", warehouse.DecimalType(10, 2)),
		col("f32", warehouse.Type{Kind: warehouse.KindFloat, Bits: 32}),
		col("f64", warehouse.Float),
		col("b", warehouse.Boolean),
		col("dt", warehouse.Date),
		col("tm", warehouse.Time),
		col("ts", warehouse.Timestamp),
		col("tstz", warehouse.TimestampTZ),
		col("j", warehouse.JSON),
		col("bin", warehouse.Binary),
		col("arr_i", warehouse.ArrayOf(warehouse.Integer)),
		col("arr_s", warehouse.ArrayOf(warehouse.String)),
	}
}

func typeRoundTripRows() [][]any {
	kolkata := time.FixedZone("IST", 5*3600+30*60)
	ny := time.FixedZone("EST", -5*3600)
	big := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	return [][]any{
		{
			"héllo wörld — 表 🎉 \"quoted\" 'single' \\ back",
			int16(-32768), int32(2147483647), int64(math.MinInt64),
			warehouse.MustDecimal("-99999999999999999999999999999999999999"),
			warehouse.MustDecimal("-1234567890123456789012345678.0123456789"),
			"-12.30",
			float32(1.5), -1.25e-300,
			true,
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
			time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC),
			time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC),
			time.Date(2024, 2, 29, 13, 14, 15, 123456000, kolkata),
			json.RawMessage(`{"a": [1, 2.5, "x", null, true], "b": {"c": "ü"}}`),
			[]byte{0, 1, 2, 0xfe, 0xff},
			[]any{int64(1), nil, int64(-3)},
			[]any{"a", "b c", `q"uote`, ""},
		},
		{
			big,
			int16(32767), int32(-2147483648), int64(math.MaxInt64),
			warehouse.MustDecimal("99999999999999999999999999999999999999"),
			warehouse.MustDecimal("0.0000000001"),
			int64(7),
			float32(-0.25), math.MaxFloat64,
			false,
			time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
			time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC),
			time.Date(1999, 12, 31, 23, 59, 59, 999999000, ny),
			`[1, "two", {"three": 3}]`,
			[]byte{},
			[]any{},
			[]any{"ünï", "表"},
		},
		make([]any, len(allTypes())), // all NULL
	}
}

func testTypeRoundTrip(t *testing.T, f *fixture) {
	ctx := context.Background()
	cols := allTypes()
	r := f.mustCreate(t, "all_types", cols...)
	rows := typeRoundTripRows()
	// A sort key, so rows come back in load order.
	r2 := f.mustCreate(t, "all_types_keyed", append([]warehouse.Column{col("k", warehouse.Integer)}, cols...)...)
	keyed := make([][]any, len(rows))
	for i, row := range rows {
		keyed[i] = append([]any{int64(i)}, row...)
	}
	n, err := f.w.Load(ctx, r2, nil, rowsOf(keyed...))
	if err != nil {
		t.Fatalf("load %s: %v", r2, err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("load reported %d rows, want %d", n, len(rows))
	}
	if n, err := f.w.Load(ctx, r, nil, rowsOf(rows...)); err != nil || n != int64(len(rows)) {
		t.Fatalf("load %s: n=%d err=%v", r, n, err)
	}
	if got := f.count(t, "all_types"); got != int64(len(rows)) {
		t.Fatalf("count = %d, want %d", got, len(rows))
	}
	i := 0
	for rec, err := range f.w.Rows(ctx, "SELECT * FROM "+f.q("all_types_keyed")+" ORDER BY "+f.id("k")) {
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if len(rec.Columns) != len(cols)+1 {
			t.Fatalf("read back %d columns, want %d", len(rec.Columns), len(cols)+1)
		}
		for c, want := range rows[i] {
			column := cols[c]
			if gotType := rec.Columns[c+1].Type; !gotType.Equal(column.Type) {
				t.Errorf("column %s: result type %s, want %s", column.Name, gotType, column.Type)
			}
			if err := sameValue(column.Type, want, rec.Values[c+1]); err != nil {
				t.Errorf("row %d column %s: %v", i, column.Name, err)
			}
		}
		i++
	}
	if i != len(rows) {
		t.Fatalf("read back %d rows, want %d", i, len(rows))
	}
}

func testTypeMapping(t *testing.T, f *fixture) {
	ctx := context.Background()
	cols := allTypes()
	r := f.mustCreate(t, "typed", cols...)
	got, err := f.w.Columns(ctx, r)
	if err != nil {
		t.Fatalf("columns %s: %v", r, err)
	}
	if len(got) != len(cols) {
		t.Fatalf("columns %s: got %d, want %d", r, len(got), len(cols))
	}
	d := f.w.Dialect()
	for i, c := range cols {
		if got[i].Name != c.Name {
			t.Errorf("column %d: name %q, want %q", i, got[i].Name, c.Name)
		}
		if !got[i].Type.Equal(c.Type) {
			t.Errorf("column %s: introspected %s (native %q), want %s", c.Name, got[i].Type, got[i].Type.Native, c.Type)
		}
		if got[i].Type.Native == "" {
			t.Errorf("column %s: introspection left Native empty", c.Name)
		}
		sqlType, err := d.TypeSQL(c.Type)
		if err != nil {
			t.Errorf("TypeSQL(%s): %v", c.Type, err)
			continue
		}
		if back := d.ParseType(sqlType); !back.Equal(c.Type) {
			t.Errorf("ParseType(TypeSQL(%s) = %q) = %s", c.Type, sqlType, back)
		}
	}
	for _, bad := range []warehouse.Type{
		warehouse.DecimalType(0, 0), warehouse.DecimalType(39, 2), warehouse.DecimalType(10, 11),
		{Kind: warehouse.KindArray}, {Kind: warehouse.KindUnknown},
	} {
		if s, err := d.TypeSQL(bad); err == nil {
			t.Errorf("TypeSQL(%s) = %q, want an error", bad, s)
		}
	}
	if err := f.w.CreateTable(ctx, f.rel("bad_type"), []warehouse.Column{col("x", warehouse.DecimalType(50, 0))}, nil); err == nil {
		t.Errorf("create table with decimal(50,0): no error")
	} else {
		expectKind(t, err, warehouse.ErrUnsupported, "x")
	}
}

// sameValue checks that got is the portable value of want for type ty.
func sameValue(ty warehouse.Type, want, got any) error {
	if want == nil {
		if got != nil {
			return fmt.Errorf("got %#v, want NULL", got)
		}
		return nil
	}
	if got == nil {
		return fmt.Errorf("got NULL, want %v", want)
	}
	switch ty.Kind {
	case warehouse.KindString:
		if g, ok := got.(string); !ok || g != want.(string) {
			return fmt.Errorf("got %T %.60q, want string %.60q", got, got, want)
		}
	case warehouse.KindInteger:
		w, _ := warehouse.ToInt64(want)
		if g, ok := got.(int64); !ok || g != w {
			return fmt.Errorf("got %T %v, want int64 %d", got, got, w)
		}
	case warehouse.KindDecimal:
		w, err := warehouse.ToDecimal(want)
		if err != nil {
			return err
		}
		g, ok := got.(warehouse.Decimal)
		if !ok || g.Cmp(w) != 0 {
			return fmt.Errorf("got %T %v, want Decimal %s", got, got, w)
		}
	case warehouse.KindFloat:
		var w float64
		switch x := want.(type) {
		case float32:
			w = float64(x)
		case float64:
			w = x
		}
		if g, ok := got.(float64); !ok || g != w {
			return fmt.Errorf("got %T %v, want float64 %v", got, got, w)
		}
	case warehouse.KindBoolean:
		if g, ok := got.(bool); !ok || g != want.(bool) {
			return fmt.Errorf("got %T %v, want bool %v", got, got, want)
		}
	case warehouse.KindDate, warehouse.KindTimestamp, warehouse.KindTimestampTZ, warehouse.KindTime:
		g, ok := got.(time.Time)
		if !ok {
			return fmt.Errorf("got %T %v, want time.Time", got, got)
		}
		w := want.(time.Time)
		switch ty.Kind {
		case warehouse.KindTimestamp:
			w = warehouse.WallClockUTC(w)
		case warehouse.KindTime:
			w = warehouse.TimeOfDay(w)
		}
		if !g.Equal(w) || g.Location() != time.UTC {
			return fmt.Errorf("got %v, want %v in UTC", g, w.UTC())
		}
	case warehouse.KindJSON:
		g, ok := got.(json.RawMessage)
		if !ok {
			return fmt.Errorf("got %T %v, want json.RawMessage", got, got)
		}
		w, err := warehouse.ToJSON(want)
		if err != nil {
			return err
		}
		var gv, wv any
		if err := json.Unmarshal(g, &gv); err != nil {
			return fmt.Errorf("got invalid JSON %q: %v", g, err)
		}
		_ = json.Unmarshal(w, &wv)
		if !reflect.DeepEqual(gv, wv) {
			return fmt.Errorf("got JSON %s, want %s", g, w)
		}
	case warehouse.KindBinary:
		if g, ok := got.([]byte); !ok || !bytes.Equal(g, want.([]byte)) {
			return fmt.Errorf("got %T %v, want []byte %v", got, got, want)
		}
	case warehouse.KindArray:
		g, ok := got.([]any)
		w := want.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %T %v, want []any %v", got, got, want)
		}
		for i := range w {
			if err := sameValue(*ty.Elem, w[i], g[i]); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("no comparison for %s", ty)
	}
	return nil
}
