package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// RestoreOptions choose what Restore brings back and where.
type RestoreOptions struct {
	// Snapshot is the snapshot id or a unique prefix. Empty means the
	// latest snapshot, or the latest at or before AsOf when that is set.
	Snapshot string
	// AsOf picks the latest snapshot taken at or before this time.
	AsOf time.Time
	// Tables selects "schema.table" or "schema" entries; empty means all.
	Tables []string
	// Schema restores side by side: every table goes into this schema
	// (for drills), leaving the originals alone. Empty restores over the
	// originals.
	Schema string
	// Overwrite lets a side-by-side restore replace tables that exist.
	Overwrite bool
	// Concurrency bounds tables restored at once; 0 means 2.
	Concurrency int
	// Rehash re-derives the hash of every restored row from the loaded
	// table (reading it back through Go) for the fingerprint check, instead
	// of the DuckDB fast path's check (see Restore). Slower; for drills that
	// want to prove the engine's round trip too.
	Rehash bool
	// TempDir holds fetched parts; "" means os.TempDir().
	TempDir string
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Events receives start, progress, finish and error events, one call at
	// a time even when tables are processed in parallel.
	Events func(Event)
}

// RestoredTable reports one restored table.
type RestoredTable struct {
	Source      warehouse.Relation // as in the snapshot
	Target      warehouse.Relation // where it was restored
	Rows        int64
	Fingerprint Fingerprint // checked equal to the manifest's
}

// RestoreResult reports a restore.
type RestoreResult struct {
	Snapshot string
	Time     time.Time // the snapshot's time
	Tables   []RestoredTable
	Rows     int64
	Duration time.Duration
}

// ErrTargetExists: a side-by-side restore would replace an existing table
// and Overwrite was not asked.
var ErrTargetExists = errors.New("restore target exists")

// ErrTargetConflict: a side-by-side restore would put two tables of the
// snapshot (of different schemas, with one name) into the same relation.
var ErrTargetConflict = errors.New("two tables restore to one target")

// ErrMismatch: restored data does not match the manifest's row count or
// fingerprint.
var ErrMismatch = errors.New("restored data does not match the snapshot")

// ErrNoSnapshot: no snapshot matches (an empty repository, or none at or
// before the time asked).
var ErrNoSnapshot = errors.New("no snapshot")

// FindSnapshot resolves a snapshot: by id or prefix, else the latest at or
// before asOf (when not zero), else the latest.
func FindSnapshot(ctx context.Context, repo *repository.Repository, id string, asOf time.Time) (string, error) {
	if id != "" {
		full, err := repo.ResolveID(ctx, id)
		if err != nil {
			return "", fmt.Errorf("backup: snapshot %s: %w", id, err)
		}
		return full, nil
	}
	list, err := repo.List(ctx)
	if err != nil {
		return "", fmt.Errorf("backup: list snapshots: %w", err)
	}
	best := ""
	var bestTime time.Time
	for _, s := range list {
		if !asOf.IsZero() && s.Time.After(asOf) {
			continue
		}
		if best == "" || !s.Time.Before(bestTime) {
			best, bestTime = s.ID, s.Time
		}
	}
	if best == "" {
		if asOf.IsZero() {
			return "", fmt.Errorf("backup: the repository has %w", ErrNoSnapshot)
		}
		return "", fmt.Errorf("backup: %w at or before %s", ErrNoSnapshot, asOf.UTC().Format(time.RFC3339))
	}
	return best, nil
}

// selectEntries returns the entries of s that sel names (all when empty).
func selectEntries(s *Snapshot, sel []string) ([]*Table, error) {
	var out []*Table
	if len(sel) == 0 {
		for i := range s.Tables {
			out = append(out, &s.Tables[i])
		}
		return out, nil
	}
	for _, x := range sel {
		schema, name, ok := strings.Cut(x, ".")
		found := false
		for i := range s.Tables {
			t := &s.Tables[i]
			if t.Schema == schema && (!ok || name == "*" || t.Name == name) {
				out = append(out, t)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("backup: snapshot %s has no table %s: %w", short(s.ID), x, repository.ErrNotFound)
		}
	}
	return out, nil
}

// Restore brings back a snapshot, or some of its tables, into w: over the
// originals, or side by side into another schema (RestoreOptions.Schema).
// Each table is loaded aside under a scratch name, checked against the
// manifest (row count and fingerprint; a mismatch is ErrMismatch naming the
// table), and only then are all tables swapped in, in one transaction. A
// failed restore changes nothing.
//
// A table restored into DuckDB is loaded by DuckDB itself: INSERT … SELECT
// FROM read_parquet of its parts (fetched two at a time, loaded as they
// come) or, for a table with deltas, of its chain (composed in the target
// for a keyed table of this DuckDB's row hashes, else in a scratch database
// opened for it), its key added after the load; or, for a large table
// whose index the memory_limit leaves no room to build at once
// (keyAfterLoad), into the table created with its key, one part per INSERT
// (a commit each, which bounds what a commit holds).
// Its check then recomputes the engine fingerprint over the loaded table in
// SQL (while the key is added), or for portable row hashes counts the loaded
// rows and takes the fingerprint of the row hashes stored in the parts —
// whose bytes fetching verified against their ids — rather than re-hashing
// every row through Go, unless RestoreOptions.Rehash. A restore into
// PostgreSQL re-hashes the loaded rows.
func Restore(ctx context.Context, repo *repository.Repository, w *warehouse.Warehouse, opts RestoreOptions) (*RestoreResult, error) {
	em := newEmitter(opts.Events, opts.Logger, "restore")
	em.startEv(opts.Snapshot, "restore started")
	res, err := runRestore(ctx, repo, w, opts, em)
	if err != nil {
		return nil, em.fail(opts.Snapshot, err)
	}
	em.finish(res.Snapshot, res.Rows, 0, fmt.Sprintf("restored %d tables of %s", len(res.Tables), short(res.Snapshot)))
	return res, nil
}

type restoreJob struct {
	entry   *Table
	target  warehouse.Relation
	staging warehouse.Relation
	fp      Fingerprint
}

func runRestore(ctx context.Context, repo *repository.Repository, w *warehouse.Warehouse, opts RestoreOptions, em *emitter) (*RestoreResult, error) {
	start := time.Now()
	id, err := FindSnapshot(ctx, repo, opts.Snapshot, opts.AsOf)
	if err != nil {
		return nil, err
	}
	cache := newSnapshotCache(repo)
	snap, err := cache.get(ctx, id)
	if err != nil {
		return nil, err
	}
	entries, err := selectEntries(snap, opts.Tables)
	if err != nil {
		return nil, err
	}
	d := w.Dialect()
	jobs := make([]*restoreJob, len(entries))
	targets := make(map[string]*Table, len(entries))
	for i, e := range entries {
		target := e.Relation()
		if opts.Schema != "" {
			target.Schema = opts.Schema
			if other, dup := targets[target.Name]; dup {
				return nil, fmt.Errorf("backup: restore %s and %s into schema %s: %w: both would become %s; restore one schema at a time or pick tables",
					other, e, opts.Schema, ErrTargetConflict, target)
			}
			targets[target.Name] = e
			if _, err := w.Relation(ctx, target); err == nil && !opts.Overwrite {
				return nil, fmt.Errorf("backup: restore %s into %s: %w (ask to overwrite)", e, target, ErrTargetExists)
			} else if err != nil && !errors.Is(err, warehouse.ErrNotFound) {
				return nil, fmt.Errorf("backup: restore %s: %w", e, err)
			}
		}
		staging := warehouse.Rel(target.Schema, stagingName(d, target.Name))
		jobs[i] = &restoreJob{entry: e, target: target, staging: staging}
	}
	createdSchemas := map[string]bool{}
	if opts.Schema != "" {
		schemas, err := w.Schemas(ctx)
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		found := false
		for _, s := range schemas {
			found = found || s == opts.Schema
		}
		if !found {
			createdSchemas[opts.Schema] = true
		}
	}
	for _, j := range jobs {
		if err := w.CreateSchema(ctx, j.target.Schema); err != nil {
			return nil, fmt.Errorf("backup: restore %s: %w", j.entry, err)
		}
	}
	cleanup := func() {
		bg := context.WithoutCancel(ctx)
		for _, j := range jobs {
			w.Drop(bg, j.staging)
		}
		for s := range createdSchemas {
			w.DropSchema(bg, s, true)
		}
	}
	tempDir := tempDirOr(opts.TempDir)
	// the scratch database opens only if a chain is composed there (a
	// full entry, or a chain composed in the target, needs only fetches)
	sc, err := newLazyScratch(repo, tempDir)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	info, err := w.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, cmpOr(opts.Concurrency, 2)))
	for _, j := range jobs {
		g.Go(func() error {
			if err := restoreTable(gctx, w, info, sc, cache, snap.ID, j, opts.Rehash, em); err != nil {
				return fmt.Errorf("backup: restore %s: %w", j.entry, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		cleanup()
		return nil, err
	}
	// swap everything in, in one transaction
	err = w.WithTx(ctx, func(tx *warehouse.Tx) error {
		for _, j := range jobs {
			if err := tx.Drop(ctx, j.target); err != nil {
				return err
			}
			if err := tx.Rename(ctx, j.staging, j.target.Name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("backup: swap restored tables in: %w", err)
	}
	res := &RestoreResult{Snapshot: snap.ID, Time: snap.Manifest.Time, Duration: time.Since(start)}
	for _, j := range jobs {
		res.Tables = append(res.Tables, RestoredTable{Source: j.entry.Relation(), Target: j.target, Rows: j.fp.Count, Fingerprint: j.fp})
		res.Rows += j.fp.Count
	}
	return res, nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// stagingName is the scratch name a table is restored under before the swap,
// kept within the engine's identifier length.
func stagingName(d warehouse.Dialect, name string) string {
	const suffix = "__dataops_restore"
	if n := d.MaxIdentifierLength(); n > 0 && len(name)+len(suffix) > n {
		name = name[:n-len(suffix)]
	}
	return name + suffix
}

// restoreTable loads one table into its staging relation and checks it.
//
// How it is checked depends on the entry's row hash kind (FORMAT.md §7):
// the engine kind of the target's own DuckDB version is recomputed over the
// loaded table in SQL; the portable kind is taken from the parts' stored
// hashes (or re-derived through Go with Rehash, and always on PostgreSQL);
// an engine kind the target cannot compute (PostgreSQL, another DuckDB
// version) is checked the portable way against the parts themselves: their
// rows are hashed in Go as they stream into the target, and the loaded
// table must have the same portable fingerprint and the entry's row count.
func restoreTable(ctx context.Context, w *warehouse.Warehouse, info warehouse.Info, sc *scratch, cache *snapshotCache, snapID string, j *restoreJob, rehash bool, em *emitter) error {
	e := j.entry
	cols, err := e.WarehouseColumns()
	if err != nil {
		return err
	}
	chain, err := cache.chain(ctx, snapID, e)
	if err != nil {
		return err
	}
	if err := w.Drop(ctx, j.staging); err != nil {
		return err
	}
	var pk []string
	if len(e.PrimaryKey) > 0 {
		pk = e.PrimaryKey
	}
	kind := e.RowHashKind()
	same := kind != HashSHA256 && info.Engine == "duckdb" && kind == duckHashKind(info.Version)
	portable := kind != HashSHA256 && !same
	// The staging table is created whole or not at all, even when another
	// table's failure cancels ctx: a CREATE cancelled from the client can
	// still commit on a PostgreSQL server after the cleanup looked for it.
	if err := ctx.Err(); err != nil {
		return err
	}
	// DuckDB loads a table without its key faster and builds the key's
	// index afterwards in one pass (checking uniqueness) instead of row by
	// row (10M rows: 8.1 CPU-s instead of 10.7) — but that pass holds every
	// key at once, beyond the database's memory_limit (10M rows: 510 MiB
	// peak RSS under a 192 MB limit, 300 MiB with the key created first):
	// large tables are loaded into the keyed table unless the limit leaves
	// room for their index (keyAfterLoad).
	bulk := info.Engine == "duckdb" && !portable
	keyAfter := bulk && keyAfterLoad(ctx, w, e.Rows)
	createPK := pk
	if keyAfter {
		createPK = nil
	}
	if err := w.CreateTable(context.WithoutCancel(ctx), j.staging, cols, &warehouse.TableOptions{PrimaryKey: createPK}); err != nil {
		return err
	}
	em.startEv(e.String(), "table restore started")
	var files []string
	var fetching []*localPart // a full entry's parts, loaded as they come
	loaded := false
	if bulk {
		// DuckDB reads the parts itself: of a full entry directly (each
		// INSERT takes the parts fetched so far, while the next ones are
		// fetched); of a chain with a key and this engine's row hashes,
		// each entry's rows but those a later delta replaces or deletes;
		// else the chain composed in the scratch database and written out
		// as one file
		switch {
		case len(chain) == 1:
			fetching = sc.fetchStart(ctx, chain[0].Data.Parts)
			defer sc.release(chain[0].Data.Parts)
		case same && len(pk) > 0:
			if err := composeInto(ctx, w, sc, chain, cols, pk, j.staging, createPK != nil); err != nil {
				return err
			}
			loaded = true
		default:
			f, err := sc.composeFile(ctx, chain, cols, e.PrimaryKey)
			if err != nil && !errors.Is(err, errNegativeZero) {
				return err
			}
			if err == nil {
				defer os.Remove(f)
				files = []string{f}
			}
		}
	}
	var want Fingerprint // the portable fingerprint of the parts' rows
	if loaded || files != nil || (bulk && len(chain) == 1) {
		if fetching != nil {
			if files, err = loadFetched(ctx, w, sc, j.staging, cols, chain[0].Data.Parts, fetching, createPK != nil); err != nil {
				return err
			}
		} else if !loaded {
			if err := loadParquetFiles(ctx, w, j.staging, cols, files); err != nil {
				return err
			}
		}
		em.progress(e.String(), e.Rows, 0, "rows loaded")
		if same {
			// the engine fingerprint of the loaded rows, taken on another
			// connection while the key's index is built (1M rows: 122-130
			// ms for both instead of 132-147 one after the other)
			var fp Fingerprint
			var fpErr error
			fpDone := make(chan struct{})
			go func() {
				defer close(fpDone)
				fp, fpErr = duckEngineFingerprint(ctx, w, w.Dialect().QuoteRelation(j.staging), cols)
			}()
			var keyErr error
			if keyAfter {
				keyErr = addPrimaryKey(ctx, w, j.staging, pk)
			}
			<-fpDone
			if keyErr != nil {
				return keyErr
			}
			if keyAfter {
				em.progress(e.String(), e.Rows, 0, "primary key added")
			}
			if fpErr != nil {
				return fmt.Errorf("fingerprint the restored rows: %w", fpErr)
			}
			j.fp = fp
			if fp != e.Fingerprint {
				return fmt.Errorf("table %s: %w: restored %d rows, fingerprint %v (%s); the snapshot has %d rows, fingerprint %v",
					e, ErrMismatch, fp.Count, fp, kind, e.Rows, e.Fingerprint)
			}
			em.finish(e.String(), fp.Count, 0, "table restored and verified")
			return nil
		}
		if keyAfter {
			if err := addPrimaryKey(ctx, w, j.staging, pk); err != nil {
				return err
			}
			em.progress(e.String(), e.Rows, 0, "primary key added")
		}
		if !rehash {
			fp, err := storedFingerprint(ctx, w, files)
			if err == nil {
				err = checkLoaded(ctx, w, j, fp)
			}
			if err != nil {
				return err
			}
			em.finish(e.String(), fp.Count, 0, "table restored and verified")
			return nil
		}
	} else {
		tmp := sc.name("restore")
		if err := sc.compose(ctx, chain, cols, e.PrimaryKey, tmp); err != nil {
			return err
		}
		defer sc.w.Drop(context.WithoutCancel(ctx), warehouse.Rel("main", tmp))
		sc.releaseChain(chain)
		h := NewRowHasher(cols)
		rows := func(yield func([]any, error) bool) {
			for rec, err := range scanTable(ctx, sc.w, sc.w.Dialect().QuoteRelation(warehouse.Rel("main", tmp)), cols) {
				if err == nil && portable {
					var x uint64
					if x, err = h.Hash(rec.Values); err == nil {
						want.Add(x)
					}
				}
				if !yield(rec.Values, err) || err != nil {
					return
				}
			}
		}
		if _, err := w.Load(ctx, j.staging, nil, rows); err != nil {
			return err
		}
		if keyAfter {
			if err := addPrimaryKey(ctx, w, j.staging, pk); err != nil {
				return err
			}
		}
	}
	var fp Fingerprint
	if same {
		fp, err = duckEngineFingerprint(ctx, w, w.Dialect().QuoteRelation(j.staging), cols)
	} else {
		fp, err = fingerprintQuery(ctx, w, j.staging, cols)
	}
	if err != nil {
		return err
	}
	j.fp = fp
	if portable {
		if fp != want || fp.Count != e.Rows {
			return fmt.Errorf("table %s: %w: restored %d rows, fingerprint %v; its parts hold %d rows, fingerprint %v (the snapshot's %d rows have %s hashes, checked the portable way)",
				e, ErrMismatch, fp.Count, fp, want.Count, want, e.Rows, kind)
		}
	} else if fp != e.Fingerprint {
		return fmt.Errorf("table %s: %w: restored %d rows, fingerprint %v; the snapshot has %d rows, fingerprint %v",
			e, ErrMismatch, fp.Count, fp, e.Rows, e.Fingerprint)
	}
	em.finish(e.String(), fp.Count, 0, "table restored and verified")
	return nil
}

// restoreInserts counts the INSERT statements of loadFetched and
// composeInto (for tests).
var restoreInserts atomic.Int64

// loadFetched loads parts (whose fetches fetchStart started as lps) into
// rel on DuckDB in their order as their fetches end: each INSERT takes the
// next part and the following ones already local, so DuckDB loads while
// the rest are fetched; into a keyed table (keyed), one part each. It
// returns the parts' local files.
//
// One part (up to 1M rows by default) per transaction into a keyed table
// bounds what a commit holds: DuckDB appends a transaction's keys to the
// table's index at its commit, and one INSERT of 10M rows under
// memory_limit=160MB fails there ("failed to pin block"), as DuckDB's own
// keyed INSERT of the same Parquet file does, where an INSERT per part
// finishes.
func loadFetched(ctx context.Context, w *warehouse.Warehouse, sc *scratch, rel warehouse.Relation, cols []warehouse.Column, parts []Part, lps []*localPart, keyed bool) ([]string, error) {
	files := make([]string, 0, len(parts))
	for i := 0; i < len(parts); {
		n := len(files)
		for i < len(parts) && (len(files) == n || !keyed && fetchEnded(lps[i])) {
			f, err := sc.fetchWait(ctx, parts[i], lps[i])
			if err != nil {
				return nil, err
			}
			files = append(files, f)
			i++
		}
		if err := loadParquetFiles(ctx, w, rel, cols, files[n:]); err != nil {
			return nil, err
		}
		restoreInserts.Add(1)
	}
	return files, nil
}

// composeInto loads into rel (on DuckDB) the rows of a table with a key as
// its chain composes them, without a scratch copy: each entry's rows (the
// full parts, then each delta's upserts) but those whose key a later delta
// upserts or deletes, one INSERT … SELECT FROM read_parquet … ANTI JOIN
// each; into a keyed table (keyed), one each per part (see loadFetched).
func composeInto(ctx context.Context, w *warehouse.Warehouse, sc *scratch, chain []*Table, cols []warehouse.Column, key []string, rel warehouse.Relation, keyed bool) error {
	d := w.Dialect()
	rows := make([][]string, len(chain)) // per entry: its row files
	keys := make([][]string, len(chain)) // per entry: its key files (upserts and deletes)
	dels := make([][]string, len(chain))
	for i, t := range chain {
		var parts []Part
		if i == 0 {
			parts = t.Data.Parts
		} else {
			parts = t.Data.Upserts
		}
		f, err := sc.fetch(ctx, parts)
		if err != nil {
			return err
		}
		defer sc.release(parts)
		rows[i] = f
		if i > 0 {
			g, err := sc.fetch(ctx, t.Data.Deletes)
			if err != nil {
				return err
			}
			defer sc.release(t.Data.Deletes)
			keys[i], dels[i] = f, g
		}
	}
	var names, tnames, ks []string
	for _, c := range cols {
		q := d.QuoteIdentifier(c.Name)
		names = append(names, q)
		tnames = append(tnames, "t."+q)
	}
	for _, k := range key {
		ks = append(ks, d.QuoteIdentifier(k))
	}
	for i := range chain {
		var later []string
		for k := i + 1; k < len(chain); k++ {
			for _, fs := range [][]string{keys[k], dels[k]} {
				if len(fs) > 0 {
					later = append(later, "SELECT "+strings.Join(ks, ", ")+" FROM "+readParquet(fs))
				}
			}
		}
		batches := [][]string{rows[i]}
		if keyed {
			batches = nil
			for _, f := range rows[i] {
				batches = append(batches, []string{f})
			}
		}
		for _, files := range batches {
			if len(files) == 0 {
				continue
			}
			q := "INSERT INTO " + d.QuoteRelation(rel) + " (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(tnames, ", ") + " FROM " + readParquet(files) + " AS t"
			if len(later) > 0 {
				q += " ANTI JOIN (" + strings.Join(later, " UNION ALL ") + ") AS k ON " + keyJoin(d, key, "t", "k")
			}
			w.ReleaseMemory()
			if _, err := w.Exec(ctx, q); err != nil {
				return fmt.Errorf("backup: load entry %d of the chain into %s: %w", i+1, rel, err)
			}
			restoreInserts.Add(1)
		}
	}
	return nil
}

// storedFingerprint is the fingerprint of the row hashes stored in Parquet
// parts (their _dataops_row_hash column), read by DuckDB database q (the
// target of the restore, which has just read the same files).
func storedFingerprint(ctx context.Context, q *warehouse.Warehouse, files []string) (Fingerprint, error) {
	if len(files) == 0 {
		return Fingerprint{}, nil
	}
	h := q.Dialect().QuoteIdentifier(RowHashColumn)
	var st struct {
		N   int64  `db:"n"`
		Sum string `db:"s"`
		XOR string `db:"x"`
	}
	if err := q.Get(ctx, &st, "SELECT count(*) AS n, CAST(coalesce(sum(CAST("+h+" AS HUGEINT)), 0) AS VARCHAR) AS s, CAST(coalesce(bit_xor("+h+"), 0) AS VARCHAR) AS x FROM read_parquet(?)", files); err != nil {
		return Fingerprint{}, fmt.Errorf("read row hashes of the parts: %w", err)
	}
	return fingerprintOf(st.N, st.Sum, st.XOR)
}

// checkLoaded compares a staging table loaded from parts whose stored
// fingerprint is fp with the manifest: the parts' fingerprint must be the
// entry's, and the table must hold exactly their rows.
func checkLoaded(ctx context.Context, w *warehouse.Warehouse, j *restoreJob, fp Fingerprint) error {
	e := j.entry
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(j.staging)); err != nil {
		return err
	}
	j.fp = fp
	if fp != e.Fingerprint || n != fp.Count {
		return fmt.Errorf("table %s: %w: loaded %d rows from parts of %d rows, fingerprint %v; the snapshot has %d rows, fingerprint %v",
			e, ErrMismatch, n, fp.Count, fp, e.Rows, e.Fingerprint)
	}
	return nil
}

// errNegativeZero: a float column holds -0.0, which DuckDB's Parquet writer
// would merge with 0.0 (see tableBackup.negativeZeros).
var errNegativeZero = errors.New("a float column holds -0.0")

// keyAfterRows is the most rows a DuckDB restore always loads before it
// adds the table's key (a variable for tests).
var keyAfterRows int64 = 2_000_000

// keyIndexBytesPerRow is what a DuckDB restore budgets per row for building
// a key's index in one pass after the load (measured: about 22 bytes a row
// for a BIGINT key at 10M rows; the margin covers wider keys). A variable
// for tests.
var keyIndexBytesPerRow int64 = 100

// keyAfterLoad reports whether a DuckDB restore of rows rows loads them
// before adding the key: when they are few (keyAfterRows), or when the
// index's budget fits in half of the database's memory_limit. A limit that
// cannot be read counts as too small.
func keyAfterLoad(ctx context.Context, w *warehouse.Warehouse, rows int64) bool {
	if rows <= keyAfterRows {
		return true
	}
	var limit string
	if err := w.Get(ctx, &limit, "SELECT current_setting('memory_limit')"); err != nil {
		return false
	}
	n, ok := parseDuckSize(limit)
	return ok && rows <= n/2/keyIndexBytesPerRow
}

// parseDuckSize reads a size as DuckDB shows its settings ("18.8 GiB",
// "192.0 MiB", "512 bytes", also "1GB").
func parseDuckSize(s string) (int64, bool) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	if unit == "" {
		i := strings.IndexFunc(num, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i > 0 {
			num, unit = num[:i], num[i:]
		}
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || x < 0 {
		return 0, false
	}
	mult := map[string]float64{
		"": 1, "bytes": 1, "B": 1,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	}
	m, ok := mult[strings.TrimSpace(unit)]
	if !ok {
		return 0, false
	}
	return int64(x * m), true
}

// addPrimaryKey adds the key to a staging table loaded without it.
func addPrimaryKey(ctx context.Context, w *warehouse.Warehouse, rel warehouse.Relation, pk []string) error {
	if len(pk) == 0 {
		return nil
	}
	d := w.Dialect()
	var ks []string
	for _, k := range pk {
		ks = append(ks, d.QuoteIdentifier(k))
	}
	if _, err := w.Exec(ctx, "ALTER TABLE "+d.QuoteRelation(rel)+" ADD PRIMARY KEY ("+strings.Join(ks, ", ")+")"); err != nil {
		return fmt.Errorf("add the primary key: %w", err)
	}
	return nil
}

// composeFile composes a table's chain in the scratch database and writes
// it, with its row hashes, to a Parquet file in the scratch directory; or
// returns errNegativeZero (the composed rows are then scanned instead).
func (s *scratch) composeFile(ctx context.Context, chain []*Table, cols []warehouse.Column, key []string) (string, error) {
	tmp := s.name("restore")
	rel := warehouse.Rel("main", tmp)
	defer s.drop(context.WithoutCancel(ctx), rel)
	err := s.compose(ctx, chain, cols, key, tmp)
	s.releaseChain(chain)
	if err != nil {
		return "", err
	}
	var conds []string
	d := s.w.Dialect()
	for _, c := range cols {
		if c.Type.Kind == warehouse.KindFloat {
			x := d.QuoteIdentifier(c.Name)
			conds = append(conds, "("+x+" = 0 AND signbit("+x+"))")
		}
	}
	if len(conds) > 0 {
		var n int64
		if err := s.w.Get(ctx, &n, "SELECT count(*) FROM "+d.QuoteRelation(rel)+" WHERE "+strings.Join(conds, " OR ")); err != nil {
			return "", err
		}
		if n > 0 {
			return "", errNegativeZero
		}
	}
	f := filepath.Join(s.dir, tmp+".parquet")
	if _, err := s.w.Exec(ctx, "COPY "+s.w.Dialect().QuoteRelation(rel)+" TO "+sqlString(f)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
		os.Remove(f)
		return "", fmt.Errorf("write the composed table: %w", err)
	}
	return f, nil
}
