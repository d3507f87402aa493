package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dataopskit/dataops/backup"
	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// backupStep protects the warehouse: a full backup into file://<dir>/backups,
// a few rows of a table in schema raw updated, deleted and inserted, an
// incremental backup of just those changes, a verification of the whole
// repository, and a recovery drill that restores the first snapshot side by
// side into schema "restored" and compares fingerprints.
func backupStep(ctx context.Context, out io.Writer, w *warehouse.Warehouse, dir string) error {
	repoDir := filepath.Join(dir, "backups")
	if err := os.MkdirAll(repoDir, 0o755); err != nil {
		return err
	}
	url := "file://" + filepath.ToSlash(repoDir)
	repo, err := repository.Init(ctx, url, repository.InitOptions{})
	if errors.Is(err, repository.ErrExists) {
		repo, err = repository.Open(ctx, url, repository.OpenOptions{})
	}
	if err != nil {
		return err
	}
	defer repo.Close()

	full, err := backup.Backup(ctx, repo, w, backup.Options{Tables: []string{"raw"}, Tags: []string{"quickstart"}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backup %s  full         %d tables %9d rows  %s stored\n", full.ID[:12], len(full.Tables), full.Rows, size(full.Stored))

	rel, err := changeSomeRows(ctx, w)
	if err != nil {
		return err
	}
	inc, err := backup.Backup(ctx, repo, w, backup.Options{Tables: []string{"raw"}, Parent: full.ID, Tags: []string{"quickstart"}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backup %s  incremental  %d tables %9d rows  %s stored (%.1f%% of the full), %d rows written\n",
		inc.ID[:12], len(inc.Tables), inc.Rows, size(inc.Stored), 100*float64(inc.Stored)/float64(max(full.Stored, 1)), inc.Written)
	for _, t := range inc.Tables {
		if t.Data.Mode == backup.ModeDelta {
			fmt.Fprintf(out, "  %s: %d rows upserted, %d deleted\n", t.String(), partRows(t.Data.Upserts), partRows(t.Data.Deletes))
		}
	}

	rep, err := repo.Verify(ctx, repository.VerifyOptions{ReadData: true})
	if err != nil {
		return err
	}
	verdict := "ok"
	if !rep.OK() {
		verdict = fmt.Sprintf("%d problems", len(rep.Problems))
	}
	fmt.Fprintf(out, "verify: %d snapshots, %d objects read: %s\n", rep.Snapshots, rep.ObjectsRead, verdict)
	if !rep.OK() {
		return fmt.Errorf("verify: %s", rep.Problems[0])
	}

	res, err := backup.Restore(ctx, repo, w, backup.RestoreOptions{Snapshot: full.ID, Schema: "restored", Overwrite: true})
	if err != nil {
		return err
	}
	match := 0
	for _, t := range res.Tables {
		for _, e := range full.Tables {
			if e.Schema != t.Source.Schema || e.Name != t.Source.Name {
				continue
			}
			// by the entry's row hash kind (DuckDB's engine hash or the portable one)
			fp, err := backup.FingerprintTableKind(ctx, w, t.Target, e.RowHashKind())
			if err != nil {
				return err
			}
			if e.Fingerprint == fp {
				match++
			}
		}
	}
	fmt.Fprintf(out, "restore drill: snapshot %s into schema restored, %d rows in %s; fingerprints match %d/%d tables\n",
		res.Snapshot[:12], res.Rows, res.Duration.Round(1e6), match, len(res.Tables))
	now, err := backup.FingerprintTable(ctx, w, rel)
	if err != nil {
		return err
	}
	then, _ := backup.FingerprintTable(ctx, w, warehouse.Rel("restored", rel.Name))
	fmt.Fprintf(out, "%s now %d rows; restored copy of the first snapshot %d rows\n", rel, now.Count, then.Count)
	if match != len(res.Tables) {
		return fmt.Errorf("restore drill: %d of %d tables match their fingerprints", match, len(res.Tables))
	}
	return nil
}

// changeSomeRows updates, deletes and inserts three rows each in a table of
// schema raw (raw.orders when there is one) and returns it. The changes keep
// the data valid for the models built on it: an amount (or, without one, a
// text) changes, and inserted rows get new ids when the table has an integer
// key (its primary key, else a column named id).
func changeSomeRows(ctx context.Context, w *warehouse.Warehouse) (warehouse.Relation, error) {
	rels, err := w.Relations(ctx, "raw")
	if err != nil {
		return warehouse.Relation{}, err
	}
	var rel warehouse.Relation
	for _, r := range rels {
		if r.Kind == warehouse.KindTable && (rel.Name == "" || r.Name == "orders") {
			rel = warehouse.Rel("raw", r.Name)
		}
	}
	if rel.Name == "" {
		return rel, errors.New("schema raw has no table to change")
	}
	cols, err := w.Columns(ctx, rel)
	if err != nil {
		return rel, err
	}
	d := w.Dialect()
	t := d.QuoteRelation(rel)
	var key []string
	if err := w.Select(ctx, &key, "SELECT unnest(constraint_column_names) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' AND schema_name = ? AND table_name = ?", rel.Schema, rel.Name); err != nil {
		return rel, err
	}
	update, keyCol := "", ""
	for _, c := range cols {
		name := d.QuoteIdentifier(c.Name)
		switch {
		case strings.HasPrefix(c.Name, "_"):
		case (len(key) == 1 && c.Name == key[0]) || (len(key) == 0 && c.Name == "id"):
			if c.Type.Kind == warehouse.KindInteger {
				keyCol = name
			}
		case update == "" && (c.Type.Kind == warehouse.KindDecimal || c.Type.Kind == warehouse.KindFloat):
			update = name + " = " + name + " + 1"
		}
	}
	if update == "" {
		for _, c := range cols {
			if c.Type.Kind == warehouse.KindString && !strings.HasPrefix(c.Name, "_") && (len(key) != 1 || c.Name != key[0]) {
				update = d.QuoteIdentifier(c.Name) + " = coalesce(" + d.QuoteIdentifier(c.Name) + ", '') || ' (updated)'"
				break
			}
		}
	}
	if update == "" || keyCol == "" {
		return rel, fmt.Errorf("table %s has no integer key or no column to change", rel)
	}
	for _, q := range []string{
		"UPDATE " + t + " SET " + update + " WHERE rowid IN (SELECT rowid FROM " + t + " ORDER BY rowid LIMIT 3)",
		"DELETE FROM " + t + " WHERE rowid IN (SELECT rowid FROM " + t + " ORDER BY rowid LIMIT 3 OFFSET 10)",
		"INSERT INTO " + t + " SELECT * REPLACE (" + keyCol + " + (SELECT max(" + keyCol + ") FROM " + t + ") AS " + keyCol + ") FROM " + t + " ORDER BY rowid LIMIT 3",
	} {
		if _, err := w.Exec(ctx, q); err != nil {
			return rel, fmt.Errorf("change %s: %w", rel, err)
		}
	}
	return rel, nil
}

func partRows(ps []backup.Part) int64 {
	var n int64
	for _, p := range ps {
		n += p.Rows
	}
	return n
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}
