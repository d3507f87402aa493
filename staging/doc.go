// Package staging lands Airbyte message streams, untransformed, in a
// warehouse's staging area — exactly once.
//
// Airbyte destinations deliver at least once. A Loader does better: records
// are written through the warehouse's bulk path into an open transaction as
// they arrive, and a STATE message commits that transaction together with
// the state, in a state table of the same warehouse (states that arrive close
// together share one commit: Options.CommitRows). Only then is the state
// acknowledged to the source (a CDC source confirms its LSN then). A
// crash at any instant leaves the last committed state with exactly the rows
// it covers, and the next Load resumes from it:
//
//	l := staging.NewLoader(w, staging.Options{Schema: "raw"})
//	state, err := l.State(ctx)                       // last committed states
//	rs, err := source.Read(ctx, config, catalog, state)
//	res, err := l.Load(ctx, catalog, rs)             // per-stream counts
//
// # Tables
//
// Each stream lands in one typed table named after it, in Options.Schema
// (default: the stream's namespace, else "staging"). Columns come from the
// stream's JSON schema (integer; number as float; boolean; string with
// format date, date-time or an airbyte_type timestamp hint as date or
// timestamp; objects, arrays and unions as JSON), followed by the metadata
// columns Airbyte destinations add: _airbyte_raw_id, _airbyte_extracted_at,
// _airbyte_meta and _airbyte_generation_id. _airbyte_raw_id is a UUID that
// is unique across loads; a new table of the direct layout stores it as
// DuckDB's UUID type (16 bytes a value; storing 1M of them as VARCHAR cost
// DuckDB about 0.3 CPU-s more, as random strings defeat its string
// compression), and as text on engines without a UUID type. It compares,
// sorts and joins as its text does. Airbyte destinations v2 declare the
// column a string (VARCHAR / STRING), so the airbyte layout keeps
// VARCHAR in its raw and typed tables, as a table that already has a
// VARCHAR _airbyte_raw_id keeps it (and the tables made beside it, aside
// or inbox, take its type). A value that does not fit its
// column is stored as NULL and a {field, NULLED, DESTINATION_TYPECAST_ERROR}
// change is added to _airbyte_meta; the sync goes on. A field the schema did
// not list gets a new JSON column, so nothing is lost; columns the schema no
// longer lists stay, and are NULL in new rows.
//
// With Options.Layout = LayoutAirbyte the loader also keeps the raw tables of
// Airbyte destinations v2 — airbyte_internal."<schema>_raw__stream_<name>"
// with _airbyte_raw_id, _airbyte_extracted_at, _airbyte_loaded_at,
// _airbyte_data, _airbyte_meta and _airbyte_generation_id — written in the
// same transactions as the typed tables, so that dbt projects written
// against either kind of table run unchanged.
//
// Schema changes: a column whose stream schema asks for a wider type is
// widened along a lattice (integer → decimal → float → string, date →
// timestamp → timestamptz → string, anything → string), or the load fails
// when Options.SchemaPolicy is Fail; see Widen.
//
// # Throughput
//
// Three goroutines share the work: the source runs a bounded buffer ahead
// of the loader; the loader converts records into rows; a writer keeps one
// bulk load per stream and commit open (DuckDB's appender, PostgreSQL's COPY)
// and writes each batch while the loader converts the next. Sources that
// offer typed records hand over Go values: the PostgreSQL source sends them
// as PostgreSQL sent them, so no JSON is written or parsed on the way, and a
// connector's read parses each record's line once, straight into values by
// the stream's JSON schema. A typed value whose Go
// type does not match its column directly sends that record down the JSON
// path, so it lands exactly as its JSON form would. States that arrive close
// together share one commit (Options.CommitRows).
//
// With a warehouse that loads column batches itself (DuckDB; see
// warehouse.LoadColumns) a stream whose columns all have a column form is
// batched column by column: typed records that hand their values over
// unboxed (airbyte.VisitableValues: the PostgreSQL source's, a connector's
// typed JSON) are written straight into typed columns, and DuckDB copies the
// columns into its vectors; other records are converted as on the row path
// and stored in the columns. Nothing is boxed per value on the way.
//
// # Memory
//
// The loader holds, per stream being written, at most three batches
// (Options.BatchRows rows or Options.BatchBytes bytes each), and the source
// runs at most 320 messages ahead. The warehouse holds the rest: on DuckDB,
// the open transaction's rows up to the next commit (Options.CommitRows;
// DuckDB writes full row groups to the file as they fill and spills to its
// temporary directory beyond its limit) and the blocks of the tables it
// wrote, which it keeps as a cache until memory_limit is reached. That
// limit belongs to the database, not to a load: set it in the warehouse URL.
// DuckDB's default, 80% of RAM, lets the cache grow with the data loaded:
// staging 10M rows of 10 columns with 256MB grew the process to 435 MiB.
//
// The policy for a staging process that must stay small is
//
//	duckdb:wh.duckdb?memory_limit=32MB&allocator_background_threads=true&dataops_release_memory=true
//
// memory_limit bounds DuckDB's block cache, and the smaller limit is reached
// within the first million rows, so the process does not keep growing
// after it; allocator_background_threads lets DuckDB's background threads
// hand the memory its allocator caches per thread back to the system;
// dataops_release_memory (the DuckDB driver's own option, Linux) keeps
// DuckDB's C++ allocations in one malloc arena and hands the pages DuckDB's
// allocator keeps after a commit back before the next load (see
// duckdb.ReleaseMemoryOption). Without it the peak swung by 30-40 MiB from
// run to run and grew with the rows staged: 110-148 MiB at 1M rows, 153-180
// MiB at 10M. The rest of the process is flat: the Go runtime holds about
// 19-26 MiB, at 1M rows as at 10M (the loader's batches; the PostgreSQL
// source's typed records are released once copied into them and reused, so
// the source holds no GC ballast). Peak RSS of the whole process
// (benchpipeline, PostgreSQL source, 10 columns):
//
//	policy                                          1M rows       10M rows
//	32MB, background threads, release memory        104-110 MiB   120-128 MiB
//	32MB, background threads (Go runtime ~40-55)    110-148 MiB   153-180 MiB
//
// and, measured earlier with a Go runtime of about 65 MiB:
//
//	memory_limit                   1M rows       10M rows
//	64MB                           149–186 MiB   220–227 MiB
//	32MB                           169–171 MiB   202 MiB
//	64MB, background threads       170–178 MiB   217 MiB
//	32MB, background threads       159–169 MiB   182–194 MiB
//
// at no cost in CPU (a staging load writes row groups to the file as they
// fill; it does not need a cache). A warehouse that also runs transforms
// wants more memory for their joins and sorts. allocator_flush_threshold
// (the caches' size before they are flushed) at 8MB did not lower the peak
// (154–181 MiB at 1M rows) and cost CPU (2.2–2.3 s against 1.9–2.1 s).
//
// # Loading on several threads
//
// Most of a DuckDB load's CPU is DuckDB's own: compressing and writing row
// groups, about 1 CPU-second per million rows of 14 columns, as much as
// DuckDB's load of the same rows from Parquet. DuckDB runs that INSERT on
// one thread while preserve_insertion_order is true, its default, and then
// that thread bounds the load however many cores there are. With
//
//	duckdb:wh.duckdb?memory_limit=64MB&preserve_insertion_order=false&allocator_background_threads=true&dataops_release_memory=true
//
// a load's INSERT runs on several threads, one per row group that fits in
// memory_limit (about 26 MB at 14 columns), at most DuckDB's threads
// setting; rows then land in no particular order within a commit. On 2
// cores (benchpipeline, 10M rows, runs alternated) the pipeline took
// 11.9-15.7 s against 16.7-17.0 s with the 32MB policy above, and its
// ratio to the baselines of the same run was 1.81-1.97 against 2.14-2.76;
// peak RSS is 140-146 MiB at 1M rows and 160-168 MiB at 10M. The setting
// is the database's (or a session's): it also lets DuckDB return other
// queries' rows out of insertion order, which SQL never promised.
//
// # Parallel streams
//
// A source that checkpoints each stream on its own (STREAM states) has its
// streams written by up to Options.Parallelism transactions at once: the
// streams are dealt into groups, and each group converts, writes and commits
// on a goroutine and a connection of its own, its streams' rows together
// with their states. Load's goroutine reads the source and routes each
// message to its stream's group, and acknowledges committed states. A Load
// knows the source sends STREAM states from the committed states, or learns
// it at its first commit; until then, and for sources that send GLOBAL (CDC)
// or LEGACY states, which cover every stream at once, one transaction holds
// every stream, so that such a state commits with the rows of all streams up
// to it.
//
// Whatever the grouping, a commit waits until every stream of its group has
// had its rows covered by a state since its last record: rows that no
// committed state covers would be read again after a crash. With one stream
// per group this always holds at the stream's own states; streams that share
// a transaction and whose records interleave commit when they are all
// covered.
//
// # Sync modes
//
//   - append: rows are added.
//   - overwrite: rows are written to a table aside and swapped in, in one
//     transaction, when the stream completes; readers never see a partial
//     table. An interrupted overwrite resumes into the table aside.
//   - append_dedup: rows go to an inbox table and are merged at each commit:
//     the latest row per primary key, by cursor (NULL lowest) and then
//     extraction time, replaces older ones; a row whose _ab_cdc_deleted_at is
//     set removes the key, unless Options.KeepDeleted keeps it flagged.
//   - A truncating refresh (minimum_generation_id equal to generation_id) is
//     written aside and swapped in like overwrite.
package staging
