package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// Options adjust Backup. The zero value backs up every table of the
// warehouse in full.
type Options struct {
	// Tables chooses what to back up: "schema.table", "schema" or
	// "schema.*". Empty means every table of every non-system schema.
	Tables []string
	// Parent makes the backup incremental against that snapshot (id or
	// prefix): tables store only rows added, changed or deleted since it.
	Parent string
	// Incremental takes the latest snapshot as the parent when Parent is
	// empty (a full backup if the repository has none).
	Incremental bool
	// ChangeColumns declares change columns, keyed by "schema.table": a
	// column that every INSERT and UPDATE of the table sets to a value
	// no less than any value of the column an earlier backup could have
	// seen (a timestamp set at write time, a commit sequence). Integer,
	// date, timestamp and timestamptz columns serve. Each backup records
	// the column's greatest value (the table entry's ChangeMark); an
	// incremental backup of a table with a primary key then reads and
	// hashes only the rows at or above its parent's mark (rows at the mark
	// are examined again; unchanged ones cost no data), and finds deletes by
	// counting. A column that is missing, NULL in a row, of another type,
	// or whose greatest value went below the parent's mark, a table
	// without a key or a parent without a mark make the backup compare
	// every row, with a warning event. A row written without raising its
	// change value to the mark or above is not seen: its change is missing from
	// the incremental. See FORMAT.md §5 for the exact contract.
	ChangeColumns map[string]string
	// ChangeOverlap re-examines, for date and timestamp change columns,
	// the rows whose change value is up to this much below the parent's
	// mark: for writers whose transactions commit out of the order of
	// their change values (make it longer than the longest such
	// transaction). Re-examined rows that did not change cost no data.
	// Integer change columns take no overlap: their values must be
	// assigned in commit order.
	ChangeOverlap time.Duration
	// Tags are stored in the manifest.
	Tags []string
	// Retention locks the snapshot (FORMAT.md §8).
	Retention repository.Retention
	// Concurrency bounds the tables processed at once; 0 means 2.
	Concurrency int
	// TempDir holds Parquet parts before upload; "" means os.TempDir().
	TempDir string
	// Logger receives the operation's logs; nil discards them.
	Logger *slog.Logger
	// Events receives start, progress, finish and error events, one call at
	// a time even when tables are processed in parallel.
	Events func(Event)
}

// Result reports a backup.
type Result struct {
	ID       string        // the new snapshot
	Kind     string        // full or incremental
	Parent   string        // "" for a full backup
	Tables   []Table       // the manifest's entries
	Rows     int64         // rows in the backed-up tables
	Written  int64         // rows written to new parts (upserts and deletes for deltas)
	Objects  int           // data objects uploaded (new content)
	Bytes    int64         // plaintext bytes of the parts written
	Stored   int64         // bytes added to the bucket
	Duration time.Duration // wall time
}

// ErrNoTables: the selection matched no table.
var ErrNoTables = errors.New("no tables to back up")

var systemSchemas = map[string]bool{"information_schema": true, "pg_catalog": true, "pg_toast": true}

// Backup takes a snapshot of tables of w into repo: full, or incremental
// against a parent (Options.Parent, Options.Incremental). All tables are read
// at one point in time — one transaction on DuckDB, an exported snapshot
// shared by parallel REPEATABLE READ transactions on PostgreSQL — and
// streamed into Parquet parts with flat memory. A failure leaves no snapshot
// (objects already uploaded are unreferenced until a prune removes them).
func Backup(ctx context.Context, repo *repository.Repository, w *warehouse.Warehouse, opts Options) (*Result, error) {
	em := newEmitter(opts.Events, opts.Logger, "backup")
	em.startEv(w.String(), "backup started")
	res, err := runBackup(ctx, repo, w, opts, em)
	if err != nil {
		return nil, em.fail(w.String(), err)
	}
	em.finish(res.ID, res.Rows, res.Stored, fmt.Sprintf("snapshot %s (%s) of %d tables", short(res.ID), res.Kind, len(res.Tables)))
	return res, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func runBackup(ctx context.Context, repo *repository.Repository, w *warehouse.Warehouse, opts Options, em *emitter) (*Result, error) {
	start := time.Now()
	cache := newSnapshotCache(repo)
	var parent *Snapshot
	if opts.Parent != "" {
		p, err := cache.get(ctx, opts.Parent)
		if err != nil {
			return nil, err
		}
		parent = p
	} else if opts.Incremental {
		list, err := repo.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("backup: list snapshots: %w", err)
		}
		if len(list) > 0 {
			p, err := cache.get(ctx, list[len(list)-1].ID)
			if err != nil {
				return nil, err
			}
			parent = p
		}
	}
	info, err := w.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tempDir := tempDirOr(opts.TempDir)
	workDir, err := os.MkdirTemp(tempDir, "dataops-backup-parts-*")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(workDir)

	readers, consistency, err := openReaders(ctx, w, info.Engine, max(1, cmpOr(opts.Concurrency, 2)))
	if err != nil {
		return nil, err
	}
	defer readers.close()

	rels, err := selectTables(ctx, readers.first(), opts.Tables)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fmt.Errorf("backup: %v: %w", opts.Tables, ErrNoTables)
	}
	for name, col := range opts.ChangeColumns {
		if col == "" || !slices.ContainsFunc(rels, func(r warehouse.Relation) bool { return r.String() == name }) {
			return nil, fmt.Errorf("backup: change column %q of %s: not a table backed up", col, name)
		}
	}

	var sc *scratch
	if parent != nil {
		if sc, err = newLazyScratch(repo, tempDir); err != nil {
			return nil, err
		}
		defer sc.Close()
	}
	sess := repo.NewSession()
	cfg := repo.Config()
	entries := make([]Table, len(rels))
	stats := make([]tableStats, len(rels))

	g, gctx := errgroup.WithContext(ctx)
	for i, rel := range rels {
		r := readers.take(i)
		g.Go(func() error {
			defer readers.give(r)
			tb := &tableBackup{
				src: r, pool: w, rel: rel, engine: info.Engine, version: cmpOrString(testEngineVersion, info.Version), sess: sess, dir: workDir, partRows: cfg.PartRows, partBytes: cfg.PartBytes,
				em: em, scratch: sc, cache: cache, change: opts.ChangeColumns[rel.String()], overlap: opts.ChangeOverlap,
			}
			if parent != nil {
				tb.parent = parent
			}
			e, st, err := tb.run(gctx)
			if err != nil {
				return fmt.Errorf("backup: table %s: %w", rel, err)
			}
			entries[i], stats[i] = e, st
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	readers.close()

	kind := KindFull
	parentID := ""
	if parent != nil {
		kind, parentID = KindIncremental, parent.ID
	}
	tablesJSON, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	src, _ := json.Marshal(map[string]string{"engine": info.Engine, "version": info.Version, "database": info.Database, "url": w.String()})
	m := &repository.Manifest{
		Time: time.Now().UTC(), Parent: parentID, Kind: kind, Source: src, Tags: opts.Tags,
		Consistency: consistency, Tables: tablesJSON, Retention: opts.Retention,
	}
	if writeFormatV1 {
		m.Format = 1
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	id, err := sess.Commit(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("backup: commit: %w", err)
	}
	res := &Result{ID: id, Kind: kind, Parent: parentID, Tables: entries, Duration: time.Since(start)}
	for i, st := range stats {
		res.Rows += entries[i].Rows
		res.Written += st.written
		res.Bytes += st.bytes
	}
	for _, o := range sess.Objects() {
		if o.Uploaded {
			res.Objects++
			res.Stored += o.Stored
		}
	}
	return res, nil
}

// testEngineVersion, when set (by tests), stands for the engine's version in
// the row hash kinds backups write: as if another DuckDB version wrote them.
var testEngineVersion string

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type tableStats struct {
	written int64
	bytes   int64
}

// selectTables resolves the selection to tables, sorted.
func selectTables(ctx context.Context, q *warehouse.Tx, sel []string) ([]warehouse.Relation, error) {
	schemas := map[string]bool{}
	tables := map[warehouse.Relation]bool{}
	if len(sel) == 0 {
		all, err := q.Schemas(ctx)
		if err != nil {
			return nil, fmt.Errorf("backup: list schemas: %w", err)
		}
		for _, s := range all {
			if !systemSchemas[s] && !strings.HasPrefix(s, "pg_") {
				schemas[s] = true
			}
		}
	}
	for _, s := range sel {
		schema, name, ok := strings.Cut(s, ".")
		if !ok || name == "*" {
			schemas[schema] = true
			continue
		}
		rel := warehouse.Rel(schema, name)
		ri, err := q.Relation(ctx, rel)
		if err != nil {
			return nil, fmt.Errorf("backup: table %s: %w", rel, err)
		}
		if ri.Kind != warehouse.KindTable {
			return nil, fmt.Errorf("backup: %s is a %s, not a table", rel, ri.Kind)
		}
		tables[rel] = true
	}
	for s := range schemas {
		rs, err := q.Relations(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("backup: list tables of schema %s: %w", s, err)
		}
		for _, r := range rs {
			if r.Kind == warehouse.KindTable {
				rel := warehouse.Rel(s, r.Name)
				tables[rel] = true
			}
		}
	}
	out := make([]warehouse.Relation, 0, len(tables))
	for r := range tables {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b warehouse.Relation) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// readerPool hands out transactions that all see the same snapshot.
type readerPool struct {
	mu   sync.Mutex
	txs  []*warehouse.Tx
	free chan *warehouse.Tx
	once sync.Once
}

func (p *readerPool) first() *warehouse.Tx { return p.txs[0] }

func (p *readerPool) take(int) *warehouse.Tx { return <-p.free }

func (p *readerPool) give(tx *warehouse.Tx) { p.free <- tx }

func (p *readerPool) close() {
	p.once.Do(func() {
		for _, tx := range p.txs {
			tx.Rollback()
		}
	})
}

var reSnapshotID = regexp.MustCompile(`^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+$`)

// openReaders opens the read transactions of a backup: one on DuckDB (a
// single MVCC transaction; tables are read one after another), n on
// PostgreSQL sharing an exported snapshot.
func openReaders(ctx context.Context, w *warehouse.Warehouse, engine string, n int) (*readerPool, string, error) {
	p := &readerPool{}
	fail := func(err error) (*readerPool, string, error) {
		p.close()
		return nil, "", fmt.Errorf("backup: open a consistent read: %w", err)
	}
	tx, err := w.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	p.txs = append(p.txs, tx)
	if engine != "postgres" {
		p.free = make(chan *warehouse.Tx, 1)
		p.free <- tx
		return p, "transaction", nil
	}
	if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
		return fail(err)
	}
	var snap string
	if err := tx.Get(ctx, &snap, "SELECT pg_export_snapshot()"); err != nil {
		return fail(err)
	}
	if !reSnapshotID.MatchString(snap) { // SET TRANSACTION SNAPSHOT takes no bind parameter
		return fail(fmt.Errorf("unexpected snapshot id %q", snap))
	}
	for i := 1; i < n; i++ {
		t, err := w.Begin(ctx)
		if err != nil {
			return fail(err)
		}
		p.txs = append(p.txs, t)
		if _, err := t.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
			return fail(err)
		}
		if _, err := t.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+snap+"'"); err != nil {
			return fail(err)
		}
	}
	p.free = make(chan *warehouse.Tx, len(p.txs))
	for _, t := range p.txs {
		p.free <- t
	}
	return p, "exported-snapshot", nil
}

// primaryKey returns the primary key columns of rel, in key order.
func primaryKey(ctx context.Context, q *warehouse.Tx, engine string, rel warehouse.Relation) ([]string, error) {
	var names []string
	var err error
	if engine == "duckdb" {
		var lists []string
		err = q.Select(ctx, &lists, "SELECT array_to_string(constraint_column_names, chr(31)) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' AND schema_name = ? AND table_name = ?", rel.Schema, rel.Name)
		if err == nil && len(lists) > 0 {
			names = strings.Split(lists[0], "\x1f")
		}
	} else {
		err = q.Select(ctx, &names, `SELECT a.attname FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2 ORDER BY k.ord`, rel.Schema, rel.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("primary key: %w", err)
	}
	return names, nil
}
