package backup

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// On DuckDB the row hash of FORMAT.md §7 is also computed in SQL, so that
// full and incremental backups run inside the engine (vectorised, in
// parallel, written by its own Parquet writer) instead of streaming every
// row through Go. duckHashSQL builds that expression; a test holds it equal
// to RowHasher for every kind it supports. JSON (canonicalised in Go) and
// arrays are not supported: tables with them take the Go path.

// duckHashable reports whether every column's kind has a SQL encoding.
func duckHashable(cols []warehouse.Column) bool {
	for _, c := range cols {
		switch c.Type.Kind {
		case warehouse.KindInteger, warehouse.KindDecimal, warehouse.KindFloat, warehouse.KindBoolean,
			warehouse.KindDate, warehouse.KindTime, warehouse.KindTimestamp, warehouse.KindTimestampTZ,
			warehouse.KindString, warehouse.KindBinary:
		default:
			return false
		}
		if c.Type.Kind == warehouse.KindString && c.Type.Native != "" && !strings.HasPrefix(strings.ToUpper(c.Type.Native), "VARCHAR") {
			return false
		}
	}
	return true
}

// be8 renders an integer expression as 8 big-endian bytes (two's complement).
func be8(x string) string { return "unhex(lpad(to_hex(CAST(" + x + " AS BIGINT)), 16, '0'))" }

// be4 renders an integer expression as its low 4 bytes, big-endian.
func be4(x string) string {
	return "unhex(right(lpad(to_hex(CAST(" + x + " AS BIGINT)), 16, '0'), 8))"
}

// duckEncodeSQL is the encoding of one non-NULL value (without its tag).
func duckEncodeSQL(c warehouse.Column, x string) string {
	switch c.Type.Kind {
	case warehouse.KindInteger:
		return be8(x)
	case warehouse.KindBoolean:
		return "CASE WHEN " + x + " THEN '\\x01'::BLOB ELSE '\\x00'::BLOB END"
	case warehouse.KindDate:
		return be4("(" + x + " - DATE '1970-01-01')")
	case warehouse.KindTime:
		return be8("epoch_us(DATE '1970-01-01' + " + x + ")")
	case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		return be8("epoch_us(" + x + ")")
	case warehouse.KindString:
		return be4("octet_length(encode("+x+"))") + " || encode(" + x + ")"
	case warehouse.KindBinary:
		return be4("octet_length("+x+")") + " || " + x
	case warehouse.KindDecimal:
		// the unscaled value, its shortest two's complement length n, then
		// scale byte, n, and the last n bytes of the 16-byte two's complement
		u := "CAST(replace(CAST(" + x + " AS VARCHAR), '.', '') AS HUGEINT)"
		var n strings.Builder
		n.WriteString("CASE")
		for k := 1; k < 16; k++ {
			fmt.Fprintf(&n, " WHEN %s BETWEEN CAST('-%s' AS HUGEINT) AND CAST('%s' AS HUGEINT) THEN %d", u, pow2(8*k-1), pow2minus1(8*k-1), k)
		}
		n.WriteString(" ELSE 16 END")
		return fmt.Sprintf("unhex(printf('%%02x', %d) || printf('%%02x', %s) || right(lpad(to_hex(%s), 32, '0'), 2 * (%s)))",
			c.Type.Scale, n.String(), u, n.String())
	case warehouse.KindFloat:
		f := "CAST(" + x + " AS DOUBLE)"
		a := "abs(" + f + ")"
		e0 := "CAST(floor(log2(" + a + ")) AS INTEGER)"
		e := "(" + e0 + " + CASE WHEN " + a + " / pow(2.0, " + e0 + ") >= 2 THEN 1 WHEN " + a + " / pow(2.0, " + e0 + ") < 1 THEN -1 ELSE 0 END)"
		sign := "CASE WHEN " + f + " < 0 THEN CAST('9223372036854775808' AS HUGEINT) ELSE CAST(0 AS HUGEINT) END"
		normal := "CAST(" + e + " + 1023 AS HUGEINT) * CAST('4503599627370496' AS HUGEINT) + CAST((" + a + " / pow(2.0, " + e + ") - 1) * 4503599627370496.0 AS HUGEINT)"
		sub := "CAST(" + a + " / pow(2.0, -1074) AS HUGEINT)"
		bits := "(" + sign + " + CASE WHEN " + e + " >= -1022 THEN " + normal + " ELSE " + sub + " END)"
		return "unhex(CASE WHEN isnan(" + f + ") THEN '7ff8000000000000'" +
			" WHEN isinf(" + f + ") AND " + f + " > 0 THEN '7ff0000000000000'" +
			" WHEN isinf(" + f + ") THEN 'fff0000000000000'" +
			" WHEN " + f + " = 0 THEN CASE WHEN signbit(" + f + ") THEN '8000000000000000' ELSE '0000000000000000' END" +
			" ELSE lpad(to_hex(" + bits + "), 16, '0') END)"
	}
	return "NULL"
}

func pow2(n int) string {
	v := new(big.Int).Lsh(big.NewInt(1), uint(n))
	return v.String()
}

func pow2minus1(n int) string {
	v := new(big.Int).Lsh(big.NewInt(1), uint(n))
	return v.Sub(v, big.NewInt(1)).String()
}

// duckRowHashSQL is a BIGINT expression: the row hash (its bits) of the
// columns, referenced through q (a quoting function, e.g. with a table alias).
func duckRowHashSQL(cols []warehouse.Column, ref func(name string) string) string {
	var parts []string
	for _, c := range cols {
		x := ref(c.Name)
		parts = append(parts, "CASE WHEN "+x+" IS NULL THEN '\\x00'::BLOB ELSE '\\x01'::BLOB || "+duckEncodeSQL(c, x)+" END")
	}
	if len(parts) == 0 {
		parts = append(parts, "''::BLOB")
	}
	u := "CAST('0x' || left(sha256(" + strings.Join(parts, " || ") + "), 16) AS UBIGINT)"
	return "CAST(CAST(" + u + " AS HUGEINT) - CASE WHEN " + u + " >= CAST('9223372036854775808' AS UBIGINT) THEN CAST('18446744073709551616' AS HUGEINT) ELSE CAST(0 AS HUGEINT) END AS BIGINT)"
}

// duckHashedSelect renders SELECT <proj>, <row hash> AS _dataops_row_hash
// FROM rel, where the hash covers all cols and proj lists the columns to
// keep (all when nil).
func duckHashedSelect(d warehouse.Dialect, rel warehouse.Relation, cols []warehouse.Column, proj []warehouse.Column) string {
	if proj == nil {
		proj = cols
	}
	var names []string
	for _, c := range proj {
		names = append(names, d.QuoteIdentifier(c.Name))
	}
	names = append(names, duckRowHashSQL(cols, d.QuoteIdentifier)+" AS "+d.QuoteIdentifier(RowHashColumn))
	return "SELECT " + strings.Join(names, ", ") + " FROM " + d.QuoteRelation(rel)
}
