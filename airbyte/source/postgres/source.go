package postgres

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// readBufferSize is the size of a connection's read buffer.
const readBufferSize = 256 << 10

// Source is the native PostgreSQL source. The zero value is not usable;
// create one with New.
type Source struct {
	log       *slog.Logger
	chunkSize int
	ballast   int // bytes of heap ballast a read holds (see gc.go)
}

// Option configures a Source.
type Option func(*Source)

// WithLogger sends the source's logs to l (default: discarded).
func WithLogger(l *slog.Logger) Option {
	return func(s *Source) {
		if l != nil {
			s.log = l
		}
	}
}

// WithChunkSize sets how many rows a chunk of a full refresh (and of an
// initial snapshot) holds; a STATE checkpoint follows every chunk, and
// cursor-incremental reads checkpoint every n rows. Default 50000.
func WithChunkSize(n int) Option {
	return func(s *Source) {
		if n > 0 {
			s.chunkSize = n
		}
	}
}

// New returns the native PostgreSQL source.
func New(opts ...Option) *Source {
	s := &Source{log: slog.New(slog.DiscardHandler), chunkSize: 50000, ballast: defaultGCBallast}
	for _, o := range opts {
		o(s)
	}
	return s
}

var _ airbyte.Source = (*Source)(nil)

// Spec returns the connector specification; its connectionSpecification is
// the JSON schema that configs are validated against.
func (s *Source) Spec(ctx context.Context) (*airbyte.ConnectorSpecification, error) {
	return &airbyte.ConnectorSpecification{
		ConnectionSpecification: json.RawMessage(specJSON),
		SupportsIncremental:     true,
		SupportedDestinationSyncModes: []airbyte.DestinationSyncMode{
			airbyte.Overwrite, airbyte.Append, airbyte.AppendDedup,
		},
	}, nil
}

func (s *Source) connect(ctx context.Context, cfg *Config) (*pgx.Conn, error) {
	cc, err := cfg.pgxConfig()
	if err != nil {
		return nil, err
	}
	// Reads of 8 KiB (pgproto3's buffer) cost a system call per ~50 rows
	// of a wide table; a larger buffer in front takes what the socket
	// holds at once.
	cc.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBufferSize), w)
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("postgres source: connect to %s:%d: %w", cc.Host, cc.Port, err)
	}
	return conn, nil
}

// Check validates the config, connects, and verifies that the configured
// schemas are usable; with the CDC method it also verifies wal_level,
// the REPLICATION privilege, and that the slot and publication exist or can
// be created. An invalid config is an error (*airbyte.ConfigError); a database that
// does not meet the requirements is a FAILED status saying why.
func (s *Source) Check(ctx context.Context, config json.RawMessage) (*airbyte.ConnectionStatus, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	conn, err := s.connect(ctx, cfg)
	if err != nil {
		return &airbyte.ConnectionStatus{Status: airbyte.StatusFailed, Message: err.Error()}, nil
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if problems, err := checkDatabase(ctx, conn, cfg); err != nil {
		return &airbyte.ConnectionStatus{Status: airbyte.StatusFailed, Message: err.Error()}, nil
	} else if len(problems) > 0 {
		return &airbyte.ConnectionStatus{Status: airbyte.StatusFailed, Message: strings.Join(problems, "; ")}, nil
	}
	return &airbyte.ConnectionStatus{Status: airbyte.StatusSucceeded}, nil
}

func checkDatabase(ctx context.Context, conn *pgx.Conn, cfg *Config) ([]string, error) {
	var problems []string
	for _, sc := range cfg.Schemas {
		var exists, usage bool
		err := conn.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1),
			        COALESCE((SELECT pg_catalog.has_schema_privilege(oid, 'USAGE') FROM pg_catalog.pg_namespace WHERE nspname = $1), false)`,
			sc).Scan(&exists, &usage)
		if err != nil {
			return nil, fmt.Errorf("postgres source: check schema %q: %w", sc, err)
		}
		switch {
		case !exists:
			problems = append(problems, fmt.Sprintf("schema %q does not exist", sc))
		case !usage:
			problems = append(problems, fmt.Sprintf("no USAGE privilege on schema %q", sc))
		}
	}
	if cfg.method() != MethodCDC {
		return problems, nil
	}
	rm := cfg.ReplicationMethod
	var walLevel string
	var replication, createDB bool
	var slotPlugin, slotDB *string
	var slotsFree int
	var pubExists bool
	err := conn.QueryRow(ctx, `
SELECT current_setting('wal_level'),
       (SELECT rolreplication OR rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user),
       pg_catalog.has_database_privilege(current_database(), 'CREATE'),
       (SELECT plugin::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1),
       (SELECT database::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1),
       current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_catalog.pg_replication_slots)::int,
       EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $2)`,
		rm.ReplicationSlot, rm.Publication).Scan(&walLevel, &replication, &createDB, &slotPlugin, &slotDB, &slotsFree, &pubExists)
	if err != nil {
		return nil, fmt.Errorf("postgres source: check CDC settings: %w", err)
	}
	if walLevel != "logical" {
		problems = append(problems, fmt.Sprintf("wal_level is %q; CDC needs wal_level=logical", walLevel))
	}
	if !replication {
		problems = append(problems, "the user lacks the REPLICATION attribute that CDC needs")
	}
	switch {
	case slotPlugin != nil && *slotPlugin != "pgoutput":
		problems = append(problems, fmt.Sprintf("replication slot %q uses plugin %q, not pgoutput", rm.ReplicationSlot, *slotPlugin))
	case slotPlugin == nil && slotsFree <= 0:
		problems = append(problems, fmt.Sprintf("replication slot %q does not exist and max_replication_slots leaves no room to create it", rm.ReplicationSlot))
	}
	if slotDB != nil && *slotDB != "" {
		var db string
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err == nil && db != *slotDB {
			problems = append(problems, fmt.Sprintf("replication slot %q belongs to database %q, not %q", rm.ReplicationSlot, *slotDB, db))
		}
	}
	if !pubExists && !createDB {
		problems = append(problems, fmt.Sprintf("publication %q does not exist and the user may not create it (needs CREATE on the database)", rm.Publication))
	}
	return problems, nil
}

// Discover lists every table, view, materialized view and foreign table of
// the configured schemas that the user may SELECT, with a JSON schema for
// each column (see the package doc for the type mapping), the primary key
// as source-defined key, and the sync modes the replication method allows.
func (s *Source) Discover(ctx context.Context, config json.RawMessage) (*airbyte.Catalog, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	conn, err := s.connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tables, err := discoverTables(ctx, conn, cfg.Schemas)
	if err != nil {
		return nil, err
	}
	cat := &airbyte.Catalog{Streams: make([]airbyte.Stream, 0, len(tables))}
	for _, t := range tables {
		cat.Streams = append(cat.Streams, t.stream(cfg.method()))
	}
	return cat, nil
}
