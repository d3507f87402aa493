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
	step := func(msg string) { tb.em.progress(tb.rel.String(), tb.stats.written, tb.stats.bytes, "delta: "+msg) }
	// the parent's rows, as local Parquet files with every column and the
	// row hash; for an engine-hash chain, whose stored hashes are hash()
	// already, only the key and the hash
	engine := prev.RowHashKind() != HashSHA256
	composeCols := cols
	if engine {
		composeCols = nil
		for _, k := range key {
			for _, c := range cols {
				if c.Name == k {
					composeCols = append(composeCols, c)
				}
			}
		}
	}
	var files []string
	var mp *mergeParent // the parent side of the merge path, nil: none
	mk := mergeKey(tb.src.Dialect(), cols, key)
	// (DATAOPS_BACKUP_NO_MERGE turns the merge path off, to compare)
	mergeable := engine && tb.nat && mk != "" && prev.Fingerprint.Count > wideDeltaRows && os.Getenv("DATAOPS_BACKUP_NO_MERGE") == ""
	if mergeable && len(chain) > 1 {
		// a chain on a full: its base parts in table order, but for the
		// keys the deltas replaced or deleted, and its latest upserts aside
		m, base, release, err := tb.chainParent(ctx, chain, mk)
		if err != nil {
			return err
		}
		defer release()
		if m != nil {
			step("parent's keys and hashes local, its deltas' keys read")
			m.query = parentPairs(tb.src.Dialect(), mk, base)
			err := tb.engineKeyDelta(ctx, e, cols, key, prev, "", m, step)
			if !errors.Is(err, errComposeParent) {
				return err
			}
		}
	}
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
		if mergeable {
			mp = &mergeParent{query: parentPairs(tb.src.Dialect(), mk, files)}
		}
	} else {
		name := sc.name("parent_rows")
		if err := sc.compose(ctx, chain, composeCols, key, name); err != nil {
			return err
		}
		sc.releaseChain(chain)
		rel := warehouse.Rel("main", name)
		defer sc.w.Drop(context.WithoutCancel(ctx), rel)
		f := filepath.Join(sc.dir, name+".parquet")
		defer os.Remove(f)
		if _, err := sc.w.Exec(ctx, "COPY "+sc.w.Dialect().QuoteRelation(rel)+" TO "+sqlString(f)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
			return fmt.Errorf("parent rows: %w", err)
		}
		files = []string{f}
	}
	step("parent's keys and hashes local")
	d := tb.src.Dialect()
	parent := readParquet(files)
	var ks []string
	for _, k := range key {
		ks = append(ks, d.QuoteIdentifier(k))
	}
	keyList := strings.Join(ks, ", ")
	// hash() of the row: the engine row hash (duckEngineHash)
	fhx, ok := duckEngineHash(d, cols, d.QuoteIdentifier)
	if !ok {
		return errNoFastDelta
	}
	fh := fhx + " AS dataops_fh"
	pfh := fh
	if engine {
		fh = asSigned(fhx) + " AS dataops_fh"
		pfh = d.QuoteIdentifier(RowHashColumn) + " AS dataops_fh"
	}
	src := d.QuoteRelation(tb.rel)
	if engine && tb.nat {
		return tb.engineKeyDelta(ctx, e, cols, key, prev, parent, mp, step)
	}
	if err := sc.open(ctx); err != nil {
		return err
	}
	diffFile := filepath.Join(tb.dir, sc.name("diff")+".parquet")
	keysFile := filepath.Join(tb.dir, sc.name("changed")+".parquet")
	delsFile := filepath.Join(tb.dir, sc.name("deleted")+".parquet")
	defer os.Remove(diffFile)
	defer os.Remove(keysFile)
	defer os.Remove(delsFile)
	// one join finds the keys new or changed since the parent and the keys
	// gone. For a portable chain it runs in the scratch database, whose
	// memory is limited (it spills beyond): the source only streams its
	// digest (key, hash()) out, and the parent's side hashes every column of
	// its rows. For an engine-hash chain, whose parent side is only its keys
	// and stored hashes, it runs in the source, on the table itself (no
	// digest written and read back), under the source's memory_limit.
	var coal []string
	for _, k := range ks {
		coal = append(coal, "coalesce(c."+k+", p."+k+") AS "+k)
	}
	join := func(cur string) string {
		return "COPY (SELECT " + strings.Join(coal, ", ") + ", c.dataops_fh IS NULL AS dataops_gone FROM " + cur +
			" AS c FULL OUTER JOIN (SELECT " + keyList + ", " + pfh + " FROM " + parent + ") AS p ON " + keyJoin(d, key, "c", "p") +
			" WHERE c.dataops_fh IS NULL OR p.dataops_fh IS NULL OR c.dataops_fh <> p.dataops_fh) TO " + sqlString(diffFile) + " (FORMAT parquet)"
	}
	if engine {
		if _, err := tb.src.Exec(ctx, join("(SELECT "+keyList+", "+fh+" FROM "+src+")")); err != nil {
			return fmt.Errorf("changed keys: %w", err)
		}
	} else {
		curFile := filepath.Join(tb.dir, sc.name("digest")+".parquet")
		defer os.Remove(curFile)
		if _, err := tb.src.Exec(ctx, "COPY (SELECT "+keyList+", "+fh+" FROM "+src+") TO "+sqlString(curFile)+" (FORMAT parquet, COMPRESSION uncompressed)"); err != nil {
			return fmt.Errorf("digest of the table: %w", err)
		}
		if _, err := sc.w.Exec(ctx, join("read_parquet("+sqlString(curFile)+")")); err != nil {
			return fmt.Errorf("changed keys: %w", err)
		}
	}
	step("key join done")
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
	step("changed keys split")
	if n.Changed == 0 && n.Deleted == 0 {
		tb.sameAs(e, prev)
		return nil
	}
	var fp Fingerprint
	var err error
	{
		// the stored row hashes of the parent rows that go
		sd := sc.w.Dialect()
		h := sd.QuoteIdentifier(RowHashColumn)
		var gone hashStats
		if err := sc.w.Get(ctx, &gone, "SELECT "+hashAggregates("p."+h)+" FROM "+parent+
			" AS p SEMI JOIN (SELECT "+keyList+" FROM read_parquet("+sqlString(keysFile)+") UNION ALL SELECT "+keyList+" FROM read_parquet("+sqlString(delsFile)+")) AS k ON "+keyJoin(sd, key, "p", "k")); err != nil {
			return fmt.Errorf("hashes of replaced rows: %w", err)
		}
		removed, err := gone.fingerprint()
		if err != nil {
			return err
		}
		fp = prev.Fingerprint
		fp.Remove(removed)
	}
	step("replaced hashes summed")
	deletes := []Part{}
	if n.Deleted > 0 {
		if err := storeFile(tb.upload(ctx, &deletes), delsFile, n.Deleted); err != nil {
			return err
		}
	}
	upserts := []Part{}
	if n.Changed > 0 {
		changed := "(SELECT t.* FROM " + src + " AS t SEMI JOIN read_parquet(" + sqlString(keysFile) + ") AS k ON " + keyJoin(d, key, "t", "k") + ") AS dataops_changed"
		q := duckHashedSelect(d, changed, cols, nil)
		if engine {
			q, _ = duckEngineHashedSelect(d, changed, cols)
		}
		var added Fingerprint
		if engine {
			upserts, added, err = tb.writeHashed(ctx, q, cols)
		} else {
			upserts, added, err = tb.copyParts(ctx, q)
		}
		if err != nil {
			return err
		}
		fp.Merge(added)
	}
	step("upserts written")
	e.Rows, e.Fingerprint = fp.Count, fp
	e.Data = TableData{Mode: ModeDelta, Base: tb.parent.ID, Upserts: upserts, Deletes: deletes}
	fastDeltas.Add(1)
	return nil
}

// wideDeltaRows is the most parent rows for which engineKeyDelta finds and
// writes the changed rows in one pass (a variable for tests). Beyond it the
// join's build side (the parent's keys and hashes) outgrows a memory_limit
// of a few hundred MB and DuckDB spills both sides, the table's whole rows
// included: only the digests are joined then.
var wideDeltaRows int64 = 2_000_000

// engineKeyDelta fills e with the delta of a table with a key against prev,
// of this engine's row hash kind, when DuckDB's writer takes the table
// (parent reads the parent's keys and stored hashes).
//
// For a parent of up to wideDeltaRows rows, one pass over the table hashes
// every row and writes the rows whose (key, hash) the parent does not have
// — the upserts, new or changed — straight into parts: an ANTI JOIN on key
// and hash whose build side is the parent's stored (key, hash) pairs and
// whose probe side streams the table. For a larger parent the ANTI JOIN
// takes the table's (key, hash) only, and a second pass writes the rows of
// the keys it found. (A join on the hash alone, which covers the key too,
// takes a third less CPU at 10M rows under a 192 MB memory_limit, but
// DuckDB then holds it in memory: 441 MiB peak RSS instead of 319.)
//
// The parent rows the upserts replace are found by a join of the parent
// with the upserts' keys (small), or for a large parent by that first join
// itself: a LEFT JOIN on the key, which costs what the ANTI JOIN does and
// yields each replaced row's stored hash. Rows deleted since the parent are counted
// without a join — the parent's count minus the current rows that are not
// new — so the ANTI JOIN of the parent's keys with the table's runs only
// when some were deleted.
//
// mp, when set, is the parent side of the merge path (mergedelta.go), which
// finds the changed and the deleted rows of a large parent instead of those
// joins. parent may then be "" (a chain whose rows were not composed): when
// the merge gives up, errComposeParent asks the caller for them.
func (tb *tableBackup) engineKeyDelta(ctx context.Context, e *Table, cols []warehouse.Column, key []string, prev *Table, parent string, mp *mergeParent, step func(string)) error {
	sc := tb.scratch
	d := tb.src.Dialect()
	hx, ok := duckEngineHash(d, cols, d.QuoteIdentifier)
	if !ok {
		return errNoFastDelta
	}
	src := d.QuoteRelation(tb.rel)
	h := d.QuoteIdentifier(RowHashColumn)
	var ks, names []string
	for _, k := range key {
		ks = append(ks, d.QuoteIdentifier(k))
	}
	for _, c := range cols {
		names = append(names, d.QuoteIdentifier(c.Name))
	}
	keyList := strings.Join(ks, ", ")
	var cnames []string
	for _, n := range names {
		cnames = append(cnames, "c."+n)
	}
	var q string
	var removed Fingerprint
	replacedKnown := false // removed holds the hashes of the parent rows replaced
	// the merge path found the changed rows and the deleted ones (their
	// keys and stored hashes in mergedDeletes)
	merged, mergedDeleted, mergedDeletes := false, int64(0), ""
	if prev.Fingerprint.Count <= wideDeltaRows {
		q = "SELECT " + strings.Join(cnames, ", ") + ", c." + h + " FROM (SELECT " + strings.Join(names, ", ") + ", " + asSigned(hx) + " AS " + h + " FROM " + src +
			") AS c ANTI JOIN (SELECT " + keyList + ", " + h + " FROM " + parent + ") AS p ON " + keyJoin(d, key, "c", "p") + " AND c." + h + " = p." + h
	} else {
		// the join's sides spill beyond memory_limit: only the digests
		// (key, hash) go through it, and the changed rows are fetched by a
		// second pass joined with their keys (a small build side). The
		// join is on the key, so that it also yields the stored hash of
		// each parent row replaced (NULL for a new key).
		changed := filepath.Join(tb.dir, sc.name("changed")+".parquet")
		defer os.Remove(changed)
		var cks []string
		for _, k := range ks {
			cks = append(cks, "c."+k)
		}
		mergedDeletes = filepath.Join(tb.dir, sc.name("merge_deleted")+".parquet")
		defer os.Remove(mergedDeletes)
		var err error
		merged, mergedDeleted, err = tb.mergeKeyDelta(ctx, cols, key, hx, mp, changed, mergedDeletes)
		if err != nil {
			return err
		}
		if !merged && parent == "" {
			return errComposeParent
		}
		if merged {
			// the merge's two scans are done: what DuckDB's allocator
			// keeps of them goes back before the rows are fetched
			tb.pool.ReleaseMemory()
		}
		if !merged {
			if _, err := tb.src.Exec(ctx, "COPY (SELECT "+strings.Join(cks, ", ")+", c."+h+", p."+h+" AS dataops_old FROM (SELECT "+keyList+", "+asSigned(hx)+" AS "+h+" FROM "+src+
				") AS c LEFT JOIN (SELECT "+keyList+", "+h+" FROM "+parent+") AS p ON "+keyJoin(d, key, "c", "p")+" WHERE p."+h+" IS NULL OR p."+h+" <> c."+h+
				") TO "+sqlString(changed)+" (FORMAT parquet, COMPRESSION uncompressed)"); err != nil {
				return fmt.Errorf("changed keys: %w", err)
			}
		}
		var st hashStats
		if err := tb.src.Get(ctx, &st, "SELECT "+hashAggregates("dataops_old")+" FROM read_parquet(?) WHERE dataops_old IS NOT NULL", changed); err != nil {
			return fmt.Errorf("hashes of replaced rows: %w", err)
		}
		if removed, err = st.fingerprint(); err != nil {
			return err
		}
		replacedKnown = true
		step("changed keys found")
		var tnames []string
		for _, n := range names {
			tnames = append(tnames, "t."+n)
		}
		q = "SELECT " + strings.Join(tnames, ", ") + ", k." + h + " FROM " + src + " AS t JOIN read_parquet(" + sqlString(changed) + ") AS k ON " + keyJoin(d, key, "t", "k")
	}
	files, dir, err := tb.copyFiles(ctx, tb.src, q)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	step("changed rows written")
	// the upserts' fingerprint, and the stored hashes of the parent rows
	// they replace
	var added Fingerprint
	stats := make([]hashStats, len(files))
	for i, f := range files {
		if err := tb.src.Get(ctx, &stats[i], "SELECT "+hashAggregates(h)+" FROM read_parquet(?)", f); err != nil {
			return fmt.Errorf("read back part: %w", err)
		}
		g, err := stats[i].fingerprint()
		if err != nil {
			return err
		}
		added.Merge(g)
	}
	if added.Count > 0 && !replacedKnown {
		var st hashStats
		if err := tb.src.Get(ctx, &st, "SELECT "+hashAggregates("p."+h)+" FROM "+parent+" AS p SEMI JOIN (SELECT "+keyList+" FROM "+
			readParquet(files)+") AS k ON "+keyJoin(d, key, "p", "k")); err != nil {
			return fmt.Errorf("hashes of replaced rows: %w", err)
		}
		if removed, err = st.fingerprint(); err != nil {
			return err
		}
	}
	var cur int64
	if err := tb.src.Get(ctx, &cur, "SELECT count(*) FROM "+src); err != nil {
		return err
	}
	// the current rows that are not new have their key in the parent
	deleted := prev.Fingerprint.Count - (cur - (added.Count - removed.Count))
	step("replaced hashes summed")
	deletes := []Part{}
	if deleted > 0 {
		delsFile := filepath.Join(tb.dir, sc.name("deleted")+".parquet")
		defer os.Remove(delsFile)
		var st hashStats
		if merged {
			// the merge's deleted rows, their keys in the key's own type
			kc, _ := keyColumn(cols, key) // merged: a one-column key
			t, err := d.TypeSQL(kc.Type)
			if err != nil {
				return fmt.Errorf("deleted keys: %w", err)
			}
			if _, err := tb.src.Exec(ctx, "COPY (SELECT CAST("+ks[0]+" AS "+t+") AS "+ks[0]+" FROM read_parquet("+sqlString(mergedDeletes)+")) TO "+sqlString(delsFile)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
				return fmt.Errorf("deleted keys: %w", err)
			}
			if err := tb.src.Get(ctx, &st, "SELECT "+hashAggregates(h)+" FROM read_parquet(?)", mergedDeletes); err != nil {
				return fmt.Errorf("hashes of deleted rows: %w", err)
			}
		} else {
			if _, err := tb.src.Exec(ctx, "COPY (SELECT "+keyList+" FROM "+parent+" AS p ANTI JOIN (SELECT "+keyList+" FROM "+src+") AS c ON "+
				keyJoin(d, key, "p", "c")+") TO "+sqlString(delsFile)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
				return fmt.Errorf("deleted keys: %w", err)
			}
			if err := tb.src.Get(ctx, &st, "SELECT "+hashAggregates("p."+h)+" FROM "+parent+" AS p SEMI JOIN read_parquet("+sqlString(delsFile)+") AS k ON "+keyJoin(d, key, "p", "k")); err != nil {
				return fmt.Errorf("hashes of deleted rows: %w", err)
			}
		}
		if st.N != deleted {
			return fmt.Errorf("deleted keys: %d found, %d counted", st.N, deleted)
		}
		gone, err := st.fingerprint()
		if err != nil {
			return err
		}
		removed.Merge(gone)
		if err := storeFile(tb.upload(ctx, &deletes), delsFile, deleted); err != nil {
			return err
		}
		step("deleted keys written")
	} else if deleted < 0 {
		return fmt.Errorf("delta of %s: %d rows now, %d in the parent, %d new", tb.rel, cur, prev.Fingerprint.Count, added.Count-removed.Count)
	}
	if merged && mergedDeleted != max(deleted, 0) {
		return fmt.Errorf("delta of %s: the merge found %d rows deleted, the counts %d", tb.rel, mergedDeleted, deleted)
	}
	if added.Count == 0 && deleted == 0 {
		tb.sameAs(e, prev)
		return nil
	}
	upserts := []Part{}
	done := tb.upload(ctx, &upserts)
	for i, f := range files {
		if stats[i].N == 0 {
			continue
		}
		if err := storeFile(done, f, stats[i].N); err != nil {
			return err
		}
	}
	step("upserts stored")
	tb.deltaOf(e, prev, removed, added, upserts, deletes)
	fastDeltas.Add(1)
	return nil
}

// engineMultisetDelta fills e with the delta of a table without a key
// against prev, whose row hashes are this engine's (duckEngineHash): the
// rows are compared as multisets of engine row hashes, all in SQL — the
// source streams its hashes out, the scratch database counts them against
// the parent's stored ones, and the source writes the surplus rows.
func (tb *tableBackup) engineMultisetDelta(ctx context.Context, e *Table, cols []warehouse.Column, prev *Table, chain []*Table) error {
	sc := tb.scratch
	d := tb.src.Dialect()
	hx, ok := duckEngineHash(d, cols, d.QuoteIdentifier)
	if !ok {
		return errNoFastDelta
	}
	if err := sc.open(ctx); err != nil {
		return err
	}
	sd := sc.w.Dialect()
	h := sd.QuoteIdentifier(RowHashColumn)
	// the parent's stored hashes
	var parent string
	if len(chain) == 1 && chain[0].Data.Mode == ModeFull {
		parts := chain[0].Data.Parts
		if len(parts) == 0 {
			return errNoFastDelta
		}
		files, err := sc.fetch(ctx, parts)
		if err != nil {
			return err
		}
		defer sc.release(parts)
		parent = "(SELECT " + h + " FROM " + readParquet(files) + ")"
	} else {
		name := sc.name("parent_hashes")
		if err := sc.compose(ctx, chain, nil, nil, name); err != nil {
			return err
		}
		sc.releaseChain(chain)
		rel := warehouse.Rel("main", name)
		defer sc.w.Drop(context.WithoutCancel(ctx), rel)
		parent = sd.QuoteRelation(rel)
	}
	curFile := filepath.Join(tb.dir, sc.name("digest")+".parquet")
	addedFile := filepath.Join(tb.dir, sc.name("added")+".parquet")
	delsFile := filepath.Join(tb.dir, sc.name("deleted")+".parquet")
	for _, f := range []string{curFile, addedFile, delsFile} {
		defer os.Remove(f)
	}
	if _, err := tb.src.Exec(ctx, "COPY (SELECT "+asSigned(hx)+" AS dataops_h FROM "+d.QuoteRelation(tb.rel)+") TO "+sqlString(curFile)+" (FORMAT parquet, COMPRESSION uncompressed)"); err != nil {
		return fmt.Errorf("digest of the table: %w", err)
	}
	var st hashStats
	if err := sc.w.Get(ctx, &st, "SELECT "+hashAggregates("dataops_h")+" FROM read_parquet(?)", curFile); err != nil {
		return fmt.Errorf("fingerprint of the digest: %w", err)
	}
	fp, err := st.fingerprint()
	if err != nil {
		return err
	}
	e.Rows, e.Fingerprint = fp.Count, fp
	if fp == prev.Fingerprint {
		e.Data = TableData{Mode: ModeSame, Base: tb.parent.ID}
		return nil
	}
	cur := "(SELECT dataops_h, count(*) AS dataops_n FROM read_parquet(" + sqlString(curFile) + ") GROUP BY 1)"
	par := "(SELECT " + h + " AS dataops_h, count(*) AS dataops_n FROM " + parent + " GROUP BY 1)"
	// added: surplus current hashes with their surplus counts; deleted:
	// surplus parent hashes, one row each
	if _, err := sc.w.Exec(ctx, "COPY (SELECT c.dataops_h, c.dataops_n - coalesce(p.dataops_n, 0) AS dataops_n FROM "+cur+" AS c LEFT JOIN "+par+
		" AS p ON c.dataops_h = p.dataops_h WHERE c.dataops_n > coalesce(p.dataops_n, 0)) TO "+sqlString(addedFile)+" (FORMAT parquet)"); err != nil {
		return fmt.Errorf("added rows: %w", err)
	}
	if _, err := sc.w.Exec(ctx, "COPY (SELECT p.dataops_h AS "+h+" FROM "+par+" AS p LEFT JOIN "+cur+" AS c ON c.dataops_h = p.dataops_h, "+
		"range(p.dataops_n - coalesce(c.dataops_n, 0)) WHERE p.dataops_n > coalesce(c.dataops_n, 0)) TO "+sqlString(delsFile)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
		return fmt.Errorf("removed rows: %w", err)
	}
	var n struct {
		Added   int64 `db:"a"`
		Deleted int64 `db:"d"`
	}
	if err := sc.w.Get(ctx, &n, "SELECT (SELECT coalesce(sum(dataops_n), 0) FROM read_parquet(?)) AS a, (SELECT count(*) FROM read_parquet(?)) AS d", addedFile, delsFile); err != nil {
		return err
	}
	deletes := []Part{}
	if n.Deleted > 0 {
		if err := storeFile(tb.upload(ctx, &deletes), delsFile, n.Deleted); err != nil {
			return err
		}
	}
	upserts := []Part{}
	if n.Added > 0 {
		var names []string
		for _, c := range cols {
			names = append(names, "w."+d.QuoteIdentifier(c.Name))
		}
		added := "read_parquet(" + sqlString(addedFile) + ")"
		q := "SELECT " + strings.Join(names, ", ") + ", w.dataops_h AS " + d.QuoteIdentifier(RowHashColumn) +
			" FROM (SELECT *, row_number() OVER (PARTITION BY dataops_h) AS dataops_rn FROM (SELECT *, " + asSigned(hx) + " AS dataops_h FROM " +
			d.QuoteRelation(tb.rel) + ") AS t WHERE dataops_h IN (SELECT dataops_h FROM " + added + ")) AS w JOIN " + added +
			" AS a ON w.dataops_h = a.dataops_h WHERE w.dataops_rn <= a.dataops_n"
		if upserts, _, err = tb.writeHashed(ctx, q, cols); err != nil {
			return err
		}
	}
	e.Data = TableData{Mode: ModeDelta, Base: tb.parent.ID, Upserts: upserts, Deletes: deletes}
	return nil
}

// storeFile hands the local Parquet file path, of rows rows, to store (an
// upload function of tableBackup's) with its size.
func storeFile(store func(partFile) error, path string, rows int64) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return store(partFile{Path: path, Rows: rows, Bytes: info.Size()})
}
