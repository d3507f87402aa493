package duckdb_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

func intN(bits int) warehouse.Type   { return warehouse.Type{Kind: warehouse.KindInteger, Bits: bits} }
func floatN(bits int) warehouse.Type { return warehouse.Type{Kind: warehouse.KindFloat, Bits: bits} }

func TestTypeSQL(t *testing.T) {
	d := duckdb.Dialect{}
	for _, tc := range []struct {
		typ  warehouse.Type
		want string
	}{
		{warehouse.String, "VARCHAR"},
		{warehouse.Type{Kind: warehouse.KindString, Length: 20}, "VARCHAR"},
		{intN(16), "SMALLINT"},
		{intN(32), "INTEGER"},
		{intN(64), "BIGINT"},
		{intN(0), "BIGINT"},
		{warehouse.DecimalType(38, 10), "DECIMAL(38,10)"},
		{warehouse.DecimalType(1, 0), "DECIMAL(1,0)"},
		{warehouse.DecimalType(10, 10), "DECIMAL(10,10)"},
		{floatN(32), "FLOAT"},
		{floatN(64), "DOUBLE"},
		{floatN(0), "DOUBLE"},
		{warehouse.Boolean, "BOOLEAN"},
		{warehouse.Date, "DATE"},
		{warehouse.Time, "TIME"},
		{warehouse.Timestamp, "TIMESTAMP"},
		{warehouse.TimestampTZ, "TIMESTAMPTZ"},
		{warehouse.JSON, "JSON"},
		{warehouse.Binary, "BLOB"},
		{warehouse.ArrayOf(warehouse.Integer), "BIGINT[]"},
		{warehouse.ArrayOf(warehouse.DecimalType(12, 2)), "DECIMAL(12,2)[]"},
		{warehouse.ArrayOf(warehouse.ArrayOf(warehouse.String)), "VARCHAR[][]"},
		{warehouse.Type{Kind: warehouse.KindUnknown, Native: "INTERVAL"}, "INTERVAL"},
		{warehouse.Type{Kind: warehouse.KindUnknown, Native: `STRUCT("a b" INTEGER, c VARCHAR[])`}, `STRUCT("a b" INTEGER, c VARCHAR[])`},
	} {
		got, err := d.TypeSQL(tc.typ)
		if err != nil || got != tc.want {
			t.Errorf("TypeSQL(%s) = %q, %v; want %q", tc.typ, got, err, tc.want)
			continue
		}
		// Every portable type reads back as itself.
		if tc.typ.Kind != warehouse.KindUnknown && tc.typ.Length == 0 {
			if back := d.ParseType(got); !back.Equal(tc.typ) || back.Native != got {
				t.Errorf("ParseType(%q) = %s (native %q), want %s", got, back, back.Native, tc.typ)
			}
		}
	}
	for _, bad := range []warehouse.Type{
		warehouse.DecimalType(0, 0), warehouse.DecimalType(39, 0), warehouse.DecimalType(10, 11), warehouse.DecimalType(10, -1),
		intN(8), intN(128), floatN(16),
		{Kind: warehouse.KindArray},
		warehouse.ArrayOf(warehouse.DecimalType(40, 0)),
		{Kind: warehouse.KindUnknown},
		{Kind: warehouse.KindUnknown, Native: "INTEGER); DROP TABLE x; --"},
		{Kind: warehouse.KindUnknown, Native: `STRUCT("unterminated INTEGER)`},
		{Kind: warehouse.Kind(99)},
	} {
		if got, err := d.TypeSQL(bad); err == nil {
			t.Errorf("TypeSQL(%s native %q) = %q, want an error", bad, bad.Native, got)
		}
	}
}

func TestParseType(t *testing.T) {
	d := duckdb.Dialect{}
	for _, tc := range []struct {
		native string
		want   warehouse.Type
	}{
		{"VARCHAR", warehouse.String},
		{"varchar", warehouse.String},
		{"TEXT", warehouse.String},
		{"VARCHAR(10)", warehouse.Type{Kind: warehouse.KindString, Length: 10}},
		{"UUID", warehouse.String},
		{"ENUM('a', 'b')", warehouse.String},
		{"TINYINT", intN(16)},
		{"UTINYINT", intN(16)},
		{"SMALLINT", intN(16)},
		{"USMALLINT", intN(32)},
		{"INTEGER", intN(32)},
		{"INT", intN(32)},
		{"UINTEGER", intN(64)},
		{"BIGINT", intN(64)},
		{"INT8", intN(64)},
		{"UBIGINT", warehouse.DecimalType(20, 0)},
		{"HUGEINT", warehouse.DecimalType(38, 0)},
		{"UHUGEINT", warehouse.DecimalType(38, 0)},
		{"DECIMAL(38,10)", warehouse.DecimalType(38, 10)},
		{"DECIMAL(38, 10)", warehouse.DecimalType(38, 10)},
		{"NUMERIC(5)", warehouse.DecimalType(5, 0)},
		{"DECIMAL", warehouse.DecimalType(18, 3)},
		{"FLOAT", floatN(32)},
		{"REAL", floatN(32)},
		{"DOUBLE", floatN(64)},
		{"DOUBLE PRECISION", floatN(64)},
		{"BOOLEAN", warehouse.Boolean},
		{"BOOL", warehouse.Boolean},
		{"DATE", warehouse.Date},
		{"TIME", warehouse.Time},
		{"TIMESTAMP", warehouse.Timestamp},
		{"TIMESTAMP_NS", warehouse.Timestamp},
		{"TIMESTAMP_MS", warehouse.Timestamp},
		{"DATETIME", warehouse.Timestamp},
		{"TIMESTAMP WITH TIME ZONE", warehouse.TimestampTZ},
		{"TIMESTAMPTZ", warehouse.TimestampTZ},
		{"JSON", warehouse.JSON},
		{"BLOB", warehouse.Binary},
		{"BYTEA", warehouse.Binary},
		{"INTEGER[]", warehouse.ArrayOf(intN(32))},
		{"INTEGER[3]", warehouse.ArrayOf(intN(32))},
		{"DECIMAL(12,2)[]", warehouse.ArrayOf(warehouse.DecimalType(12, 2))},
		{"VARCHAR[][]", warehouse.ArrayOf(warehouse.ArrayOf(warehouse.String))},
		{"TIMESTAMP WITH TIME ZONE[]", warehouse.ArrayOf(warehouse.TimestampTZ)},
		{"TIME WITH TIME ZONE", warehouse.Type{Native: "TIME WITH TIME ZONE"}},
		{"INTERVAL", warehouse.Type{Native: "INTERVAL"}},
		{"STRUCT(a INTEGER)", warehouse.Type{Native: "STRUCT(a INTEGER)"}},
		{"MAP(VARCHAR, INTEGER[])", warehouse.Type{Native: "MAP(VARCHAR, INTEGER[])"}},
		{"STRUCT(a INTEGER)[]", warehouse.ArrayOf(warehouse.Type{Native: "STRUCT(a INTEGER)"})},
		{"DECIMAL(50,2)", warehouse.Type{Native: "DECIMAL(50,2)"}},
		{"BIT", warehouse.Type{Native: "BIT"}},
	} {
		got := d.ParseType(tc.native)
		if !got.Equal(tc.want) {
			t.Errorf("ParseType(%q) = %s, want %s", tc.native, got, tc.want)
		}
		if got.Native != tc.native {
			t.Errorf("ParseType(%q).Native = %q", tc.native, got.Native)
		}
	}
}

func TestDialectNames(t *testing.T) {
	d := duckdb.Dialect{}
	if d.Name() != "duckdb" || d.CaseSensitive() || d.MaxIdentifierLength() != 0 || d.NormalizeIdentifier("MiXed") != "MiXed" {
		t.Fatalf("dialect basics wrong")
	}
	if got := d.QuoteIdentifier(`a"b`); got != `"a""b"` {
		t.Errorf("QuoteIdentifier = %s", got)
	}
	if got := d.QuoteRelation(warehouse.Relation{Database: "db", Schema: "s", Name: "t"}); got != `"db"."s"."t"` {
		t.Errorf("QuoteRelation = %s", got)
	}
	if got := d.QuoteRelation(warehouse.Rel("", "t")); got != `"t"` {
		t.Errorf("QuoteRelation = %s", got)
	}
}

func TestParseURL(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, path, schema, options string
	}{
		{"duckdb:", "", "", ""},
		{"duckdb::memory:", "", "", ""},
		{"duckdb::memory:?threads=2", "", "", "threads=2"},
		{"duckdb:?schema=raw", "", "raw", ""},
		{"duckdb:data/x.db", filepath.Join(wd, "data/x.db"), "", ""},
		{"duckdb:x.db?schema=s&threads=1&access_mode=READ_ONLY", filepath.Join(wd, "x.db"), "s", "access_mode=READ_ONLY&threads=1"},
		{"duckdb:/tmp/x.db", "/tmp/x.db", "", ""},
		{"duckdb:///tmp/x.db", "/tmp/x.db", "", ""},
		{"duckdb://data/x.db", filepath.Join(wd, "data/x.db"), "", ""},
		{"duckdb:/tmp/with%20space.db", "/tmp/with space.db", "", ""},
		{"duckdb:rel%20space.db", filepath.Join(wd, "rel space.db"), "", ""},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		c, err := duckdb.ParseURL(u)
		if err != nil {
			t.Errorf("ParseURL(%s): %v", tc.url, err)
			continue
		}
		if c.Path != tc.path || c.Schema != tc.schema || c.Options.Encode() != tc.options {
			t.Errorf("ParseURL(%s) = path %q schema %q options %q; want %q %q %q", tc.url, c.Path, c.Schema, c.Options.Encode(), tc.path, tc.schema, tc.options)
		}
	}
	for _, bad := range []string{
		"duckdb://user:pw@host/x.db",
		"duckdb:x.db?schema=",
		"duckdb:x.db?schema=a&schema=b",
		"duckdb:x.db?threads=1&threads=2",
		"duckdb:x.db#frag",
		"postgres://x",
	} {
		u, err := url.Parse(bad)
		if err != nil {
			continue
		}
		if c, err := duckdb.ParseURL(u); err == nil {
			t.Errorf("ParseURL(%s) = %+v, want an error", bad, c)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ url, want string }{
		{"duckdb::memory:?no_such_option=1", "no_such_option"},
		{"duckdb::memory:?threads=lots", "threads"},
		{"duckdb:" + filepath.Join(dir, "x.db") + "?schema=no_such_schema", "no_such_schema"},
		{"duckdb:" + filepath.Join(dir, "missing-dir", "x.db"), "missing-dir"},
	} {
		w, err := warehouse.Open(t.Context(), tc.url)
		if err == nil {
			w.Close()
			t.Errorf("Open(%s): no error", tc.url)
			continue
		}
		t.Logf("%s: %v", tc.url, err)
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s) = %v; want it to name %q", tc.url, err, tc.want)
		}
	}
}
