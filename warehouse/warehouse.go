package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Option configures Open.
type Option func(*Config)

// WithLogger sends the warehouse's logs to l (default: slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *Config) { c.Logger = l }
}

// Warehouse is an open warehouse of any engine: the portable type that
// staging, transform and backup work through. It is safe for concurrent use.
// Its operations also exist on Tx, to run inside one transaction.
type Warehouse struct {
	session
	url       string // redacted
	closeOnce sync.Once
	closeErr  error
}

// Open connects to the warehouse that rawURL names, choosing the driver by the
// URL's scheme (duckdb:, postgres:, postgresql:, …). The driver's package must
// be imported, usually for its side effect. Passwords in rawURL never appear in
// errors, logs or String.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Warehouse, error) {
	cfg := Config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	red := RedactURL(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("warehouse: open %s: invalid URL", red)
	}
	driversMu.RLock()
	d, ok := drivers[u.Scheme]
	driversMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("warehouse: open %s: %w %q (registered: %s; import the driver package, e.g. github.com/dataopskit/dataops/warehouse/duckdb)",
			red, ErrUnknownScheme, u.Scheme, strings.Join(Schemes(), ", "))
	}
	eng, err := d.Open(ctx, u, cfg)
	if err != nil {
		return nil, fmt.Errorf("warehouse: open %s: %w", red, scrub(err, u))
	}
	w := &Warehouse{url: red}
	w.session = session{
		eng: eng,
		d:   eng.Dialect(),
		log: cfg.Logger.With("warehouse", eng.Dialect().Name()),
		db:  sqlx.NewDb(eng.DB(), eng.DriverName()),
	}
	w.session.q = w.session.db
	return w, nil
}

// String returns the warehouse URL with any password redacted.
func (w *Warehouse) String() string { return w.url }

// DB returns the connection pool for arbitrary SQL.
func (w *Warehouse) DB() *sqlx.DB { return w.db }

// Engine returns the driver's engine, for driver-specific needs.
func (w *Warehouse) Engine() Engine { return w.eng }

// ReleaseMemory asks the engine to hand memory it holds unused back to the
// operating system (MemoryReleaser); a no-op for engines without the
// capability or not configured for it.
func (w *Warehouse) ReleaseMemory() {
	if r, ok := w.eng.(MemoryReleaser); ok {
		r.ReleaseMemory()
	}
}

// Capabilities reports the engine's optional features.
func (w *Warehouse) Capabilities() Capabilities { return w.eng.Capabilities() }

// Close closes the warehouse. It is safe to call more than once.
func (w *Warehouse) Close() error {
	w.closeOnce.Do(func() { w.closeErr = w.eng.Close() })
	return w.closeErr
}

// Tx is a transaction on a warehouse. It has the same operations as
// Warehouse, all run inside the transaction, including Load, so that data and
// bookkeeping (such as a sync state) commit together.
type Tx struct {
	session
	conn *sql.Conn
	done bool
}

// Begin starts a transaction. Commit or Rollback must be called.
func (w *Warehouse) Begin(ctx context.Context) (*Tx, error) {
	conn, err := w.eng.DB().Conn(ctx)
	if err != nil {
		return nil, wrap("begin", Relation{}, err, w.eng.Classify)
	}
	stx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, wrap("begin", Relation{}, err, w.eng.Classify)
	}
	tx := &Tx{conn: conn}
	tx.session = session{eng: w.eng, d: w.d, log: w.log, db: w.db, q: &sqlx.Tx{Tx: stx, Mapper: w.db.Mapper}}
	tx.session.tx = tx
	tx.session.sqlTx = stx
	return tx, nil
}

// Commit commits the transaction.
func (tx *Tx) Commit() error {
	if tx.done {
		return errors.New("warehouse: commit: transaction already finished")
	}
	tx.done = true
	err := tx.sqlTx.Commit()
	tx.conn.Close()
	return wrap("commit", Relation{}, err, tx.eng.Classify)
}

// Rollback aborts the transaction; after Commit it is a no-op.
func (tx *Tx) Rollback() error {
	if tx.done {
		return nil
	}
	tx.done = true
	err := tx.sqlTx.Rollback()
	tx.conn.Close()
	if errors.Is(err, sql.ErrTxDone) {
		err = nil
	}
	return wrap("rollback", Relation{}, err, tx.eng.Classify)
}

// Tx returns the underlying *sqlx.Tx for arbitrary SQL in the transaction.
func (tx *Tx) Tx() *sqlx.Tx { return tx.q.(*sqlx.Tx) }

// WithTx runs fn in a transaction: it commits if fn returns nil and rolls back
// if fn returns an error or panics.
func (w *Warehouse) WithTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	tx, err := w.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// RedactURL returns rawURL with its password (userinfo or a password query
// parameter) replaced by "xxxxx". Unparseable input is redacted whole.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<unparseable URL>"
	}
	q := u.Query()
	changed := false
	for k := range q {
		switch strings.ToLower(k) {
		case "password", "pwd", "pass", "secret", "token", "private_key", "privatekey", "passcode":
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// scrub removes a URL's password from an error message, in case a driver
// echoes its DSN.
func scrub(err error, u *url.URL) error {
	if err == nil || u == nil {
		return err
	}
	var secrets []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p)
		}
	}
	for k, vs := range u.Query() {
		switch strings.ToLower(k) {
		case "password", "pwd", "pass", "secret", "token", "private_key", "privatekey", "passcode":
			for _, v := range vs {
				if v != "" {
					secrets = append(secrets, v)
				}
			}
		}
	}
	if len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }

// Unwrap lets errors.Is/As see the cause; its own message is not shown.
func (s *scrubbed) Unwrap() error { return s.err }
