// Package postgres is the PostgreSQL driver of package warehouse, built on
// pgx (github.com/jackc/pgx/v5) and its database/sql adapter.
//
// Import it for its side effect and open a libpq URL:
//
//	import _ "github.com/dataopskit/dataops/warehouse/postgres"
//
//	w, err := warehouse.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
//
// The schemes are postgres: and postgresql:. Every libpq and pgx URL
// parameter works as documented by pgx (sslmode, connect_timeout,
// application_name, any server setting such as timezone=…), plus:
//
//	schema=NAME  sets search_path to that one schema on every connection, so
//	             that unqualified names and Relation{Schema: ""} mean it. The
//	             schema is not created; until it exists there is no current
//	             schema.
//
// The connection pool is database/sql's (tune it through Warehouse.DB): by
// default it has no limit on open connections and keeps 4 idle ones. The
// pgxpool parameters pool_max_conns, pool_max_conn_lifetime and
// pool_max_conn_idle_time set its limits; the other pool_* parameters are
// accepted and ignored.
//
// Unless the URL sets default_query_exec_mode, statements are described
// afresh each time (pgx's describe_exec) rather than prepared and cached:
// warehouse pipelines replace tables under the same names, and a cached
// prepared statement would then fail with "cached plan must not change
// result type".
//
// Loads use COPY FROM STDIN in binary format through pgx's CopyFrom, inside
// the warehouse's transaction; no INSERT statements. Columns of portable
// types take the values described by warehouse.Type; a NUMERIC(p,s) value
// with more fraction digits than s is an error, not rounded. Columns of
// other types take what pgx encodes, including their text form (uuid,
// interval, inet, enums and domains, which are looked up on first use); a
// type pgx has no binary codec for (such as timetz) cannot be loaded. Queries through Warehouse.Rows run on pgx
// directly and return the portable values described by warehouse.Type;
// columns of types without a portable kind (interval, inet, enums, …) read
// as their text representation (string).
//
// Capabilities: transactional DDL always; Merge when the server is
// PostgreSQL 15 or later (MERGE); ChangeStreams when the server's wal_level
// is logical, i.e. logical decoding is available right now (checked when the
// warehouse is opened); no clone, time travel or cross-database names.
package postgres
