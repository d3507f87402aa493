package backup

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// tableBackup backs up one table: in full, or as a delta against the
// parent snapshot's entry of the same table.
type tableBackup struct {
	src       *warehouse.Tx
	pool      *warehouse.Warehouse // src's warehouse, for reads beside the transaction
	rel       warehouse.Relation
	engine    string
	version   string // the engine's version (of its engine row hash kind)
	sess      *repository.Session
	dir       string
	partRows  int64
	partBytes int64
	em        *emitter
	scratch   *scratch
	cache     *snapshotCache
	parent    *Snapshot
	change    string        // the table's change column, "" for none
	overlap   time.Duration // Options.ChangeOverlap

	nat   bool // the table takes the DuckDB-native path (native)
	stats tableStats
}

// writeFormatV1 makes backups write format 1 manifests: every table through
// the Go writer with the portable row hash and no row_hash field, as
// dataops wrote them before format 2 (tests read such snapshots back).
var writeFormatV1 bool

func (tb *tableBackup) run(ctx context.Context) (Table, tableStats, error) {
	cols, err := tb.src.Columns(ctx, tb.rel)
	if err != nil {
		return Table{}, tb.stats, err
	}
	key, err := primaryKey(ctx, tb.src, tb.engine, tb.rel)
	if err != nil {
		return Table{}, tb.stats, err
	}
	if key == nil {
		key = []string{}
	}
	e := Table{Schema: tb.rel.Schema, Name: tb.rel.Name, Kind: "table", Columns: columnEntries(cols), PrimaryKey: key}
	tb.em.startEv(e.String(), "table started")
	tb.nat = tb.native(ctx, cols)
	tb.em.progress(e.String(), 0, 0, "path chosen")
	engineKind := duckHashKind(tb.version)
	var prev *Table
	if tb.parent != nil {
		prev = tb.parent.Table(e.Schema, e.Name)
		if prev != nil && (!sameColumns(prev.Columns, e.Columns) || !slices.Equal(prev.PrimaryKey, key)) {
			prev = nil // the table's shape changed: a full copy
		}
		// a delta continues its chain's row hash kind: a writer that
		// cannot compute it (an engine hash of another version, or of an
		// engine this table does not take) writes the table in full
		if prev != nil && prev.RowHashKind() != HashSHA256 && (prev.RowHashKind() != engineKind || !tb.engineHashable(cols)) {
			prev = nil
		}
	}
	done := false
	if tb.change != "" {
		if done, err = tb.changeRun(ctx, &e, cols, key, prev); err != nil {
			return e, tb.stats, err
		}
		if done {
			e.RowHash = prev.RowHashKind()
		}
	}
	if prev != nil && !done {
		err := tb.delta(ctx, &e, cols, key, prev)
		if err == nil {
			e.RowHash = prev.RowHashKind()
		} else if errors.Is(err, errNoFastDelta) {
			prev = nil
		} else {
			return e, tb.stats, err
		}
	}
	if prev == nil {
		if err := tb.full(ctx, &e, cols); err != nil {
			return e, tb.stats, err
		}
	}
	if writeFormatV1 {
		e.RowHash = ""
	}
	tb.em.finish(e.String(), e.Rows, tb.stats.bytes, "table "+e.Data.Mode)
	return e, tb.stats, nil
}

// full fills e with all the table's rows: on the DuckDB-native path written
// by DuckDB's own parallel Parquet writer with the engine row hash (COPY …
// TO, no row through Go), else streamed through the Go writer with the
// portable row hash.
func (tb *tableBackup) full(ctx context.Context, e *Table, cols []warehouse.Column) error {
	if tb.nat && !writeFormatV1 {
		d := tb.src.Dialect()
		if q, ok := duckEngineHashedSelect(d, d.QuoteRelation(tb.rel), cols); ok {
			parts, fp, err := tb.copyParts(ctx, q)
			if err != nil {
				return err
			}
			e.Rows, e.Fingerprint, e.RowHash = fp.Count, fp, duckHashKind(tb.version)
			e.Data = TableData{Mode: ModeFull, Parts: parts}
			return nil
		}
	}
	parts, fp, err := tb.writeRows(ctx, cols, nil)
	if err != nil {
		return err
	}
	e.Rows, e.Fingerprint, e.RowHash = fp.Count, fp, HashSHA256
	e.Data = TableData{Mode: ModeFull, Parts: parts}
	return nil
}

func sameColumns(a, b []ColumnEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// upload returns the done callback of a part writer: it stores the part
// through the session, removes the local file and appends to parts.
func (tb *tableBackup) upload(ctx context.Context, parts *[]Part) func(partFile) error {
	return func(p partFile) error {
		defer os.Remove(p.Path)
		info, err := tb.sess.PutFile(ctx, p.Path, repository.ObjectMeta{Kind: "parquet", Rows: p.Rows})
		if err != nil {
			return fmt.Errorf("store part: %w", err)
		}
		*parts = append(*parts, Part{ID: info.ID, Rows: p.Rows})
		tb.stats.written += p.Rows
		tb.stats.bytes += info.Bytes
		tb.em.progress(tb.rel.String(), tb.stats.written, tb.stats.bytes, "part stored")
		return nil
	}
}

const batchRows = 512

// scanRows streams the table's rows in a goroutine (the engine decodes while
// this goroutine hashes and encodes) and calls fn for each with its hash.
func (tb *tableBackup) scanRows(ctx context.Context, cols []warehouse.Column, fn func(values []any, h uint64) error) (Fingerprint, error) {
	return tb.scanRowsWhere(ctx, cols, nil, fn)
}

// scanRowsWhere is scanRows of the rows flt selects (all when nil; a
// filter is for PostgreSQL only).
func (tb *tableBackup) scanRowsWhere(ctx context.Context, cols []warehouse.Column, flt *rowFilter, fn func(values []any, h uint64) error) (Fingerprint, error) {
	if flt != nil && tb.src.Dialect().Name() == "duckdb" {
		return Fingerprint{}, errors.New("scanRowsWhere: no row filter on DuckDB")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan [][]any, 4)
	pool := sync.Pool{New: func() any { return make([][]any, 0, batchRows) }}
	var scanErr error
	go func() {
		defer close(ch)
		batch := pool.Get().([][]any)[:0]
		d := tb.src.Dialect()
		recs := scanTable(ctx, tb.src, d.QuoteRelation(tb.rel), cols)
		if flt != nil {
			recs = tb.src.Rows(ctx, selectFrom(d, d.QuoteRelation(tb.rel), cols)+" WHERE "+flt.where, flt.args...)
		}
		for rec, err := range recs {
			if err != nil {
				scanErr = err
				return
			}
			var row []any
			if len(batch) < cap(batch) {
				row = batch[:len(batch)+1][len(batch)]
			}
			row = append(row[:0], rec.Values...)
			batch = append(batch, row)
			if len(batch) == batchRows {
				select {
				case ch <- batch:
				case <-ctx.Done():
					return
				}
				batch = pool.Get().([][]any)[:0]
			}
		}
		if len(batch) > 0 {
			select {
			case ch <- batch:
			case <-ctx.Done():
			}
		}
	}()
	h := NewRowHasher(cols)
	var fp Fingerprint
	var err error
	for batch := range ch {
		if err != nil {
			continue // drain
		}
		for _, row := range batch {
			x, herr := h.Hash(row)
			if herr != nil {
				err = fmt.Errorf("row %d: %w", fp.Count+1, herr)
				cancel()
				break
			}
			fp.Add(x)
			if err = fn(row, x); err != nil {
				cancel()
				break
			}
		}
		pool.Put(batch[:0])
	}
	if err != nil {
		return fp, err
	}
	if scanErr != nil {
		return fp, scanErr
	}
	return fp, ctx.Err()
}

// writeRows writes the rows that keep accepts (all when nil) as parts.
func (tb *tableBackup) writeRows(ctx context.Context, cols []warehouse.Column, keep func(values []any, h uint64) bool) ([]Part, Fingerprint, error) {
	parts := []Part{}
	pw, err := newPartWriter(cols, tb.dir, tb.partRows, tb.partBytes, true, tb.upload(ctx, &parts))
	if err != nil {
		return nil, Fingerprint{}, err
	}
	defer pw.Abort()
	fp, err := tb.scanRows(ctx, cols, func(values []any, h uint64) error {
		if keep != nil && !keep(values, h) {
			return nil
		}
		return pw.Write(values, h)
	})
	if err != nil {
		return nil, fp, err
	}
	if err := pw.Close(); err != nil {
		return nil, fp, err
	}
	return parts, fp, nil
}

// keyColumns returns the columns of key, in key order, and their indexes
// in cols.
func keyColumns(cols []warehouse.Column, key []string) ([]warehouse.Column, []int) {
	var kcols []warehouse.Column
	var kidx []int
	for _, k := range key {
		for i, c := range cols {
			if c.Name == k {
				kcols, kidx = append(kcols, c), append(kidx, i)
			}
		}
	}
	return kcols, kidx
}

// writeKeyParts writes the key rows recs (of columns kcols) as delete
// parts, through the Go writer.
func (tb *tableBackup) writeKeyParts(ctx context.Context, kcols []warehouse.Column, recs iter.Seq2[*warehouse.Record, error]) ([]Part, error) {
	parts := []Part{}
	pw, err := newPartWriter(kcols, tb.dir, tb.partRows, tb.partBytes, false, tb.upload(ctx, &parts))
	if err != nil {
		return nil, err
	}
	defer pw.Abort()
	for rec, err := range recs {
		if err != nil {
			return nil, err
		}
		if err := pw.Write(rec.Values, 0); err != nil {
			return nil, err
		}
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	return parts, nil
}

// delta fills e with the difference between the table now and its entry
// prev in the parent snapshot: by primary key and row hash, or for a table
// without a key as a multiset of row hashes (FORMAT.md §5).
func (tb *tableBackup) delta(ctx context.Context, e *Table, cols []warehouse.Column, key []string, prev *Table) error {
	sc := tb.scratch
	chain, err := tb.cache.chain(ctx, tb.parent.ID, prev)
	if err != nil {
		return err
	}
	kcols, kidx := keyColumns(cols, key)
	if prev.RowHashKind() != HashSHA256 {
		// the engine row hash kind: found in SQL only (run checked the
		// kind is this engine's)
		if len(key) > 0 {
			return tb.fastDelta(ctx, e, cols, key, prev, chain)
		}
		return tb.engineMultisetDelta(ctx, e, cols, prev, chain)
	}
	if tb.nat && len(key) > 0 {
		if err := tb.fastDelta(ctx, e, cols, key, prev, chain); !errors.Is(err, errNoFastDelta) {
			return err
		}
	}
	if err := sc.open(ctx); err != nil {
		return err
	}
	d := sc.w.Dialect()
	pName, cName := sc.name("parent"), sc.name("current")
	defer sc.w.Drop(context.WithoutCancel(ctx), warehouse.Rel("main", pName))
	defer sc.w.Drop(context.WithoutCancel(ctx), warehouse.Rel("main", cName))
	if err := sc.compose(ctx, chain, kcols, key, pName); err != nil {
		return err
	}
	sc.releaseChain(chain)
	// pass 1: the current digest (key, hash) into the scratch database
	withHash := append(append([]warehouse.Column(nil), kcols...), hashCol)
	cRel := warehouse.Rel("main", cName)
	if err := sc.w.CreateTable(ctx, cRel, withHash, nil); err != nil {
		return err
	}
	native := tb.nat && len(key) > 0
	fp, err := tb.loadDigest(ctx, cols, kidx, nil, cRel, nil)
	if err != nil {
		return err
	}
	if fp == prev.Fingerprint {
		tb.sameAs(e, prev)
		return nil
	}
	e.Rows, e.Fingerprint = fp.Count, fp
	qp, qc := d.QuoteRelation(warehouse.Rel("main", pName)), d.QuoteRelation(cRel)
	h := d.QuoteIdentifier(RowHashColumn)
	var deletes, upserts []Part
	deletes = []Part{}
	if len(key) > 0 {
		var sel, psels, on []string
		for _, k := range key {
			q := d.QuoteIdentifier(k)
			sel = append(sel, "c."+q)
			psels = append(psels, "p."+q)
			on = append(on, "c."+q+" = p."+q)
		}
		if native {
			// keys to upsert, as a Parquet file the source reads back
			keys := filepath.Join(tb.dir, sc.name("keys")+".parquet")
			defer os.Remove(keys)
			if _, err := sc.w.Exec(ctx, "COPY (SELECT "+strings.Join(sel, ", ")+" FROM "+qc+" AS c LEFT JOIN "+qp+" AS p ON "+
				strings.Join(on, " AND ")+" WHERE p."+h+" IS NULL OR p."+h+" <> c."+h+") TO "+sqlString(keys)+" (FORMAT parquet)"); err != nil {
				return err
			}
			sd := tb.src.Dialect()
			upserts, _, err = tb.copyParts(ctx, duckHashedSelect(sd, "(SELECT t.* FROM "+sd.QuoteRelation(tb.rel)+" AS t SEMI JOIN read_parquet("+
				sqlString(keys)+") AS k ON "+keyJoin(sd, key, "t", "k")+") AS dataops_changed", cols, nil))
			if err != nil {
				return err
			}
		}
		// keys to upsert
		want := map[string]bool{}
		kh := NewRowHasher(kcols)
		for rec, err := range sc.w.Rows(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+qc+" AS c LEFT JOIN "+qp+" AS p ON "+
			strings.Join(on, " AND ")+" WHERE (p."+h+" IS NULL OR p."+h+" <> c."+h+") AND NOT ?", native) {
			if err != nil {
				return err
			}
			b, err := kh.Encode(rec.Values)
			if err != nil {
				return err
			}
			want[string(b)] = true
		}
		// keys gone
		psel := strings.Join(psels, ", ")
		if deletes, err = tb.writeKeyParts(ctx, kcols, sc.w.Rows(ctx, "SELECT "+psel+" FROM "+qp+" AS p WHERE NOT EXISTS (SELECT 1 FROM "+qc+" AS c WHERE "+strings.Join(on, " AND ")+")")); err != nil {
			return err
		}
		if !native {
			upserts = []Part{}
		}
		if len(want) > 0 {
			kv := make([]any, len(kidx))
			upserts, _, err = tb.writeRows(ctx, cols, func(values []any, _ uint64) bool {
				for i, j := range kidx {
					kv[i] = values[j]
				}
				b, err := kh.Encode(kv)
				return err == nil && want[string(b)]
			})
			if err != nil {
				return err
			}
		}
	} else {
		// a multiset of row hashes: added = current − parent, removed = parent − current
		added := map[uint64]int64{}
		for rec, err := range sc.w.Rows(ctx, "SELECT c.h, c.n - coalesce(p.n, 0) FROM (SELECT "+h+" AS h, count(*) AS n FROM "+qc+" GROUP BY 1) AS c LEFT JOIN (SELECT "+h+" AS h, count(*) AS n FROM "+qp+" GROUP BY 1) AS p ON c.h = p.h WHERE c.n > coalesce(p.n, 0)") {
			if err != nil {
				return err
			}
			x, _ := warehouse.ToInt64(rec.Values[0])
			n, _ := warehouse.ToInt64(rec.Values[1])
			added[uint64(x)] = n
		}
		pw, err := newPartWriter(nil, tb.dir, tb.partRows, tb.partBytes, true, tb.upload(ctx, &deletes))
		if err != nil {
			return err
		}
		defer pw.Abort()
		for rec, err := range sc.w.Rows(ctx, "SELECT p.h, p.n - coalesce(c.n, 0) FROM (SELECT "+h+" AS h, count(*) AS n FROM "+qp+" GROUP BY 1) AS p LEFT JOIN (SELECT "+h+" AS h, count(*) AS n FROM "+qc+" GROUP BY 1) AS c ON c.h = p.h WHERE p.n > coalesce(c.n, 0)") {
			if err != nil {
				return err
			}
			x, _ := warehouse.ToInt64(rec.Values[0])
			n, _ := warehouse.ToInt64(rec.Values[1])
			for range n {
				if err := pw.Write(nil, uint64(x)); err != nil {
					return err
				}
			}
		}
		if err := pw.Close(); err != nil {
			return err
		}
		upserts = []Part{}
		if len(added) > 0 {
			upserts, _, err = tb.writeRows(ctx, cols, func(_ []any, x uint64) bool {
				if added[x] > 0 {
					added[x]--
					return true
				}
				return false
			})
			if err != nil {
				return err
			}
		}
	}
	e.Data = TableData{Mode: ModeDelta, Base: tb.parent.ID, Upserts: upserts, Deletes: deletes}
	return nil
}
