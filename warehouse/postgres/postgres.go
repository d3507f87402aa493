package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dataopskit/dataops/warehouse"
)

func init() { warehouse.Register(Driver{}, "postgres", "postgresql") }

// Driver opens PostgreSQL warehouses. It is registered for the postgres: and
// postgresql: URL schemes; use warehouse.Open rather than calling it.
type Driver struct{}

var _ warehouse.Driver = Driver{}

// Open connects to the PostgreSQL server that u names (a libpq URL, with the
// extra schema= parameter described in the package documentation). It checks
// that the server answers before returning. Errors never contain the URL's
// password.
func (Driver) Open(ctx context.Context, u *url.URL, cfg warehouse.Config) (warehouse.Engine, error) {
	if u == nil {
		return nil, errors.New("postgres: no URL")
	}
	secrets := urlSecrets(u)
	q := u.Query()
	schema := q.Get("schema")
	if len(q["schema"]) > 1 {
		return nil, errors.New("postgres: the URL sets schema more than once")
	}
	_, execMode := q["default_query_exec_mode"]
	q.Del("schema")
	cu := *u
	cu.RawQuery = q.Encode()

	// pgxpool's parser validates and strips the pool_* parameters, which
	// would otherwise go to the server as settings; database/sql pools.
	pcfg, err := pgxpool.ParseConfig(cu.String())
	if err != nil {
		return nil, redact(fmt.Errorf("postgres: parse URL: %w", err), secrets)
	}
	cc := pcfg.ConnConfig
	if schema != "" {
		cc.RuntimeParams["search_path"] = Dialect{}.QuoteIdentifier(schema)
	}
	if !execMode {
		cc.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	}
	db := stdlib.OpenDB(*cc, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		// Let warehouse.Decimal be a bind parameter anywhere, also through
		// database/sql (Exec, Select, Get).
		m := c.TypeMap()
		m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapDecimal}, m.TryWrapEncodePlanFuncs...)
		return nil
	}))
	idle := 4
	if _, ok := q["pool_max_conns"]; ok {
		db.SetMaxOpenConns(int(pcfg.MaxConns))
		idle = int(pcfg.MaxConns)
	}
	db.SetMaxIdleConns(idle)
	if _, ok := q["pool_max_conn_lifetime"]; ok {
		db.SetConnMaxLifetime(pcfg.MaxConnLifetime)
	}
	if _, ok := q["pool_max_conn_idle_time"]; ok {
		db.SetConnMaxIdleTime(pcfg.MaxConnIdleTime)
	}
	e := &engine{db: db}
	var (
		versionNum int
		walLevel   string
	)
	err = db.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int, current_setting('wal_level')").Scan(&versionNum, &walLevel)
	if err != nil {
		db.Close()
		return nil, redact(fmt.Errorf("postgres: connect: %w", err), secrets)
	}
	e.caps = warehouse.Capabilities{
		TransactionalDDL: true,
		Merge:            versionNum >= 150000,
		ChangeStreams:    walLevel == "logical",
	}
	if cfg.Logger != nil {
		cfg.Logger.DebugContext(ctx, "postgres: connected", "server_version_num", versionNum, "wal_level", walLevel, "schema", schema)
	}
	return e, nil
}

// urlSecrets returns the passwords that u holds, raw and escaped, for
// redaction.
func urlSecrets(u *url.URL) []string {
	var raw []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			raw = append(raw, p)
		}
	}
	for k, vs := range u.Query() {
		switch strings.ToLower(k) {
		case "password", "sslpassword":
			raw = append(raw, vs...)
		}
	}
	var out []string
	for _, s := range raw {
		if s == "" {
			continue
		}
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s), strings.TrimPrefix(url.UserPassword("u", s).String(), "u:"))
	}
	return out
}

// redactedError is an error whose message has the secrets removed; errors.Is
// and errors.As still reach the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every secret replaced in its message.
func redact(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// engine is an open PostgreSQL warehouse.
type engine struct {
	db   *sql.DB
	caps warehouse.Capabilities
}

var _ warehouse.Engine = (*engine)(nil)

func (e *engine) DB() *sql.DB                          { return e.db }
func (e *engine) DriverName() string                   { return "pgx" }
func (e *engine) Dialect() warehouse.Dialect           { return Dialect{} }
func (e *engine) Capabilities() warehouse.Capabilities { return e.caps }

func (e *engine) Close() error { return e.db.Close() }

func (e *engine) Info(ctx context.Context, q warehouse.Querier) (warehouse.Info, error) {
	var (
		version, db string
		schema      sql.NullString
	)
	err := q.QueryRowxContext(ctx, "SELECT current_setting('server_version'), current_database(), current_schema()").Scan(&version, &db, &schema)
	if err != nil {
		return warehouse.Info{}, fmt.Errorf("postgres: info: %w", err)
	}
	return warehouse.Info{Engine: "postgres", Version: version, Database: db, Schema: schema.String}, nil
}

// SQLSTATE classes, see https://www.postgresql.org/docs/current/errcodes-appendix.html.
var classes = map[string]error{
	"42P01": warehouse.ErrNotFound,          // undefined_table
	"3F000": warehouse.ErrNotFound,          // invalid_schema_name
	"42703": warehouse.ErrNotFound,          // undefined_column
	"42704": warehouse.ErrNotFound,          // undefined_object
	"3D000": warehouse.ErrNotFound,          // invalid_catalog_name
	"42P07": warehouse.ErrAlreadyExists,     // duplicate_table
	"42P06": warehouse.ErrAlreadyExists,     // duplicate_schema
	"42701": warehouse.ErrAlreadyExists,     // duplicate_column
	"42710": warehouse.ErrAlreadyExists,     // duplicate_object
	"42P04": warehouse.ErrAlreadyExists,     // duplicate_database
	"42501": warehouse.ErrPermission,        // insufficient_privilege
	"42622": warehouse.ErrInvalidIdentifier, // name_too_long
	"42602": warehouse.ErrInvalidIdentifier, // invalid_name
}

// Classify maps a PostgreSQL error to a warehouse sentinel by its SQLSTATE.
func (e *engine) Classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return classes[pgErr.Code]
	}
	for _, s := range []error{warehouse.ErrNotFound, warehouse.ErrAlreadyExists, warehouse.ErrPermission, warehouse.ErrInvalidIdentifier, warehouse.ErrUnsupported} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

func (e *engine) Schemas(ctx context.Context, q warehouse.Querier) ([]string, error) {
	rows, err := q.QueryxContext(ctx, `SELECT nspname FROM pg_catalog.pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema')
  AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%'
ORDER BY nspname`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list schemas: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("postgres: list schemas: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list schemas: %w", err)
	}
	return out, nil
}

// checkDatabase fails unless database is "" or the current database:
// PostgreSQL cannot name relations of other databases.
func checkDatabase(ctx context.Context, q warehouse.Querier, database string) error {
	if database == "" {
		return nil
	}
	var cur string
	if err := q.QueryRowxContext(ctx, "SELECT current_database()").Scan(&cur); err != nil {
		return err
	}
	if cur != database {
		return fmt.Errorf("postgres: database %q is not the current database %q: %w (PostgreSQL cannot reach other databases from one connection)", database, cur, warehouse.ErrUnsupported)
	}
	return nil
}

// relkinds are the pg_class kinds listed as relations: ordinary, partitioned
// and foreign tables, views and materialized views.
const relkinds = `('r', 'p', 'f', 'v', 'm')`

func (e *engine) Relations(ctx context.Context, q warehouse.Querier, database, schema string) ([]warehouse.RelationInfo, error) {
	if err := checkDatabase(ctx, q, database); err != nil {
		return nil, err
	}
	rows, err := q.QueryxContext(ctx, `SELECT n.nspname, c.relname, c.relkind IN ('v', 'm')
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = COALESCE(NULLIF($1::text, ''), current_schema()) AND c.relkind IN `+relkinds+`
ORDER BY c.relname`, schema)
	if err != nil {
		return nil, fmt.Errorf("postgres: list relations: %w", err)
	}
	defer rows.Close()
	var out []warehouse.RelationInfo
	for rows.Next() {
		var (
			ri   warehouse.RelationInfo
			view bool
		)
		if err := rows.Scan(&ri.Schema, &ri.Name, &view); err != nil {
			return nil, fmt.Errorf("postgres: list relations: %w", err)
		}
		ri.Database = database
		ri.Kind = warehouse.KindTable
		if view {
			ri.Kind = warehouse.KindView
		}
		out = append(out, ri)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list relations: %w", err)
	}
	return out, nil
}

func (e *engine) Columns(ctx context.Context, q warehouse.Querier, rel warehouse.Relation) ([]warehouse.Column, error) {
	if err := checkDatabase(ctx, q, rel.Database); err != nil {
		return nil, err
	}
	rows, err := q.QueryxContext(ctx, `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = COALESCE(NULLIF($1::text, ''), current_schema()) AND c.relname = $2::text
  AND c.relkind IN `+relkinds+` AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, rel.Schema, rel.Name)
	if err != nil {
		return nil, fmt.Errorf("postgres: columns: %w", err)
	}
	defer rows.Close()
	var out []warehouse.Column
	for rows.Next() {
		var (
			c      warehouse.Column
			native string
		)
		if err := rows.Scan(&c.Name, &native, &c.Nullable); err != nil {
			return nil, fmt.Errorf("postgres: columns: %w", err)
		}
		c.Type = Dialect{}.ParseType(native)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: columns: %w", err)
	}
	return out, nil
}

// pgxConn returns the pgx connection behind a database/sql driver connection.
func pgxConn(raw any) (*pgx.Conn, error) {
	c, ok := raw.(*stdlib.Conn)
	if !ok || c == nil {
		return nil, fmt.Errorf("postgres: driver connection is %T, not *stdlib.Conn", raw)
	}
	return c.Conn(), nil
}

// tryWrapDecimal makes pgx encode a warehouse.Decimal as the equivalent
// pgtype.Numeric (exactly, in binary).
func tryWrapDecimal(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch d := value.(type) {
	case warehouse.Decimal:
		return &decimalEncodePlan{}, numeric(d), true
	}
	return nil, nil, false
}

type decimalEncodePlan struct{ next pgtype.EncodePlan }

func (p *decimalEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *decimalEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(numeric(value.(warehouse.Decimal)), buf)
}
