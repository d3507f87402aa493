package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dataopskit/dataops/warehouse"
)

// Engine is an open DuckDB database. It implements warehouse.Engine; the
// portable *warehouse.Warehouse wraps it.
type Engine struct {
	db  *sql.DB
	cfg Config
	// noChunks: Load always uses the appender, because dataops_load could
	// not be registered (or a test asks for the appender).
	noChunks bool
	// lastPurge is when purgeBeforeLoad last purged (Unix ns).
	lastPurge atomic.Int64
}

var _ warehouse.Engine = (*Engine)(nil)

// DB returns the connection pool.
func (e *Engine) DB() *sql.DB { return e.db }

// DriverName returns "duckdb", the database/sql driver name of the pool.
func (e *Engine) DriverName() string { return DriverName }

// Dialect returns DuckDB's SQL dialect.
func (e *Engine) Dialect() warehouse.Dialect { return Dialect{} }

// Config returns the configuration the engine was opened with.
func (e *Engine) Config() Config { return e.cfg }

// Capabilities reports DuckDB's optional features: transactional DDL, MERGE
// INTO and several databases per session (ATTACH); no zero-copy clone, time
// travel or change streams.
func (e *Engine) Capabilities() warehouse.Capabilities {
	return warehouse.Capabilities{
		TransactionalDDL:  true,
		Merge:             true,
		MultipleDatabases: true,
	}
}

// Info reports DuckDB's version and the current database and schema.
func (e *Engine) Info(ctx context.Context, q warehouse.Querier) (warehouse.Info, error) {
	info := warehouse.Info{Engine: "duckdb"}
	err := q.QueryRowxContext(ctx, "SELECT version(), current_database(), current_schema()").
		Scan(&info.Version, &info.Database, &info.Schema)
	if err != nil {
		return warehouse.Info{}, fmt.Errorf("duckdb: info: %w", err)
	}
	return info, nil
}

// Close closes the pool and, for an in-memory database, discards it.
func (e *Engine) Close() error { return e.db.Close() }

// Classify maps a DuckDB error to warehouse.ErrNotFound, ErrAlreadyExists or
// ErrPermission, or returns nil. It reads duckdb-go's *duckdb.Error, falling
// back on the message for errors that lost their type.
func (e *Engine) Classify(err error) error {
	if err == nil {
		return nil
	}
	var de *duckdb.Error
	typ := duckdb.ErrorTypeInvalid
	msg := err.Error()
	if errors.As(err, &de) {
		typ, msg = de.Type, de.Msg
	}
	// The first line holds the error; later lines hold hints and the query
	// excerpt, which may quote anything.
	first, _, _ := strings.Cut(msg, "\n")
	low := strings.ToLower(first)
	switch typ {
	case duckdb.ErrorTypePermission:
		return warehouse.ErrPermission
	case duckdb.ErrorTypeCatalog:
		switch {
		case strings.Contains(low, "already exists"):
			return warehouse.ErrAlreadyExists
		case strings.Contains(low, "does not exist"), strings.Contains(low, "not found"),
			strings.Contains(low, "no catalog + schema named"):
			return warehouse.ErrNotFound
		}
	case duckdb.ErrorTypeBinder:
		if strings.Contains(low, "does not exist") || strings.Contains(low, "not found") ||
			strings.Contains(low, "does not have a column") {
			return warehouse.ErrNotFound
		}
	}
	switch {
	case strings.Contains(low, "read-only mode"), strings.Contains(low, "read only mode"),
		strings.Contains(low, "permission denied"):
		return warehouse.ErrPermission
	case typ == duckdb.ErrorTypeInvalid || typ == duckdb.ErrorTypeUnknownType:
		// Errors that reached us without a DuckDB type: go by the message.
		switch {
		case strings.Contains(low, "catalog error") && strings.Contains(low, "already exists"):
			return warehouse.ErrAlreadyExists
		case strings.Contains(low, "catalog error") && strings.Contains(low, "does not exist"):
			return warehouse.ErrNotFound
		}
	}
	return nil
}

// Schemas lists the schemas of the current database, without the built-in
// information_schema and pg_catalog.
func (e *Engine) Schemas(ctx context.Context, q warehouse.Querier) ([]string, error) {
	var out []string
	rows, err := q.QueryxContext(ctx, `SELECT schema_name FROM duckdb_schemas()
WHERE database_name = current_database() AND schema_name NOT IN ('information_schema', 'pg_catalog')
ORDER BY schema_name`)
	if err != nil {
		return nil, fmt.Errorf("duckdb: list schemas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("duckdb: list schemas: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: list schemas: %w", err)
	}
	return out, nil
}

// The database and schema filters of the introspection queries: an empty
// parameter means the current one. DuckDB matches names case-insensitively,
// and so do they.
const (
	dbFilter     = "lower(database_name) = lower(coalesce(nullif($1, ''), current_database()))"
	schemaFilter = "lower(schema_name) = lower(coalesce(nullif($2, ''), current_schema()))"
)

// Relations lists the tables and views of a schema ("" = the current one)
// in a database ("" = the current one), sorted by name.
func (e *Engine) Relations(ctx context.Context, q warehouse.Querier, database, schema string) ([]warehouse.RelationInfo, error) {
	query := `SELECT database_name, schema_name, table_name AS name, 'table' AS kind FROM duckdb_tables()
WHERE ` + dbFilter + ` AND ` + schemaFilter + `
UNION ALL
SELECT database_name, schema_name, view_name, 'view' FROM duckdb_views()
WHERE NOT internal AND ` + dbFilter + ` AND ` + schemaFilter + `
ORDER BY name`
	rows, err := q.QueryxContext(ctx, query, database, schema)
	if err != nil {
		return nil, fmt.Errorf("duckdb: list relations: %w", err)
	}
	defer rows.Close()
	var out []warehouse.RelationInfo
	for rows.Next() {
		var ri warehouse.RelationInfo
		var kind string
		if err := rows.Scan(&ri.Database, &ri.Schema, &ri.Name, &kind); err != nil {
			return nil, fmt.Errorf("duckdb: list relations: %w", err)
		}
		if database == "" {
			ri.Database = ""
		}
		if schema == "" {
			ri.Schema = ""
		}
		ri.Kind = warehouse.RelationKind(kind)
		out = append(out, ri)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: list relations: %w", err)
	}
	return out, nil
}

// columnsQuery lists a relation's columns in order; $1 database, $2 schema,
// $3 relation name.
const columnsQuery = `SELECT column_name, data_type, is_nullable FROM duckdb_columns()
WHERE ` + dbFilter + ` AND ` + schemaFilter + ` AND lower(table_name) = lower($3)
ORDER BY column_index`

// Columns lists the columns of a table or view in order; none means it does
// not exist.
func (e *Engine) Columns(ctx context.Context, q warehouse.Querier, rel warehouse.Relation) ([]warehouse.Column, error) {
	rows, err := q.QueryxContext(ctx, columnsQuery, rel.Database, rel.Schema, rel.Name)
	if err != nil {
		return nil, fmt.Errorf("duckdb: list columns: %w", err)
	}
	defer rows.Close()
	var out []warehouse.Column
	for rows.Next() {
		var c warehouse.Column
		var typ string
		if err := rows.Scan(&c.Name, &typ, &c.Nullable); err != nil {
			return nil, fmt.Errorf("duckdb: list columns: %w", err)
		}
		c.Type = Dialect{}.ParseType(typ)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: list columns: %w", err)
	}
	return out, nil
}

// ReleaseMemory implements warehouse.MemoryReleaser: with
// ReleaseMemoryOption, DuckDB's allocator hands the pages it holds unused
// back to the system (at most every 100 ms); without it, nothing.
func (e *Engine) ReleaseMemory() { e.purgeBeforeLoad() }

// purgeBeforeLoad, with ReleaseMemoryOption, hands the pages DuckDB's
// allocator holds unused back to the system before a bulk load, at most
// every 100 ms.
func (e *Engine) purgeBeforeLoad() {
	if !e.cfg.ReleaseMemory {
		return
	}
	now := time.Now().UnixNano()
	last := e.lastPurge.Load()
	if now-last < int64(100*time.Millisecond) || !e.lastPurge.CompareAndSwap(last, now) {
		return
	}
	_ = purgeAllocator() // Open checked that it works
}
