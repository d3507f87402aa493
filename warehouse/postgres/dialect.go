package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// maxIdentifierLength is NAMEDATALEN-1: PostgreSQL silently truncates longer
// names, so the warehouse rejects them instead.
const maxIdentifierLength = 63

// maxPrecision is the largest decimal precision the driver creates. PostgreSQL
// allows numeric(1000); the warehouse keeps to 38 digits, which every engine
// can hold.
const maxPrecision = 38

// Dialect is PostgreSQL's SQL dialect. Its zero value is ready to use; it
// needs no connection.
//
// Portable types map to PostgreSQL types as follows (TypeSQL), and
// ParseType maps them back, accepting format_type(), information_schema and
// pgx spellings ("character varying(20)", "timestamp with time zone", "int4",
// "_int4", "integer[]", …):
//
//	string          text, or varchar(n) when Length > 0
//	integer 16/32/64 smallint / integer / bigint
//	decimal(p,s)    numeric(p,s), 1 ≤ p ≤ 38, 0 ≤ s ≤ p
//	float 32/64     real / double precision
//	boolean         boolean
//	date            date
//	time            time (without time zone)
//	timestamp       timestamp (without time zone)
//	timestamptz     timestamptz
//	json            jsonb (json is read as json too)
//	binary          bytea
//	array<T>        T[] (one level; PostgreSQL arrays do not nest as types)
//
// ParseType also reads char(n) and bpchar as string(n), "char", name, citext
// and uuid as string (a uuid's value is its canonical text), oid as a 64-bit
// integer, serial types as integers, float(n) as real or double precision
// and numeric without a precision as decimal(0,0), which stands for an
// unconstrained numeric whose values carry their own scale. Other types
// (interval, inet, timetz, enums, …) are KindUnknown with Native set.
type Dialect struct{}

var _ warehouse.Dialect = Dialect{}

// Name returns "postgres".
func (Dialect) Name() string { return "postgres" }

// QuoteIdentifier quotes name with double quotes, doubling any inside it.
func (Dialect) QuoteIdentifier(name string) string { return warehouse.QuoteWith('"', name) }

// QuoteRelation renders r as "database"."schema"."name", leaving out empty parts.
func (d Dialect) QuoteRelation(r warehouse.Relation) string { return warehouse.JoinRelation(d, r) }

// NormalizeIdentifier folds an unquoted name to lower case, as PostgreSQL does.
func (Dialect) NormalizeIdentifier(name string) string { return strings.ToLower(name) }

// CaseSensitive reports true: quoted names that differ in case are different.
func (Dialect) CaseSensitive() bool { return true }

// MaxIdentifierLength returns 63, PostgreSQL's NAMEDATALEN-1; longer names
// would be truncated silently by the server.
func (Dialect) MaxIdentifierLength() int { return maxIdentifierLength }

// TypeSQL renders a portable type as a PostgreSQL column type.
func (d Dialect) TypeSQL(t warehouse.Type) (string, error) {
	switch t.Kind {
	case warehouse.KindString:
		switch {
		case t.Length < 0:
			return "", fmt.Errorf("postgres: string length %d is negative", t.Length)
		case t.Length > 10485760:
			return "", fmt.Errorf("postgres: string length %d exceeds varchar's limit of 10485760", t.Length)
		case t.Length > 0:
			return "varchar(" + strconv.Itoa(t.Length) + ")", nil
		}
		return "text", nil
	case warehouse.KindInteger:
		switch t.Bits {
		case 16:
			return "smallint", nil
		case 32:
			return "integer", nil
		case 0, 64:
			return "bigint", nil
		}
		return "", fmt.Errorf("postgres: no %d-bit integer type (16, 32 or 64)", t.Bits)
	case warehouse.KindDecimal:
		if t.Precision < 1 || t.Precision > maxPrecision {
			return "", fmt.Errorf("postgres: decimal precision %d is outside 1..%d", t.Precision, maxPrecision)
		}
		if t.Scale < 0 || t.Scale > t.Precision {
			return "", fmt.Errorf("postgres: decimal scale %d is outside 0..%d", t.Scale, t.Precision)
		}
		return "numeric(" + strconv.Itoa(t.Precision) + "," + strconv.Itoa(t.Scale) + ")", nil
	case warehouse.KindFloat:
		switch t.Bits {
		case 32:
			return "real", nil
		case 0, 64:
			return "double precision", nil
		}
		return "", fmt.Errorf("postgres: no %d-bit float type (32 or 64)", t.Bits)
	case warehouse.KindBoolean:
		return "boolean", nil
	case warehouse.KindDate:
		return "date", nil
	case warehouse.KindTime:
		return "time", nil
	case warehouse.KindTimestamp:
		return "timestamp", nil
	case warehouse.KindTimestampTZ:
		return "timestamptz", nil
	case warehouse.KindJSON:
		return "jsonb", nil
	case warehouse.KindBinary:
		return "bytea", nil
	case warehouse.KindArray:
		if t.Elem == nil {
			return "", fmt.Errorf("postgres: array type without an element type")
		}
		if t.Elem.Kind == warehouse.KindArray {
			return "", fmt.Errorf("postgres: %s: arrays of arrays are not a PostgreSQL column type", t)
		}
		e, err := d.TypeSQL(*t.Elem)
		if err != nil {
			return "", err
		}
		return e + "[]", nil
	case warehouse.KindUnknown:
		// An engine type that introspection reported: use its own spelling,
		// provided that it is a type name and not arbitrary SQL.
		if t.Native != "" && isTypeName(t.Native) {
			return t.Native, nil
		}
		return "", fmt.Errorf("postgres: type %s has no PostgreSQL spelling", t)
	}
	return "", fmt.Errorf("postgres: unsupported type %s", t)
}

// isTypeName reports whether s looks like a type name such as
// `character varying(20)[]`, `"MyEnum"` or `public.mood`, and holds nothing
// that could end a column definition.
func isTypeName(s string) bool {
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
			if c == 0 {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == ' ', c == '.', c == '[', c == ']', c == '(', c == ')', c == ',':
		default:
			return false
		}
	}
	return !inQuote
}

// ParseType maps a PostgreSQL type name to a portable type; Native is set to
// the name as given. Unknown names give KindUnknown.
func (Dialect) ParseType(native string) warehouse.Type {
	t := parseType(native)
	t.Native = native
	return t
}

func parseType(native string) warehouse.Type {
	s := strings.ToLower(strings.Join(strings.Fields(native), " "))
	// Arrays: "integer[]", "integer[3]", "int4[][]", "integer array", "_int4".
	if base, ok := cutArraySuffix(s); ok {
		e := parseType(base)
		if e.Kind == warehouse.KindUnknown {
			e.Native = base
		}
		return warehouse.ArrayOf(e)
	}
	if strings.HasPrefix(s, "_") && len(s) > 1 {
		e := parseType(s[1:])
		if e.Kind != warehouse.KindUnknown {
			return warehouse.ArrayOf(e)
		}
	}
	name, args, ok := splitArgs(s)
	if !ok {
		return warehouse.Type{Kind: warehouse.KindUnknown}
	}
	// "timestamp(3) with time zone": the modifier sits in the middle.
	switch {
	case strings.HasPrefix(name, "timestamp"), strings.HasPrefix(name, "time"):
		return parseDateTime(name)
	}
	switch name {
	case "text", "citext", "name", `"char"`, "uuid":
		if len(args) == 0 {
			return warehouse.String
		}
	case "character varying", "varchar", "character", "char", "bpchar", "nchar", "national character", "national character varying":
		switch len(args) {
		case 0:
			if name == "character" || name == "char" || name == "nchar" || name == "national character" {
				return warehouse.Type{Kind: warehouse.KindString, Length: 1}
			}
			return warehouse.String
		case 1:
			return warehouse.Type{Kind: warehouse.KindString, Length: args[0]}
		}
	case "smallint", "int2", "smallserial", "serial2":
		if len(args) == 0 {
			return warehouse.Type{Kind: warehouse.KindInteger, Bits: 16}
		}
	case "integer", "int", "int4", "serial", "serial4":
		if len(args) == 0 {
			return warehouse.Type{Kind: warehouse.KindInteger, Bits: 32}
		}
	case "bigint", "int8", "bigserial", "serial8", "oid":
		if len(args) == 0 {
			return warehouse.Type{Kind: warehouse.KindInteger, Bits: 64}
		}
	case "numeric", "decimal":
		switch len(args) {
		case 0:
			return warehouse.Type{Kind: warehouse.KindDecimal}
		case 1:
			return warehouse.DecimalType(args[0], 0)
		case 2:
			return warehouse.DecimalType(args[0], args[1])
		}
	case "real", "float4":
		if len(args) == 0 {
			return warehouse.Type{Kind: warehouse.KindFloat, Bits: 32}
		}
	case "double precision", "float8", "double":
		if len(args) == 0 {
			return warehouse.Type{Kind: warehouse.KindFloat, Bits: 64}
		}
	case "float":
		switch {
		case len(args) == 0:
			return warehouse.Type{Kind: warehouse.KindFloat, Bits: 64}
		case len(args) == 1 && args[0] <= 24:
			return warehouse.Type{Kind: warehouse.KindFloat, Bits: 32}
		case len(args) == 1:
			return warehouse.Type{Kind: warehouse.KindFloat, Bits: 64}
		}
	case "boolean", "bool":
		if len(args) == 0 {
			return warehouse.Boolean
		}
	case "date":
		if len(args) == 0 {
			return warehouse.Date
		}
	case "json", "jsonb":
		if len(args) == 0 {
			return warehouse.JSON
		}
	case "bytea":
		if len(args) == 0 {
			return warehouse.Binary
		}
	}
	return warehouse.Type{Kind: warehouse.KindUnknown}
}

// parseDateTime reads the spellings of time and timestamp, with an optional
// precision: "time", "time(3) without time zone", "timestamptz(6)",
// "timestamp with time zone", "timetz" (which has no portable kind).
func parseDateTime(s string) warehouse.Type {
	// Drop a precision modifier wherever it sits.
	if i := strings.IndexByte(s, '('); i >= 0 {
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return warehouse.Type{Kind: warehouse.KindUnknown}
		}
		if _, err := strconv.Atoi(strings.TrimSpace(s[i+1 : i+j])); err != nil {
			return warehouse.Type{Kind: warehouse.KindUnknown}
		}
		s = strings.Join(strings.Fields(s[:i]+" "+s[i+j+1:]), " ")
	}
	switch s {
	case "time", "time without time zone":
		return warehouse.Time
	case "timestamp", "timestamp without time zone":
		return warehouse.Timestamp
	case "timestamptz", "timestamp with time zone":
		return warehouse.TimestampTZ
	}
	return warehouse.Type{Kind: warehouse.KindUnknown}
}

// cutArraySuffix strips "[]", "[n]" (any number of them) or " array" from s.
func cutArraySuffix(s string) (string, bool) {
	if base, ok := strings.CutSuffix(s, " array"); ok && base != "" {
		return base, true
	}
	cut := false
	for strings.HasSuffix(s, "]") {
		i := strings.LastIndexByte(s, '[')
		if i <= 0 {
			return s, false
		}
		if inner := s[i+1 : len(s)-1]; inner != "" {
			if _, err := strconv.Atoi(inner); err != nil {
				return s, false
			}
		}
		s = strings.TrimSpace(s[:i])
		cut = true
	}
	return s, cut
}

// splitArgs splits "numeric(38, 10)" into "numeric" and [38 10]. ok is false
// when the modifiers are not non-negative integers.
func splitArgs(s string) (name string, args []int, ok bool) {
	i := strings.IndexByte(s, '(')
	if i < 0 {
		return s, nil, true
	}
	name = strings.TrimSpace(s[:i])
	if strings.HasPrefix(name, "time") {
		return s, nil, true // parseDateTime reads the modifier itself
	}
	if !strings.HasSuffix(s, ")") {
		return "", nil, false
	}
	for _, a := range strings.Split(s[i+1:len(s)-1], ",") {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil || n < 0 {
			return "", nil, false
		}
		args = append(args, n)
	}
	return name, args, true
}
