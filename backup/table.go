package backup

import (
	"context"
	"fmt"
	"iter"
	"strings"

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
	q := selectFrom(d, from, cols)
	if d.Name() != "duckdb" {
		return src.Rows(ctx, q)
	}
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
