package duckdb

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// Dialect is DuckDB's SQL dialect. Its zero value is ready to use.
type Dialect struct{}

var _ warehouse.Dialect = Dialect{}

// Name returns "duckdb".
func (Dialect) Name() string { return "duckdb" }

// QuoteIdentifier quotes name in double quotes, doubling any inside it.
func (Dialect) QuoteIdentifier(name string) string { return warehouse.QuoteWith('"', name) }

// QuoteRelation renders r as "database"."schema"."name", leaving out empty parts.
func (d Dialect) QuoteRelation(r warehouse.Relation) string { return warehouse.JoinRelation(d, r) }

// NormalizeIdentifier returns name unchanged: DuckDB keeps the case of
// identifiers as written and matches them case-insensitively.
func (Dialect) NormalizeIdentifier(name string) string { return name }

// CaseSensitive reports false: in DuckDB "Abc" and "abc" name the same object.
func (Dialect) CaseSensitive() bool { return false }

// MaxIdentifierLength returns 0: DuckDB does not truncate identifiers.
func (Dialect) MaxIdentifierLength() int { return 0 }

// TypeSQL renders a portable type as a DuckDB column type.
func (d Dialect) TypeSQL(t warehouse.Type) (string, error) {
	switch t.Kind {
	case warehouse.KindString:
		// A string whose native type is UUID (as introspection reports
		// a UUID column) is created as UUID: 16 bytes a value.
		if strings.EqualFold(strings.TrimSpace(t.Native), "UUID") {
			return "UUID", nil
		}
		// DuckDB accepts VARCHAR(n) but neither enforces nor keeps n.
		return "VARCHAR", nil
	case warehouse.KindInteger:
		switch t.Bits {
		case 16:
			return "SMALLINT", nil
		case 32:
			return "INTEGER", nil
		case 0, 64:
			return "BIGINT", nil
		}
		return "", fmt.Errorf("duckdb: integer of %d bits is not a portable type (16, 32 or 64)", t.Bits)
	case warehouse.KindDecimal:
		if t.Precision < 1 || t.Precision > 38 {
			return "", fmt.Errorf("duckdb: decimal precision %d is outside 1..38", t.Precision)
		}
		if t.Scale < 0 || t.Scale > t.Precision {
			return "", fmt.Errorf("duckdb: decimal scale %d is outside 0..%d", t.Scale, t.Precision)
		}
		return "DECIMAL(" + strconv.Itoa(t.Precision) + "," + strconv.Itoa(t.Scale) + ")", nil
	case warehouse.KindFloat:
		switch t.Bits {
		case 32:
			return "FLOAT", nil
		case 0, 64:
			return "DOUBLE", nil
		}
		return "", fmt.Errorf("duckdb: float of %d bits is not a portable type (32 or 64)", t.Bits)
	case warehouse.KindBoolean:
		return "BOOLEAN", nil
	case warehouse.KindDate:
		return "DATE", nil
	case warehouse.KindTime:
		return "TIME", nil
	case warehouse.KindTimestamp:
		return "TIMESTAMP", nil
	case warehouse.KindTimestampTZ:
		return "TIMESTAMPTZ", nil
	case warehouse.KindJSON:
		return "JSON", nil
	case warehouse.KindBinary:
		return "BLOB", nil
	case warehouse.KindArray:
		if t.Elem == nil {
			return "", errors.New("duckdb: array type without an element type")
		}
		e, err := d.TypeSQL(*t.Elem)
		if err != nil {
			return "", err
		}
		return e + "[]", nil
	case warehouse.KindUnknown:
		if t.Native == "" {
			return "", errors.New("duckdb: unknown type without a native name")
		}
		if !safeNative(t.Native) {
			return "", fmt.Errorf("duckdb: native type %q holds characters not allowed in a type name", t.Native)
		}
		return t.Native, nil
	}
	return "", fmt.Errorf("duckdb: no DuckDB type for %s", t)
}

// safeNative reports whether a native type name can go into SQL text as is:
// letters, digits, spaces, underscores, parentheses, brackets, commas, dots
// and double-quoted names, with balanced quotes. It keeps SQL text out.
func safeNative(s string) bool {
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inQuote {
			if c == '"' {
				inQuote = false
			} else if c < ' ' {
				return false
			}
			continue
		}
		switch {
		case c == '"':
			inQuote = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(" _(),[].", c) >= 0:
		default:
			return false
		}
	}
	return !inQuote
}

// ParseType maps a DuckDB type name, as duckdb_columns() or a result's
// column type reports it ("DECIMAL(38,10)", "INTEGER[]", "TIMESTAMP WITH
// TIME ZONE", …), to a portable type with Native set to the name given. See
// the package documentation for the types that widen or have no portable kind.
func (Dialect) ParseType(native string) warehouse.Type {
	t := parseType(strings.TrimSpace(native))
	return t
}

func parseType(native string) warehouse.Type {
	up := strings.ToUpper(native)
	// Lists (INTEGER[]) and fixed-size arrays (INTEGER[3]).
	if strings.HasSuffix(up, "]") {
		if i := strings.LastIndexByte(up, '['); i > 0 && allDigits(up[i+1:len(up)-1]) {
			elem := parseType(strings.TrimSpace(native[:i]))
			return warehouse.Type{Kind: warehouse.KindArray, Elem: &elem, Native: native}
		}
	}
	base, args := up, ""
	if i := strings.IndexByte(up, '('); i >= 0 && strings.HasSuffix(up, ")") {
		base, args = strings.TrimSpace(up[:i]), up[i+1:len(up)-1]
	}
	base = strings.Join(strings.Fields(base), " ")
	t := warehouse.Type{Native: native}
	switch base {
	case "VARCHAR", "CHAR", "BPCHAR", "TEXT", "STRING", "NVARCHAR", "CHARACTER", "CHARACTER VARYING":
		t.Kind = warehouse.KindString
		if n, err := strconv.Atoi(strings.TrimSpace(args)); err == nil && n > 0 {
			t.Length = n
		}
	case "UUID", "ENUM":
		t.Kind = warehouse.KindString
	case "TINYINT", "INT1", "UTINYINT", "UINT8", "SMALLINT", "INT2", "INT16", "SHORT":
		t.Kind, t.Bits = warehouse.KindInteger, 16
	case "USMALLINT", "UINT16", "INTEGER", "INT", "INT4", "INT32", "SIGNED":
		t.Kind, t.Bits = warehouse.KindInteger, 32
	case "UINTEGER", "UINT32", "BIGINT", "INT8", "INT64", "LONG":
		t.Kind, t.Bits = warehouse.KindInteger, 64
	case "UBIGINT", "UINT64":
		t.Kind, t.Precision = warehouse.KindDecimal, 20
	case "HUGEINT", "INT128", "UHUGEINT", "UINT128":
		t.Kind, t.Precision = warehouse.KindDecimal, 38
	case "DECIMAL", "NUMERIC":
		t.Kind, t.Precision, t.Scale = warehouse.KindDecimal, 18, 3
		if args != "" {
			p, s, ok := parsePrecision(args)
			if !ok {
				return warehouse.Type{Native: native}
			}
			t.Precision, t.Scale = p, s
		}
	case "FLOAT", "FLOAT4", "REAL":
		t.Kind, t.Bits = warehouse.KindFloat, 32
	case "DOUBLE", "FLOAT8", "DOUBLE PRECISION":
		t.Kind, t.Bits = warehouse.KindFloat, 64
	case "BOOLEAN", "BOOL", "LOGICAL":
		t.Kind = warehouse.KindBoolean
	case "DATE":
		t.Kind = warehouse.KindDate
	case "TIME", "TIME WITHOUT TIME ZONE":
		t.Kind = warehouse.KindTime
	case "TIMESTAMP", "DATETIME", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP_US",
		"TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		t.Kind = warehouse.KindTimestamp
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		t.Kind = warehouse.KindTimestampTZ
	case "JSON":
		t.Kind = warehouse.KindJSON
	case "BLOB", "BYTEA", "BINARY", "VARBINARY":
		t.Kind = warehouse.KindBinary
	}
	return t
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parsePrecision parses "p" or "p,s".
func parsePrecision(args string) (p, s int, ok bool) {
	ps, ss, two := strings.Cut(args, ",")
	p, err := strconv.Atoi(strings.TrimSpace(ps))
	if err != nil || p < 1 || p > 38 {
		return 0, 0, false
	}
	if two {
		s, err = strconv.Atoi(strings.TrimSpace(ss))
		if err != nil || s < 0 || s > p {
			return 0, 0, false
		}
	}
	return p, s, true
}
