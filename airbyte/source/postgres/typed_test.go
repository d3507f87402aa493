package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// openTyped starts a read of cat with typed records enabled; the caller
// closes it.
func openTyped(t *testing.T, src *Source, cfg json.RawMessage, cat *airbyte.ConfiguredCatalog) airbyte.ReadStream {
	t.Helper()
	rs, err := src.Read(context.Background(), cfg, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !airbyte.EnableTypedRecords(rs) {
		rs.Close()
		t.Fatal("the PostgreSQL read stream does not offer typed records")
	}
	return rs
}

// readTyped reads cat with typed records and returns the records.
func readTyped(t *testing.T, src *Source, cfg json.RawMessage, cat *airbyte.ConfiguredCatalog) []*airbyte.RecordMessage {
	t.Helper()
	rs := openTyped(t, src, cfg, cat)
	defer rs.Close()
	var out []*airbyte.RecordMessage
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == airbyte.TypeRecord {
			out = append(out, m.Record)
		}
	}
	if airbyte.EnableTypedRecords(rs) {
		t.Error("EnableTypedRecords after Messages reported true")
	}
	return out
}

// Typed records mean exactly what the JSON records of the same rows say:
// AppendJSON gives the same bytes, each value matches its JSON field, and
// rows with a value that has no JSON form come as JSON records with their
// meta changes.
func TestTypedRecordsMatchJSON(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TYPE "+db.rel("mood")+" AS ENUM ('sad', 'happy')")
	cols := []struct{ name, typ, good, bad string }{
		{"i2", "smallint", "-32768", ""},
		{"i4", "integer", "2147483647", ""},
		{"i8", "bigint", "9223372036854775807", ""},
		{"n", "numeric(10,2)", "12345678.90", "'NaN'"},
		{"r", "real", "1.1", "'NaN'"},
		{"d", "double precision", "3.141592653589793", "'-Infinity'"},
		{"m", "money", "-1234.56", ""},
		{"b", "boolean", "false", ""},
		{"c", "char(3)", "'ab'", ""},
		{"vc", "varchar(40)", `E'q"b\\n\n\t\x01<&>'`, ""},
		{"t", "text", "'héllo ☃'", ""},
		{"dt", "date", "'2024-02-29'", "'infinity'"},
		{"dbc", "date", "'0044-03-15 BC'", ""},
		{"tm", "time", "'13:14:15.5'", ""},
		{"ts", "timestamp", "'2024-01-02 03:04:05.123456'", "'-infinity'"},
		{"tsold", "timestamp", "'1969-12-31 23:59:59.5'", ""},
		{"tsbig", "timestamp", "'12024-01-02 03:04:05'", ""},
		{"tstz", "timestamptz", "'2024-01-02 03:04:05+02'", ""},
		{"iv", "interval", "'1 year 2 mons'", ""},
		{"u", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", ""},
		{"jb", "jsonb", `'{"b": 1, "a": 2}'`, ""},
		{"by", "bytea", `'\xdeadbeef'`, ""},
		{"ai", "integer[]", "'{1,NULL,3}'", ""},
		{"an", "numeric[]", "'{1.5,NaN}'", ""}, // NaN elements are null elements, no change
		{"e", db.rel("mood"), "'happy'", ""},
		{"x", "xml", "'<a>1</a>'", ""},
	}
	var ddl, names, good, bad []string
	for _, c := range cols {
		ddl = append(ddl, quoteIdent(c.name)+" "+c.typ)
		names = append(names, quoteIdent(c.name))
		good = append(good, c.good)
		if c.bad == "" {
			bad = append(bad, c.good)
		} else {
			bad = append(bad, c.bad)
		}
	}
	list := strings.Join(names, ", ")
	db.exec(t, "CREATE TABLE "+db.rel("typed")+" (id integer PRIMARY KEY, "+strings.Join(ddl, ", ")+")")
	db.exec(t, "INSERT INTO "+db.rel("typed")+" (id, "+list+") VALUES (1, "+strings.Join(good, ", ")+")")
	db.exec(t, "INSERT INTO "+db.rel("typed")+" (id) VALUES (2)")
	db.exec(t, "INSERT INTO "+db.rel("typed")+" (id, "+list+") VALUES (3, "+strings.Join(bad, ", ")+")")
	// One bad value per row: each of these rows must come as JSON.
	for i, c := range cols {
		if c.bad != "" {
			db.exec(t, "INSERT INTO "+db.rel("typed")+" (id, "+quoteIdent(c.name)+") VALUES ($1, "+c.bad+")", 10+i)
		}
	}

	src := New(WithChunkSize(3)) // several chunks
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "typed")
	plain := readAll(t, src, cfg, cat, nil, nil).records
	typed := readTyped(t, src, cfg, cat)
	if len(plain) != len(typed) || len(plain) < 4 {
		t.Fatalf("%d JSON records, %d typed records", len(plain), len(typed))
	}
	var fields []string
	for i, p := range plain {
		r := typed[i]
		if got := r.DataJSON(); !bytes.Equal(got, p.Data) {
			t.Fatalf("record %d: typed record's JSON\n%s\nwant\n%s", i, got, p.Data)
		}
		var id struct{ ID int }
		if err := json.Unmarshal(p.Data, &id); err != nil {
			t.Fatal(err)
		}
		if id.ID >= 3 {
			// A value without a JSON form: the row comes as JSON, with its change.
			if r.Values != nil || r.Meta == nil || len(r.Meta.Changes) == 0 {
				t.Fatalf("row %d has a value without JSON form: values %v, meta %+v", id.ID, r.Values != nil, r.Meta)
			}
			continue
		}
		if r.Values == nil || len(r.Data) != 0 || r.Meta != nil {
			t.Fatalf("row %d: want a typed record without Data or meta", id.ID)
		}
		if fields == nil {
			fields = r.Values.Fields()
		} else if !airbyte.SameFields(fields, r.Values.Fields()) {
			t.Fatalf("row %d: records of one stream do not share their fields", id.ID)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(p.Data, &m); err != nil {
			t.Fatal(err)
		}
		vals := r.Values.AppendValues(nil)
		if len(vals) != len(fields) || len(fields) != len(cols)+1 {
			t.Fatalf("row %d: %d values for %d fields", id.ID, len(vals), len(fields))
		}
		for j, v := range vals {
			if err := sameAsJSON(v, m[fields[j]]); err != "" {
				t.Errorf("row %d, %s: %s", id.ID, fields[j], err)
			}
		}
		// VisitValues hands over the same values, unboxed.
		rv := &recordingVisitor{vals: make([]any, len(fields))}
		r.Values.(airbyte.VisitableValues).VisitValues(rv)
		for j := range vals {
			if !reflect.DeepEqual(rv.vals[j], vals[j]) {
				t.Errorf("row %d, %s: VisitValues gave %T %v, AppendValues %T %v", id.ID, fields[j], rv.vals[j], rv.vals[j], vals[j], vals[j])
			}
		}
	}
	// Row 1 decodes into the Go types the contract names.
	vals := typed[0].Values.AppendValues(nil)
	want := map[string]string{"i2": "int64", "n": "json.RawMessage", "r": "float64", "b": "bool", "t": "string",
		"dt": "time.Time", "dbc": "json.RawMessage", "tsbig": "json.RawMessage", "tstz": "time.Time", "u": "string", "ai": "json.RawMessage"}
	for j, f := range fields {
		if w, ok := want[f]; ok {
			if got := typeName(vals[j]); got != w {
				t.Errorf("%s: %s, want %s", f, got, w)
			}
		}
	}
}

// recordingVisitor records visited values as AppendValues would box them.
type recordingVisitor struct{ vals []any }

func (r *recordingVisitor) Null(i int)             { r.vals[i] = nil }
func (r *recordingVisitor) Int(i int, v int64)     { r.vals[i] = v }
func (r *recordingVisitor) Float(i int, v float64) { r.vals[i] = v }
func (r *recordingVisitor) Bool(i int, v bool)     { r.vals[i] = v }
func (r *recordingVisitor) String(i int, v []byte) { r.vals[i] = string(v) }
func (r *recordingVisitor) Time(i int, us int64)   { r.vals[i] = time.UnixMicro(us).UTC() }
func (r *recordingVisitor) JSON(i int, v []byte)   { r.vals[i] = json.RawMessage(bytes.Clone(v)) }

func typeName(v any) string {
	switch v.(type) {
	case json.RawMessage:
		return "json.RawMessage"
	case time.Time:
		return "time.Time"
	case int64:
		return "int64"
	case float64:
		return "float64"
	case bool:
		return "bool"
	case string:
		return "string"
	}
	return "other"
}

// sameAsJSON compares a typed value with its JSON form; "" means equal.
func sameAsJSON(v any, raw json.RawMessage) string {
	bad := func() string {
		return "typed " + typeName(v) + " " + strconv.Quote(strings.TrimSpace(fmtAny(v))) + " but JSON " + string(raw)
	}
	switch x := v.(type) {
	case nil:
		if string(raw) != "null" {
			return bad()
		}
	case json.RawMessage:
		if !bytes.Equal(x, raw) {
			return bad()
		}
	case string:
		var s string
		if json.Unmarshal(raw, &s) != nil || s != x {
			return bad()
		}
	case bool:
		if string(raw) != strconv.FormatBool(x) {
			return bad()
		}
	case int64:
		if string(raw) != strconv.FormatInt(x, 10) {
			return bad()
		}
	case float64:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != x {
			return bad()
		}
	case time.Time:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return bad()
		}
		var tm time.Time
		var err error
		switch {
		case len(s) == 10:
			tm, err = time.Parse(time.DateOnly, s)
		case strings.HasSuffix(s, "Z"):
			tm, err = time.Parse(time.RFC3339Nano, s)
		default:
			tm, err = time.Parse("2006-01-02T15:04:05.999999999", s)
		}
		if err != nil || !tm.Equal(x) || x.Location() != time.UTC {
			return bad()
		}
	default:
		return bad()
	}
	return ""
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
