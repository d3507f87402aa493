package file

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

func TestJSONLInferenceAndRead(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "logs/2026/a.jsonl", []byte(
		`{"id":1,"amount":10,"ok":true,"tags":["x"],"user":{"name":"Ann"},"note":"hi","mixed":1,"nothing":null}`+"\n"+
			"\n"+ // blank lines are skipped
			`  {"id":2,"amount":2.5,"ok":false,"tags":[],"user":{"name":"Bob"},"note":"a\"b\u00e9","mixed":"one"}  `+"\r\n"), base)
	writeFile(t, dir, "logs/2026/b.jsonl", []byte(
		`{"id":3,"extra":"only here","mixed":{"deep":true}}`+"\n"), base.Add(time.Minute))
	src := New()
	cfg := config(t, dir, map[string]any{"name": "logs", "globs": []string{"logs/**/*.jsonl"}, "format": map[string]any{"filetype": "jsonl"}})
	cc := discover(t, src, cfg, airbyte.FullRefresh)
	props := schemaProps(t, cc.Streams[0].Stream)
	want := map[string]string{
		"id": "integer", "amount": "number", "ok": "boolean", "tags": "array", "user": "object",
		"note": "string", "mixed": "any", "nothing": "string", "extra": "string",
		ColumnFileURL: "string", ColumnFileLastModified: "string/date-time/timestamp_with_timezone",
	}
	for col, w := range want {
		if got := typeOf(props[col]); got != w {
			t.Errorf("column %s: type %s, want %s", col, got, w)
		}
	}
	if len(props) != len(want) {
		t.Errorf("%d properties, want %d: %v", len(props), len(want), props)
	}

	res := read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 3 {
		t.Fatalf("%d records, want 3", len(res.records))
	}
	r1 := res.records[1]
	if r1["amount"] != json.Number("2.5") || r1["note"] != "a\"bé" || r1["mixed"] != "one" ||
		!reflect.DeepEqual(r1["user"], map[string]any{"name": "Bob"}) || !reflect.DeepEqual(r1["tags"], []any{}) {
		t.Errorf("record 1: %v", r1)
	}
	if r1[ColumnFileURL] != "logs/2026/a.jsonl" {
		t.Errorf("file url %v", r1[ColumnFileURL])
	}
	r2 := res.records[2]
	if !reflect.DeepEqual(r2["mixed"], map[string]any{"deep": true}) || r2["extra"] != "only here" || r2[ColumnFileURL] != "logs/2026/b.jsonl" {
		t.Errorf("record 2: %v", r2)
	}
}

func TestJSONLSchemaConformance(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.jsonl", []byte(
		`{"n":1,"s":"x","b":true}`+"\n"+
			`{"n":2,"s":5,"b":false}`+"\n"+ // a number in a string column: becomes "5"
			`{"n":3,"s":{"k":[1,2]},"b":null}`+"\n"+
			`{"n":"four","s":"y","b":"yes"}`+"\n"+
			`{"n":5,"s":"z","b":true}`+"\n"), base)
	src := New()
	stream := map[string]any{"name": "s", "globs": []string{"a.jsonl"}, "infer_rows": 1, "format": map[string]any{"filetype": "jsonl"}}
	cfg := config(t, dir, stream)
	cc := discover(t, src, cfg, airbyte.FullRefresh)

	res := read(t, src, cfg, cc, nil)
	var pe *ParseError
	if !errors.As(res.err, &pe) || !errors.Is(res.err, ErrTypeMismatch) || pe.Line != 4 || pe.Column != "n" ||
		!strings.Contains(res.err.Error(), `a.jsonl:4: column "n"`) {
		t.Fatalf("error %v", res.err)
	}
	if len(res.records) != 3 || res.records[1]["s"] != "5" || res.records[2]["s"] != `{"k":[1,2]}` {
		t.Errorf("records before the bad line: %v", res.records)
	}

	stream["on_type_error"] = "null"
	res = read(t, src, config(t, dir, stream), cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 5 {
		t.Fatalf("%d records, want 5", len(res.records))
	}
	bad := res.records[3]
	if bad["n"] != nil || bad["b"] != nil || bad["s"] != "y" {
		t.Errorf("nulled record %v", bad)
	}
	want := []airbyte.RecordChange{{Field: "n", Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"}, {Field: "b", Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"}}
	if res.metas[3] == nil || !reflect.DeepEqual(res.metas[3].Changes, want) {
		t.Errorf("meta %+v", res.metas[3])
	}
}

func TestJSONLBadLines(t *testing.T) {
	cases := []struct {
		name, content string
		line          int
		msg           string
	}{
		{"syntax error", `{"a":1}` + "\n" + `{"a":1,}` + "\n", 2, "JSON syntax error at byte 8"},
		{"not an object", `{"a":1}` + "\n\n" + `[1,2]` + "\n", 3, "not a JSON object"},
		{"truncated", `{"a":1}` + "\n" + `{"a":`, 2, "JSON syntax error"},
		{"pretty-printed", "{\n  \"a\": 1\n}\n", 1, "JSON syntax error"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}\n", 1, "invalid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "bad.jsonl", []byte(c.content), base)
			src := New()
			cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"bad.jsonl"}, "format": map[string]any{"filetype": "jsonl"}})
			cc := &airbyte.ConfiguredCatalog{Streams: []airbyte.ConfiguredStream{{Stream: airbyte.Stream{Name: "s", JSONSchema: json.RawMessage(`{"properties":{"a":{"type":"integer"}}}`)}}}}
			res := read(t, src, cfg, cc, nil)
			var pe *ParseError
			if !errors.As(res.err, &pe) || pe.Line != c.line || !strings.Contains(res.err.Error(), c.msg) {
				t.Errorf("error %v, want line %d and %q", res.err, c.line, c.msg)
			}
		})
	}
}

func TestJSONLLongLine(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("y", 1<<20)
	writeFile(t, dir, "l.jsonl", []byte(`{"v":"`+long+`"}`+"\n"+`{}`+"\n"), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"l.jsonl"}, "format": map[string]any{"filetype": "jsonl"}})
	res := read(t, src, cfg, discover(t, src, cfg, airbyte.FullRefresh), nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 2 || res.records[0]["v"] != long || len(res.records[1]) != 2 {
		t.Errorf("%d records; second %v", len(res.records), res.records[len(res.records)-1])
	}
}
