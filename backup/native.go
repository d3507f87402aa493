package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// Warehouse-native snapshots are copies the engine itself makes and keeps,
// beside the warehouse rather than in a repository: fast to take and to
// restore, but on the same machine or server. DuckDB writes a new database
// file (ATTACH + COPY FROM DATABASE); PostgreSQL copies the tables into a
// schema of their own, CREATE TABLE … AS in one transaction.

// NativeOptions locate native snapshots.
type NativeOptions struct {
	// Dir is where DuckDB snapshot files live. Empty means a directory
	// "<database file>.snapshots" beside a file database; an in-memory
	// DuckDB needs it set. PostgreSQL ignores it.
	Dir string
	// Schemas limits what a PostgreSQL snapshot copies; empty means every
	// non-system schema. DuckDB snapshots always copy the whole database.
	Schemas []string
}

// NativeSnapshot describes a warehouse-native snapshot.
type NativeSnapshot struct {
	Name     string
	Time     time.Time
	Location string   // the DuckDB file, or the PostgreSQL schema
	Tables   []string // "schema.name" of the tables it holds
}

// NativeRestoreOptions choose what RestoreNative brings back and where.
type NativeRestoreOptions struct {
	NativeOptions
	// Tables selects "schema.name" or "schema"; empty means all.
	Tables []string
	// Schema restores side by side into this schema; empty restores over
	// the originals.
	Schema string
	// Overwrite lets a side-by-side restore replace existing tables.
	Overwrite bool
}

// ErrNativeUnsupported: the engine has no native snapshot here.
var ErrNativeUnsupported = fmt.Errorf("native snapshots: %w", warehouse.ErrUnsupported)

var reNativeName = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

const (
	pgSnapshotPrefix = "dataops_snap_"
	nativeInfoTable  = "dataops_snapshot_info"
)

// CreateNative takes a warehouse-native snapshot named name (lower-case
// letters, digits and underscores).
func CreateNative(ctx context.Context, w *warehouse.Warehouse, name string, opts NativeOptions) (*NativeSnapshot, error) {
	if !reNativeName.MatchString(name) {
		return nil, fmt.Errorf("backup: native snapshot name %q: use 1-40 lower-case letters, digits or underscores", name)
	}
	info, err := w.Info(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	switch info.Engine {
	case "duckdb":
		dir, err := nativeDir(ctx, w, opts)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("backup: native snapshot %s: %w", name, err)
		}
		path := filepath.Join(dir, name+".duckdb")
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("backup: native snapshot %s: %w", name, warehouse.ErrAlreadyExists)
		}
		alias := "dataops_snap_" + name
		d := w.Dialect()
		conn, err := w.DB().Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		// ATTACH and COPY FROM DATABASE take no bind parameters: the path is
		// ours (a checked name in a chosen directory), rendered as a literal.
		if _, err := conn.ExecContext(ctx, "ATTACH "+sqlString(path)+" AS "+d.QuoteIdentifier(alias)); err != nil {
			return nil, fmt.Errorf("backup: native snapshot %s: %w", name, err)
		}
		detach := func() { conn.ExecContext(context.WithoutCancel(ctx), "DETACH "+d.QuoteIdentifier(alias)) }
		fail := func(err error) (*NativeSnapshot, error) {
			detach()
			os.Remove(path)
			os.Remove(path + ".wal")
			return nil, fmt.Errorf("backup: native snapshot %s: %w", name, err)
		}
		if _, err := conn.ExecContext(ctx, "COPY FROM DATABASE "+d.QuoteIdentifier(info.Database)+" TO "+d.QuoteIdentifier(alias)); err != nil {
			return fail(err)
		}
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+d.QuoteIdentifier(alias)+".main."+nativeInfoTable+" (time TIMESTAMPTZ)"); err != nil {
			return fail(err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+d.QuoteIdentifier(alias)+".main."+nativeInfoTable+" VALUES (?)", now); err != nil {
			return fail(err)
		}
		detach()
		s, err := readDuckSnapshot(ctx, w, path)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "postgres":
		schema := pgSnapshotPrefix + name
		var tables []string
		err := w.WithTx(ctx, func(tx *warehouse.Tx) error {
			if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
				return err
			}
			existing, err := tx.Schemas(ctx)
			if err != nil {
				return err
			}
			if slices.Contains(existing, schema) {
				return fmt.Errorf("schema %s: %w", schema, warehouse.ErrAlreadyExists)
			}
			rels, err := selectTables(ctx, tx, opts.Schemas)
			if err != nil {
				return err
			}
			if err := tx.CreateSchema(ctx, schema); err != nil {
				return err
			}
			d := tx.Dialect()
			for _, r := range rels {
				if strings.HasPrefix(r.Schema, pgSnapshotPrefix) {
					continue
				}
				dst := warehouse.Rel(schema, r.Schema+"."+r.Name)
				if _, err := tx.Exec(ctx, "CREATE TABLE "+d.QuoteRelation(dst)+" AS SELECT * FROM "+d.QuoteRelation(r)); err != nil {
					return fmt.Errorf("copy %s: %w", r, err)
				}
				tables = append(tables, r.String())
			}
			info := warehouse.Rel(schema, nativeInfoTable)
			if err := tx.CreateTable(ctx, info, []warehouse.Column{{Name: "time", Type: warehouse.TimestampTZ}}, nil); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO "+d.QuoteRelation(info)+" VALUES ($1)", now)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("backup: native snapshot %s: %w", name, err)
		}
		return &NativeSnapshot{Name: name, Time: now, Location: schema, Tables: tables}, nil
	}
	return nil, fmt.Errorf("backup: %s: %w", info.Engine, ErrNativeUnsupported)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// readParquet renders DuckDB's read_parquet of local files, in order.
func readParquet(files []string) string {
	lits := make([]string, len(files))
	for i, f := range files {
		lits[i] = sqlString(f)
	}
	return "read_parquet([" + strings.Join(lits, ", ") + "])"
}

func nativeDir(ctx context.Context, w *warehouse.Warehouse, opts NativeOptions) (string, error) {
	if opts.Dir != "" {
		return opts.Dir, nil
	}
	var file string
	if err := w.Get(ctx, &file, "SELECT coalesce(path, '') FROM duckdb_databases() WHERE database_name = current_database()"); err != nil {
		return "", err
	}
	if file == "" || file == ":memory:" {
		return "", fmt.Errorf("backup: an in-memory DuckDB needs NativeOptions.Dir for its snapshots")
	}
	return file + ".snapshots", nil
}

// readDuckSnapshot attaches a snapshot file read-only to list its tables and time.
func readDuckSnapshot(ctx context.Context, w *warehouse.Warehouse, path string) (*NativeSnapshot, error) {
	name := strings.TrimSuffix(filepath.Base(path), ".duckdb")
	s := &NativeSnapshot{Name: name, Location: path}
	err := withAttached(ctx, w, path, func(alias string, exec func(q string, args ...any) error, sel func(dest any, q string, args ...any) error) error {
		var ts []time.Time
		if err := sel(&ts, "SELECT time FROM "+alias+".main."+nativeInfoTable); err == nil && len(ts) > 0 {
			s.Time = ts[0].UTC()
		}
		return sel(&s.Tables, "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = ? AND table_name <> ? ORDER BY 1", strings.Trim(alias, `"`), nativeInfoTable)
	})
	if err != nil {
		return nil, fmt.Errorf("backup: native snapshot %s: %w", name, err)
	}
	return s, nil
}

// withAttached attaches a DuckDB file read-only on one connection for fn.
func withAttached(ctx context.Context, w *warehouse.Warehouse, path string, fn func(alias string, exec func(q string, args ...any) error, sel func(dest any, q string, args ...any) error) error) error {
	conn, err := w.DB().Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	d := w.Dialect()
	aliasName := "dataops_snap_ro_" + strings.TrimSuffix(filepath.Base(path), ".duckdb")
	alias := d.QuoteIdentifier(aliasName)
	if _, err := conn.ExecContext(ctx, "ATTACH "+sqlString(path)+" AS "+alias+" (READ_ONLY)"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DETACH "+alias)
	return fn(alias,
		func(q string, args ...any) error { _, err := conn.ExecContext(ctx, q, args...); return err },
		func(dest any, q string, args ...any) error { return conn.SelectContext(ctx, dest, q, args...) })
}

// ListNative lists the warehouse's native snapshots, oldest first.
func ListNative(ctx context.Context, w *warehouse.Warehouse, opts NativeOptions) ([]NativeSnapshot, error) {
	info, err := w.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out []NativeSnapshot
	switch info.Engine {
	case "duckdb":
		dir, err := nativeDir(ctx, w, opts)
		if err != nil {
			return nil, err
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.duckdb"))
		for _, f := range files {
			s, err := readDuckSnapshot(ctx, w, f)
			if err != nil {
				return nil, err
			}
			out = append(out, *s)
		}
	case "postgres":
		schemas, err := w.Schemas(ctx)
		if err != nil {
			return nil, err
		}
		for _, sc := range schemas {
			name, ok := strings.CutPrefix(sc, pgSnapshotPrefix)
			if !ok {
				continue
			}
			s := NativeSnapshot{Name: name, Location: sc}
			var ts []time.Time
			if err := w.Select(ctx, &ts, "SELECT time FROM "+w.Dialect().QuoteRelation(warehouse.Rel(sc, nativeInfoTable))); err == nil && len(ts) > 0 {
				s.Time = ts[0].UTC()
			}
			rels, err := w.Relations(ctx, sc)
			if err != nil {
				return nil, err
			}
			for _, r := range rels {
				if r.Name != nativeInfoTable {
					s.Tables = append(s.Tables, r.Name)
				}
			}
			slices.Sort(s.Tables)
			out = append(out, s)
		}
	default:
		return nil, fmt.Errorf("backup: %s: %w", info.Engine, ErrNativeUnsupported)
	}
	slices.SortFunc(out, func(a, b NativeSnapshot) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// ErrNativeNotFound: no native snapshot has that name.
var ErrNativeNotFound = errors.New("native snapshot not found")

func findNative(ctx context.Context, w *warehouse.Warehouse, name string, opts NativeOptions) (*NativeSnapshot, error) {
	list, err := ListNative(ctx, w, opts)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Name == name {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("backup: %w: %s", ErrNativeNotFound, name)
}

// DropNative deletes a native snapshot.
func DropNative(ctx context.Context, w *warehouse.Warehouse, name string, opts NativeOptions) error {
	s, err := findNative(ctx, w, name, opts)
	if err != nil {
		return err
	}
	if strings.HasSuffix(s.Location, ".duckdb") {
		os.Remove(s.Location + ".wal")
		return os.Remove(s.Location)
	}
	return w.DropSchema(ctx, s.Location, true)
}

// RestoreNative brings tables back from a native snapshot: over the
// originals or side by side (opts.Schema), loaded aside and swapped in in one
// transaction, then checked: each restored table's fingerprint must equal
// the snapshot copy's.
func RestoreNative(ctx context.Context, w *warehouse.Warehouse, name string, opts NativeRestoreOptions) ([]RestoredTable, error) {
	s, err := findNative(ctx, w, name, opts.NativeOptions)
	if err != nil {
		return nil, err
	}
	var chosen []string
	for _, t := range s.Tables {
		schema, _, _ := strings.Cut(t, ".")
		if len(opts.Tables) == 0 || slices.Contains(opts.Tables, t) || slices.Contains(opts.Tables, schema) {
			chosen = append(chosen, t)
		}
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("backup: native snapshot %s holds none of %v: %w", name, opts.Tables, ErrNativeNotFound)
	}
	d := w.Dialect()
	var out []RestoredTable
	restore := func(src func(table string) string) error {
		var jobs []RestoredTable
		for _, t := range chosen {
			schema, tname, _ := strings.Cut(t, ".")
			target := warehouse.Rel(schema, tname)
			if opts.Schema != "" {
				target.Schema = opts.Schema
				if _, err := w.Relation(ctx, target); err == nil && !opts.Overwrite {
					return fmt.Errorf("restore %s into %s: %w", t, target, ErrTargetExists)
				}
			}
			jobs = append(jobs, RestoredTable{Source: warehouse.Rel(schema, tname), Target: target})
		}
		return w.WithTx(ctx, func(tx *warehouse.Tx) error {
			for i, j := range jobs {
				if err := tx.CreateSchema(ctx, j.Target.Schema); err != nil {
					return err
				}
				staging := warehouse.Rel(j.Target.Schema, stagingName(d, j.Target.Name))
				if err := tx.Drop(ctx, staging); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "CREATE TABLE "+d.QuoteRelation(staging)+" AS SELECT * FROM "+src(chosen[i])); err != nil {
					return fmt.Errorf("restore %s: %w", chosen[i], err)
				}
				cols, err := tx.Columns(ctx, staging)
				if err != nil {
					return err
				}
				want, err := fingerprintFrom(ctx, tx, chosen[i], src(chosen[i]), cols)
				if err != nil {
					return err
				}
				got, err := fingerprintQuery(ctx, tx, staging, cols)
				if err != nil {
					return err
				}
				if got != want {
					return fmt.Errorf("restore %s: %w", chosen[i], ErrMismatch)
				}
				if err := tx.Drop(ctx, j.Target); err != nil {
					return err
				}
				if err := tx.Rename(ctx, staging, j.Target.Name); err != nil {
					return err
				}
				jobs[i].Rows, jobs[i].Fingerprint = got.Count, got
			}
			out = jobs
			return nil
		})
	}
	if strings.HasSuffix(s.Location, ".duckdb") {
		err = withAttached(ctx, w, s.Location, func(alias string, _ func(string, ...any) error, _ func(any, string, ...any) error) error {
			return restore(func(t string) string {
				schema, tname, _ := strings.Cut(t, ".")
				return alias + "." + d.QuoteIdentifier(schema) + "." + d.QuoteIdentifier(tname)
			})
		})
	} else {
		err = restore(func(t string) string { return d.QuoteRelation(warehouse.Rel(s.Location, t)) })
	}
	if err != nil {
		return nil, fmt.Errorf("backup: restore native snapshot %s: %w", name, err)
	}
	return out, nil
}
