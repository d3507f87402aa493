package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// Change columns (Options.ChangeColumns, FORMAT.md §5 and §7).
//
// A change column is a column of a table that every INSERT and UPDATE sets
// to a value no less than any value of that column that an earlier backup
// could have seen: a timestamp set at write time, a commit sequence — a
// cursor column, as Airbyte and Fivetran call it, or dbt's updated_at.
// Each backup records, in the table's manifest entry, the column and its
// greatest value in the backup's snapshot (the entry's change mark). An
// incremental backup of the table then examines only the candidate rows,
// those whose change value is at or above the parent's mark (less
// Options.ChangeOverlap), instead of hashing every row:
//
//   - upserts are the candidates whose key is new or whose row hash
//     differs from the parent's stored one (a candidate that did not
//     change costs nothing);
//   - deletes are counted without a join: the parent's row count minus
//     the current rows whose key the parent has (the current count minus
//     the candidates with a new key); only when that is not zero are the
//     deleted keys found, by an anti join of the parent's keys with the
//     table's;
//   - the fingerprint is the parent's, minus the stored hashes of the
//     parent rows replaced or deleted, plus the upserts' hashes.
//
// What can be checked is checked, and the backup then compares every row
// (the key-and-hash delta) instead, with an event naming the table and the
// column: a column that is missing, NULL in some row or of a type other
// than integer, date, timestamp or timestamptz; a parent entry without a
// mark or with another column; a mark lower than the parent's (values went
// backwards); a table without a primary key (deletes and updates of
// key-less rows cannot be told from candidates); a deleted-row count that
// does not add up. What cannot be checked is a row written without raising
// its change value to the parent's mark or above: such a change is missing
// from the incremental (and from the later ones of its chain, until the row
// changes again under the contract or a backup without the change column
// compares every row). A writer whose transactions commit out of the order
// of their change values (a timestamp taken at the start of a long
// transaction) needs an overlap at least as long as its longest
// transaction; integer change columns take none, so their values must be
// assigned in commit order.

// changeDeltas counts the deltas the change column made, and
// changeCandidates the candidate rows they examined (for tests).
var changeDeltas, changeCandidates atomic.Int64

// errChangeFallback: the change column cannot be used for this delta; the
// backup compares every row instead. Its message says why.
type errChangeFallback struct{ why string }

func (e *errChangeFallback) Error() string { return e.why }

func changeFallback(format string, args ...any) error {
	return &errChangeFallback{why: fmt.Sprintf(format, args...)}
}

// changeInfo is the state of a table's change column in the backup's
// snapshot.
type changeInfo struct {
	col   warehouse.Column
	rows  int64  // the table's row count
	mark  string // the greatest change value (formatMark), "" without rows
	nulls int64  // rows whose change value is NULL
}

// Layouts of change marks: how the greatest value is written in the
// manifest and cast back to the column's type in SQL (both engines parse
// them).
const (
	markDate        = "2006-01-02"
	markTimestamp   = "2006-01-02 15:04:05.000000"
	markTimestampTZ = "2006-01-02 15:04:05.000000+00"
)

// changeKindOK reports whether a column of kind k can be a change column.
func changeKindOK(k warehouse.Kind) bool {
	switch k {
	case warehouse.KindInteger, warehouse.KindDate, warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		return true
	}
	return false
}

// formatMark renders a change value read from the engine as a mark.
func formatMark(k warehouse.Kind, v any) (string, error) {
	if k == warehouse.KindInteger {
		n, ok := warehouse.ToInt64(v)
		if !ok {
			return "", fmt.Errorf("change value of Go type %T", v)
		}
		return strconv.FormatInt(n, 10), nil
	}
	t, ok := v.(time.Time)
	if !ok {
		return "", fmt.Errorf("change value of Go type %T", v)
	}
	switch k {
	case warehouse.KindDate:
		return t.Format(markDate), nil
	case warehouse.KindTimestamp:
		return t.Format(markTimestamp), nil
	}
	return t.UTC().Format(markTimestampTZ), nil
}

// parseMark reads a mark back: an integer as an int64, times as UTC times.
func parseMark(k warehouse.Kind, s string) (int64, time.Time, error) {
	var layout string
	switch k {
	case warehouse.KindInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		return n, time.Time{}, err
	case warehouse.KindDate:
		layout = markDate
	case warehouse.KindTimestamp:
		layout = markTimestamp
	case warehouse.KindTimestampTZ:
		layout = markTimestampTZ
	default:
		return 0, time.Time{}, fmt.Errorf("no change mark for kind %v", k)
	}
	t, err := time.Parse(layout, s)
	return 0, t, err
}

// compareMarks compares two marks of kind k (both parse).
func compareMarks(k warehouse.Kind, a, b string) (int, error) {
	na, ta, err := parseMark(k, a)
	if err != nil {
		return 0, err
	}
	nb, tb, err := parseMark(k, b)
	if err != nil {
		return 0, err
	}
	if k == warehouse.KindInteger {
		return cmpInt(na, nb), nil
	}
	return ta.Compare(tb), nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// placeholder is the n-th (from 1) bind parameter in the engine's style.
func placeholder(d warehouse.Dialect, n int) string {
	if d.Name() == "postgres" {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// changeStats reads the change column's state: the table's row count, its
// NULLs and its greatest value, in one scan of the column. A fallback error
// says why the column cannot serve.
func (tb *tableBackup) changeStats(ctx context.Context, cols []warehouse.Column) (*changeInfo, error) {
	ci := &changeInfo{}
	found := false
	for _, c := range cols {
		if c.Name == tb.change {
			ci.col, found = c, true
		}
	}
	if !found {
		return nil, changeFallback("change column %q not found", tb.change)
	}
	if !changeKindOK(ci.col.Type.Kind) {
		return nil, changeFallback("change column %q is of type %s (integer, date, timestamp or timestamptz wanted)", tb.change, ci.col.Type)
	}
	d := tb.src.Dialect()
	c := d.QuoteIdentifier(ci.col.Name)
	var st struct {
		N  int64 `db:"n"`
		NN int64 `db:"nn"`
		M  any   `db:"m"`
	}
	if err := tb.src.Get(ctx, &st, "SELECT count(*) AS n, count("+c+") AS nn, max("+c+") AS m FROM "+d.QuoteRelation(tb.rel)); err != nil {
		return nil, fmt.Errorf("change column %q: %w", tb.change, err)
	}
	ci.rows, ci.nulls = st.N, st.N-st.NN
	if st.M != nil {
		m, err := formatMark(ci.col.Type.Kind, st.M)
		if err != nil {
			return nil, fmt.Errorf("change column %q: %w", tb.change, err)
		}
		ci.mark = m
	}
	return ci, nil
}

// usable says why the change column cannot find the delta against prev
// (nil when it can).
func (ci *changeInfo) usable(prev *Table, key []string) error {
	name := ci.col.Name
	switch {
	case ci.nulls > 0:
		return changeFallback("change column %q is NULL in %d rows", name, ci.nulls)
	case len(key) == 0:
		return changeFallback("table has no primary key: change column %q cannot tell updates and deletes", name)
	case prev.ChangeColumn != name:
		if prev.ChangeColumn == "" {
			return changeFallback("parent entry has no mark of change column %q", name)
		}
		return changeFallback("parent's change column is %q, not %q", prev.ChangeColumn, name)
	case prev.ChangeMark == "":
		return changeFallback("parent entry has no mark of change column %q", name)
	case ci.mark == "":
		return changeFallback("table has no rows: change column %q has no mark", name)
	}
	c, err := compareMarks(ci.col.Type.Kind, ci.mark, prev.ChangeMark)
	if err != nil {
		return changeFallback("change mark %q of column %q does not parse: %v", prev.ChangeMark, name, err)
	}
	if c < 0 {
		return changeFallback("change column %q went backwards: greatest value %s, parent's mark %s", name, ci.mark, prev.ChangeMark)
	}
	return nil
}

// candidates renders the condition that selects the candidate rows (change
// value at or above the parent's mark less the overlap: rows written at
// the mark's value after the backup, by a coarse clock or a transaction
// that started at the same instant, are examined again) with its one bind
// parameter (numbered 1), and that parameter's value.
func (tb *tableBackup) candidates(ci *changeInfo, prev *Table) (string, any, error) {
	d := tb.src.Dialect()
	k := ci.col.Type.Kind
	lo := prev.ChangeMark
	if tb.overlap > 0 && k != warehouse.KindInteger {
		_, t, err := parseMark(k, lo)
		if err != nil {
			return "", nil, err
		}
		t = t.Add(-tb.overlap)
		if k == warehouse.KindDate {
			t = t.Truncate(24 * time.Hour)
		}
		lo, _ = formatMark(k, t)
	}
	ty, err := d.TypeSQL(ci.col.Type)
	if err != nil {
		return "", nil, err
	}
	return d.QuoteIdentifier(ci.col.Name) + " >= CAST(" + placeholder(d, 1) + " AS " + ty + ")", lo, nil
}

// parentDigest is the parent's (key, stored row hash) pairs, composed from
// its chain's local parts in SQL (no scratch table): each key's last entry
// wins — the full parts, then each delta's deletes and upserts in order.
type parentDigest struct {
	restrict func(string) string // the parent's rows (key and hash) of the keys of a relation
	gone     func(string) string // the parent's rows (key and hash) whose key a relation lacks
	release  func()
}

// chainDigest fetches the chain's parts and renders parentDigest for d
// (DuckDB SQL: the source or the scratch database reads it).
func (tb *tableBackup) chainDigest(ctx context.Context, d warehouse.Dialect, chain []*Table, key []string) (*parentDigest, error) {
	sc := tb.scratch
	var fetched [][]Part
	release := func() {
		for _, p := range fetched {
			sc.release(p)
		}
	}
	fetch := func(parts []Part) (string, error) {
		files, err := sc.fetch(ctx, parts)
		if err != nil {
			return "", err
		}
		fetched = append(fetched, parts)
		return readParquet(files), nil
	}
	ks := make([]string, len(key))
	for i, k := range key {
		ks[i] = d.QuoteIdentifier(k)
	}
	keyList := strings.Join(ks, ", ")
	h := d.QuoteIdentifier(RowHashColumn)
	if len(chain) == 1 {
		if len(chain[0].Data.Parts) == 0 {
			return nil, changeFallback("the parent's entry has no parts")
		}
		src, err := fetch(chain[0].Data.Parts)
		if err != nil {
			release()
			return nil, err
		}
		all := "(SELECT " + keyList + ", " + h + " FROM " + src + ")"
		return &parentDigest{
			restrict: func(string) string { return all },
			gone: func(cur string) string {
				return "(SELECT p.* FROM " + all + " AS p ANTI JOIN " + cur + " AS c ON " + keyJoin(d, key, "p", "c") + ")"
			},
			release: release,
		}, nil
	}
	var union, keys []string // keys: every key a parent row may have
	for i, t := range chain {
		for _, side := range []struct {
			parts []Part
			order int
			del   bool
		}{{t.Data.Parts, 0, false}, {t.Data.Deletes, 2 * i, true}, {t.Data.Upserts, 2*i + 1, false}} {
			if len(side.parts) == 0 {
				continue
			}
			src, err := fetch(side.parts)
			if err != nil {
				release()
				return nil, err
			}
			hash := h
			if side.del {
				hash = "CAST(0 AS BIGINT)"
			}
			if !side.del {
				keys = append(keys, "SELECT "+keyList+" FROM "+src)
			}
			union = append(union, fmt.Sprintf("SELECT %s, %s AS %s, %d AS dataops_o, %t AS dataops_del FROM %s", keyList, hash, h, side.order, side.del, src))
		}
	}
	if len(keys) == 0 {
		release()
		return nil, changeFallback("the parent's chain has no rows")
	}
	rows := "(" + strings.Join(union, " UNION ALL ") + ")"
	last := func(from string) string {
		return "(SELECT " + keyList + ", " + h + " FROM (SELECT " + keyList + ", arg_max(" + h + ", dataops_o) AS " + h +
			", arg_max(dataops_del, dataops_o) AS dataops_del FROM " + from + " GROUP BY " + keyList + ") AS dataops_last WHERE NOT dataops_del)"
	}
	restrict := func(k string) string {
		return last("(SELECT dataops_u.* FROM " + rows + " AS dataops_u SEMI JOIN (SELECT " + keyList + " FROM " + k + ") AS dataops_k ON " + keyJoin(d, key, "dataops_u", "dataops_k") + ")")
	}
	return &parentDigest{
		restrict: restrict,
		// the keys of the chain's full and upsert parts that the relation
		// lacks (few), then their rows in the parent: no grouping of
		// every key of the chain
		gone: func(cur string) string {
			return restrict("(SELECT p.* FROM (" + strings.Join(keys, " UNION ALL ") + ") AS p ANTI JOIN " + cur + " AS c ON " + keyJoin(d, key, "p", "c") + ")")
		},
		release: release,
	}, nil
}

// changeCounts are the candidates compared with the parent.
type changeCounts struct {
	All  int64 `db:"al"` // candidates
	New  int64 `db:"nw"` // key not in the parent
	Same int64 `db:"sm"` // same key and hash as the parent's row
}

// compareCandidates joins the candidates' (key, hash) digest (a relation
// of runner q, with the row hash column) with the parent's, into the table
// or file dst: the candidates' columns and dataops_old, the parent row's
// stored hash (NULL for a new key). It returns the counts and the
// fingerprint of the parent rows the candidates replace.
func compareCandidates(ctx context.Context, q sqlRunner, d warehouse.Dialect, cand, dst string, pd *parentDigest, key []string) (changeCounts, Fingerprint, error) {
	var n changeCounts
	h := d.QuoteIdentifier(RowHashColumn)
	if _, err := q.Exec(ctx, "COPY (SELECT c.*, p."+h+" AS dataops_old FROM "+cand+" AS c LEFT JOIN "+pd.restrict(cand)+" AS p ON "+
		keyJoin(d, key, "c", "p")+") TO "+sqlString(dst)+" (FORMAT parquet, COMPRESSION uncompressed)"); err != nil {
		return n, Fingerprint{}, fmt.Errorf("candidates against the parent: %w", err)
	}
	joined := "read_parquet(" + sqlString(dst) + ")"
	if err := q.Get(ctx, &n, "SELECT count(*) AS al, count(*) FILTER (WHERE dataops_old IS NULL) AS nw, count(*) FILTER (WHERE dataops_old = "+h+") AS sm FROM "+joined); err != nil {
		return n, Fingerprint{}, fmt.Errorf("candidates against the parent: %w", err)
	}
	var st hashStats
	if err := q.Get(ctx, &st, "SELECT "+hashAggregates("dataops_old")+" FROM "+joined+" WHERE dataops_old <> "+h); err != nil {
		return n, Fingerprint{}, fmt.Errorf("hashes of replaced rows: %w", err)
	}
	changeCandidates.Add(n.All)
	replaced, err := st.fingerprint()
	return n, replaced, err
}

// deletedKeys writes to dst the keys and stored hashes of the parent rows
// whose key cur (a relation of runner q with the key columns) lacks, and
// returns their fingerprint; a count other than want means the change
// column's contract was broken.
func deletedKeys(ctx context.Context, q sqlRunner, d warehouse.Dialect, pd *parentDigest, cur, dst string, key []string, want int64) (Fingerprint, error) {
	if _, err := q.Exec(ctx, "COPY (SELECT * FROM "+pd.gone(cur)+") TO "+sqlString(dst)+" (FORMAT parquet, COMPRESSION uncompressed)"); err != nil {
		return Fingerprint{}, fmt.Errorf("deleted keys: %w", err)
	}
	var st hashStats
	if err := q.Get(ctx, &st, "SELECT "+hashAggregates(d.QuoteIdentifier(RowHashColumn))+" FROM read_parquet(?)", dst); err != nil {
		return Fingerprint{}, fmt.Errorf("hashes of deleted rows: %w", err)
	}
	if st.N != want {
		return Fingerprint{}, changeFallback("%d rows deleted by count, %d by key: rows were inserted with a change value below the mark", want, st.N)
	}
	return st.fingerprint()
}

// changeDelta fills e with the delta against prev from the candidate rows
// of the change column, or returns an errChangeFallback.
func (tb *tableBackup) changeDelta(ctx context.Context, e *Table, cols []warehouse.Column, key []string, prev *Table, ci *changeInfo) error {
	chain, err := tb.cache.chain(ctx, tb.parent.ID, prev)
	if err != nil {
		return err
	}
	engine := prev.RowHashKind() != HashSHA256
	switch {
	case engine && tb.nat:
		return tb.changeDeltaEngine(ctx, e, cols, key, prev, chain, ci)
	case !engine && tb.src.Dialect().Name() == "postgres":
		return tb.changeDeltaPortable(ctx, e, cols, key, prev, chain, ci)
	}
	return changeFallback("the table's rows take the general path (column types, -0.0 or row hash kind %s)", prev.RowHashKind())
}

// changeDeltaEngine is changeDelta on DuckDB's engine-hash path, all in
// SQL: the candidates, hashed, go to a local file; their join with the
// parent's digest finds upserts and replaced hashes.
func (tb *tableBackup) changeDeltaEngine(ctx context.Context, e *Table, cols []warehouse.Column, key []string, prev *Table, chain []*Table, ci *changeInfo) error {
	sc := tb.scratch
	d := tb.src.Dialect()
	hx, ok := duckEngineHash(d, cols, d.QuoteIdentifier)
	if !ok {
		return changeFallback("no engine row hash for the table's columns")
	}
	step := func(msg string) {
		tb.em.progress(tb.rel.String(), tb.stats.written, tb.stats.bytes, "change delta: "+msg)
	}
	where, lo, err := tb.candidates(ci, prev)
	if err != nil {
		return err
	}
	// the parent's parts are fetched while the source writes the
	// candidates
	var pd *parentDigest
	fetched := make(chan error, 1)
	go func() {
		var err error
		pd, err = tb.chainDigest(ctx, d, chain, key)
		fetched <- err
	}()
	defer func() {
		if <-fetched == nil {
			pd.release()
		}
	}()
	h := d.QuoteIdentifier(RowHashColumn)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = d.QuoteIdentifier(c.Name)
	}
	src := d.QuoteRelation(tb.rel)
	joinedFile := filepath.Join(tb.dir, sc.name("joined")+".parquet")
	delsFile := filepath.Join(tb.dir, sc.name("deleted")+".parquet")
	for _, f := range []string{joinedFile, delsFile} {
		defer os.Remove(f)
	}
	cand, candDir, err := tb.unorderedCopy(ctx, tb.src, "candidates", "SELECT "+strings.Join(names, ", ")+", "+asSigned(hx)+" AS "+h+" FROM "+src+" WHERE "+where, lo)
	if err != nil {
		return fmt.Errorf("candidate rows: %w", err)
	}
	defer os.RemoveAll(candDir)
	step("candidates written")
	err = <-fetched
	fetched <- err // for the deferred release
	if err != nil {
		return err
	}
	step("parent's keys and hashes local")
	n, removed, err := compareCandidates(ctx, tb.src, d, cand, joinedFile, pd, key)
	if err != nil {
		return err
	}
	step("candidates compared")
	deleted := prev.Fingerprint.Count - (ci.rows - n.New)
	if deleted < 0 {
		return changeFallback("%d rows now, %d in the parent, %d new by the change column: rows were inserted with a change value below the mark", ci.rows, prev.Fingerprint.Count, n.New)
	}
	ks := make([]string, len(key))
	for i, k := range key {
		ks[i] = d.QuoteIdentifier(k)
	}
	keyList := strings.Join(ks, ", ")
	deletes := []Part{}
	if deleted > 0 {
		gone, err := deletedKeys(ctx, tb.src, d, pd, "(SELECT "+keyList+" FROM "+src+")", delsFile, key, deleted)
		if err != nil {
			return err
		}
		removed.Merge(gone)
		keysFile := filepath.Join(tb.dir, sc.name("deleted_keys")+".parquet")
		defer os.Remove(keysFile)
		if _, err := tb.src.Exec(ctx, "COPY (SELECT "+keyList+" FROM read_parquet("+sqlString(delsFile)+")) TO "+sqlString(keysFile)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
			return fmt.Errorf("deleted keys: %w", err)
		}
		if err := storeFile(tb.upload(ctx, &deletes), keysFile, deleted); err != nil {
			return err
		}
		step("deleted keys written")
	}
	if n.All == n.Same && deleted == 0 {
		tb.sameAs(e, prev)
		changeDeltas.Add(1)
		return nil
	}
	upserts, added, err := tb.copyParts(ctx, "SELECT "+strings.Join(names, ", ")+", "+h+" FROM read_parquet("+sqlString(joinedFile)+") WHERE dataops_old IS NULL OR dataops_old <> "+h)
	if err != nil {
		return err
	}
	step("upserts stored")
	tb.deltaOf(e, prev, removed, added, upserts, deletes)
	changeDeltas.Add(1)
	return nil
}

// sameAs fills e as unchanged since the parent, whose entry is prev.
func (tb *tableBackup) sameAs(e, prev *Table) {
	e.Rows, e.Fingerprint = prev.Fingerprint.Count, prev.Fingerprint
	e.Data = TableData{Mode: ModeSame, Base: tb.parent.ID}
}

// deltaOf fills e as a delta against the parent, whose entry is prev: its
// fingerprint is prev's less the stored hashes of the parent rows replaced
// or deleted, plus the upserts'.
func (tb *tableBackup) deltaOf(e, prev *Table, removed, added Fingerprint, upserts, deletes []Part) {
	fp := prev.Fingerprint
	fp.Remove(removed)
	fp.Merge(added)
	e.Rows, e.Fingerprint = fp.Count, fp
	e.Data = TableData{Mode: ModeDelta, Base: tb.parent.ID, Upserts: upserts, Deletes: deletes}
}

// loadDigest streams the rows flt selects (all when nil), hashed, to each
// (when not nil), and their key columns (at kidx) and hash into the
// scratch table rel. It returns the rows' fingerprint.
func (tb *tableBackup) loadDigest(ctx context.Context, cols []warehouse.Column, kidx []int, flt *rowFilter, rel warehouse.Relation, each func(values []any, h uint64) error) (Fingerprint, error) {
	var fp Fingerprint
	var scanErr error
	row := make([]any, len(kidx)+1)
	rows := func(yield func([]any, error) bool) {
		fp, scanErr = tb.scanRowsWhere(ctx, cols, flt, func(values []any, h uint64) error {
			if each != nil {
				if err := each(values, h); err != nil {
					return err
				}
			}
			for i, j := range kidx {
				row[i] = values[j]
			}
			row[len(kidx)] = int64(h)
			if !yield(row, nil) {
				return context.Canceled
			}
			return nil
		})
		if scanErr != nil {
			yield(nil, scanErr)
		}
	}
	if _, err := tb.scratch.w.Load(ctx, rel, nil, rows); err != nil {
		if scanErr != nil {
			return fp, scanErr
		}
		return fp, err
	}
	return fp, nil
}

// rowFilter restricts the rows scanRows reads (PostgreSQL only): a
// condition with its bind parameters.
type rowFilter struct {
	where string
	args  []any
}

// changeDeltaPortable is changeDelta on the portable path (PostgreSQL): the
// candidates stream through Go, which hashes them (SHA-256, FORMAT.md §7)
// and writes them as local parts while their (key, hash) go to the scratch
// database, which compares them with the parent's digest.
func (tb *tableBackup) changeDeltaPortable(ctx context.Context, e *Table, cols []warehouse.Column, key []string, prev *Table, chain []*Table, ci *changeInfo) error {
	sc := tb.scratch
	if err := sc.open(ctx); err != nil {
		return err
	}
	sd := sc.w.Dialect()
	where, lo, err := tb.candidates(ci, prev)
	if err != nil {
		return err
	}
	kcols, kidx := keyColumns(cols, key)
	// pass 1: the candidates, hashed, into local parts and their digest
	// into the scratch database
	candName, curName := sc.name("candidates"), sc.name("current_keys")
	candRel, curRel := warehouse.Rel("main", candName), warehouse.Rel("main", curName)
	defer sc.w.Drop(context.WithoutCancel(ctx), candRel)
	defer sc.w.Drop(context.WithoutCancel(ctx), curRel)
	withHash := append(append([]warehouse.Column(nil), kcols...), hashCol)
	if err := sc.w.CreateTable(ctx, candRel, withHash, nil); err != nil {
		return err
	}
	var local []partFile
	defer func() {
		for _, p := range local {
			os.Remove(p.Path)
		}
	}()
	pw, err := newPartWriter(cols, tb.dir, tb.partRows, tb.partBytes, true, func(p partFile) error {
		local = append(local, p)
		return nil
	})
	if err != nil {
		return err
	}
	defer pw.Abort()
	flt := &rowFilter{where: where, args: []any{lo}}
	candFP, err := tb.loadDigest(ctx, cols, kidx, flt, candRel, pw.Write)
	if err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return err
	}
	pd, err := tb.chainDigest(ctx, sd, chain, key)
	if err != nil {
		return err
	}
	defer pd.release()
	joinedFile := filepath.Join(tb.dir, sc.name("joined")+".parquet")
	delsFile := filepath.Join(tb.dir, sc.name("deleted")+".parquet")
	defer os.Remove(joinedFile)
	defer os.Remove(delsFile)
	n, removed, err := compareCandidates(ctx, sc.w, sd, sd.QuoteRelation(candRel), joinedFile, pd, key)
	if err != nil {
		return err
	}
	deleted := prev.Fingerprint.Count - (ci.rows - n.New)
	if deleted < 0 {
		return changeFallback("%d rows now, %d in the parent, %d new by the change column: rows were inserted with a change value below the mark", ci.rows, prev.Fingerprint.Count, n.New)
	}
	deletes := []Part{}
	if deleted > 0 {
		// the table's keys into the scratch database, for the anti join
		if err := sc.w.CreateTable(ctx, curRel, kcols, nil); err != nil {
			return err
		}
		d := tb.src.Dialect()
		if _, err := sc.w.Load(ctx, curRel, nil, func(yield func([]any, error) bool) {
			for rec, err := range tb.src.Rows(ctx, selectFrom(d, d.QuoteRelation(tb.rel), kcols)) {
				if err != nil {
					yield(nil, err)
					return
				}
				if !yield(rec.Values, nil) {
					return
				}
			}
		}); err != nil {
			return fmt.Errorf("keys of the table: %w", err)
		}
		gone, err := deletedKeys(ctx, sc.w, sd, pd, sd.QuoteRelation(curRel), delsFile, key, deleted)
		if err != nil {
			return err
		}
		removed.Merge(gone)
		if deletes, err = tb.writeKeyParts(ctx, kcols, sc.w.Rows(ctx, selectFrom(sd, "read_parquet("+sqlString(delsFile)+")", kcols))); err != nil {
			return err
		}
	}
	if n.All == n.Same && deleted == 0 {
		tb.sameAs(e, prev)
		changeDeltas.Add(1)
		return nil
	}
	upserts := []Part{}
	added := candFP
	if n.Same == 0 {
		// every candidate changed: its local parts are the upserts
		done := tb.upload(ctx, &upserts)
		for len(local) > 0 {
			p := local[0]
			local = local[1:]
			if err := done(p); err != nil {
				return err
			}
		}
	} else {
		// pass 2: the candidates again, without those that did not change
		var st hashStats
		if err := sc.w.Get(ctx, &st, "SELECT "+hashAggregates(sd.QuoteIdentifier(RowHashColumn))+" FROM read_parquet(?) WHERE dataops_old = "+sd.QuoteIdentifier(RowHashColumn), joinedFile); err != nil {
			return err
		}
		same, err := st.fingerprint()
		if err != nil {
			return err
		}
		added.Remove(same)
		kh := NewRowHasher(kcols)
		unchanged := map[string]bool{}
		for rec, err := range sc.w.Rows(ctx, selectFrom(sd, "read_parquet("+sqlString(joinedFile)+") WHERE dataops_old = "+sd.QuoteIdentifier(RowHashColumn), kcols)) {
			if err != nil {
				return err
			}
			b, err := kh.Encode(rec.Values)
			if err != nil {
				return err
			}
			unchanged[string(b)] = true
		}
		kv := make([]any, len(kidx))
		pw2, err := newPartWriter(cols, tb.dir, tb.partRows, tb.partBytes, true, tb.upload(ctx, &upserts))
		if err != nil {
			return err
		}
		defer pw2.Abort()
		if _, err := tb.scanRowsWhere(ctx, cols, flt, func(values []any, h uint64) error {
			for i, j := range kidx {
				kv[i] = values[j]
			}
			b, err := kh.Encode(kv)
			if err != nil || unchanged[string(b)] {
				return err
			}
			return pw2.Write(values, h)
		}); err != nil {
			return err
		}
		if err := pw2.Close(); err != nil {
			return err
		}
	}
	tb.deltaOf(e, prev, removed, added, upserts, deletes)
	changeDeltas.Add(1)
	return nil
}

// changeRun records the table's change column and mark in e and, against
// a parent, finds the delta from the candidate rows. It returns whether e
// holds the delta; when the column cannot serve, it says why in an event
// and the caller compares every row.
func (tb *tableBackup) changeRun(ctx context.Context, e *Table, cols []warehouse.Column, key []string, prev *Table) (bool, error) {
	ci, err := tb.changeStats(ctx, cols)
	var fb *errChangeFallback
	if err == nil {
		if ci.nulls == 0 && ci.mark != "" {
			e.ChangeColumn, e.ChangeMark = ci.col.Name, ci.mark
		}
		if prev == nil {
			if ci.nulls > 0 {
				tb.em.warn(tb.rel.String(), fmt.Sprintf("change column %q of %s gets no mark: NULL in %d rows", tb.change, tb.rel, ci.nulls))
			}
			return false, nil
		}
		if err = ci.usable(prev, key); err == nil {
			err = tb.changeDelta(ctx, e, cols, key, prev, ci)
		}
	}
	if err == nil {
		return true, nil
	}
	if !errors.As(err, &fb) {
		return false, err
	}
	if prev != nil {
		tb.em.warn(tb.rel.String(), fmt.Sprintf("change column %q of %s not used, every row compared: %s", tb.change, tb.rel, fb.why))
	} else {
		tb.em.warn(tb.rel.String(), fmt.Sprintf("change column %q of %s gets no mark: %s", tb.change, tb.rel, fb.why))
	}
	e.Data = TableData{}
	return false, nil
}
