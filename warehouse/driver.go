package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Driver opens warehouses of one engine. Engine packages implement it and
// call Register from their init function; users never call a Driver directly
// but import the package for its side effect:
//
//	import _ "github.com/dataopskit/dataops/warehouse/duckdb"
type Driver interface {
	// Open connects to the warehouse that u names. u.Scheme is one of the
	// schemes the driver registered.
	Open(ctx context.Context, u *url.URL, cfg Config) (Engine, error)
}

// Config is what Open passes to a driver, built from the Options.
type Config struct {
	Logger *slog.Logger
}

// Engine is an open warehouse as a driver sees it: a database/sql pool plus
// the operations whose SQL differs between engines. The portable type
// *Warehouse adds validation, transactions, error wrapping and the generic
// operations on top. Methods that take a Querier run on it (the pool or a
// transaction); methods that take raw receive the database/sql driver
// connection (from sql.Conn.Raw) for fast paths.
type Engine interface {
	// DB is the connection pool. DriverName is its database/sql driver name,
	// which sqlx uses to choose the bind-parameter style.
	DB() *sql.DB
	DriverName() string
	Dialect() Dialect
	Capabilities() Capabilities
	// Info reports the engine, its version and the current database and schema.
	Info(ctx context.Context, q Querier) (Info, error)
	// Classify maps an engine error to ErrNotFound, ErrAlreadyExists,
	// ErrPermission or ErrInvalidIdentifier, or returns nil.
	Classify(err error) error
	// Schemas lists the schemas of the current database.
	Schemas(ctx context.Context, q Querier) ([]string, error)
	// Relations lists the tables and views of a schema ("" = current).
	Relations(ctx context.Context, q Querier, database, schema string) ([]RelationInfo, error)
	// Columns lists a relation's columns in order; none means it does not exist.
	Columns(ctx context.Context, q Querier, rel Relation) ([]Column, error)
	// Load appends rows to rel through the engine's bulk path; every row
	// holds portable values for cols, in order.
	Load(ctx context.Context, raw any, rel Relation, cols []Column, rows iter.Seq2[[]any, error]) (int64, error)
	// Query runs a query and calls fn for each row with portable values; the
	// values slice is reused between calls. fn's error stops the query.
	Query(ctx context.Context, raw any, query string, args []any, fn func(cols []Column, values []any) error) error
	// Close releases the engine.
	Close() error
}

// MemoryReleaser is an optional Engine interface. ReleaseMemory hands
// memory the engine's allocator holds unused back to the operating system
// when the engine was configured to (the DuckDB driver's
// dataops_release_memory URL option), and does nothing otherwise. Callers
// about to run a statement that allocates heavily (a bulk INSERT … SELECT)
// call it through Warehouse.ReleaseMemory, so that pages freed by the last
// one do not stand under the next one's peak.
type MemoryReleaser interface {
	ReleaseMemory()
}

// Querier runs SQL: a *sqlx.DB, *sqlx.Tx or *sqlx.Conn.
type Querier = sqlx.ExtContext

// Info describes the engine behind a warehouse.
type Info struct {
	Engine   string // "duckdb", "postgres", …
	Version  string // the engine's own version string
	Database string // current database (catalog)
	Schema   string // current schema
}

// Capabilities are the optional features of an engine, so that callers branch
// on facts rather than on engine names.
type Capabilities struct {
	// TransactionalDDL: CREATE, ALTER and DROP take part in transactions and
	// roll back with them.
	TransactionalDDL bool
	// Merge: the engine has a native MERGE statement.
	Merge bool
	// Clone: tables can be cloned without copying data.
	Clone bool
	// TimeTravel: a table can be read as of a past point in time.
	TimeTravel bool
	// ChangeStreams: the engine can stream row changes (logical replication,
	// Snowflake streams).
	ChangeStreams bool
	// MultipleDatabases: relations of other databases can be named in the
	// same session (DuckDB ATTACH, Snowflake databases).
	MultipleDatabases bool
}

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available under URL schemes. It panics if a scheme
// is registered twice, as database/sql.Register does.
func Register(d Driver, schemes ...string) {
	driversMu.Lock()
	defer driversMu.Unlock()
	for _, s := range schemes {
		if _, dup := drivers[s]; dup {
			panic(fmt.Sprintf("warehouse: Register called twice for scheme %q", s))
		}
		drivers[s] = d
	}
}

// Schemes lists the registered URL schemes, sorted.
func Schemes() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	s := make([]string, 0, len(drivers))
	for k := range drivers {
		s = append(s, k)
	}
	sort.Strings(s)
	return slices.Clip(s)
}
