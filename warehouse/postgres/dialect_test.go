package postgres_test

import (
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/postgres"
)

func int16T() warehouse.Type { return warehouse.Type{Kind: warehouse.KindInteger, Bits: 16} }
func int32T() warehouse.Type { return warehouse.Type{Kind: warehouse.KindInteger, Bits: 32} }
func float32T() warehouse.Type {
	return warehouse.Type{Kind: warehouse.KindFloat, Bits: 32}
}
func varcharT(n int) warehouse.Type { return warehouse.Type{Kind: warehouse.KindString, Length: n} }

// allTypes is every portable kind with the SQL it maps to and the spelling
// format_type() reports for it.
var allTypes = []struct {
	typ        warehouse.Type
	sql        string
	formatType string
}{
	{warehouse.String, "text", "text"},
	{varcharT(20), "varchar(20)", "character varying(20)"},
	{int16T(), "smallint", "smallint"},
	{int32T(), "integer", "integer"},
	{warehouse.Integer, "bigint", "bigint"},
	{warehouse.Type{Kind: warehouse.KindInteger}, "bigint", "bigint"},
	{warehouse.DecimalType(38, 10), "numeric(38,10)", "numeric(38,10)"},
	{warehouse.DecimalType(1, 0), "numeric(1,0)", "numeric(1,0)"},
	{warehouse.DecimalType(38, 38), "numeric(38,38)", "numeric(38,38)"},
	{float32T(), "real", "real"},
	{warehouse.Float, "double precision", "double precision"},
	{warehouse.Boolean, "boolean", "boolean"},
	{warehouse.Date, "date", "date"},
	{warehouse.Time, "time", "time without time zone"},
	{warehouse.Timestamp, "timestamp", "timestamp without time zone"},
	{warehouse.TimestampTZ, "timestamptz", "timestamp with time zone"},
	{warehouse.JSON, "jsonb", "jsonb"},
	{warehouse.Binary, "bytea", "bytea"},
	{warehouse.ArrayOf(warehouse.Integer), "bigint[]", "bigint[]"},
	{warehouse.ArrayOf(int32T()), "integer[]", "integer[]"},
	{warehouse.ArrayOf(warehouse.String), "text[]", "text[]"},
	{warehouse.ArrayOf(varcharT(5)), "varchar(5)[]", "character varying(5)[]"},
	{warehouse.ArrayOf(warehouse.DecimalType(10, 2)), "numeric(10,2)[]", "numeric(10,2)[]"},
	{warehouse.ArrayOf(warehouse.TimestampTZ), "timestamptz[]", "timestamp with time zone[]"},
	{warehouse.ArrayOf(warehouse.JSON), "jsonb[]", "jsonb[]"},
	{warehouse.ArrayOf(warehouse.Binary), "bytea[]", "bytea[]"},
	{warehouse.ArrayOf(warehouse.Boolean), "boolean[]", "boolean[]"},
	{warehouse.ArrayOf(warehouse.Date), "date[]", "date[]"},
	{warehouse.ArrayOf(warehouse.Time), "time[]", "time without time zone[]"},
	{warehouse.ArrayOf(warehouse.Timestamp), "timestamp[]", "timestamp without time zone[]"},
	{warehouse.ArrayOf(float32T()), "real[]", "real[]"},
	{warehouse.ArrayOf(warehouse.Float), "double precision[]", "double precision[]"},
}

func TestTypeSQL(t *testing.T) {
	d := postgres.Dialect{}
	for _, tc := range allTypes {
		t.Run(tc.typ.String(), func(t *testing.T) {
			got, err := d.TypeSQL(tc.typ)
			if err != nil {
				t.Fatalf("TypeSQL(%s): %v", tc.typ, err)
			}
			if got != tc.sql {
				t.Errorf("TypeSQL(%s) = %q, want %q", tc.typ, got, tc.sql)
			}
			for _, spelling := range []string{tc.sql, tc.formatType, strings.ToUpper(tc.formatType)} {
				back := d.ParseType(spelling)
				if !back.Equal(tc.typ) {
					t.Errorf("ParseType(%q) = %s, want %s", spelling, back, tc.typ)
				}
				if back.Native != spelling {
					t.Errorf("ParseType(%q).Native = %q", spelling, back.Native)
				}
			}
		})
	}
}

func TestTypeSQLErrors(t *testing.T) {
	d := postgres.Dialect{}
	bad := []warehouse.Type{
		warehouse.DecimalType(0, 0),
		warehouse.DecimalType(39, 0),
		warehouse.DecimalType(10, 11),
		warehouse.DecimalType(10, -1),
		{Kind: warehouse.KindInteger, Bits: 8},
		{Kind: warehouse.KindFloat, Bits: 16},
		{Kind: warehouse.KindString, Length: -1},
		{Kind: warehouse.KindArray},
		warehouse.ArrayOf(warehouse.ArrayOf(warehouse.Integer)),
		warehouse.ArrayOf(warehouse.DecimalType(50, 0)),
		{Kind: warehouse.KindUnknown},
		{Kind: warehouse.KindUnknown, Native: "int); DROP TABLE x; --"},
		{Kind: warehouse.Kind(99)},
	}
	for _, typ := range bad {
		if got, err := d.TypeSQL(typ); err == nil {
			t.Errorf("TypeSQL(%#v) = %q, want an error", typ, got)
		}
	}
	// An unknown type keeps its engine spelling.
	if got, err := d.TypeSQL(warehouse.Type{Kind: warehouse.KindUnknown, Native: "interval"}); err != nil || got != "interval" {
		t.Errorf("TypeSQL(unknown(interval)) = %q, %v", got, err)
	}
}

func TestParseTypeSpellings(t *testing.T) {
	d := postgres.Dialect{}
	cases := []struct {
		native string
		want   warehouse.Type
	}{
		// pgx / pg_type internal names, as DatabaseTypeName reports them.
		{"INT2", int16T()},
		{"int4", int32T()},
		{"INT8", warehouse.Integer},
		{"float4", float32T()},
		{"FLOAT8", warehouse.Float},
		{"bool", warehouse.Boolean},
		{"VARCHAR", warehouse.String},
		{"varchar(7)", varcharT(7)},
		{"bpchar", warehouse.String},
		{"character(3)", varcharT(3)},
		{"char", varcharT(1)},
		{"TIMESTAMPTZ", warehouse.TimestampTZ},
		{"timestamp(3) with time zone", warehouse.TimestampTZ},
		{"timestamp(0) without time zone", warehouse.Timestamp},
		{"timestamptz(6)", warehouse.TimestampTZ},
		{"time(3) without time zone", warehouse.Time},
		{"json", warehouse.JSON},
		{"JSONB", warehouse.JSON},
		{"uuid", warehouse.String},
		{"name", warehouse.String},
		{`"char"`, warehouse.String},
		{"citext", warehouse.String},
		{"numeric", warehouse.Type{Kind: warehouse.KindDecimal}},
		{"NUMERIC(12)", warehouse.DecimalType(12, 0)},
		{"decimal(18, 4)", warehouse.DecimalType(18, 4)},
		{"numeric(38,10)", warehouse.DecimalType(38, 10)},
		{"serial", int32T()},
		{"bigserial", warehouse.Integer},
		{"float(10)", float32T()},
		{"float(40)", warehouse.Float},
		{"oid", warehouse.Integer},
		// Arrays in every spelling.
		{"_int4", warehouse.ArrayOf(int32T())},
		{"_TEXT", warehouse.ArrayOf(warehouse.String)},
		{"_numeric", warehouse.ArrayOf(warehouse.Type{Kind: warehouse.KindDecimal})},
		{"integer[]", warehouse.ArrayOf(int32T())},
		{"integer[3]", warehouse.ArrayOf(int32T())},
		{"integer[][]", warehouse.ArrayOf(int32T())},
		{"integer ARRAY", warehouse.ArrayOf(int32T())},
		{"timestamp with time zone[]", warehouse.ArrayOf(warehouse.TimestampTZ)},
		{"_jsonb", warehouse.ArrayOf(warehouse.JSON)},
		// No portable kind.
		{"interval", warehouse.Type{Kind: warehouse.KindUnknown, Native: "interval"}},
		{"time with time zone", warehouse.Type{Kind: warehouse.KindUnknown, Native: "time with time zone"}},
		{"timetz", warehouse.Type{Kind: warehouse.KindUnknown, Native: "timetz"}},
		{"inet", warehouse.Type{Kind: warehouse.KindUnknown, Native: "inet"}},
		{"mood", warehouse.Type{Kind: warehouse.KindUnknown, Native: "mood"}},
		{"numeric(x)", warehouse.Type{Kind: warehouse.KindUnknown, Native: "numeric(x)"}},
		{"interval[]", warehouse.ArrayOf(warehouse.Type{Kind: warehouse.KindUnknown, Native: "interval"})},
	}
	for _, tc := range cases {
		got := d.ParseType(tc.native)
		if !got.Equal(tc.want) {
			t.Errorf("ParseType(%q) = %s, want %s", tc.native, got, tc.want)
		}
	}
}

func TestDialectNames(t *testing.T) {
	d := postgres.Dialect{}
	if d.Name() != "postgres" || !d.CaseSensitive() || d.MaxIdentifierLength() != 63 {
		t.Errorf("Name %q CaseSensitive %v MaxIdentifierLength %d", d.Name(), d.CaseSensitive(), d.MaxIdentifierLength())
	}
	cases := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`we"ird`, `"we""ird"`},
		{"Mixed Case", `"Mixed Case"`},
		{"select", `"select"`},
	}
	for _, c := range cases {
		if got := d.QuoteIdentifier(c.in); got != c.want {
			t.Errorf("QuoteIdentifier(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := d.QuoteRelation(warehouse.Relation{Schema: "s", Name: `t"x`}); got != `"s"."t""x"` {
		t.Errorf("QuoteRelation = %s", got)
	}
	if got := d.QuoteRelation(warehouse.Relation{Database: "db", Schema: "s", Name: "t"}); got != `"db"."s"."t"` {
		t.Errorf("QuoteRelation = %s", got)
	}
	if got := d.NormalizeIdentifier("MyTable"); got != "mytable" {
		t.Errorf("NormalizeIdentifier = %s", got)
	}
}
