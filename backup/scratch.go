package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb" // the scratch engine
)

// scratch is a private in-memory DuckDB database where an operation composes
// tables from their parts (base and deltas) and compares digests. Its memory
// is limited and it spills to a temporary directory beyond that, so memory
// stays bounded whatever the table's size, and nothing is fsynced.
//
// A backup's or a restore's scratch opens its database on first use (open):
// DuckDB's incrementals of tables with a key, and restores into DuckDB of
// full entries or of chains composed in the target itself, need only its
// directory and fetches, and opening and closing a DuckDB instance costs
// tens of milliseconds.
type scratch struct {
	w    *warehouse.Warehouse // nil until open
	dir  string
	repo *repository.Repository

	openMu  sync.Mutex
	mu      sync.Mutex
	fetched map[string]*localPart // object id → its local Parquet file
	sem     chan struct{}         // bounds concurrent fetches
	seq     int
}

// localPart is an object fetched to a local file. Tables restored or
// compared in parallel can share an object (content addressing stores equal
// parts once), so the file is fetched once, counted by every fetch, and
// removed by the last release.
type localPart struct {
	path string
	refs int
	done chan struct{} // closed when the fetch ended
	err  error
}

// newScratch makes a scratch with its database open.
func newScratch(ctx context.Context, repo *repository.Repository, tempDir string) (*scratch, error) {
	s, err := newLazyScratch(repo, tempDir)
	if err != nil {
		return nil, err
	}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newLazyScratch makes a scratch whose database open opens.
func newLazyScratch(repo *repository.Repository, tempDir string) (*scratch, error) {
	dir, err := os.MkdirTemp(tempDir, "dataops-backup-*")
	if err != nil {
		return nil, fmt.Errorf("backup: scratch directory: %w", err)
	}
	return &scratch{dir: dir, repo: repo, fetched: map[string]*localPart{}}, nil
}

// scratchOpens counts the scratch databases opened (for tests).
var scratchOpens atomic.Int64

// open opens the scratch database unless it is open.
func (s *scratch) open(ctx context.Context) error {
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if s.w != nil {
		return nil
	}
	scratchOpens.Add(1)
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		return fmt.Errorf("backup: scratch database: %w", err)
	}
	// SET takes no bind parameter: the directory is ours, rendered as a literal.
	for _, q := range []string{"SET memory_limit = '192MB'", "SET preserve_insertion_order = false", "SET temp_directory = " + sqlString(filepath.Join(s.dir, "spill"))} {
		if _, err := w.Exec(ctx, q); err != nil {
			w.Close()
			return fmt.Errorf("backup: scratch database: %w", err)
		}
	}
	s.w = w
	return nil
}

// drop drops a table of the scratch database, if it was opened.
func (s *scratch) drop(ctx context.Context, rel warehouse.Relation) {
	s.openMu.Lock()
	w := s.w
	s.openMu.Unlock()
	if w != nil {
		w.Drop(ctx, rel)
	}
}

// Close closes the database (if open) and removes the directory.
func (s *scratch) Close() error {
	var err error
	if s.w != nil {
		err = s.w.Close()
	}
	os.RemoveAll(s.dir)
	return err
}

// name returns a fresh table name in the scratch database.
func (s *scratch) name(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s_%d", prefix, s.seq)
}

// fetchConcurrency bounds the objects a scratch fetches (reads, decrypts,
// verifies and writes locally) at once.
const fetchConcurrency = 2

// fetch brings parts to local files (once per object, however many callers
// want it at once; up to fetchConcurrency at a time) and returns their
// paths. Every successful fetch of a part is paired with a release of it.
func (s *scratch) fetch(ctx context.Context, parts []Part) ([]string, error) {
	lps := s.fetchStart(ctx, parts)
	out := make([]string, 0, len(parts))
	for i, lp := range lps {
		f, err := s.fetchWait(ctx, parts[i], lp)
		if err != nil {
			s.release(parts)
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// fetchStart takes a reference to each part's local copy and starts
// fetching those not yet local, in the order given (up to fetchConcurrency
// at a time), without waiting: fetchWait waits for one. The parts are
// released (release) whatever came of their fetches.
func (s *scratch) fetchStart(ctx context.Context, parts []Part) []*localPart {
	lps := make([]*localPart, len(parts))
	var todo []*localPart
	var ids []string
	s.mu.Lock()
	if s.sem == nil {
		s.sem = make(chan struct{}, fetchConcurrency)
	}
	for i, p := range parts {
		lp, ok := s.fetched[p.ID]
		if !ok {
			lp = &localPart{path: filepath.Join(s.dir, p.ID+".parquet"), done: make(chan struct{})}
			s.fetched[p.ID] = lp
			todo = append(todo, lp)
			ids = append(ids, p.ID)
		}
		lp.refs++
		lps[i] = lp
	}
	s.mu.Unlock()
	if len(todo) > 0 {
		go func() {
			for k, lp := range todo {
				select {
				case s.sem <- struct{}{}:
					go func() {
						lp.err = s.repo.FetchFile(ctx, ids[k], lp.path)
						<-s.sem
						close(lp.done)
					}()
				case <-ctx.Done():
					lp.err = ctx.Err()
					close(lp.done)
				}
			}
		}()
	}
	return lps
}

// fetchWait waits for the fetch of part p (lp, of fetchStart) and returns
// its local file.
func (s *scratch) fetchWait(ctx context.Context, p Part, lp *localPart) (string, error) {
	select {
	case <-lp.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if lp.err != nil {
		return "", fmt.Errorf("backup: fetch object %s: %w", p.ID, lp.err)
	}
	return lp.path, nil
}

// fetchEnded reports whether the fetch of lp (of fetchStart) has ended.
func fetchEnded(lp *localPart) bool {
	select {
	case <-lp.done:
		return true
	default:
		return false
	}
}

// releaseChain releases the parts, upserts and deletes of every entry of
// chain, once it has been composed.
func (s *scratch) releaseChain(chain []*Table) {
	for _, t := range chain {
		s.release(t.Data.Parts)
		s.release(t.Data.Upserts)
		s.release(t.Data.Deletes)
	}
}

// release drops one reference to each part's local copy; the last one
// removes the file.
func (s *scratch) release(parts []Part) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parts {
		lp, ok := s.fetched[p.ID]
		if !ok {
			continue
		}
		if lp.refs--; lp.refs <= 0 {
			os.Remove(lp.path)
			delete(s.fetched, p.ID)
		}
	}
}

var hashCol = warehouse.Column{Name: RowHashColumn, Type: warehouse.Integer, Nullable: false}

// compose creates the scratch table dst holding the rows of a table as the
// chain (a full entry, then deltas) makes them: cols (a projection of the
// table's columns that includes its key) plus the row hash column.
func (s *scratch) compose(ctx context.Context, chain []*Table, cols []warehouse.Column, key []string, dst string) error {
	if err := s.open(ctx); err != nil {
		return err
	}
	d := s.w.Dialect()
	rel := warehouse.Rel("main", dst)
	withHash := append(append([]warehouse.Column(nil), cols...), hashCol)
	if err := s.w.CreateTable(ctx, rel, withHash, nil); err != nil {
		return fmt.Errorf("backup: scratch table: %w", err)
	}
	for _, t := range chain {
		switch t.Data.Mode {
		case ModeFull:
			files, err := s.fetch(ctx, t.Data.Parts)
			if err != nil {
				return err
			}
			if err := loadParquetFiles(ctx, s.w, rel, withHash, files); err != nil {
				return err
			}
		case ModeDelta:
			del, err := s.fetch(ctx, t.Data.Deletes)
			if err != nil {
				return err
			}
			ups, err := s.fetch(ctx, t.Data.Upserts)
			if err != nil {
				return err
			}
			if len(key) > 0 {
				for _, files := range [][]string{del, ups} {
					if len(files) == 0 {
						continue
					}
					var cond []string
					var ks []string
					for _, k := range key {
						q := d.QuoteIdentifier(k)
						ks = append(ks, q)
						cond = append(cond, "t."+q+" = k."+q)
					}
					q := "DELETE FROM " + d.QuoteRelation(rel) + " AS t USING (SELECT DISTINCT " + strings.Join(ks, ", ") +
						" FROM read_parquet(?)) AS k WHERE " + strings.Join(cond, " AND ")
					if _, err := s.w.Exec(ctx, q, files); err != nil {
						return fmt.Errorf("backup: apply delta of %s from %s: %w", t, t.Data.Base, err)
					}
				}
			} else if len(del) > 0 {
				if err := s.removeHashes(ctx, rel, withHash, del); err != nil {
					return fmt.Errorf("backup: apply delta of %s: %w", t, err)
				}
			}
			if err := loadParquetFiles(ctx, s.w, rel, withHash, ups); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeHashes deletes, for a table without a key, one row per row hash
// listed in the files (a multiset difference).
func (s *scratch) removeHashes(ctx context.Context, rel warehouse.Relation, cols []warehouse.Column, files []string) error {
	d := s.w.Dialect()
	h := d.QuoteIdentifier(RowHashColumn)
	var names, plain []string
	for _, c := range cols {
		names = append(names, "t."+d.QuoteIdentifier(c.Name))
		plain = append(plain, d.QuoteIdentifier(c.Name))
	}
	tmp := warehouse.Rel("main", s.name("multiset"))
	q := "CREATE TABLE " + d.QuoteRelation(tmp) + " AS SELECT " + strings.Join(plain, ", ") +
		" FROM (SELECT " + strings.Join(names, ", ") + ", row_number() OVER (PARTITION BY t." + h + ") AS dataops_rn, coalesce(k.dataops_n, 0) AS dataops_n FROM " +
		d.QuoteRelation(rel) + " AS t LEFT JOIN (SELECT " + h + ", count(*) AS dataops_n FROM read_parquet(?) GROUP BY " + h + ") AS k ON t." + h + " = k." + h +
		") WHERE dataops_rn > dataops_n"
	if _, err := s.w.Exec(ctx, q, files); err != nil {
		return err
	}
	return s.w.WithTx(ctx, func(tx *warehouse.Tx) error {
		if err := tx.Drop(ctx, rel); err != nil {
			return err
		}
		return tx.Rename(ctx, tmp, rel.Name)
	})
}
