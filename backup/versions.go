package backup

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// Version is one snapshot's record of a table.
type Version struct {
	Snapshot    string
	Time        time.Time
	Kind        string // the snapshot's kind: full, incremental, synthetic
	Mode        string // the table's data mode: full, delta, same
	Rows        int64
	Fingerprint Fingerprint
	RowHash     string // the fingerprint's row hash kind (Table.RowHashKind)
	// Changed: the rows differ from the previous version (always true for
	// the first, and when the two fingerprints are of different row hash
	// kinds, which cannot tell)
	Changed bool
}

// splitTable splits "schema.name".
func splitTable(table string) (string, string, error) {
	schema, name, ok := strings.Cut(table, ".")
	if !ok || schema == "" || name == "" {
		return "", "", fmt.Errorf("backup: table %q: want schema.name", table)
	}
	return schema, name, nil
}

// Versions lists the versions of a table ("schema.name") across the
// repository's snapshots, oldest first. Only manifests are read.
func Versions(ctx context.Context, repo *repository.Repository, table string) ([]Version, error) {
	schema, name, err := splitTable(table)
	if err != nil {
		return nil, err
	}
	list, err := repo.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: list snapshots: %w", err)
	}
	var out []Version
	var last *Fingerprint
	lastKind := ""
	for _, si := range list {
		s, err := LoadSnapshot(ctx, repo, si.ID)
		if err != nil {
			return nil, err
		}
		t := s.Table(schema, name)
		if t == nil {
			continue
		}
		v := Version{Snapshot: s.ID, Time: s.Manifest.Time, Kind: s.Manifest.Kind, Mode: t.Data.Mode, Rows: t.Rows, Fingerprint: t.Fingerprint, RowHash: t.RowHashKind()}
		v.Changed = last == nil || lastKind != v.RowHash || *last != t.Fingerprint
		fp := t.Fingerprint
		last, lastKind = &fp, v.RowHash
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("backup: no snapshot holds table %s: %w", table, repository.ErrNotFound)
	}
	return out, nil
}

// ReadOptions adjust ReadTable and Diff.
type ReadOptions struct {
	// TempDir holds fetched parts and the scratch database; "" means os.TempDir().
	TempDir string
}

func (o ReadOptions) tempDir() string { return tempDirOr(o.TempDir) }

// findTable returns the snapshot and entry of table at snapshot id (or the
// latest at or before asOf).
func findTable(ctx context.Context, repo *repository.Repository, cache *snapshotCache, table, id string, asOf time.Time) (*Snapshot, *Table, error) {
	schema, name, err := splitTable(table)
	if err != nil {
		return nil, nil, err
	}
	if id == "" {
		if id, err = FindSnapshot(ctx, repo, "", asOf); err != nil {
			return nil, nil, err
		}
	}
	s, err := cache.get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	t := s.Table(schema, name)
	if t == nil {
		return nil, nil, fmt.Errorf("backup: snapshot %s has no table %s: %w", short(s.ID), table, repository.ErrNotFound)
	}
	return s, t, nil
}

// ReadTable streams the rows of a table ("schema.name") as it was in a
// snapshot (id or prefix), or as of a time when snapshot is empty (the
// latest snapshot at or before asOf; zero asOf means the latest). The table
// is composed from its parts in a scratch database on local disk, so memory
// stays flat; breaking out of the loop stops and cleans up.
func ReadTable(ctx context.Context, repo *repository.Repository, table, snapshot string, asOf time.Time, opts ReadOptions) iter.Seq2[*warehouse.Record, error] {
	return func(yield func(*warehouse.Record, error) bool) {
		cache := newSnapshotCache(repo)
		s, t, err := findTable(ctx, repo, cache, table, snapshot, asOf)
		if err != nil {
			yield(nil, err)
			return
		}
		sc, err := newScratch(ctx, repo, opts.tempDir())
		if err != nil {
			yield(nil, err)
			return
		}
		defer sc.Close()
		name, cols, err := composeEntry(ctx, sc, cache, s.ID, t)
		if err != nil {
			yield(nil, err)
			return
		}
		for rec, err := range scanTable(ctx, sc.w, sc.w.Dialect().QuoteRelation(warehouse.Rel("main", name)), cols) {
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// composeEntry composes a table entry in the scratch database and returns
// the scratch table's name and the entry's columns.
func composeEntry(ctx context.Context, sc *scratch, cache *snapshotCache, snapID string, t *Table) (string, []warehouse.Column, error) {
	cols, err := t.WarehouseColumns()
	if err != nil {
		return "", nil, err
	}
	chain, err := cache.chain(ctx, snapID, t)
	if err != nil {
		return "", nil, err
	}
	name := sc.name("read")
	if err := sc.compose(ctx, chain, cols, t.PrimaryKey, name); err != nil {
		return "", nil, err
	}
	return name, cols, nil
}

// Change kinds of a DiffRow.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// DiffRow is one difference between two versions of a table: a row added,
// removed, or (for a table with a primary key) changed, with its values
// before (Old) and after (New).
type DiffRow struct {
	Change string
	Key    []any // the primary key values; nil for a table without a key
	Old    []any
	New    []any
}

// DiffResult summarises a Diff.
type DiffResult struct {
	Columns               []warehouse.Column
	Added, Removed, Count int64
	Changed               int64
}

// ErrIncompatible: two versions of a table differ in columns or key, so
// they cannot be compared row by row.
var ErrIncompatible = errors.New("table versions are not comparable")

// Diff compares a table ("schema.name") between two snapshots and calls fn
// for each difference (fn may be nil to only count): by primary key when the
// table has one (added, removed, changed), else as multisets of rows (added,
// removed). It streams; memory stays flat.
func Diff(ctx context.Context, repo *repository.Repository, table, from, to string, opts ReadOptions, fn func(DiffRow) error) (*DiffResult, error) {
	cache := newSnapshotCache(repo)
	sa, ta, err := findTable(ctx, repo, cache, table, from, time.Time{})
	if err != nil {
		return nil, err
	}
	sb, tb, err := findTable(ctx, repo, cache, table, to, time.Time{})
	if err != nil {
		return nil, err
	}
	if !sameColumns(ta.Columns, tb.Columns) || strings.Join(ta.PrimaryKey, ",") != strings.Join(tb.PrimaryKey, ",") {
		return nil, fmt.Errorf("backup: diff %s between %s and %s: %w (columns or key changed)", table, short(sa.ID), short(sb.ID), ErrIncompatible)
	}
	sc, err := newScratch(ctx, repo, opts.tempDir())
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	na, cols, err := composeEntry(ctx, sc, cache, sa.ID, ta)
	if err != nil {
		return nil, err
	}
	nb, _, err := composeEntry(ctx, sc, cache, sb.ID, tb)
	if err != nil {
		return nil, err
	}
	d := sc.w.Dialect()
	qa, qb := d.QuoteRelation(warehouse.Rel("main", na)), d.QuoteRelation(warehouse.Rel("main", nb))
	h := d.QuoteIdentifier(RowHashColumn)
	if ta.RowHashKind() != tb.RowHashKind() {
		// hashes of two kinds do not compare: both sides get this
		// engine's row hash
		eh, ok := duckEngineHash(d, cols, d.QuoteIdentifier)
		if !ok {
			return nil, fmt.Errorf("backup: diff %s: %w (a column type has no DuckDB spelling)", table, ErrIncompatible)
		}
		for _, q := range []string{qa, qb} {
			if _, err := sc.w.Exec(ctx, "UPDATE "+q+" SET "+h+" = "+asSigned(eh)); err != nil {
				return nil, fmt.Errorf("backup: diff %s: %w", table, err)
			}
		}
	}
	var aSel, bSel []string
	for _, c := range cols {
		q := d.QuoteIdentifier(c.Name)
		aSel = append(aSel, "a."+q)
		bSel = append(bSel, "b."+q)
	}
	res := &DiffResult{Columns: cols}
	n := len(cols)
	var query string
	if len(ta.PrimaryKey) > 0 {
		var on, bKeyNull []string
		for _, k := range ta.PrimaryKey {
			q := d.QuoteIdentifier(k)
			on = append(on, "a."+q+" = b."+q)
			bKeyNull = append(bKeyNull, "b."+q+" IS NULL")
		}
		query = "SELECT a." + h + " IS NULL, " + strings.Join(bKeyNull, " AND ") + ", " + strings.Join(aSel, ", ") + ", " + strings.Join(bSel, ", ") +
			" FROM " + qa + " AS a FULL OUTER JOIN " + qb + " AS b ON " + strings.Join(on, " AND ") +
			" WHERE a." + h + " IS DISTINCT FROM b." + h
	} else {
		// multisets: rows of a beyond the count in b are removed, and the reverse
		query = "SELECT false, true, " + strings.Join(aSel, ", ") + ", " + strings.Repeat("NULL, ", n-1) + "NULL FROM (SELECT *, row_number() OVER (PARTITION BY " + h + ") AS dataops_rn FROM " + qa + ") AS a " +
			"WHERE dataops_rn > (SELECT count(*) FROM " + qb + " AS b WHERE b." + h + " = a." + h + ") " +
			"UNION ALL SELECT true, false, " + strings.Repeat("NULL, ", n) + strings.Join(bSel, ", ") + " FROM (SELECT *, row_number() OVER (PARTITION BY " + h + ") AS dataops_rn FROM " + qb + ") AS b " +
			"WHERE dataops_rn > (SELECT count(*) FROM " + qa + " AS a WHERE a." + h + " = b." + h + ")"
	}
	keyIdx := map[string]int{}
	for i, c := range cols {
		keyIdx[c.Name] = i
	}
	for rec, err := range sc.w.Rows(ctx, query) {
		if err != nil {
			return nil, fmt.Errorf("backup: diff %s: %w", table, err)
		}
		aMissing, _ := rec.Values[0].(bool)
		bMissing, _ := rec.Values[1].(bool)
		r := DiffRow{Old: append([]any(nil), rec.Values[2:2+n]...), New: append([]any(nil), rec.Values[2+n:]...)}
		switch {
		case aMissing:
			r.Change, r.Old = Added, nil
			res.Added++
		case bMissing:
			r.Change, r.New = Removed, nil
			res.Removed++
		default:
			r.Change = Changed
			res.Changed++
		}
		res.Count++
		if len(ta.PrimaryKey) > 0 {
			src := r.New
			if src == nil {
				src = r.Old
			}
			for _, k := range ta.PrimaryKey {
				r.Key = append(r.Key, src[keyIdx[k]])
			}
		}
		if fn != nil {
			if err := fn(r); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// Undrop brings back a table ("schema.name") that is gone from w, from the
// latest snapshot that holds it (or the snapshot in opts), verified like any
// restore. It refuses when the table exists, unless opts.Overwrite.
func Undrop(ctx context.Context, repo *repository.Repository, w *warehouse.Warehouse, table string, opts RestoreOptions) (*RestoreResult, error) {
	schema, name, err := splitTable(table)
	if err != nil {
		return nil, err
	}
	if _, err := w.Relation(ctx, warehouse.Rel(schema, name)); err == nil && !opts.Overwrite {
		return nil, fmt.Errorf("backup: undrop %s: %w", table, ErrTargetExists)
	}
	if opts.Snapshot == "" {
		vs, err := Versions(ctx, repo, table)
		if err != nil {
			return nil, err
		}
		opts.Snapshot = vs[len(vs)-1].Snapshot
		if !opts.AsOf.IsZero() {
			opts.Snapshot = ""
			for _, v := range vs {
				if !v.Time.After(opts.AsOf) {
					opts.Snapshot = v.Snapshot
				}
			}
			if opts.Snapshot == "" {
				return nil, fmt.Errorf("backup: table %s: %w at or before %s", table, ErrNoSnapshot, opts.AsOf.UTC().Format(time.RFC3339))
			}
		}
	}
	opts.Tables = []string{table}
	return Restore(ctx, repo, w, opts)
}
