// Package warehouse is one portable type over SQL warehouse engines —
// embedded DuckDB (the default), PostgreSQL, and later Snowflake — in the way
// gocloud.dev/blob is one bucket over many clouds and database/sql one DB over
// many drivers. Staging, transform and backup all work through it.
//
// Open a warehouse by URL; the scheme picks the driver, which registers itself
// when its package is imported:
//
//	import (
//		"github.com/dataopskit/dataops/warehouse"
//		_ "github.com/dataopskit/dataops/warehouse/duckdb"
//	)
//
//	w, err := warehouse.Open(ctx, "duckdb:warehouse.duckdb")
//	if err != nil { … }
//	defer w.Close()
//	n, err := w.Load(ctx, warehouse.Rel("raw", "orders"), nil, rows)
//
// Schemes today: duckdb: (a file path; "duckdb:" alone is in memory) and
// postgres: / postgresql: (a libpq URL). A "schema" query parameter sets the
// default schema on both.
//
// # What a Warehouse offers
//
//   - Arbitrary SQL through DB (a *sqlx.DB), Exec, Get and Select, and Rows,
//     which streams results as portable Go values.
//   - Names: a Relation is database.schema.name as the engine stores it; the
//     Dialect quotes it (QuoteRelation, QuoteIdentifier) and folds unquoted
//     names as the engine does (NormalizeIdentifier: lower on PostgreSQL,
//     upper on Snowflake). Names too long for the engine are refused with
//     ErrInvalidIdentifier instead of being silently truncated.
//   - Types: a portable Type (string, integer, decimal(p,s), float, boolean,
//     date, time, timestamp, timestamptz, json, binary, array) maps both ways
//     to each engine's types; the Go value of each kind is listed on Type.
//   - Introspection: Schemas, Relations (tables and views), Relation, Columns.
//   - DDL: CreateSchema, CreateTable, AddColumns, Rename, Drop, DropSchema,
//     and ReplaceTableAs / ReplaceViewAs, which build aside and swap in one
//     transaction so that a reader sees the old relation or the new one.
//   - Merge (upsert by key) and transactions: Begin, WithTx. Every operation
//     also exists on Tx, including Load, so data and bookkeeping commit together.
//   - Load streams rows from an iterator through the engine's bulk path —
//     DuckDB's chunk loads (or its appender), PostgreSQL's COPY FROM STDIN —
//     never row INSERTs. LoadColumns takes typed column batches
//     (ColumnBatch) instead, for producers that have typed values: engines
//     that implement ColumnLoader (DuckDB) take them as they are, others get
//     their rows.
//   - Capabilities tell callers what an engine can do (transactional DDL,
//     MERGE, zero-copy clone, time travel, change streams) so they branch on
//     facts, not on engine names.
//
// # Errors
//
// Operations return *Error, which names the operation and the relation and
// matches ErrNotFound, ErrAlreadyExists, ErrPermission, ErrInvalidIdentifier
// or ErrUnsupported with errors.Is. Passwords in URLs never appear in errors,
// logs or String: see RedactURL.
//
// # Writing a driver
//
// A driver implements Driver (Open), Engine (the engine-specific operations)
// and Dialect, calls Register from its init function, and runs the
// conformance suite in package warehousetest from its tests. The Snowflake
// driver to come fits the same shape: NormalizeIdentifier folds to upper case,
// relations have three parts, KindJSON is VARIANT, Load goes through PUT and
// COPY INTO, and Capabilities report Clone and TimeTravel.
package warehouse
