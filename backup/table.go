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
	Dialect() warehouse.Dialect
}

// selectSQL renders SELECT of cols FROM rel, quoted by d, optionally ordered
// by the key columns (bytewise for strings on PostgreSQL).
func selectSQL(d warehouse.Dialect, rel warehouse.Relation, cols []warehouse.Column) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.QuoteIdentifier(c.Name))
	}
	b.WriteString(" FROM ")
	b.WriteString(d.QuoteRelation(rel))
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
	var q strings.Builder
	q.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(w.Dialect().QuoteIdentifier(c.Name))
	}
	q.WriteString(" FROM " + from)
	for rec, err := range w.Rows(ctx, q.String()) {
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
