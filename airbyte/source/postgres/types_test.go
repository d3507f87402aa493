package postgres

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEveryType(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TYPE "+db.rel("mood")+" AS ENUM ('sad', 'happy')")
	db.exec(t, "CREATE DOMAIN "+db.rel("posint")+" AS integer CHECK (VALUE > 0)")
	db.exec(t, "CREATE DOMAIN "+db.rel("posint2")+" AS "+db.rel("posint"))
	cols := []struct{ name, typ, value, want, schema string }{
		{"i2", "smallint", "32767", `32767`, `{"type":["null","integer"]}`},
		{"i4", "integer", "-2147483648", `-2147483648`, `{"type":["null","integer"]}`},
		{"i8", "bigint", "9223372036854775807", `9223372036854775807`, `{"type":["null","integer"]}`},
		{"n", "numeric(10,2)", "12345678.90", `12345678.90`, `{"type":["null","number"]}`},
		{"nu", "numeric", "0.000000000000000000001234", `0.000000000000000000001234`, `{"type":["null","number"]}`},
		{"nnan", "numeric", "'NaN'", `null`, `{"type":["null","number"]}`},
		{"r", "real", "1.5", `1.5`, `{"type":["null","number"]}`},
		{"d", "double precision", "3.141592653589793", `3.141592653589793`, `{"type":["null","number"]}`},
		{"dinf", "double precision", "'Infinity'", `null`, `{"type":["null","number"]}`},
		{"m", "money", "1234.56", `1234.56`, `{"type":["null","number"]}`},
		{"b", "boolean", "true", `true`, `{"type":["null","boolean"]}`},
		{"c", "char(3)", "'ab'", `"ab "`, `{"type":["null","string"]}`},
		{"vc", "varchar(40)", `E'q"b\\n\n\t\x01'`, `"q\"b\\n\n\t\u0001"`, `{"type":["null","string"]}`},
		{"t", "text", "'héllo ☃'", `"héllo ☃"`, `{"type":["null","string"]}`},
		{"dt", "date", "'2024-02-29'", `"2024-02-29"`, `{"type":["null","string"],"format":"date"}`},
		{"dbc", "date", "'0044-03-15 BC'", `"0044-03-15 BC"`, `{"type":["null","string"],"format":"date"}`},
		{"dtinf", "date", "'infinity'", `null`, `{"type":["null","string"],"format":"date"}`},
		{"tm", "time", "'13:14:15.5'", `"13:14:15.5"`, `{"type":["null","string"],"format":"time","airbyte_type":"time_without_timezone"}`},
		{"ttz", "timetz", "'13:14:15+05:30'", `"13:14:15+05:30"`, `{"type":["null","string"],"format":"time","airbyte_type":"time_with_timezone"}`},
		{"ts", "timestamp", "'2024-01-02 03:04:05.123456'", `"2024-01-02T03:04:05.123456"`, `{"type":["null","string"],"format":"date-time","airbyte_type":"timestamp_without_timezone"}`},
		{"tsold", "timestamp", "'1969-12-31 23:59:59.5'", `"1969-12-31T23:59:59.5"`, ``},
		{"tstz", "timestamptz", "'2024-01-02 03:04:05+02'", `"2024-01-02T01:04:05Z"`, `{"type":["null","string"],"format":"date-time","airbyte_type":"timestamp_with_timezone"}`},
		{"iv", "interval", "'1 year 2 mons 3 days 04:05:06'", `"P1Y2M3DT4H5M6S"`, `{"type":["null","string"]}`},
		{"u", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`, `{"type":["null","string"],"format":"uuid"}`},
		{"j", "json", `'{"a": [1, 2]}'`, `"{\"a\": [1, 2]}"`, `{"type":["null","string"]}`},
		{"jb", "jsonb", `'{"b": 1, "a": 2}'`, `"{\"a\": 2, \"b\": 1}"`, `{"type":["null","string"]}`},
		{"by", "bytea", `'\xdeadbeef'`, `"3q2+7w=="`, `{"type":["null","string"],"contentEncoding":"base64"}`},
		{"ai", "integer[]", "'{1,NULL,3}'", `[1,null,3]`, `{"type":["null","array"],"items":{"type":["null","integer"]}}`},
		{"a2", "integer[][]", "'{{1,2},{3,4}}'", `[[1,2],[3,4]]`, ``},
		{"at", "text[]", `'{"a b","c,d",NULL,"x\"y"}'`, `["a b","c,d",null,"x\"y"]`, `{"type":["null","array"],"items":{"type":["null","string"]}}`},
		{"ats", "timestamptz[]", `'{"2024-01-02 03:04:05+00"}'`, `["2024-01-02T03:04:05Z"]`, ``},
		{"an", "numeric[]", `'{1.5,NaN}'`, `[1.5,null]`, ``},
		{"e", db.rel("mood"), "'happy'", `"happy"`, `{"type":["null","string"]}`},
		{"dom", db.rel("posint2"), "5", `5`, `{"type":["null","integer"]}`},
		{"tv", "tsvector", "'a fat cat'", `"'a' 'cat' 'fat'"`, `{"type":["null","string"]}`},
		{"ip", "inet", "'192.168.1.5/24'", `"192.168.1.5/24"`, ``},
		{"cd", "cidr", "'10.0.0.0/8'", `"10.0.0.0/8"`, ``},
		{"mac", "macaddr", "'08:00:2b:01:02:03'", `"08:00:2b:01:02:03"`, ``},
		{"pt", "point", "'(1,2)'", `"(1,2)"`, ``},
		{"bx", "box", "'((0,0),(1,1))'", `"(1,1),(0,0)"`, ``},
		{"x", "xml", "'<a>1</a>'", `"<a>1</a>"`, ``},
		{"bt", "bit(4)", "B'1010'", `"1010"`, ``},
		{"vb", "varbit", "B'101'", `"101"`, ``},
	}
	var ddl, names, values []string
	for _, c := range cols {
		ddl = append(ddl, quoteIdent(c.name)+" "+c.typ)
		names = append(names, quoteIdent(c.name))
		values = append(values, c.value)
	}
	db.exec(t, "CREATE TABLE "+db.rel("alltypes")+" (id integer PRIMARY KEY, "+strings.Join(ddl, ", ")+")")
	db.exec(t, "INSERT INTO "+db.rel("alltypes")+" (id, "+strings.Join(names, ", ")+") VALUES (1, "+strings.Join(values, ", ")+")")
	db.exec(t, "INSERT INTO "+db.rel("alltypes")+" (id) VALUES (2)")

	src := New()
	cfg := db.config(t, nil)
	cat := discover(t, src, cfg)
	if len(cat.Streams) != 1 || cat.Streams[0].Name != "alltypes" || cat.Streams[0].Namespace != db.schema {
		t.Fatalf("catalog: %+v", cat.Streams)
	}
	st := cat.Streams[0]
	if len(st.SourceDefinedPrimaryKey) != 1 || st.SourceDefinedPrimaryKey[0][0] != "id" {
		t.Errorf("primary key: %v", st.SourceDefinedPrimaryKey)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(st.JSONSchema, &schema); err != nil {
		t.Fatal(err)
	}
	if got := string(schema.Properties["id"]); got != `{"type":"integer"}` {
		t.Errorf("schema of id: %s", got)
	}
	for _, c := range cols {
		if c.schema != "" && string(schema.Properties[c.name]) != c.schema {
			t.Errorf("schema of %s (%s): got %s, want %s", c.name, c.typ, schema.Properties[c.name], c.schema)
		}
	}

	res := readAll(t, src, cfg, configured(t, cat, "full_refresh", nil, "alltypes"), nil, nil)
	if len(res.records) != 2 {
		t.Fatalf("got %d records, want 2", len(res.records))
	}
	var row map[string]json.RawMessage
	if err := json.Unmarshal(res.records[0].Data, &row); err != nil {
		t.Fatalf("record is not JSON: %v\n%s", err, res.records[0].Data)
	}
	for _, c := range cols {
		if got := string(row[c.name]); got != c.want {
			t.Errorf("%s (%s): got %s, want %s", c.name, c.typ, got, c.want)
		}
	}
	nulled := map[string]bool{}
	if res.records[0].Meta != nil {
		for _, ch := range res.records[0].Meta.Changes {
			if ch.Change != "NULLED" || ch.Reason != "SOURCE_SERIALIZATION_ERROR" {
				t.Errorf("change %+v", ch)
			}
			nulled[ch.Field] = true
		}
	}
	for _, f := range []string{"nnan", "dinf", "dtinf"} {
		if !nulled[f] {
			t.Errorf("no NULLED meta change for %s", f)
		}
	}
	if len(nulled) != 3 {
		t.Errorf("meta changes for %v, want nnan, dinf, dtinf", nulled)
	}
	// The all-NULL row: every column null.
	row = nil
	if err := json.Unmarshal(res.records[1].Data, &row); err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		if got := string(row[c.name]); got != "null" {
			t.Errorf("%s of row 2: got %s, want null", c.name, got)
		}
	}
	if len(row) != len(cols)+1 {
		t.Errorf("row 2 has %d fields, want %d", len(row), len(cols)+1)
	}
}
