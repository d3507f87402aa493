package backup

import (
	"context"
	"fmt"
	"iter"
	"math/big"
	"strings"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// rowSource is what tables are read through: a *warehouse.Warehouse or a
// *warehouse.Tx.
type rowSource interface {
	Columns(ctx context.Context, rel warehouse.Relation) ([]warehouse.Column, error)
	Rows(ctx context.Context, query string, args ...any) iter.Seq2[*warehouse.Record, error]
	Get(ctx context.Context, dest any, query string, args ...any) error
	Dialect() warehouse.Dialect
}

// chunkRows is how many rows one DuckDB query of scanTable reads (a
// variable for tests).
var chunkRows int64 = 262_144

// scanTable streams the cols of every row of from (a quoted relation). On
// DuckDB, whose driver materialises a query's whole result before the
// first row, it reads rowid ranges of chunkRows rows, one query each (in
// the caller's transaction, so they see one state): memory stays bounded
// by a chunk instead of growing with the table.
func scanTable(ctx context.Context, src rowSource, from string, cols []warehouse.Column) iter.Seq2[*warehouse.Record, error] {
	d := src.Dialect()
	if d.Name() != "duckdb" {
		return src.Rows(ctx, selectFrom(d, from, cols))
	}
	q, conv := duckRawSelect(d, from, cols)
	return func(yield func(*warehouse.Record, error) bool) {
		for rec, err := range scanChunks(ctx, src, from, q) {
			if err == nil {
				err = conv(rec.Values)
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// duckRawSelect renders the SELECT of scanTable on DuckDB: dates,
// timestamps and decimals of up to 18 digits are read as integers (days,
// microseconds, unscaled values), which the driver hands over without a
// call into DuckDB per value, and conv turns them back into the portable
// values the driver would have returned (time.Time in UTC, Decimal).
func duckRawSelect(d warehouse.Dialect, from string, cols []warehouse.Column) (string, func([]any) error) {
	exprs, conv := duckRawExprs(d, cols)
	return "SELECT " + strings.Join(exprs, ", ") + " FROM " + from, conv
}

// duckRawExprs are the expressions of duckRawSelect, one per column, and
// the function that turns their values back into portable values.
func duckRawExprs(d warehouse.Dialect, cols []warehouse.Column) ([]string, func([]any) error) {
	type fix struct {
		i    int
		kind warehouse.Kind
		sc   int
	}
	var fixes []fix
	exprs := make([]string, len(cols))
	for i, c := range cols {
		x := d.QuoteIdentifier(c.Name)
		switch k := c.Type.Kind; {
		case k == warehouse.KindDate:
			exprs[i] = "CAST(" + x + " - DATE '1970-01-01' AS BIGINT)"
			fixes = append(fixes, fix{i, k, 0})
		case k == warehouse.KindTimestamp || k == warehouse.KindTimestampTZ:
			exprs[i] = "epoch_us(" + x + ")"
			fixes = append(fixes, fix{i, k, 0})
		case k == warehouse.KindDecimal && c.Type.Precision > 0 && c.Type.Precision <= 18:
			// widened first: DuckDB checks the product against the
			// column's own precision
			exprs[i] = fmt.Sprintf("CAST(CAST(%s AS DECIMAL(38, %d)) * %s AS BIGINT)", x, c.Type.Scale, pow10(c.Type.Scale))
			fixes = append(fixes, fix{i, k, c.Type.Scale})
		default:
			exprs[i] = x
		}
	}
	conv := func(vals []any) error {
		for _, f := range fixes {
			v := vals[f.i]
			if v == nil {
				continue
			}
			n, ok := warehouse.ToInt64(v)
			if !ok {
				return fmt.Errorf("column %s: %T from an integer expression", cols[f.i].Name, v)
			}
			switch f.kind {
			case warehouse.KindDate:
				vals[f.i] = time.Unix(n*86400, 0).UTC()
			case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
				vals[f.i] = time.UnixMicro(n).UTC()
			case warehouse.KindDecimal:
				vals[f.i] = warehouse.Decimal{Unscaled: big.NewInt(n), Scale: f.sc}
			}
		}
		return nil
	}
	return exprs, conv
}

// scanChunks runs q (a SELECT … FROM from) over rowid ranges of chunkRows.
func scanChunks(ctx context.Context, src rowSource, from, q string) iter.Seq2[*warehouse.Record, error] {
	return func(yield func(*warehouse.Record, error) bool) {
		var r struct {
			Lo int64 `db:"lo"`
			Hi int64 `db:"hi"`
			N  int64 `db:"n"`
		}
		if err := src.Get(ctx, &r, "SELECT coalesce(min(rowid), 0) AS lo, coalesce(max(rowid), -1) AS hi, count(*) AS n FROM "+from); err != nil {
			yield(nil, err)
			return
		}
		if r.Hi-r.Lo+1 > 4*r.N+chunkRows { // sparse row ids (rows new in this transaction live far above the others): one query
			for rec, err := range src.Rows(ctx, q) {
				if !yield(rec, err) || err != nil {
					return
				}
			}
			return
		}
		for lo := r.Lo; lo <= r.Hi; lo += chunkRows {
			for rec, err := range src.Rows(ctx, q+" WHERE rowid >= ? AND rowid < ?", lo, lo+chunkRows) {
				if !yield(rec, err) || err != nil {
					return
				}
			}
		}
	}
}

// selectSQL renders SELECT of cols FROM rel, quoted by d.
func selectSQL(d warehouse.Dialect, rel warehouse.Relation, cols []warehouse.Column) string {
	return selectFrom(d, d.QuoteRelation(rel), cols)
}

// selectFrom renders SELECT of cols FROM from (already quoted).
func selectFrom(d warehouse.Dialect, from string, cols []warehouse.Column) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.QuoteIdentifier(c.Name))
	}
	b.WriteString(" FROM ")
	b.WriteString(from)
	return b.String()
}

// FingerprintTable reads every row of rel and returns its fingerprint
// (FORMAT.md §7), streaming: memory stays flat whatever the table's size.
func FingerprintTable(ctx context.Context, w *warehouse.Warehouse, rel warehouse.Relation) (Fingerprint, error) {
	cols, err := w.Columns(ctx, rel)
	if err != nil {
		return Fingerprint{}, err
	}
	return fingerprintQuery(ctx, w, rel, cols)
}

func fingerprintQuery(ctx context.Context, w rowSource, rel warehouse.Relation, cols []warehouse.Column) (Fingerprint, error) {
	return fingerprintFrom(ctx, w, rel.String(), w.Dialect().QuoteRelation(rel), cols)
}

// fingerprintFrom fingerprints the rows of a FROM clause (a quoted relation).
func fingerprintFrom(ctx context.Context, w rowSource, rel, from string, cols []warehouse.Column) (Fingerprint, error) {
	var fp Fingerprint
	h := NewRowHasher(cols)
	for rec, err := range scanTable(ctx, w, from, cols) {
		if err != nil {
			return fp, fmt.Errorf("backup: fingerprint %s: %w", rel, err)
		}
		x, err := h.Hash(rec.Values)
		if err != nil {
			return fp, fmt.Errorf("backup: fingerprint %s row %d: %w", rel, fp.Count+1, err)
		}
		fp.Add(x)
	}
	return fp, nil
}
