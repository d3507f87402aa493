// Package postgres is the native PostgreSQL Airbyte source: it discovers the
// tables and views of chosen schemas and reads them, by full refresh, by
// cursor incremental, by xmin, or by change data capture (logical
// replication through pgoutput), as a stream of Airbyte protocol messages.
// It speaks PostgreSQL's binary protocol through pgx and never holds a table
// in memory.
//
// The shortest use:
//
//	src := postgres.New()
//	cfg := json.RawMessage(`{"url": "postgres://user@host/db", "schemas": ["public"]}`)
//	cat, err := src.Discover(ctx, cfg)
//	rs, err := src.Read(ctx, cfg, configured, nil) // configured: the chosen streams of cat
//	defer rs.Close()
//	for msg, err := range rs.Messages() { … }
//
// # Config
//
// The config is validated against the spec's JSON schema (Source.Spec)
// before anything runs (airbyte.ValidateConfig); an invalid one gives an
// *airbyte.ConfigError that lists every failing path. Connection settings are either "url" or host, port
// (5432), database, username, password, ssl_mode {"mode": …} and
// jdbc_url_params ("k=v&k2=v2", passed as connection parameters). "schemas"
// defaults to ["public"]. replication_method.method is Standard (default),
// Xmin, or CDC with replication_slot, publication and
// initial_waiting_seconds (default 300).
//
// # Types
//
// Discover declares, and Read writes, each column as follows (every
// nullable column also admits null):
//
//	smallint, integer, bigint            integer
//	numeric(p,s), numeric, money         number, with PostgreSQL's exact digits (money is read as numeric)
//	real, double precision               number (shortest form that round-trips)
//	boolean                              boolean
//	char, varchar, text, name, enums     string (char(n) keeps its padding)
//	date                                 string, format date: 2024-01-02, or 0044-03-15 BC
//	time / timetz                        string, format time, airbyte_type time_without_timezone / time_with_timezone
//	timestamp                            string, format date-time, airbyte_type timestamp_without_timezone: 2024-01-02T03:04:05.5
//	timestamptz                          string, format date-time, airbyte_type timestamp_with_timezone, in UTC: 2024-01-02T03:04:05.5Z
//	interval                             string, ISO 8601 duration: P1Y2M3DT4H5M6S
//	uuid                                 string, format uuid
//	json, jsonb                          string holding the JSON text (as Airbyte's own PostgreSQL source does)
//	bytea                                string, base64
//	arrays                               array of the element type (multi-dimensional arrays nest)
//	domains                              their base type
//	tsvector, inet, cidr, macaddr, point, box, …, xml, bit, varbit, other types
//	                                     string, PostgreSQL's text output
//
// NaN and ±Infinity (numeric, float) and ±infinity (date, timestamp) have no
// JSON form in those types: the field is null and the record's meta.changes
// says NULLED with reason SOURCE_SERIALIZATION_ERROR.
//
// # Full refresh
//
// A read takes one snapshot for all its streams: a REPEATABLE READ
// transaction exports it (pg_export_snapshot) and the reading connection
// imports it (with CDC, the snapshot of the new replication slot is used
// instead). Tables and materialized views, with a key or without, are read
// in physical order by one query that streams without pause (SELECT ctid,
// … — a sequential scan; WHERE ctid > $1, a TID range scan, when
// resuming): no sort and no index scan, so reading costs what COPY does
// whatever the key (a key order costs three times as much server time on a
// table keyed by UUIDs). Partitioned tables with a key are read in key
// order (ORDER BY key; WHERE (key) > (last key) when resuming); views,
// foreign tables and partitioned tables without a key in one query. A
// STREAM state follows every chunk of rows (WithChunkSize),
// {"load": {"ctid": "(page,item)", "filenode": n}} or
// {"load": {"pk": […], "pk_raw": […]}}, and {"load_done": true} the end of
// the stream. Given an unfinished state, the next read resumes after its
// last chunk, in a new snapshot: rows inserted or updated in between are
// read in their newer version if they land after the saved ctid (an
// updated row may then come twice, once from each read) and missed if
// they land before it; rows deleted in between are not read again. If the
// table was rewritten in between (VACUUM FULL, CLUSTER, TRUNCATE, REFRESH
// MATERIALIZED VIEW: its relfilenode changed), its ctids mean nothing any
// more and the read starts the table over. A finished state starts over.
// States of former versions ({"load": {"pk": …}} for a plain table, read
// in key order then, and {"load": {"next_page": n}}) resume where they say.
// The reading transaction turns synchronized and parallel scans off
// (SET LOCAL), as either would hand rows out of physical order; a row that
// still came out of order would fail the read rather than a checkpoint.
//
// # Typed records
//
// In-process consumers (staging does) may ask for typed records with
// airbyte.EnableTypedRecords: full refresh, cursor and xmin reads then send
// each row as PostgreSQL sent it, and the consumer decodes it into Go values
// (airbyte.RecordValues) on its own goroutine — no JSON is written or
// parsed. A row holding a value without a JSON form (NaN, infinite dates)
// still comes as a JSON record with its meta change, and AppendJSON renders
// a typed row exactly as the JSON record would say it. CDC changes are JSON
// records. A consumer that also calls airbyte.EnableRecordRelease and
// releases each typed record once it has copied the values out (staging's
// columnar path does) gets them carved out of blocks of 256 records that
// are reused once all their records are released: a steady read then
// allocates no memory per row (1M rows staged: Go heap at most 34 MiB
// instead of 54-59).
//
// # Memory
//
// Rows stream: a read holds a few MiB whatever the table's size, plus a
// heap ballast (WithGCBallast, 16 MiB by default) that is never touched.
// The ballast moves the garbage collector's goal up, so that it runs about
// ten times less often while the read makes a few hundred bytes of
// short-lived garbage per row (at the default GOGC and a heap of a few MiB
// it took 35–40 % of the read's CPU time); resident memory grows by about
// the ballast's size in garbage not yet collected.
//
// # Cursor incremental
//
// With sync_mode incremental and the Standard method, the configured
// cursor_field (one column) decides: the first read emits every row,
// including those whose cursor is NULL; each later read emits exactly the
// rows whose cursor is >= the saved cursor (rows with a NULL cursor are not
// read again), in cursor order. The comparison is inclusive, so rows that
// share the last cursor value are never lost — they are emitted again by the
// next read (duplicates only at the boundary value; dedup on the primary
// key removes them). The STREAM state {"cursor_field": […], "cursor": value,
// "cursor_raw": …} is emitted every chunk rows and at the end, carrying the
// cursor of the last row emitted; a state with only "cursor" (written by
// hand) is bound as text.
//
// # Xmin
//
// The first read loads the table in chunks as a full refresh does and saves
// the snapshot's xmin; later reads emit rows whose xmin is not older than
// the saved one (modulo 2^32, so rows last written more than 2^31
// transactions ago may be read again) and save the new snapshot's xmin.
// Deletes are not seen.
//
// # CDC
//
// Incremental streams with the CDC method need a table with a primary key
// (or REPLICA IDENTITY FULL). The first read creates the publication (FOR
// TABLE the CDC streams, publish_via_partition_root) if it does not exist —
// an existing one must already publish them — and the replication slot
// (pgoutput) with an exported snapshot, reads every CDC stream in that
// snapshot (records carry _ab_cdc_lsn = the slot's start LSN), then streams
// the changes committed after it. If the slot already exists and there is
// no saved state, the snapshot is taken after reading the slot's position,
// so changes in between may arrive twice but never not at all. (Create a
// publication before a slot you make yourself: on PostgreSQL 15 pgoutput
// fails on changes older than the publication.) Inserts,
// updates and deletes become records with _ab_cdc_lsn (the commit LSN of
// their transaction, as an integer), _ab_cdc_updated_at (its commit time)
// and _ab_cdc_deleted_at (the commit time for deletes, else null); a delete
// carries the replica identity columns (the key), others are null. A TOASTed
// value that an update did not change is not sent by PostgreSQL: it is null
// with a NULLED / SOURCE_RETRIEVAL_ERROR meta change. TRUNCATE is logged,
// not replicated.
//
// States are GLOBAL: shared_state {"lsn": "0/16B3748", …} after the first
// transaction that ends a second or a chunk of records after the previous
// state, and at the end; stream_states hold each
// stream's snapshot progress. The slot's confirmed_flush_lsn moves only when
// the consumer calls ReadStream.Ack with such a state (staging does once it
// has committed the records before it), so nothing unacknowledged is ever
// released by the server. Ack may be called from the loop over Messages or
// from another goroutine (it waits for the replication connection, at most
// a fraction of a second), and after Messages has ended, until Close.
//
// A CDC read ends when it has caught up with the WAL flushed when streaming
// started (or the server reports no further WAL to decode), or when no data
// has arrived for initial_waiting_seconds; the next read continues from the
// saved LSN. If the slot is gone or invalidated the read fails with
// *SlotLostError; if the saved LSN is behind the slot's confirmed_flush_lsn,
// with *LSNBehindSlotError. Both wrap ErrResyncRequired: resync by reading
// with no state (drop the slot first if it still exists): the slot is
// created again and every CDC stream is snapshotted anew; the destination
// should replace what it holds for those streams.
//
// # Errors
//
// A configured stream that is not a readable table or view of the schemas
// gives *StreamNotFoundError naming it; other catalog mismatches wrap
// ErrInvalidCatalog.
package postgres
