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
//
// What limit for a large keyed table: the key's index (DuckDB's ART) is
// not spilled: it stays in memory, inside memory_limit, next to the buffers
// of the load. Measured at 10M rows of a 10-column table with a BIGINT key
// (internal/cmd/benchbackup -rows 10000000 -isolate -memory-limit …, peak
// RSS of each phase in a process of its own, several runs): the built index
// holds 82 MB (duckdb_memory(), ~8 bytes a row; wider or random keys take
// more); building it in one pass after the load (ALTER TABLE … ADD PRIMARY
// KEY, DuckDB's fastest way) holds ~20 bytes a row at once whatever the
// limit (peak RSS 401-473 MiB at 128, 160 and 192 MB). So a restore of 10M
// keyed rows loads into the keyed table, one INSERT (one commit) per part,
// as a commit holds the transaction's new keys too. Set memory_limit to
// 192MB for 10M keyed rows, about 20 bytes a row: the smallest limit tried
// at which DuckDB's own keyed INSERT of the same Parquet file finishes (at
// 128MB and 160MB it fails at commit, "failed to pin block"). Expect a peak
// RSS of about the limit plus 100 MiB (DuckDB's allocations outside its
// buffer pool, the Go runtime): at 192MB, DuckDB's keyed INSERT 281-291
// MiB, its COPY TO 267-296 and plain INSERT 262-281; a restore 287-297 and
// a composed one 297-306; a full backup 272-286, an incremental 313-334. No
// limit keeps every phase at 10M rows within 256 MiB: DuckDB's own COPY and
// INSERT exceed it at 192MB, and below 192MB its keyed INSERT fails. At
// 160MB a restore still finishes (248-297 MiB, with more spilling: 12-15
// CPU-s instead of 12-13); at 128MB a full restore finishes (257-269 MiB)
// and a composed one (its anti join too) finished once in 280 MiB and once
// ran out of memory, then finished in 10 runs of 10 (236-301 MiB). A
// commit per part costs 4-9% more CPU at 192MB than one INSERT (10M rows:
// 12.2-12.9 CPU-s against 11.8-12.3 for a full restore, 13.0-13.1 against
// 11.8-12.1 for a composed one).
//
// Where a restore's memory goes at 128MB (10M rows, duckdb_memory() read
// every 200 ms during a full restore in a test process): near the end
// DuckDB's buffer pool is full with the key's index (ART_INDEX 61-78 MiB),
// the table's new blocks (BASE_TABLE 22-65) and the open INSERT's rows
// (IN_MEMORY_TABLE 12-16); the Go side stays small (benchbackup's restore
// process ran one garbage collection, at a 4 MB heap); the rest of the peak,
// 60-90 MiB, is DuckDB's memory outside its pool, much of it pages its
// jemalloc keeps for a second after they are freed, so the peak swings by
// about 50 MiB from run to run: 220-271 MiB for a full restore (13 runs),
// 242-280 for a composed one (5 runs). A restore therefore asks the
// warehouse to hand those pages back before each INSERT
// (warehouse.Warehouse.ReleaseMemory: the DuckDB driver purges its
// jemalloc when opened with dataops_release_memory=true, and does nothing
// otherwise). With the option, benchbackup -rows 10000000 -isolate
// -memory-limit 128MB -duckdb-opts '?dataops_release_memory=true' gave a
// restore 228-232 MiB and a composed one 225-227 (2 runs; without it, in
// the same loop, 218-270 and 239-240), a full backup 227-232, a
// change-column incremental 230-242 and a key-and-hash incremental
// 263-266: every phase but the last within 256 MiB, where DuckDB's own
// keyed INSERT cannot run at all. allocator_background_threads=true alone
// (240-253) did not lower the peak, and smaller INSERTs (250k rows each,
// chosen by file_row_number) did not either (243-312 MiB in benchbackup's
// restore processes) while costing 35-50% more CPU.
//
// How long an incremental takes on DuckDB: a table with a change column
// reads only the rows at or above its parent's mark, but a key-and-hash
// incremental hashes every row and compares it with the parent's stored
// hash of the same key. benchbackup -rows 10000000 -isolate, 1% of the rows
// changed at random, the same run as the full backup it is compared with: a
// change-column incremental took 22-30% of the full's CPU (23-31% of its
// wall time) at memory_limit 128MB and 192MB. A key-and-hash one against a
// full backup, with a one-column integer key, merges the table's (key,
// hash()) stream with the parent's parts in table order (the merge path:
// mergedelta.go) and took 57% of the full's CPU, 1.7-2.1 s with its process
// against 2.4-2.6 s (and 35% less CPU) when it joined every key, at 128MB;
// the merge itself takes 1.1 s of it (hashing the 10M rows, decoding the
// parent's keys and hashes), the rows of the changed keys 0.3 s. A parent
// that is itself an incremental merges the same way (56% of the full's
// CPU, 1.8-2.2 s against 3.2-3.4 s and 451-461 MiB when its rows were
// composed and joined). Other tables (composite or text keys) join every
// key, 58-85% of the full's CPU (63-87% wall): DuckDB joins 10M keys with
// the parent's in 1.5-2.3 s. Other ways to join cost as much or
// more (measured in a separate DuckDB process on the same table): a
// POSITIONAL JOIN with the parent's rows in table order (1.3-1.4 s, on one
// thread, and any delete would misalign it), ten joins over key ranges
// (12-15% faster, only for a table ordered by its key), or per-bucket sums
// of the row hashes (1.3-1.6 s to aggregate 1M buckets).
package backup
