package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

func TestCSVInferenceAndValues(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "people.csv", []byte(
		"id,score,active,born,seen_at,local_at,name,zip,empty,flag,big\n"+
			"1,1.5,yes,2001-02-03,2026-01-02T03:04:05Z,2026-01-02 03:04:05.25,Ann,007,,0,12345678901234567890\n"+
			"-2,2,no,2000-02-29,2026-01-02T03:04:05.5+01:00,2026-01-02T03:04:05,\"Bob, Jr.\",01234,,1,1\n"+
			"3,-0.5e3,TRUE,1999-12-31,2026-01-02 03:04:05-05:30,2026-01-02T23:59:59,\"\",12345,,1,2\n"+
			",,,,,,,,,,\n"), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "people", "globs": []string{"*.csv"}, "format": map[string]any{"filetype": "csv"}})

	cc := discover(t, src, cfg, airbyte.FullRefresh)
	if len(cc.Streams) != 1 || cc.Streams[0].Stream.Name != "people" {
		t.Fatalf("streams: %+v", cc.Streams)
	}
	s := cc.Streams[0].Stream
	props := schemaProps(t, s)
	want := map[string]string{
		"id":                   "integer",
		"score":                "number",
		"active":               "boolean",
		"born":                 "string/date",
		"seen_at":              "string/date-time/timestamp_with_timezone",
		"local_at":             "string/date-time/timestamp_without_timezone",
		"name":                 "string",
		"zip":                  "string",
		"empty":                "string",
		"flag":                 "integer",
		"big":                  "number",
		ColumnFileURL:          "string",
		ColumnFileLastModified: "string/date-time/timestamp_with_timezone",
	}
	for col, w := range want {
		if got := typeOf(props[col]); got != w {
			t.Errorf("column %s: type %s, want %s", col, got, w)
		}
	}
	if len(props) != len(want) {
		t.Errorf("schema has %d properties, want %d: %v", len(props), len(want), props)
	}
	if !reflect.DeepEqual(s.SupportedSyncModes, []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental}) ||
		!s.SourceDefinedCursor || !reflect.DeepEqual(s.DefaultCursorField, []string{ColumnFileLastModified}) {
		t.Errorf("stream modes/cursor: %+v", s)
	}

	res := read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 4 {
		t.Fatalf("got %d records, want 4", len(res.records))
	}
	r0, r1, r2, r3 := res.records[0], res.records[1], res.records[2], res.records[3]
	checks := []struct {
		rec  map[string]any
		col  string
		want any
	}{
		{r0, "id", json.Number("1")},
		{r0, "score", json.Number("1.5")},
		{r0, "active", true},
		{r0, "born", "2001-02-03"},
		{r0, "seen_at", "2026-01-02T03:04:05Z"},
		{r0, "local_at", "2026-01-02T03:04:05.25"},
		{r0, "zip", "007"},
		{r0, "empty", nil},
		{r0, "flag", json.Number("0")},
		{r0, "big", json.Number("12345678901234567890")},
		{r1, "id", json.Number("-2")},
		{r1, "active", false},
		{r1, "name", "Bob, Jr."},
		{r1, "seen_at", "2026-01-02T03:04:05.5+01:00"},
		{r2, "score", json.Number("-0.5e3")},
		{r2, "active", true},
		{r2, "name", ""}, // quoted empty: an empty string
		{r2, "seen_at", "2026-01-02T03:04:05-05:30"},
		{r3, "id", nil},
		{r3, "name", nil}, // unquoted empty: null
		{r3, "active", nil},
		{r0, ColumnFileURL, "people.csv"},
		{r0, ColumnFileLastModified, "2026-01-02T03:04:05.123456Z"},
	}
	for _, c := range checks {
		got, ok := c.rec[c.col]
		if !ok {
			t.Errorf("record %v has no column %s", c.rec, c.col)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("column %s: got %#v, want %#v", c.col, got, c.want)
		}
	}
	if !reflect.DeepEqual(res.status, []airbyte.StreamStatus{airbyte.StreamStarted, airbyte.StreamComplete}) {
		t.Errorf("statuses %v", res.status)
	}
	if len(res.states) != 1 || res.counts[0] != 4 {
		t.Errorf("states %d, counts %v; want one state covering 4 records", len(res.states), res.counts)
	}
}

func TestCSVAllStringsAndNullValues(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.csv", []byte("id,v\n1,NA\n2,x\n3,\\N\n"), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "a", "globs": []string{"a.csv"},
		"format": map[string]any{"filetype": "csv", "all_strings": true, "null_values": []string{"NA", `\N`}}})
	cc := discover(t, src, cfg, airbyte.FullRefresh)
	props := schemaProps(t, cc.Streams[0].Stream)
	if typeOf(props["id"]) != "string" || typeOf(props["v"]) != "string" {
		t.Errorf("all_strings: id %s, v %s", typeOf(props["id"]), typeOf(props["v"]))
	}
	res := read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	var ids, vs []any
	for _, r := range res.records {
		ids = append(ids, r["id"])
		vs = append(vs, r["v"])
	}
	if !reflect.DeepEqual(ids, []any{"1", "2", "3"}) || !reflect.DeepEqual(vs, []any{nil, "x", nil}) {
		t.Errorf("ids %v, vs %v", ids, vs)
	}
}

func TestCSVDialects(t *testing.T) {
	cases := []struct {
		name    string
		content string
		format  map[string]any
		want    [][]any // rows of values, columns in order
		cols    []string
	}{
		{
			name:    "semicolon and single quotes",
			content: "a;b\n'x;y';'it''s'\n",
			format:  map[string]any{"delimiter": ";", "quote_char": "'"},
			cols:    []string{"a", "b"}, want: [][]any{{"x;y", "it's"}},
		},
		{
			name:    "CRLF file whose last line ends in a bare CR",
			content: "a,b\r\n1,x\r",
			format:  map[string]any{},
			cols:    []string{"a", "b"}, want: [][]any{{json.Number("1"), "x"}},
		},
		{
			name:    "tab delimiter",
			content: "a\tb\n1\tfoo bar\n",
			format:  map[string]any{"delimiter": "\t", "all_strings": true},
			cols:    []string{"a", "b"}, want: [][]any{{"1", "foo bar"}},
		},
		{
			name:    "escape char",
			content: "a,b\n\"say \\\"hi\\\"\",\"back\\\\slash\"\n",
			format:  map[string]any{"escape_char": "\\", "double_quote": false},
			cols:    []string{"a", "b"}, want: [][]any{{`say "hi"`, `back\slash`}},
		},
		{
			name:    "quoted field over lines, CRLF, BOM, empty lines",
			content: "\ufeffa,b\r\n\"line 1\r\nline 2\",x\r\n\r\n\"\"\"q\"\"\",y\r\n",
			format:  map[string]any{},
			cols:    []string{"a", "b"}, want: [][]any{{"line 1\r\nline 2", "x"}, {`"q"`, "y"}},
		},
		{
			name:    "bare quote inside an unquoted field is kept",
			content: "a,b\n5\" disk,x\n",
			format:  map[string]any{},
			cols:    []string{"a", "b"}, want: [][]any{{`5" disk`, "x"}},
		},
		{
			name:    "no header: autogenerated names",
			content: "1,x\n2,y\n",
			format:  map[string]any{"header": false},
			cols:    []string{"f0", "f1"}, want: [][]any{{json.Number("1"), "x"}, {json.Number("2"), "y"}},
		},
		{
			name:    "given names, no header row",
			content: "1,x\n2,y\n",
			format:  map[string]any{"column_names": []string{"n", "s"}},
			cols:    []string{"n", "s"}, want: [][]any{{json.Number("1"), "x"}, {json.Number("2"), "y"}},
		},
		{
			name:    "given names replace the header row",
			content: "old1,old2\n1,x\n",
			format:  map[string]any{"column_names": []string{"n", "s"}, "header": true},
			cols:    []string{"n", "s"}, want: [][]any{{json.Number("1"), "x"}},
		},
		{
			name:    "rows skipped before the header, last line without newline",
			content: "report of \"sales\n(generated)\nn,s\n1,x",
			format:  map[string]any{"skip_rows_before_header": 2},
			cols:    []string{"n", "s"}, want: [][]any{{json.Number("1"), "x"}},
		},
		{
			name:    "custom booleans",
			content: "b\nja\nnein\n",
			format:  map[string]any{"true_values": []string{"ja"}, "false_values": []string{"nein"}},
			cols:    []string{"b"}, want: [][]any{{true}, {false}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "f.csv", []byte(c.content), base)
			format := map[string]any{"filetype": "csv"}
			for k, v := range c.format {
				format[k] = v
			}
			src := New()
			cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"f.csv"}, "format": format})
			res := read(t, src, cfg, discover(t, src, cfg, airbyte.FullRefresh), nil)
			if res.err != nil {
				t.Fatal(res.err)
			}
			var got [][]any
			for _, r := range res.records {
				if len(r) != len(c.cols)+2 {
					t.Errorf("record has %d columns, want %d: %v", len(r), len(c.cols)+2, r)
				}
				var row []any
				for _, col := range c.cols {
					row = append(row, r[col])
				}
				got = append(got, row)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func TestCSVLatin1(t *testing.T) {
	dir := t.TempDir()
	// "name,city\nJosé,Zürich\nFrançois,Besançon\n" in ISO-8859-1.
	latin1 := []byte("name,city\nJos\xe9,Z\xfcrich\nFran\xe7ois,Besan\xe7on\n")
	writeFile(t, dir, "l.csv", latin1, base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "l", "globs": []string{"l.csv"}, "format": map[string]any{"filetype": "csv", "encoding": "latin1"}})
	res := read(t, src, cfg, discover(t, src, cfg, airbyte.FullRefresh), nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 2 || res.records[0]["name"] != "José" || res.records[0]["city"] != "Zürich" ||
		res.records[1]["name"] != "François" || res.records[1]["city"] != "Besançon" {
		t.Errorf("records %v", res.records)
	}

	// The same bytes read as UTF-8 are an error naming the line, not mojibake.
	cfg8 := config(t, dir, map[string]any{"name": "l", "globs": []string{"l.csv"}, "format": map[string]any{"filetype": "csv"}})
	_, err := src.Discover(context.Background(), cfg8)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !strings.Contains(err.Error(), "l.csv:2") || !strings.Contains(err.Error(), "latin1") {
		t.Errorf("reading Latin-1 as UTF-8: %v", err)
	}
}

func TestCSVMalformed(t *testing.T) {
	cases := []struct {
		name    string
		content string
		line    int
		msg     string
	}{
		{"unclosed quote", "a,b\n1,2\n3,\"open\n4,5\n", 3, "not closed at the end of the file"},
		{"text after closing quote", "a,b\n1,2\n\"x\"y,3\n", 3, "after the closing quote"},
		{"too many fields", "a,b\n1,2\n1,2,3\n", 3, "has 3 fields, the header 2"},
		{"too few fields", "a,b\n1\n", 2, "has 1 fields, the header 2"},
		{"duplicate header", "a,a\n1,2\n", 1, `"a" appears twice`},
		{"empty header name", "a,,c\n1,2,3\n", 1, "column 2 has no name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "bad.csv", []byte(c.content), base)
			src := New()
			cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"bad.csv"},
				"format": map[string]any{"filetype": "csv", "all_strings": true}})
			// Read with a hand-made catalog, so the error comes from the read itself.
			cc := &airbyte.ConfiguredCatalog{Streams: []airbyte.ConfiguredStream{{
				Stream: airbyte.Stream{Name: "s", JSONSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`)}, SyncMode: airbyte.FullRefresh}}}
			res := read(t, src, cfg, cc, nil)
			var pe *ParseError
			if !errors.As(res.err, &pe) {
				t.Fatalf("error %v, want a *ParseError", res.err)
			}
			want := fmt.Sprintf("bad.csv:%d", c.line)
			if pe.Line != c.line || !strings.Contains(res.err.Error(), want) || !strings.Contains(res.err.Error(), c.msg) {
				t.Errorf("error %q, want it to name %s and say %q", res.err, want, c.msg)
			}
			if len(res.states) != 0 {
				t.Errorf("a failed file must not be checkpointed: %d states", len(res.states))
			}
		})
	}
}

func TestCSVTypeErrors(t *testing.T) {
	dir := t.TempDir()
	// Inference sees only the first two rows (infer_rows 2); row 4 breaks both types.
	writeFile(t, dir, "t.csv", []byte("n,d,s\n1,2026-01-01,a\n2,2026-01-02,b\n3,2026-01-03,c\nabc,2026-13-01,d\n5,2026-01-05,e\n"), base)
	src := New()
	stream := map[string]any{"name": "t", "globs": []string{"t.csv"}, "infer_rows": 2, "format": map[string]any{"filetype": "csv"}}
	cfg := config(t, dir, stream)
	cc := discover(t, src, cfg, airbyte.FullRefresh)
	if p := schemaProps(t, cc.Streams[0].Stream); typeOf(p["n"]) != "integer" || typeOf(p["d"]) != "string/date" {
		t.Fatalf("inferred n %s, d %s", typeOf(p["n"]), typeOf(p["d"]))
	}

	res := read(t, src, cfg, cc, nil)
	var pe *ParseError
	if !errors.As(res.err, &pe) || !errors.Is(res.err, ErrTypeMismatch) {
		t.Fatalf("error %v, want a type mismatch ParseError", res.err)
	}
	if pe.Line != 5 || pe.Column != "n" || !strings.Contains(res.err.Error(), `t.csv:5: column "n": value "abc" is not an integer`) {
		t.Errorf("error %q", res.err)
	}
	if len(res.records) != 3 {
		t.Errorf("records before the bad one: %d, want 3", len(res.records))
	}

	stream["on_type_error"] = "null"
	cfg = config(t, dir, stream)
	var logs bytes.Buffer
	src = New(WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	res = read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"file source: value nulled\" stream=t file=t.csv record=4 field=n") ||
		!strings.Contains(logs.String(), "records with nulled values\" stream=t file=t.csv records=1") {
		t.Errorf("logs do not report the nulled value:\n%s", logs.String())
	}
	if len(res.records) != 5 {
		t.Fatalf("got %d records, want all 5", len(res.records))
	}
	bad := res.records[3]
	if bad["n"] != nil || bad["d"] != nil || bad["s"] != "d" {
		t.Errorf("nulled record %v", bad)
	}
	want := &airbyte.RecordMeta{Changes: []airbyte.RecordChange{
		{Field: "n", Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"},
		{Field: "d", Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"},
	}}
	if !reflect.DeepEqual(res.metas[3], want) {
		t.Errorf("meta %+v, want %+v", res.metas[3], want)
	}
	for i, m := range res.metas {
		if i != 3 && m != nil {
			t.Errorf("record %d has meta %+v", i, m)
		}
	}
}

// TestCSVEmptyFiles reads empty files (a file still being created, a file
// of only its header) beside a real one: they add no records and no error.
func TestCSVEmptyFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a_empty.csv", nil, base)
	writeFile(t, dir, "b_header.csv", []byte("id,name\n"), base.Add(time.Second))
	writeFile(t, dir, "c_data.csv", []byte("id,name\n1,x\n"), base.Add(2*time.Second))
	writeFile(t, dir, "d_blank.csv", []byte("\n\n"), base.Add(3*time.Second))
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"*.csv"}, "format": map[string]any{"filetype": "csv"}})
	cc := discover(t, src, cfg, airbyte.Incremental)
	if p := schemaProps(t, cc.Streams[0].Stream); typeOf(p["id"]) != "integer" || typeOf(p["name"]) != "string" {
		t.Errorf("schema %v", p)
	}
	res := read(t, src, cfg, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 1 || len(res.states) != 4 || len(res.history(t)) != 4 {
		t.Errorf("%d records, %d states, history %v", len(res.records), len(res.states), res.history(t))
	}
}

func TestCSVLongLine(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 300<<10) // longer than the read buffer
	writeFile(t, dir, "l.csv", []byte("a,b\n\""+long+"\",1\n"+long+",2\n"), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "l", "globs": []string{"l.csv"}, "format": map[string]any{"filetype": "csv"}})
	res := read(t, src, cfg, discover(t, src, cfg, airbyte.FullRefresh), nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 2 || res.records[0]["a"] != long || res.records[1]["a"] != long || res.records[1]["b"] != json.Number("2") {
		t.Errorf("long values did not survive (%d records)", len(res.records))
	}
}
