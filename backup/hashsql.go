package backup

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// On DuckDB the row hash of FORMAT.md §7 can also be computed in SQL, so
// that rows an incremental backup selects are hashed and written by DuckDB
// itself (its own Parquet writer) instead of a second pass of every row
// through Go. duckRowHashSQL builds that expression; a test holds it equal to
// RowHasher for every kind it supports. JSON (canonicalised in Go) and
// arrays are not supported: tables with them take the Go path. Measured on
// whole tables the SQL expression is slower than hashing in Go (its byte
// handling goes through hex strings), so full backups hash in Go.

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
func duckEncodeSQL(c warehouse.Column, x string, helper func(kind, x string) string) string {
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
		// scale byte, the length n of the shortest two's complement of the
		// unscaled value u, then the last n bytes of its 16-byte form
		u := helper("u", x)
		var n strings.Builder
		n.WriteString("CASE")
		for k := 1; k < 16; k++ {
			fmt.Fprintf(&n, " WHEN %s BETWEEN CAST('-%s' AS HUGEINT) AND CAST('%s' AS HUGEINT) THEN %d", u, pow2(8*k-1), pow2minus1(8*k-1), k)
		}
		n.WriteString(" ELSE 16 END")
		return fmt.Sprintf("unhex(printf('%%02x%%02x', %d, %s) || right(lpad(to_hex(%s), 32, '0'), 2 * (%s)))",
			c.Type.Scale, n.String(), u, n.String())
	case warehouse.KindFloat:
		f := helper("f", x)
		a := "abs(" + f + ")"
		e := helper("e", x)
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
func duckRowHashSQL(cols []warehouse.Column, ref func(name string) string, helper func(kind, x string) string) string {
	var parts []string
	for _, c := range cols {
		x := ref(c.Name)
		parts = append(parts, "CASE WHEN "+x+" IS NULL THEN '\\x00'::BLOB ELSE '\\x01'::BLOB || "+duckEncodeSQL(c, x, helper)+" END")
	}
	if len(parts) == 0 {
		parts = append(parts, "''::BLOB")
	}
	u := "CAST('0x' || left(sha256(" + strings.Join(parts, " || ") + "), 16) AS UBIGINT)"
	return "CAST(CAST(" + u + " AS HUGEINT) - CASE WHEN " + u + " >= CAST('9223372036854775808' AS UBIGINT) THEN CAST('18446744073709551616' AS HUGEINT) ELSE CAST(0 AS HUGEINT) END AS BIGINT)"
}

// duckHashedSelect renders SELECT <proj>, <row hash> AS _dataops_row_hash
// FROM rel, where the hash covers all cols and proj lists the columns to
// keep (all when nil); from is a quoted relation or a parenthesised query
// with an alias. Values the encoding uses more than once (a decimal's
// unscaled value, a float's exponent) are computed once in inner queries.
func duckHashedSelect(d warehouse.Dialect, from string, cols []warehouse.Column, proj []warehouse.Column) string {
	if proj == nil {
		proj = cols
	}
	var l1, l2 []string
	helpers := map[string]string{}
	for i, c := range cols {
		x := d.QuoteIdentifier(c.Name)
		switch c.Type.Kind {
		case warehouse.KindDecimal:
			u := fmt.Sprintf("dataops_u%d", i)
			unscaled := "CAST(replace(CAST(" + x + " AS VARCHAR), '.', '') AS HUGEINT)"
			if c.Type.Precision > 0 && c.Type.Precision <= 18 {
				// widened first: DuckDB checks the product against the column's precision
				unscaled = fmt.Sprintf("CAST(CAST(%s AS DECIMAL(38, %d)) * %s AS HUGEINT)", x, c.Type.Scale, pow10(c.Type.Scale))
			}
			l1 = append(l1, unscaled+" AS "+u)
			helpers["u"+x] = u
		case warehouse.KindFloat:
			f, e := fmt.Sprintf("dataops_f%d", i), fmt.Sprintf("dataops_e%d", i)
			l1 = append(l1, "CAST("+x+" AS DOUBLE) AS "+f)
			e0 := "CAST(floor(log2(abs(" + f + "))) AS INTEGER)"
			l2 = append(l2, "CASE WHEN NOT isfinite("+f+") OR "+f+" = 0 THEN 0 ELSE "+e0+" + CASE WHEN abs("+f+") / pow(2.0, "+e0+") >= 2 THEN 1 WHEN abs("+f+") / pow(2.0, "+e0+") < 1 THEN -1 ELSE 0 END END AS "+e)
			helpers["f"+x], helpers["e"+x] = f, e
		}
	}
	helper := func(kind, x string) string { return helpers[kind+x] }
	var names []string
	for _, c := range proj {
		names = append(names, d.QuoteIdentifier(c.Name))
	}
	names = append(names, duckRowHashSQL(cols, d.QuoteIdentifier, helper)+" AS "+d.QuoteIdentifier(RowHashColumn))
	if len(l1) > 0 {
		from = "(SELECT *, " + strings.Join(l1, ", ") + " FROM " + from + ") AS dataops_l1"
	}
	if len(l2) > 0 {
		from = "(SELECT *, " + strings.Join(l2, ", ") + " FROM " + from + ") AS dataops_l2"
	}
	return "SELECT " + strings.Join(names, ", ") + " FROM " + from
}

func pow10(n int) string { return "1" + strings.Repeat("0", n) }
