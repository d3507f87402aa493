// Package backup protects warehouse tables with verified, incremental
// backups in a repository (package backup/repository, format in
// backup/FORMAT.md) and brings them back: whole snapshots, schemas or single
// tables, over the originals or side by side, as of any point in time.
//
// The shortest use:
//
//	repo, _ := repository.Init(ctx, "file:///backups/wh", repository.InitOptions{})
//	res, err := backup.Backup(ctx, repo, w, backup.Options{})                    // full
//	res, err = backup.Backup(ctx, repo, w, backup.Options{Incremental: true})    // changes only
//	_, err = backup.Restore(ctx, repo, w, backup.RestoreOptions{Schema: "drill"}) // side by side, verified
//
// What it offers:
//
//   - Backup reads every table at one point in time (one transaction on
//     DuckDB; an exported snapshot shared by parallel REPEATABLE READ
//     transactions on PostgreSQL) and streams rows into Parquet parts with
//     flat memory. Each table entry records its columns, primary key, row
//     count and an order-independent fingerprint (FingerprintTable) that is
//     the same on every engine.
//   - Incremental backups store only rows added, changed or deleted since
//     the parent, found by primary key and row hash (or as multisets of row
//     hashes for tables without a key); an unchanged table costs nothing
//     (mode "same"). A table declared with a change column
//     (Options.ChangeColumns: a write timestamp or commit sequence that
//     every insert and update raises) has only the rows at or above its parent's
//     mark read and hashed, its deletes counted rather than joined.
//     Synthesize compacts a chain into a full snapshot from the repository
//     alone.
//   - Restore loads each table aside, checks its row count and fingerprint
//     against the manifest (ErrMismatch names the table), and swaps all
//     tables in in one transaction: a failed restore changes nothing.
//     Side-by-side restores refuse to replace existing tables
//     (ErrTargetExists) unless asked to.
//   - Time travel: Versions lists a table's versions, ReadTable streams it as
//     of a time, Diff compares two versions row by row, Undrop brings back a
//     dropped table.
//   - CreateNative, ListNative, RestoreNative and DropNative manage
//     warehouse-native snapshots (a DuckDB database file, a PostgreSQL
//     schema); Scheduler runs backups and snapshots on cron schedules.
//   - Every operation reports start, progress, finish and error Events (the
//     repository's Event type) to a callback and to log/slog.
//
// On DuckDB a full backup is written by DuckDB itself: one COPY … TO of the
// table with its engine row hash (DuckDB's hash() of the row) into Parquet
// parts, no row through Go; the table entry records that row hash kind
// ("duckdb-hash/<version>", Table.RowHash) and an engine fingerprint.
// Restores into the same DuckDB version check the engine fingerprint in
// SQL; restores elsewhere (PostgreSQL, another DuckDB version) check the
// loaded table the portable way against the parts. PostgreSQL tables, and
// DuckDB tables with JSON, arrays or a float -0.0, are written through Go
// with the portable row hash (HashSHA256), the same on every engine.
// FingerprintTableKind computes a live table's fingerprint by a given kind.
//
// Composition of base and deltas, digests and diffs happen in a private
// DuckDB database on local disk (memory_limit 192 MB, spilling beyond), so
// memory stays bounded whatever the size of the tables.
//
// Memory on DuckDB: DuckDB's memory_limit is global to a database, so
// Backup and Restore never change the settings of the caller's database.
// The COPY of a full backup, the key join of an incremental and the INSERT of
// a restore run in it, under its own memory_limit (DuckDB's default is 80%
// of RAM, and it uses what it may). To bound a backup's or restore's memory,
// open the warehouse with a limit, e.g. "duckdb:/data/wh.duckdb?memory_limit=128MB":
// DuckDB then spills to its temp directory. That is the documented
// recommendation; the benchmark (internal/cmd/benchbackup -memory-limit)
// measures peak RSS that way. A restore loads a table of over 2M rows
// before building its key's index (faster) only when half the memory_limit
// holds 100 bytes a row; else it loads into the keyed table, whose index
// DuckDB keeps within the limit.
package backup
