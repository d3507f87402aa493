package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/dataopskit/dataops/warehouse"
)

// The DuckDB path of incremental backups for tables with a primary key
// finds changed rows without hashing every row with the row hash of
// FORMAT.md §7 (SHA-256, costly in SQL and through Go alike). DuckDB's own
// hash() of the current rows is compared, in one ANTI JOIN on the key, with
// hash() of the parent's rows read from the parent's parts (both computed
// by the same engine in the same process, on values cast to the same
// types, so they agree for every unchanged row). Only the rows whose key is
// new or whose hash() differs get the row hash, in SQL, as they are written
// (copyParts). The new fingerprint is the parent's, minus the stored row
// hashes of the parent rows replaced or deleted, plus those of the upserts:
// count, sum and XOR all have inverses. A hash() collision between an old
// and a new version of one row (2⁻⁶⁴) would miss that change, the same
// risk as the 64-bit row hash the format already relies on.

// fastDeltas counts the deltas the fast path made (for tests).
var fastDeltas atomic.Int64

// errNoFastDelta: the fast path does not apply; take the general one.
var errNoFastDelta = errors.New("no fast delta")

// fastDelta fills e with the delta against prev (chain composes the parent's
// rows), or returns errNoFastDelta.
func (tb *tableBackup) fastDelta(ctx context.Context, e *Table, cols []warehouse.Column, key []string, prev *Table, chain []*Table) error {
	sc := tb.scratch
	if os.Getenv("DATAOPS_BACKUP_NO_FAST_DELTA") != "" {
		return errNoFastDelta
	}
	// the parent's rows, as local Parquet files with every column and the row hash
	var files []string
	if len(chain) == 1 && chain[0].Data.Mode == ModeFull {
		parts := chain[0].Data.Parts
		if len(parts) == 0 {
			return errNoFastDelta
		}
		f, err := sc.fetch(ctx, parts)
		if err != nil {
			return err
		}
		defer sc.release(parts)
		files = f
	} else {
		name := sc.name("parent_rows")
		if err := sc.compose(ctx, chain, cols, key, name); err != nil {
			return err
		}
		for _, t := range chain {
			sc.release(t.Data.Parts)
			sc.release(t.Data.Upserts)
			sc.release(t.Data.Deletes)
		}
		rel := warehouse.Rel("main", name)
		defer sc.w.Drop(context.WithoutCancel(ctx), rel)
		f := filepath.Join(sc.dir, name+".parquet")
		defer os.Remove(f)
		if _, err := sc.w.Exec(ctx, "COPY "+sc.w.Dialect().QuoteRelation(rel)+" TO "+sqlString(f)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
			return fmt.Errorf("parent rows: %w", err)
		}
		files = []string{f}
	}
	d := tb.src.Dialect()
	var lits []string
	for _, f := range files {
		lits = append(lits, sqlString(f))
	}
	parent := "read_parquet([" + strings.Join(lits, ", ") + "])"
	var ks []string
	for _, k := range key {
		ks = append(ks, d.QuoteIdentifier(k))
	}
	keyList := strings.Join(ks, ", ")
	var casts []string
	for _, c := range cols {
		t, err := d.TypeSQL(c.Type)
		if err != nil {
			return errNoFastDelta
		}
		casts = append(casts, "CAST("+d.QuoteIdentifier(c.Name)+" AS "+t+")")
	}
	fh := "hash(" + strings.Join(casts, ", ") + ") AS dataops_fh"
	src := d.QuoteRelation(tb.rel)
	diffFile := filepath.Join(tb.dir, sc.name("diff")+".parquet")
	keysFile := filepath.Join(tb.dir, sc.name("changed")+".parquet")
	delsFile := filepath.Join(tb.dir, sc.name("deleted")+".parquet")
	defer os.Remove(diffFile)
	defer os.Remove(keysFile)
	defer os.Remove(delsFile)
	// one join finds the keys new or changed since the parent and the keys
	// gone. It runs in the scratch database, whose memory is limited (it
	// spills beyond): the source only streams its digest (key, hash()) out.
	var coal []string
	for _, k := range ks {
		coal = append(coal, "coalesce(c."+k+", p."+k+") AS "+k)
	}
	curFile := filepath.Join(tb.dir, sc.name("digest")+".parquet")
	defer os.Remove(curFile)
	if _, err := tb.src.Exec(ctx, "COPY (SELECT "+keyList+", "+fh+" FROM "+src+") TO "+sqlString(curFile)+" (FORMAT parquet, COMPRESSION uncompressed)"); err != nil {
		return fmt.Errorf("digest of the table: %w", err)
	}
	if _, err := sc.w.Exec(ctx, "COPY (SELECT "+strings.Join(coal, ", ")+", c.dataops_fh IS NULL AS dataops_gone FROM read_parquet("+sqlString(curFile)+
		") AS c FULL OUTER JOIN (SELECT "+keyList+", "+fh+" FROM "+parent+") AS p ON "+keyJoin(d, key, "c", "p")+
		" WHERE c.dataops_fh IS NULL OR p.dataops_fh IS NULL OR c.dataops_fh <> p.dataops_fh) TO "+sqlString(diffFile)+" (FORMAT parquet)"); err != nil {
		return fmt.Errorf("changed keys: %w", err)
	}
	for _, q := range []string{
		"COPY (SELECT " + keyList + " FROM read_parquet(" + sqlString(diffFile) + ") WHERE NOT dataops_gone) TO " + sqlString(keysFile) + " (FORMAT parquet)",
		"COPY (SELECT " + keyList + " FROM read_parquet(" + sqlString(diffFile) + ") WHERE dataops_gone) TO " + sqlString(delsFile) + " (FORMAT parquet, COMPRESSION zstd)",
	} {
		if _, err := sc.w.Exec(ctx, q); err != nil {
			return fmt.Errorf("split changed keys: %w", err)
		}
	}
	var n struct {
		Changed int64 `db:"c"`
		Deleted int64 `db:"d"`
	}
	if err := sc.w.Get(ctx, &n, "SELECT count(*) FILTER (WHERE NOT dataops_gone) AS c, count(*) FILTER (WHERE dataops_gone) AS d FROM read_parquet(?)", diffFile); err != nil {
		return err
	}
	if n.Changed == 0 && n.Deleted == 0 {
		e.Rows, e.Fingerprint = prev.Fingerprint.Count, prev.Fingerprint
		e.Data = TableData{Mode: ModeSame, Base: tb.parent.ID}
		return nil
	}
	// the stored row hashes of the parent rows that go
	sd := sc.w.Dialect()
	h := sd.QuoteIdentifier(RowHashColumn)
	var gone struct {
		N   int64  `db:"n"`
		Sum string `db:"s"`
		XOR string `db:"x"`
	}
	if err := sc.w.Get(ctx, &gone, "SELECT count(*) AS n, CAST(coalesce(sum(CAST(p."+h+" AS HUGEINT)), 0) AS VARCHAR) AS s, CAST(coalesce(bit_xor(p."+h+"), 0) AS VARCHAR) AS x FROM "+parent+
		" AS p SEMI JOIN (SELECT "+keyList+" FROM read_parquet("+sqlString(keysFile)+") UNION ALL SELECT "+keyList+" FROM read_parquet("+sqlString(delsFile)+")) AS k ON "+keyJoin(sd, key, "p", "k")); err != nil {
		return fmt.Errorf("hashes of replaced rows: %w", err)
	}
	removed, err := fingerprintOf(gone.N, gone.Sum, gone.XOR)
	if err != nil {
		return err
	}
	deletes := []Part{}
	if n.Deleted > 0 {
		info, err := os.Stat(delsFile)
		if err != nil {
			return err
		}
		if err := tb.upload(ctx, &deletes)(partFile{Path: delsFile, Rows: n.Deleted, Bytes: info.Size()}); err != nil {
			return err
		}
	}
	upserts := []Part{}
	var added Fingerprint
	if n.Changed > 0 {
		upserts, added, err = tb.copyParts(ctx, duckHashedSelect(d, "(SELECT t.* FROM "+src+" AS t SEMI JOIN read_parquet("+
			sqlString(keysFile)+") AS k ON "+keyJoin(d, key, "t", "k")+") AS dataops_changed", cols, nil))
		if err != nil {
			return err
		}
	}
	fp := prev.Fingerprint
	fp.Remove(removed)
	fp.Merge(added)
	e.Rows, e.Fingerprint = fp.Count, fp
	e.Data = TableData{Mode: ModeDelta, Base: tb.parent.ID, Upserts: upserts, Deletes: deletes}
	fastDeltas.Add(1)
	return nil
}
