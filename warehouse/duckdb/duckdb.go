// Package duckdb is the DuckDB driver of package warehouse: it registers the
// "duckdb" URL scheme and runs on the embedded DuckDB engine of
// github.com/duckdb/duckdb-go.
//
// Import it for its side effect and open a warehouse by URL:
//
//	import _ "github.com/dataopskit/dataops/warehouse/duckdb"
//
//	w, err := warehouse.Open(ctx, "duckdb:/tmp/x.db")
//
// # URLs
//
//	duckdb:                      a new in-memory database
//	duckdb::memory:              the same
//	duckdb:relative/path.db      a database file, relative to the working directory
//	duckdb:/abs/path.db          a database file by absolute path
//	duckdb:///abs/path.db        the same
//	duckdb://relative/path.db    a relative file (the host is the first path element)
//
// Every Open of an in-memory URL is a database of its own; Opens of the same
// file share one DuckDB instance (DuckDB allows one per file and process), so
// they must agree on configuration.
//
// Query parameters configure the database: schema=NAME makes NAME the current
// schema of every connection (the schema must exist); any other parameter is
// a DuckDB configuration option passed when the database opens, e.g.
// duckdb:/tmp/x.db?threads=4&access_mode=READ_ONLY&memory_limit=2GB.
// Every option keeps DuckDB's default unless the URL sets it. One is worth
// knowing for databases that mostly take bulk loads: max_vacuum_tasks=0
// stops checkpoints from rewriting what bulk loads wrote (see
// VacuumOption). dataops_release_memory=true is this driver's own: a
// process that must stay small hands freed memory back to the system at
// once (see ReleaseMemoryOption).
//
// # Bulk loads
//
// Warehouse.Load converts rows, on the caller's goroutine, into batches of
// typed columns (int64, float64, bool, bytes in an arena, unscaled decimals,
// microseconds), 2048 rows each, and runs one INSERT INTO t (…) SELECT …
// FROM dataops_load(id) per load on a second goroutine, which takes the
// batches as they are converted. dataops_load is a table function
// registered in each database when it opens; its callback writes a batch
// straight into the memory of DuckDB's vectors (a cgo call only per string
// longer than 12 bytes, once per run of equal ones). The INSERT runs
// through DuckDB's C API task by task, sleeping while a worker thread runs
// its task (duckdb-go's execution busy-polls then, which would burn a core
// for as long as the producer takes). JSON is checked and
// found compact by a one-pass scanner and re-encoded only when it is not,
// and reaches the INSERT typed JSON, so DuckDB does not parse it again.
// UUID columns are carried as 16-byte values parsed from the UUID's text
// (or taken as they are when given as 16 bytes).
// Columns of types without a carrier (arrays, ENUM, TIME, HUGEINT,
// UBIGINT, the TIMESTAMP_S/_MS/_NS variants, DuckDB-only types) make the
// whole load go through DuckDB's appender instead, as does a database where
// the function cannot be registered. BenchmarkLoad compares both paths with
// DuckDB's own Parquet and CSV loads; BenchmarkCommit measures commits.
//
// # Types
//
// Dialect.TypeSQL maps the portable kinds to VARCHAR, SMALLINT / INTEGER /
// BIGINT, DECIMAL(p,s), FLOAT / DOUBLE, BOOLEAN, DATE, TIME, TIMESTAMP,
// TIMESTAMPTZ, JSON, BLOB and ELEM[]. Dialect.ParseType reads DuckDB's own
// type names back, widening the types that have no exact portable kind:
// TINYINT and UTINYINT read as integer16, USMALLINT as integer32, UINTEGER as
// integer64, UBIGINT as decimal(20,0), HUGEINT and UHUGEINT as decimal(38,0)
// (values beyond 38 digits cannot be loaded through them), UUID and ENUM as
// string (a string type whose Native is UUID is created as UUID), the TIMESTAMP_S/_MS/_NS variants as timestamp, fixed-size arrays
// (INTEGER[3]) as arrays. TIME WITH TIME ZONE, INTERVAL, STRUCT, MAP, UNION,
// BIT, BIGNUM and the like are KindUnknown; their values pass between Go and
// DuckDB as duckdb-go represents them.
//
// DuckDB keeps no length for VARCHAR(n), so string(n) is created as VARCHAR
// and reads back as string.
//
// JSON is stored as duckdb-go encodes it (compacted, with <, > and &
// escaped) and read back as the stored text: Query wraps a SELECT with JSON
// columns in a projection that casts them to VARCHAR. Where it cannot (a
// query of several statements or with duplicate column names, JSON inside a
// list) the document is re-encoded from duckdb-go's decoded value: object
// keys sorted, numbers beyond float64 precision rounded, a JSON null read as
// SQL NULL.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/jmoiron/sqlx"

	"github.com/dataopskit/dataops/warehouse"
)

// DriverName is the database/sql driver name of the pool behind a DuckDB
// warehouse; sqlx knows it to take "?" bind parameters.
const DriverName = "duckdb"

func init() {
	warehouse.Register(Driver{}, "duckdb")
	sqlx.BindDriver(DriverName, sqlx.QUESTION)
}

// Driver opens DuckDB warehouses. It is registered for the "duckdb" scheme;
// users reach it through warehouse.Open rather than directly.
type Driver struct{}

// Config is a parsed DuckDB warehouse URL.
type Config struct {
	// Path is the database file; empty means a new in-memory database.
	Path string
	// Schema, if not empty, becomes the current schema of every connection.
	Schema string
	// Options are DuckDB configuration options set when the database opens.
	Options url.Values
	// ReleaseMemory is ReleaseMemoryOption.
	ReleaseMemory bool
}

// ParseURL parses a duckdb: URL (see the package documentation) into a
// Config. Relative paths are made absolute against the working directory.
func ParseURL(u *url.URL) (Config, error) {
	var c Config
	if u.Scheme != "duckdb" {
		return c, fmt.Errorf("duckdb: URL scheme is %q, want duckdb", u.Scheme)
	}
	if u.User != nil {
		return c, errors.New("duckdb: URL must not hold a user or password")
	}
	if u.Fragment != "" {
		return c, errors.New("duckdb: URL must not hold a fragment (#…); percent-encode '#' in file names as %23")
	}
	var p string
	switch {
	case u.Opaque != "":
		// duckdb:relative/path.db, duckdb::memory:
		op, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return c, fmt.Errorf("duckdb: invalid path %q: %w", u.Opaque, err)
		}
		p = op
	case u.Host != "":
		// duckdb://relative/path.db
		p = u.Host + u.Path
	default:
		// duckdb:/abs/path.db, duckdb:///abs/path.db, duckdb:
		p = u.Path
	}
	if p != "" && p != ":memory:" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return c, fmt.Errorf("duckdb: database path %q: %w", p, err)
		}
		c.Path = abs
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("duckdb: invalid URL query: %w", err)
	}
	if s, ok := q["schema"]; ok {
		if len(s) != 1 || s[0] == "" {
			return c, errors.New("duckdb: schema parameter must be given once and not be empty")
		}
		c.Schema = s[0]
		q.Del("schema")
	}
	if s, ok := q[ReleaseMemoryOption]; ok {
		if len(s) != 1 || (s[0] != "true" && s[0] != "false") {
			return c, fmt.Errorf("duckdb: %s must be given once, true or false", ReleaseMemoryOption)
		}
		c.ReleaseMemory = s[0] == "true"
		q.Del(ReleaseMemoryOption)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return c, fmt.Errorf("duckdb: option %q given %d times", k, len(vs))
		}
	}
	c.Options = q
	return c, nil
}

// dsn renders the Config as a duckdb-go DSN.
func (c Config) dsn() (string, error) {
	path := c.Path
	if path == "" {
		path = ":memory:"
	} else if strings.ContainsAny(path, "?#%") {
		// duckdb-go splits its DSN at '?' and parses it as a URL.
		return "", fmt.Errorf("duckdb: database path %q contains '?', '#' or '%%', which DuckDB's connection string cannot carry", path)
	}
	if len(c.Options) == 0 {
		return path, nil
	}
	return path + "?" + c.Options.Encode(), nil
}

// VacuumOption is DuckDB's max_vacuum_tasks, a URL option. Each bulk commit
// of more than two row groups writes its rows as row groups of their own,
// the last one partly filled; with vacuum on (DuckDB's default), the next
// checkpoint rewrites the row groups around each partial one to merge them
// (measured: 1M staged rows of 14 columns in 250k-row commits, 0.7-0.9
// CPU-s at the checkpoint that closes the file; with max_vacuum_tasks=0,
// 0.02 s). Vacuum is also what compacts row groups thinned by DELETE
// (append_dedup streams, dbt's incremental merges), so Open leaves
// DuckDB's default alone: a URL with max_vacuum_tasks=0 trades that
// compaction for cheaper checkpoints in databases that only take appends.
const VacuumOption = "max_vacuum_tasks"

// ReleaseMemoryOption is the URL option dataops_release_memory=true, this
// driver's own (DuckDB does not see it). It is for processes that must stay
// small, such as a staging load under a small memory_limit (see the staging
// package's Memory section), on Linux, and it makes two process-wide
// changes, best made at the first Open:
//
//   - glibc's malloc, which DuckDB's C++ objects use, serves every thread
//     from one arena (M_ARENA_MAX=1), set before DuckDB starts its
//     threads. A chunk load runs on whichever thread its goroutine locks,
//     and memory freed into one thread's arena was not reused by the next
//     load's: the process grew with the rows staged, ~3 MiB a million.
//     (A Parquet load on two threads took the same CPU with one arena.)
//   - Before each bulk load (at most every 100 ms), DuckDB's jemalloc
//     hands the pages it holds unused back to the system. DuckDB keeps
//     freed pages for a decay time of 1 s, and after a bulk commit the
//     next transaction's first row groups stood on top of the last one's
//     freed pages: 30-40 MiB more for a moment, after any commit.
//
// Staging 1M and 10M rows (benchpipeline, memory_limit=32MB): peak RSS
// 109-110 and 128 MiB with it, 110-148 and 153-180 MiB without, at the
// same CPU within the runs' spread. Setting jemalloc's decay to 0 instead
// of purging at loads lowered the peaks a little more (98-103 and 110-122
// MiB) but cost 10-15% more CPU. Open fails with the option where glibc's
// malloc or DuckDB's jemalloc is not there, rather than ignore it.
const ReleaseMemoryOption = "dataops_release_memory"

// Open opens the DuckDB database that u names. It implements warehouse.Driver.
func (Driver) Open(ctx context.Context, u *url.URL, _ warehouse.Config) (warehouse.Engine, error) {
	cfg, err := ParseURL(u)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig opens the database that cfg describes and returns its engine;
// warehouse.Open with a duckdb: URL is the usual way in.
func OpenConfig(ctx context.Context, cfg Config) (*Engine, error) {
	dsn, err := cfg.dsn()
	if err != nil {
		return nil, err
	}
	var initFn func(driver.ExecerContext) error
	if cfg.Schema != "" {
		stmt := "SET schema = " + quoteLiteral(cfg.Schema)
		initFn = func(ex driver.ExecerContext) error {
			if _, err := ex.ExecContext(context.Background(), stmt, nil); err != nil {
				return fmt.Errorf("duckdb: set schema %q: %w", cfg.Schema, err)
			}
			return nil
		}
	}
	if cfg.ReleaseMemory {
		// Before DuckDB starts its threads: they take their malloc
		// arenas as they first allocate.
		if err := releaseMallocArenas(); err != nil {
			return nil, fmt.Errorf("duckdb: %s: %w", ReleaseMemoryOption, err)
		}
	}
	conn, err := duckdb.NewConnector(dsn, initFn)
	if err != nil {
		if len(cfg.Options) > 0 && strings.Contains(err.Error(), "option") {
			return nil, fmt.Errorf("duckdb: open %s with options %s: %w", displayPath(cfg.Path), cfg.Options.Encode(), err)
		}
		return nil, fmt.Errorf("duckdb: open %s: %w", displayPath(cfg.Path), err)
	}
	db := sql.OpenDB(conn)
	// DuckDB connections are cheap and run in parallel; keep a few idle.
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("duckdb: open %s: %w", displayPath(cfg.Path), err)
	}
	if cfg.ReleaseMemory {
		// Once DuckDB has set its allocator up.
		if err := purgeAllocator(); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb: %s: %w", ReleaseMemoryOption, err)
		}
	}
	e := &Engine{db: db, cfg: cfg}
	if !rawLayoutOK {
		e.noChunks = true // see chunkraw.go
	} else if err := registerLoadFunc(ctx, db); err != nil {
		// Load falls back to the appender.
		e.noChunks = true
	}
	return e, nil
}

func displayPath(p string) string {
	if p == "" {
		return ":memory:"
	}
	return p
}

// quoteLiteral renders s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
