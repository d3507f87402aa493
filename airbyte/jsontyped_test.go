package airbyte

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

const typedSchema = `{"type":"object","properties":{
	"id":{"type":"integer"},
	"n":{"type":["null","number"]},
	"big":{"type":"number","airbyte_type":"integer"},
	"ok":{"type":"boolean"},
	"name":{"type":["null","string"]},
	"at":{"type":"string","format":"date-time"},
	"day":{"type":"string","format":"date"},
	"tags":{"type":"array"},
	"u":{"type":["string","integer"]}}}`

func typedCatalog() *ConfiguredCatalog {
	return &ConfiguredCatalog{Streams: []ConfiguredStream{
		{Stream: Stream{Name: "t", JSONSchema: json.RawMessage(typedSchema)}},
		{Stream: Stream{Name: "plain", JSONSchema: json.RawMessage(`{"type":"object"}`)}},
	}}
}

// decodeTyped decodes one line with typed records enabled.
func decodeTyped(t *testing.T, line string) *RecordMessage {
	t.Helper()
	d := NewDecoder(strings.NewReader(line), Strict())
	d.enableTyped(typedCatalog())
	m, err := d.Decode()
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if m.Record == nil {
		t.Fatalf("%s: not a record", line)
	}
	return m.Record
}

func valuesOf(r *RecordMessage) map[string]any {
	out := map[string]any{}
	vals := r.Values.AppendValues(nil)
	for i, f := range r.Values.Fields() {
		out[f] = vals[i]
	}
	return out
}

// A record's data is read once into typed values by the stream's schema;
// values that are not plainly of their property's type come as their JSON.
// recordingVisitor records visited values as AppendValues boxes them.
type recordingVisitor struct{ vals []any }

func (r *recordingVisitor) Null(i int)             { r.vals[i] = nil }
func (r *recordingVisitor) Int(i int, v int64)     { r.vals[i] = v }
func (r *recordingVisitor) Float(i int, v float64) { r.vals[i] = v }
func (r *recordingVisitor) Bool(i int, v bool)     { r.vals[i] = v }
func (r *recordingVisitor) String(i int, v []byte) { r.vals[i] = string(v) }
func (r *recordingVisitor) Time(i int, us int64)   { r.vals[i] = time.UnixMicro(us).UTC() }
func (r *recordingVisitor) JSON(i int, v []byte)   { r.vals[i] = json.RawMessage(v) }

func TestTypedRecordValues(t *testing.T) {
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v.UTC() }
	for _, c := range []struct {
		data string
		want map[string]any
	}{
		{`{"id":42,"n":1.5,"big":-7,"ok":true,"name":"ada","at":"2024-01-02T03:04:05.123456Z","day":"2024-02-29","tags":["a"],"u":"x"}`,
			map[string]any{"id": int64(42), "n": 1.5, "big": int64(-7), "ok": true, "name": "ada", "at": ts("2024-01-02T03:04:05.123456Z"),
				"day": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "tags": json.RawMessage(`["a"]`), "u": json.RawMessage(`"x"`)}},
		// Out of order, escapes, nulls and missing fields.
		{`{"name":"a\"b\u00e9","id":-0,"ok":null,"n":2}`,
			map[string]any{"id": int64(0), "n": 2.0, "big": nil, "ok": nil, "name": "a\"bé", "at": nil, "day": nil, "tags": nil, "u": nil}},
		// Not plainly of their type: JSON, for the consumer to convert.
		{`{"id":1.5,"n":"3","big":12345678901234567890,"ok":"yes","name":7,"at":"2024-01-02T03:04:05+02:00","day":"2023-02-29","tags":null,"u":{}}`,
			map[string]any{"id": json.RawMessage(`1.5`), "n": json.RawMessage(`"3"`), "big": json.RawMessage(`12345678901234567890`), "ok": json.RawMessage(`"yes"`),
				"name": json.RawMessage(`7`), "at": json.RawMessage(`"2024-01-02T03:04:05+02:00"`), "day": json.RawMessage(`"2023-02-29"`), "tags": nil, "u": json.RawMessage(`{}`)}},
		// A timestamp without a zone is UTC; 1e400 is not a finite float.
		{`{"at":"2024-01-02T03:04:05","n":1e400}`,
			map[string]any{"id": nil, "n": json.RawMessage(`1e400`), "big": nil, "ok": nil, "name": nil, "at": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "day": nil, "tags": nil, "u": nil}},
	} {
		for _, line := range []string{
			`{"type":"RECORD","record":{"stream":"t","emitted_at":5,"data":` + c.data + `}}`,
			// Go encoders sort keys: data before stream.
			`{"record":{"data":` + c.data + `,"emitted_at":5,"stream":"t"},"type":"RECORD"}`,
		} {
			r := decodeTyped(t, line)
			if r.Values == nil || r.Data != nil {
				t.Fatalf("%s: Values %v, Data %s; want typed values only", line, r.Values, r.Data)
			}
			if got := valuesOf(r); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s:\n got %#v\nwant %#v", line, got, c.want)
			}
			// VisitValues hands over the same values, unboxed.
			vals := r.Values.AppendValues(nil)
			rv := &recordingVisitor{vals: make([]any, len(vals))}
			r.Values.(VisitableValues).VisitValues(rv)
			if !reflect.DeepEqual(rv.vals, vals) {
				t.Errorf("%s: VisitValues gave\n%#v\nAppendValues\n%#v", line, rv.vals, vals)
			}
			if got := string(r.DataJSON()); got != c.data {
				t.Errorf("JSON form %s, want the connector's %s", got, c.data)
			}
			if r.EmittedAt != 5 || r.Stream != "t" {
				t.Errorf("envelope: %+v", r)
			}
		}
	}
	// Records that keep their JSON: a field the schema lacks, a stream
	// without properties, another namespace, a stream outside the catalog.
	for _, line := range []string{
		`{"type":"RECORD","record":{"stream":"t","data":{"id":1,"extra":2}}}`,
		`{"type":"RECORD","record":{"stream":"plain","data":{"id":1}}}`,
		`{"type":"RECORD","record":{"stream":"t","namespace":"other","data":{"id":1}}}`,
		`{"type":"RECORD","record":{"stream":"gone","data":{"id":1}}}`,
	} {
		r := decodeTyped(t, line)
		if r.Values != nil || !json.Valid(r.Data) || !strings.Contains(line, string(r.Data)) {
			t.Errorf("%s: Values %v, Data %s; want the JSON data", line, r.Values, r.Data)
		}
	}
	// Invalid JSON inside typed data is still an error.
	for _, line := range []string{
		`{"type":"RECORD","record":{"stream":"t","data":{"id":01}}}`,
		`{"type":"RECORD","record":{"stream":"t","data":{"name":"a` + "\x01" + `"}}}`,
		`{"type":"RECORD","record":{"stream":"t","data":{"ok":tru}}}`,
		`{"type":"RECORD","record":{"stream":"t","data":{"tags":[1,]}}}`,
	} {
		d := NewDecoder(strings.NewReader(line), Strict())
		d.enableTyped(typedCatalog())
		if m, err := d.Decode(); err == nil {
			t.Errorf("%s: decoded %+v, want an error", line, m.Record)
		}
	}
}

// FuzzTypedRecordValues checks typed values against the JSON they come
// from: same numbers, strings, booleans and instants, and the same JSON
// form; the decoder accepts exactly the lines it accepts without typing.
func FuzzTypedRecordValues(f *testing.F) {
	for _, s := range []string{
		`{"id":42,"n":1.5,"ok":true,"name":"ada","at":"2024-01-02T03:04:05.5Z","day":"2024-02-29","tags":[1]}`,
		`{"id":-9223372036854775808,"n":-0.0,"at":"2024-13-02T03:04:05Z","day":"2024-02-30"}`,
		`{"name":"\ud800","at":"2024-01-02T03:04:05.1234567891Z","u":[{"a":null}]}`,
		`{"id":1e3,"n":1E-7,"ok":false,"name":"","at":"","day":"2024-01-01T00:00:00Z"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		line := `{"type":"RECORD","record":{"stream":"t","data":` + data + `}}`
		plain, perr := NewDecoder(strings.NewReader(line), Strict()).Decode()
		d := NewDecoder(strings.NewReader(line), Strict())
		d.enableTyped(typedCatalog())
		typed, terr := d.Decode()
		if (perr == nil) != (terr == nil) {
			t.Fatalf("%s: untyped error %v, typed error %v", line, perr, terr)
		}
		if terr != nil || typed.Record == nil || typed.Record.Values == nil {
			return
		}
		if got, want := string(typed.Record.DataJSON()), string(plain.Record.Data); got != want {
			t.Fatalf("JSON form %s, want %s", got, want)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(plain.Record.Data, &fields); err != nil {
			t.Fatalf("%s: %v", plain.Record.Data, err)
		}
		for name, v := range valuesOf(typed.Record) {
			raw, ok := fields[name]
			if !ok || string(raw) == "null" {
				if v != nil {
					t.Fatalf("%s: absent or null, typed %#v", name, v)
				}
				continue
			}
			if err := agrees(v, raw); err != nil {
				t.Fatalf("%s: %s typed as %#v: %v", name, raw, v, err)
			}
		}
	})
}

// agrees checks that v is what the JSON value raw means.
func agrees(v any, raw json.RawMessage) error {
	switch x := v.(type) {
	case json.RawMessage:
		if string(x) != string(raw) {
			return fmt.Errorf("raw %s", x)
		}
	case int64:
		if n, err := strconv.ParseInt(string(raw), 10, 64); err != nil || n != x {
			return fmt.Errorf("ParseInt: %d, %v", n, err)
		}
	case float64:
		if n, err := strconv.ParseFloat(string(raw), 64); err != nil || n != x || math.IsInf(x, 0) {
			return fmt.Errorf("ParseFloat: %v, %v", n, err)
		}
	case bool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil || b != x {
			return fmt.Errorf("Unmarshal: %v, %v", b, err)
		}
	case string:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != x {
			return fmt.Errorf("Unmarshal: %q, %v", s, err)
		}
	case time.Time:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		var want time.Time
		var err error
		switch {
		case len(s) == 10:
			want, err = time.Parse("2006-01-02", s)
		case strings.HasSuffix(s, "Z"):
			want, err = time.Parse(time.RFC3339Nano, s)
		default:
			want, err = time.Parse("2006-01-02T15:04:05.999999999", s)
		}
		if err != nil || !want.Equal(x) || x.Location() != time.UTC {
			return fmt.Errorf("time.Parse: %v, %v", want, err)
		}
	default:
		return fmt.Errorf("unexpected type %T", v)
	}
	return nil
}

// A connector's read hands typed records to a consumer that asks for them
// before ranging over the messages.
func TestProcessTypedRecords(t *testing.T) {
	ctx := context.Background()
	cat := &ConfiguredCatalog{Streams: []ConfiguredStream{{
		Stream:   Stream{Name: "users", JSONSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}}}`), SupportedSyncModes: []SyncMode{FullRefresh}},
		SyncMode: FullRefresh, DestinationSyncMode: Append,
	}}}
	rs, err := fakeSource().Read(ctx, json.RawMessage(`{"api_key":"good","records":3}`), cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if !EnableTypedRecords(rs) {
		t.Fatal("a connector's read does not offer typed records")
	}
	var ids []int64
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != TypeRecord {
			continue
		}
		if m.Record.Values == nil {
			t.Fatalf("record without typed values: %s", m.Record.Data)
		}
		v := valuesOf(m.Record)
		id, _ := v["id"].(int64)
		if v["name"] != fmt.Sprintf("users-%d", id) {
			t.Fatalf("values %v", v)
		}
		ids = append(ids, id)
	}
	if fmt.Sprint(ids) != "[1 2 3]" {
		t.Fatalf("ids %v, want [1 2 3]", ids)
	}
	if EnableTypedRecords(rs) {
		t.Fatal("typed records enabled after Messages")
	}
}

// BenchmarkTypedRecords decodes 10-column record lines into typed values
// (the JSONL path of a connector read into a warehouse), reporting
// records/s and allocations per record.
func BenchmarkTypedRecords(b *testing.B) {
	const n = 20000
	schema := `{"type":"object","properties":{"id":{"type":"integer"},"customer_id":{"type":"integer"},"status":{"type":"string"},"amount":{"type":"number"},"quantity":{"type":"integer"},"created_at":{"type":"string","format":"date-time"},"updated_at":{"type":"string","format":"date-time"},"note":{"type":["null","string"]},"flag":{"type":"boolean"},"tags":{"type":"array"}}}`
	cat := &ConfiguredCatalog{Streams: []ConfiguredStream{{Stream: Stream{Name: "orders", JSONSchema: json.RawMessage(schema)}}}}
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"type":"RECORD","record":{"stream":"orders","emitted_at":1700000000000,"data":{"id":%d,"customer_id":%d,"status":"shipped","amount":%d.25,"quantity":%d,"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-05-06T07:08:09.123456Z","note":"note %d","flag":true,"tags":["a","b"]}}}`+"\n", i, i%997, i%1000, i%7, i)
	}
	data := in.String()
	b.SetBytes(int64(len(data)))
	var vals []any
	for b.Loop() {
		d := NewDecoder(strings.NewReader(data))
		d.enableTyped(cat)
		records := 0
		for m, err := range d.Messages() {
			if err != nil {
				b.Fatal(err)
			}
			vals = m.Record.Values.AppendValues(vals[:0])
			records++
		}
		if records != n {
			b.Fatalf("%d records", records)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
}
