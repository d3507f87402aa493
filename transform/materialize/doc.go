// Package materialize executes compiled dbt nodes on a warehouse, in Go: the
// view, table and incremental materializations, seeds, snapshots, generic and
// singular data tests, unit tests and hooks — with the results dbt-core gives
// on the same engine (dbt-duckdb on DuckDB, dbt-postgres on PostgreSQL).
//
// Every function takes plain inputs — the target as a warehouse.Relation, the
// compiled SQL as a string and a config struct with typed fields — and a DB,
// which is a *warehouse.Warehouse (each call runs in a transaction of its
// own) or a *warehouse.Tx (the call joins it). Each returns a Response like
// dbt's adapter response: a code such as "SELECT 100", "INSERT 0 5" or "OK"
// and the rows affected.
//
// The shortest use:
//
//	w, _ := warehouse.Open(ctx, "duckdb:")
//	res, err := materialize.Table(ctx, w, warehouse.Rel("main", "orders"),
//		"select 1 as id", materialize.TableConfig{})
//
// # Atomicity
//
// A view or table is built under a scratch name and swapped in within one
// transaction, so a reader sees the old relation or the new one (on DuckDB,
// when the relation is absent or of the same kind, one CREATE OR REPLACE
// does the same in one statement: inside the transaction when the model has
// hooks, on its own otherwise, since a single statement is atomic). An
// incremental run builds its new rows aside, reconciles the schema, applies
// the strategy and drops the scratch table in one transaction. Pre-hooks and
// post-hooks run inside that transaction unless marked otherwise, as dbt runs
// hooks whose transaction setting is true (the default): pre-hooks after BEGIN
// and before the model's statement, post-hooks after it and before COMMIT.
// Hooks marked OutsideTransaction run before BEGIN (pre) or after COMMIT
// (post), as dbt's before_begin and after_commit. A failure rolls everything
// back: a failed operation changes nothing (hooks outside the transaction
// excepted).
//
// # Identifiers and values
//
// Relation and column names reach SQL only through the warehouse dialect's
// quoting. Expressions that dbt takes verbatim — unique_key, check_cols,
// incremental_predicates, a test's column_name (which may be an expression
// such as concat(a, '_', b)), where, warn_if — are SQL by design and are
// inserted as given, as dbt does. Literal values that dbt would format into
// SQL (accepted_values, unit test fixtures) are rendered as escaped SQL
// string literals cast to their column type.
package materialize
