// Package dataops is an embeddable Go SDK for the work a data team does with
// Airbyte, dbt, Snowflake and a pile of backup scripts — inside any Go
// service, or from the dataops command.
//
// # The flow
//
//	local systems ──Airbyte protocol──▶ staging area ──dbt models──▶ warehouse ──backup──▶ object storage
//	   airbyte/                          staging/        transform/                 backup/
//	                       all of them talk to the warehouse through warehouse/
//
// The packages:
//
//   - [github.com/dataopskit/dataops/airbyte] extracts raw data by the Airbyte
//     protocol: native Go sources (PostgreSQL, files), any Airbyte connector
//     executable, or an Airbyte server through its API.
//   - [github.com/dataopskit/dataops/staging] lands those streams untransformed
//     in the warehouse, committing each state checkpoint with the rows it covers.
//   - [github.com/dataopskit/dataops/transform] runs an unmodified dbt project:
//     models, sources, seeds, snapshots, tests and macros.
//   - [github.com/dataopskit/dataops/backup] protects what cannot be rebuilt:
//     verified, immutable, incremental backups and their restore.
//   - [github.com/dataopskit/dataops/warehouse] is the one portable type over
//     the engines: embedded DuckDB (the default), PostgreSQL, and Snowflake.
//
// # The shortest complete program
//
// Open the embedded warehouse, create a table, stream rows into it through
// the engine's bulk path, and read them back:
//
//	import (
//		"github.com/dataopskit/dataops/warehouse"
//		_ "github.com/dataopskit/dataops/warehouse/duckdb" // registers duckdb:
//	)
//
//	w, err := warehouse.Open(ctx, "duckdb:warehouse.duckdb")
//	if err != nil { … }
//	defer w.Close()
//	events := warehouse.Rel("main", "events")
//	err = w.CreateTable(ctx, events, []warehouse.Column{
//		{Name: "id", Type: warehouse.Integer},
//		{Name: "payload", Type: warehouse.JSON, Nullable: true},
//	}, nil)
//	n, err := w.Load(ctx, events, nil, rows) // rows is an iter.Seq2[[]any, error]
//
// The same code runs on PostgreSQL with a postgres:// URL and the
// warehouse/postgres driver imported. examples/quickstart is this program in
// full: go run ./examples/quickstart.
package dataops
