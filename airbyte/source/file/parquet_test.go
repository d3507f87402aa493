package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/dataopskit/dataops/airbyte"
)

type pqAddress struct {
	City string `parquet:"city"`
	Zip  *int32 `parquet:"zip,optional"`
}

type pqRow struct {
	ID      int64            `parquet:"id"`
	Name    *string          `parquet:"name,optional"`
	Price   int64            `parquet:"price,decimal(2:10)"`
	Big     [16]byte         `parquet:"big,decimal(3:38)"`
	TS      int64            `parquet:"ts,timestamp(microsecond:utc)"`
	Local   int64            `parquet:"local,timestamp(millisecond:local)"`
	Day     int32            `parquet:"day,date"`
	ID2     [16]byte         `parquet:"uuid,uuid"`
	Bin     []byte           `parquet:"bin"`
	F64     float64          `parquet:"f64"`
	F32     float32          `parquet:"f32"`
	U32     uint32           `parquet:"u32"`
	OK      bool             `parquet:"ok"`
	Tags    []string         `parquet:"tags,list"`
	Attrs   map[string]int32 `parquet:"attrs"`
	Address pqAddress        `parquet:"address"`
}

func bigBytes(n *big.Int) (b [16]byte) {
	// 16-byte big-endian two's complement.
	v := new(big.Int).Set(n)
	if v.Sign() < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	v.FillBytes(b[:])
	return b
}

func writeParquet(t testing.TB, rows []pqRow, perGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[pqRow](&buf)
	for i := 0; i < len(rows); i += perGroup {
		end := min(i+perGroup, len(rows))
		if _, err := w.Write(rows[i:end]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil { // ends the row group
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParquet(t *testing.T) {
	name := "Ann"
	zip := int32(8001)
	huge, _ := new(big.Int).SetString("-123456789012345678901234567890123", 10)
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	rows := []pqRow{
		{ID: 1, Name: &name, Price: 12345, Big: bigBytes(huge), TS: ts.UnixMicro(), Local: ts.UnixMilli(), Day: 20455,
			ID2: [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}, Bin: []byte{0, 1, 254, 255},
			F64: 1.5, F32: 0.25, U32: math.MaxUint32, OK: true, Tags: []string{"a", "b"}, Attrs: map[string]int32{"y": 2, "x": 1},
			Address: pqAddress{City: "Zürich", Zip: &zip}},
		{ID: 2, Price: -5, Big: bigBytes(big.NewInt(7)), TS: -1, F64: math.NaN(), F32: float32(math.Inf(1)), Address: pqAddress{City: "Bern"}},
	}
	for i := 3; i <= 10; i++ {
		rows = append(rows, pqRow{ID: int64(i)})
	}
	dir := t.TempDir()
	data := writeParquet(t, rows, 3)
	if pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data))); err != nil || len(pf.RowGroups()) != 4 {
		t.Fatalf("test file: %v row groups, %v; want 4", len(pf.RowGroups()), err)
	}
	writeFile(t, dir, "p/one.parquet", data, base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "p", "globs": []string{"p/*.parquet"}, "format": map[string]any{"filetype": "parquet"}})
	cc := discover(t, src, cfg, airbyte.FullRefresh)
	props := schemaProps(t, cc.Streams[0].Stream)
	want := map[string]string{
		"id": "integer", "name": "string", "price": "number", "big": "number",
		"ts": "string/date-time/timestamp_with_timezone", "local": "string/date-time/timestamp_without_timezone",
		"day": "string/date", "uuid": "string", "bin": "string", "f64": "number", "f32": "number", "u32": "integer",
		"ok": "boolean", "tags": "array", "attrs": "object", "address": "object",
		ColumnFileURL: "string", ColumnFileLastModified: "string/date-time/timestamp_with_timezone",
	}
	for col, w := range want {
		if got := typeOf(props[col]); got != w {
			t.Errorf("column %s: type %s, want %s", col, got, w)
		}
	}
	if props["bin"]["contentEncoding"] != "base64" {
		t.Errorf("bin: %v", props["bin"])
	}
	if !reflect.DeepEqual(props["tags"]["items"], map[string]any{"type": []any{"null", "string"}}) {
		t.Errorf("tags items: %v", props["tags"]["items"])
	}
	addr, _ := props["address"]["properties"].(map[string]any)
	if zipSchema, _ := addr["zip"].(map[string]any); typeOf(zipSchema) != "integer" {
		t.Errorf("address schema: %v", props["address"])
	}

	res := read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 10 {
		t.Fatalf("%d records, want 10", len(res.records))
	}
	r0, r1 := res.records[0], res.records[1]
	checks := []struct {
		rec  map[string]any
		col  string
		want any
	}{
		{r0, "id", json.Number("1")},
		{r0, "name", "Ann"},
		{r0, "price", json.Number("123.45")},
		{r0, "big", json.Number("-123456789012345678901234567890.123")},
		{r0, "ts", "2026-01-02T03:04:05.123456Z"},
		{r0, "local", "2026-01-02T03:04:05.123"},
		{r0, "day", "2026-01-02"},
		{r0, "uuid", "12345678-9abc-def0-0102-030405060708"},
		{r0, "bin", "AAH+/w=="},
		{r0, "f64", json.Number("1.5")},
		{r0, "f32", json.Number("0.25")},
		{r0, "u32", json.Number("4294967295")},
		{r0, "ok", true},
		{r0, "tags", []any{"a", "b"}},
		{r0, "attrs", map[string]any{"x": json.Number("1"), "y": json.Number("2")}},
		{r0, "address", map[string]any{"city": "Zürich", "zip": json.Number("8001")}},
		{r0, ColumnFileURL, "p/one.parquet"},
		{r1, "name", nil},
		{r1, "price", json.Number("-0.05")},
		{r1, "big", json.Number("0.007")},
		{r1, "ts", "1969-12-31T23:59:59.999999Z"},
		{r1, "f64", nil},
		{r1, "f32", nil},
		{r1, "address", map[string]any{"city": "Bern", "zip": nil}},
		{res.records[9], "id", json.Number("10")},
	}
	for _, c := range checks {
		if got := c.rec[c.col]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("column %s: got %#v, want %#v", c.col, got, c.want)
		}
	}
	wantMeta := []airbyte.RecordChange{{Field: "f64", Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"}, {Field: "f32", Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"}}
	if res.metas[1] == nil || !reflect.DeepEqual(res.metas[1].Changes, wantMeta) || res.metas[0] != nil {
		t.Errorf("metas %+v %+v", res.metas[0], res.metas[1])
	}
}

func TestParquetNotParquet(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "x.parquet", []byte("this is not parquet at all"), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "p", "globs": []string{"*.parquet"}, "format": map[string]any{"filetype": "parquet"}})
	_, err := src.Discover(t.Context(), cfg)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "x.parquet" || !strings.Contains(err.Error(), "not a readable Parquet file") {
		t.Errorf("error %v", err)
	}
}

func TestDecimalAndFloat16(t *testing.T) {
	cases := []struct {
		unscaled string
		scale    int32
		want     string
	}{
		{"0", 2, "0.00"}, {"5", 3, "0.005"}, {"-5", 3, "-0.005"}, {"12345", 0, "12345"}, {"12", -2, "1200"},
		{"-99999999999999999999999999999999999999", 10, "-9999999999999999999999999999.9999999999"},
	}
	for _, c := range cases {
		n, _ := new(big.Int).SetString(c.unscaled, 10)
		if got := string(appendDecimal(nil, n, c.scale)); got != c.want {
			t.Errorf("decimal %s scale %d: %s, want %s", c.unscaled, c.scale, got, c.want)
		}
	}
	if got := twosComplement([]byte{0xff, 0xfe}); got.Int64() != -2 {
		t.Errorf("twos complement: %v", got)
	}
	for h, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x3555: 0.33325195, 0x0001: 5.9604645e-08, 0: 0} {
		if got := float16(h); got != want {
			t.Errorf("float16(%#x) = %v, want %v", h, got, want)
		}
	}
}

// TestParquetCorrupt damages a Parquet file's data pages in many places:
// the read may still succeed (Parquet pages carry no checksum by default)
// but it never panics, and a failure is a *ParseError naming the file.
func TestParquetCorrupt(t *testing.T) {
	var rows []pqRow
	for i := range 200 {
		s := strings.Repeat("v", i%17)
		rows = append(rows, pqRow{ID: int64(i), Name: &s, Tags: []string{s, s}, Attrs: map[string]int32{s: int32(i)}, Address: pqAddress{City: s}})
	}
	good := writeParquet(t, rows, 50)
	dir := t.TempDir()
	src := New()
	cfg := config(t, dir, map[string]any{"name": "p", "globs": []string{"c.parquet"}, "format": map[string]any{"filetype": "parquet"}})
	writeFile(t, dir, "c.parquet", good, base)
	cc := discover(t, src, cfg, airbyte.FullRefresh)
	failures := 0
	for off := 4; off < len(good)-8; off += 397 {
		bad := append([]byte(nil), good...)
		for i := off; i < min(off+8, len(bad)-8); i++ {
			bad[i] ^= 0x5a
		}
		writeFile(t, dir, "c.parquet", bad, base)
		res := read(t, src, cfg, cc, nil)
		if res.err != nil {
			failures++
			var pe *ParseError
			if !errors.As(res.err, &pe) || pe.File != "c.parquet" {
				t.Fatalf("corruption at %d: error %v is not a ParseError naming the file", off, res.err)
			}
		}
	}
	if failures == 0 {
		t.Error("no corruption was detected at all")
	}
	t.Logf("%d of %d damaged copies failed with a ParseError", failures, (len(good)-12)/397+1)
}

type pqV1 struct {
	ID int32  `parquet:"id"`
	A  string `parquet:"a"`
	X  int32  `parquet:"x"`
}

type pqV2 struct {
	ID int64   `parquet:"id"`
	B  float64 `parquet:"b"`
	X  string  `parquet:"x"`
}

func writeGeneric[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestParquetSchemaMerge reads two files whose schemas differ: the stream's
// schema is the merge, and every record has its own file's columns.
func TestParquetSchemaMerge(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "v1.parquet", writeGeneric(t, []pqV1{{ID: 1, A: "one", X: 5}}), base)
	writeFile(t, dir, "v2.parquet", writeGeneric(t, []pqV2{{ID: 2, B: 0.5, X: "five"}}), base.Add(time.Hour))
	src := New()
	cfg := config(t, dir, map[string]any{"name": "p", "globs": []string{"*.parquet"}, "format": map[string]any{"filetype": "parquet"}})
	cc := discover(t, src, cfg, airbyte.Incremental)
	props := schemaProps(t, cc.Streams[0].Stream)
	for col, want := range map[string]string{"id": "integer", "a": "string", "b": "number", "x": "any"} {
		if got := typeOf(props[col]); got != want {
			t.Errorf("column %s: %s, want %s", col, got, want)
		}
	}
	res := read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 2 || res.records[0]["a"] != "one" || res.records[0]["x"] != json.Number("5") ||
		res.records[1]["b"] != json.Number("0.5") || res.records[1]["x"] != "five" || len(res.states) != 2 {
		t.Errorf("records %v, %d states", res.records, len(res.states))
	}
}

type pqLegacy struct {
	ID   int64          `parquet:"id"`
	Nums []int32        `parquet:"nums"` // a bare repeated field, no LIST annotation
	Opt  *pqLegacyInner `parquet:"opt,optional"`
}

type pqLegacyInner struct {
	Day int32 `parquet:"day,date"`
}

// TestParquetRepeatedAndOptionalGroups covers a bare repeated column and
// an optional group holding a logical type.
func TestParquetRepeatedAndOptionalGroups(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "l.parquet", writeGeneric(t, []pqLegacy{
		{ID: 1, Nums: []int32{3, 4}, Opt: &pqLegacyInner{Day: 1}},
		{ID: 2},
	}), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "p", "globs": []string{"l.parquet"}, "format": map[string]any{"filetype": "parquet"}})
	cc := discover(t, src, cfg, airbyte.FullRefresh)
	props := schemaProps(t, cc.Streams[0].Stream)
	if typeOf(props["nums"]) != "array" || typeOf(props["opt"]) != "object" {
		t.Errorf("schema nums %v, opt %v", props["nums"], props["opt"])
	}
	res := read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 2 ||
		!reflect.DeepEqual(res.records[0]["nums"], []any{json.Number("3"), json.Number("4")}) ||
		!reflect.DeepEqual(res.records[0]["opt"], map[string]any{"day": "1970-01-02"}) ||
		!reflect.DeepEqual(res.records[1]["nums"], []any{}) || res.records[1]["opt"] != nil {
		t.Errorf("records %v", res.records)
	}
}
