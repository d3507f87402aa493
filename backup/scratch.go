package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb" // the scratch engine
)

// scratch is a private in-memory DuckDB database where an operation composes
// tables from their parts (base and deltas) and compares digests. Its memory
// is limited and it spills to a temporary directory beyond that, so memory
// stays bounded whatever the table's size, and nothing is fsynced.
type scratch struct {
	w    *warehouse.Warehouse
	dir  string
	repo *repository.Repository

	mu      sync.Mutex
	fetched map[string]string // object id → local Parquet file
	seq     int
}

func newScratch(ctx context.Context, repo *repository.Repository, tempDir string) (*scratch, error) {
	dir, err := os.MkdirTemp(tempDir, "dataops-backup-*")
	if err != nil {
		return nil, fmt.Errorf("backup: scratch directory: %w", err)
	}
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("backup: scratch database: %w", err)
	}
	// SET takes no bind parameter: the directory is ours, rendered as a literal.
	for _, q := range []string{"SET memory_limit = '192MB'", "SET preserve_insertion_order = false", "SET temp_directory = " + sqlString(filepath.Join(dir, "spill"))} {
		if _, err := w.Exec(ctx, q); err != nil {
			w.Close()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("backup: scratch database: %w", err)
		}
	}
	return &scratch{w: w, dir: dir, repo: repo, fetched: map[string]string{}}, nil
}

func (s *scratch) Close() error {
	err := s.w.Close()
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

// fetch brings parts to local files (once per object) and returns their paths.
func (s *scratch) fetch(ctx context.Context, parts []Part) ([]string, error) {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		s.mu.Lock()
		path, ok := s.fetched[p.ID]
		s.mu.Unlock()
		if !ok {
			path = filepath.Join(s.dir, p.ID+".parquet")
			if err := s.repo.FetchFile(ctx, p.ID, path); err != nil {
				return nil, fmt.Errorf("backup: fetch object %s: %w", p.ID, err)
			}
			s.mu.Lock()
			s.fetched[p.ID] = path
			s.mu.Unlock()
		}
		out = append(out, path)
	}
	return out, nil
}

// release removes the local copies of parts.
func (s *scratch) release(parts []Part) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parts {
		if path, ok := s.fetched[p.ID]; ok {
			os.Remove(path)
			delete(s.fetched, p.ID)
		}
	}
}

var hashCol = warehouse.Column{Name: RowHashColumn, Type: warehouse.Integer, Nullable: false}

// compose creates the scratch table dst holding the rows of a table as the
// chain (a full entry, then deltas) makes them: cols (a projection of the
// table's columns that includes its key) plus the row hash column.
func (s *scratch) compose(ctx context.Context, chain []*Table, cols []warehouse.Column, key []string, dst string) error {
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
