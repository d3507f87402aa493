package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

// session holds the operations that Warehouse and Tx share; q is the pool or
// the transaction they run on.
type session struct {
	eng   Engine
	d     Dialect
	log   *slog.Logger
	db    *sqlx.DB
	q     Querier
	tx    *Tx     // non-nil inside a transaction
	sqlTx *sql.Tx // the transaction's database/sql handle
}

// Dialect returns the engine's SQL dialect.
func (s *session) Dialect() Dialect { return s.d }

// Exec runs a statement that returns no rows. Arguments are bind parameters
// in the driver's placeholder style (? on DuckDB, $1 on PostgreSQL).
func (s *session) Exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	defer recoverDriver("exec", &err)
	res, err = s.q.ExecContext(ctx, query, bindArgs(args)...)
	return res, wrap("exec", Relation{}, err, s.eng.Classify)
}

// Select runs a query and scans all rows into dest, a pointer to a slice
// (see sqlx.Select). Use Rows to stream large results.
func (s *session) Select(ctx context.Context, dest any, query string, args ...any) (err error) {
	defer recoverDriver("select", &err)
	return wrap("select", Relation{}, sqlx.SelectContext(ctx, s.q, dest, query, bindArgs(args)...), s.eng.Classify)
}

// Get runs a query that returns one row and scans it into dest (see sqlx.Get).
func (s *session) Get(ctx context.Context, dest any, query string, args ...any) (err error) {
	defer recoverDriver("get", &err)
	return wrap("get", Relation{}, sqlx.GetContext(ctx, s.q, dest, query, bindArgs(args)...), s.eng.Classify)
}

// bindArgs turns portable values that database/sql drivers mistake for
// something else into what they bind as intended: json.RawMessage (a []byte
// that drivers take for binary or a list) binds as JSON text.
func bindArgs(args []any) []any {
	cloned := false
	for i, a := range args {
		if j, ok := a.(json.RawMessage); ok {
			if !cloned {
				args, cloned = slices.Clone(args), true
			}
			args[i] = string(j)
		}
	}
	return args
}

// recoverDriver turns a panic inside a driver (duckdb-go panics on some list
// arguments) into an error, so that no panic crosses the API.
func recoverDriver(op string, err *error) {
	if p := recover(); p != nil {
		*err = &Error{Op: op, Err: fmt.Errorf("driver panic: %v", p)}
	}
}

// Info reports the engine, its version and the current database and schema.
func (s *session) Info(ctx context.Context) (Info, error) {
	info, err := s.eng.Info(ctx, s.q)
	return info, wrap("info", Relation{}, err, s.eng.Classify)
}

// Record is one row read by Rows: the columns of the result and the row's
// portable values in the same order. Both slices are reused between rows;
// copy what must outlive the iteration step.
type Record struct {
	Columns []Column
	Values  []any
}

// Rows runs a query and streams its rows as portable values (see Type for the
// Go value of each kind). Memory stays flat however many rows there are.
// Breaking out of the loop stops the query. Inside a Tx the loop holds the
// transaction's connection: do not use the same Tx in the loop's body.
func (s *session) Rows(ctx context.Context, query string, args ...any) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		rec := &Record{}
		stopped := false
		err := s.raw(ctx, func(raw any) error {
			return s.eng.Query(ctx, raw, query, args, func(cols []Column, vals []any) error {
				rec.Columns, rec.Values = cols, vals
				if !yield(rec, nil) {
					stopped = true
					return errStop
				}
				return nil
			})
		})
		if stopped || errors.Is(err, errStop) {
			return
		}
		if err != nil {
			yield(nil, wrap("query", Relation{}, err, s.eng.Classify))
		}
	}
}

var errStop = errors.New("stop")

// raw runs fn with the driver connection: the transaction's, or one taken from
// the pool for the call.
func (s *session) raw(ctx context.Context, fn func(raw any) error) error {
	if s.tx != nil {
		return s.tx.conn.Raw(fn)
	}
	conn, err := s.eng.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(fn)
}

// atomic runs fn inside a transaction: the current one, or a new one that
// commits when fn succeeds.
func (s *session) atomic(ctx context.Context, fn func(s *session) error) error {
	if s.tx != nil {
		return fn(s)
	}
	conn, err := s.eng.DB().Conn(ctx)
	if err != nil {
		return err
	}
	stx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return err
	}
	tx := &Tx{conn: conn}
	tx.session = session{eng: s.eng, d: s.d, log: s.log, db: s.db, q: &sqlx.Tx{Tx: stx, Mapper: s.db.Mapper}, tx: tx, sqlTx: stx}
	if err := fn(&tx.session); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *session) checkRel(op string, r Relation) error {
	for _, p := range []struct{ what, name string }{{"database", r.Database}, {"schema", r.Schema}, {"relation", r.Name}} {
		if p.name == "" && p.what != "relation" {
			continue
		}
		if err := checkIdentifier(s.d, p.what, p.name); err != nil {
			return &Error{Op: op, Relation: r, Kind: ErrInvalidIdentifier, Err: err}
		}
	}
	return nil
}

func (s *session) checkColumns(op string, r Relation, names []string) error {
	for _, n := range names {
		if err := checkIdentifier(s.d, "column", n); err != nil {
			return &Error{Op: op, Relation: r, Kind: ErrInvalidIdentifier, Err: err}
		}
	}
	return nil
}

func (s *session) exec(ctx context.Context, op string, rel Relation, stmts ...string) error {
	for _, q := range stmts {
		s.log.DebugContext(ctx, "exec", "op", op, "relation", rel.String(), "sql", q)
		if _, err := s.q.ExecContext(ctx, q); err != nil {
			return wrap(op, rel, err, s.eng.Classify)
		}
	}
	return nil
}

// Schemas lists the schemas of the current database.
func (s *session) Schemas(ctx context.Context) ([]string, error) {
	out, err := s.eng.Schemas(ctx, s.q)
	return out, wrap("list schemas", Relation{}, err, s.eng.Classify)
}

// Relations lists the tables and views of a schema ("" = the current one).
func (s *session) Relations(ctx context.Context, schema string) ([]RelationInfo, error) {
	out, err := s.eng.Relations(ctx, s.q, "", schema)
	return out, wrap("list relations", Relation{Schema: schema}, err, s.eng.Classify)
}

// Relation looks one relation up; the error matches ErrNotFound if it does
// not exist.
func (s *session) Relation(ctx context.Context, rel Relation) (RelationInfo, error) {
	if err := s.checkRel("describe", rel); err != nil {
		return RelationInfo{}, err
	}
	all, err := s.eng.Relations(ctx, s.q, rel.Database, rel.Schema)
	if err != nil {
		return RelationInfo{}, wrap("describe", rel, err, s.eng.Classify)
	}
	for _, ri := range all {
		if ri.Name == rel.Name || (!s.d.CaseSensitive() && strings.EqualFold(ri.Name, rel.Name)) {
			return ri, nil
		}
	}
	return RelationInfo{}, &Error{Op: "describe", Relation: rel, Kind: ErrNotFound}
}

// Columns lists a relation's columns in order; the error matches ErrNotFound
// if the relation does not exist.
func (s *session) Columns(ctx context.Context, rel Relation) ([]Column, error) {
	if err := s.checkRel("columns", rel); err != nil {
		return nil, err
	}
	cols, err := s.eng.Columns(ctx, s.q, rel)
	if err != nil {
		return nil, wrap("columns", rel, err, s.eng.Classify)
	}
	if len(cols) == 0 {
		return nil, &Error{Op: "columns", Relation: rel, Kind: ErrNotFound}
	}
	return cols, nil
}

// CreateSchema creates a schema if it does not exist.
func (s *session) CreateSchema(ctx context.Context, schema string) error {
	rel := Relation{Schema: schema}
	if err := checkIdentifier(s.d, "schema", schema); err != nil {
		return &Error{Op: "create schema", Relation: rel, Kind: ErrInvalidIdentifier, Err: err}
	}
	return s.exec(ctx, "create schema", rel, "CREATE SCHEMA IF NOT EXISTS "+s.d.QuoteIdentifier(schema))
}

// DropSchema drops a schema if it exists; with cascade, everything in it too.
func (s *session) DropSchema(ctx context.Context, schema string, cascade bool) error {
	rel := Relation{Schema: schema}
	if err := checkIdentifier(s.d, "schema", schema); err != nil {
		return &Error{Op: "drop schema", Relation: rel, Kind: ErrInvalidIdentifier, Err: err}
	}
	q := "DROP SCHEMA IF EXISTS " + s.d.QuoteIdentifier(schema)
	if cascade {
		q += " CASCADE"
	}
	return s.exec(ctx, "drop schema", rel, q)
}

// TableOptions adjust CreateTable.
type TableOptions struct {
	// IfNotExists leaves an existing table as it is instead of failing with
	// ErrAlreadyExists.
	IfNotExists bool
	// PrimaryKey names the key columns, if any.
	PrimaryKey []string
}

// CreateTable creates a table with the given columns.
func (s *session) CreateTable(ctx context.Context, rel Relation, cols []Column, opts *TableOptions) error {
	const op = "create table"
	if opts == nil {
		opts = &TableOptions{}
	}
	if err := s.checkRel(op, rel); err != nil {
		return err
	}
	if len(cols) == 0 {
		return errorf(op, rel, nil, "no columns")
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	if opts.IfNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(s.d.QuoteRelation(rel))
	b.WriteString(" (")
	for i, c := range cols {
		if err := checkIdentifier(s.d, "column", c.Name); err != nil {
			return &Error{Op: op, Relation: rel, Kind: ErrInvalidIdentifier, Err: err}
		}
		ts, err := s.d.TypeSQL(c.Type)
		if err != nil {
			return errorf(op, rel, ErrUnsupported, "column %q: %w", c.Name, err)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.d.QuoteIdentifier(c.Name))
		b.WriteByte(' ')
		b.WriteString(ts)
		if !c.Nullable {
			b.WriteString(" NOT NULL")
		}
	}
	if len(opts.PrimaryKey) > 0 {
		if err := s.checkColumns(op, rel, opts.PrimaryKey); err != nil {
			return err
		}
		b.WriteString(", PRIMARY KEY (")
		b.WriteString(s.quoteList(opts.PrimaryKey))
		b.WriteString(")")
	}
	b.WriteString(")")
	return s.exec(ctx, op, rel, b.String())
}

func (s *session) quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = s.d.QuoteIdentifier(n)
	}
	return strings.Join(q, ", ")
}

// ReplaceTableAs makes rel a table holding the result of query, atomically:
// the new table is built under a scratch name and swapped in within one
// transaction, so a concurrent reader sees the old table or the new one,
// never neither. An existing view of that name is replaced too.
func (s *session) ReplaceTableAs(ctx context.Context, rel Relation, query string, args ...any) error {
	return s.replaceAs(ctx, KindTable, rel, query, args)
}

// ReplaceViewAs makes rel a view of query, atomically, replacing a table or
// view of that name.
func (s *session) ReplaceViewAs(ctx context.Context, rel Relation, query string) error {
	return s.replaceAs(ctx, KindView, rel, query, nil)
}

func (s *session) replaceAs(ctx context.Context, kind RelationKind, rel Relation, query string, args []any) error {
	op := "replace " + string(kind)
	if err := s.checkRel(op, rel); err != nil {
		return err
	}
	scratch := rel
	scratch.Name = scratchName(s.d, rel.Name, "new")
	create := "CREATE TABLE " + s.d.QuoteRelation(scratch) + " AS " + query
	if kind == KindView {
		create = "CREATE VIEW " + s.d.QuoteRelation(scratch) + " AS " + query
	}
	return s.atomic(ctx, func(t *session) error {
		old, err := t.Relation(ctx, rel)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		t.log.DebugContext(ctx, "exec", "op", op, "relation", rel.String(), "sql", create)
		if _, err := t.q.ExecContext(ctx, create, args...); err != nil {
			return wrap(op, rel, err, t.eng.Classify)
		}
		if err == nil {
			if err := t.exec(ctx, op, rel, dropSQL(t.d, old.Kind, old.Relation)); err != nil {
				return err
			}
		}
		return t.exec(ctx, op, rel, renameSQL(t.d, kind, scratch, rel.Name))
	})
}

func dropSQL(d Dialect, kind RelationKind, rel Relation) string {
	if kind == KindView {
		return "DROP VIEW " + d.QuoteRelation(rel)
	}
	return "DROP TABLE " + d.QuoteRelation(rel)
}

func renameSQL(d Dialect, kind RelationKind, rel Relation, newName string) string {
	verb := "ALTER TABLE "
	if kind == KindView {
		verb = "ALTER VIEW "
	}
	return verb + d.QuoteRelation(rel) + " RENAME TO " + d.QuoteIdentifier(newName)
}

// AddColumns adds columns (nullable unless a column says otherwise) to a
// table, all in one transaction.
func (s *session) AddColumns(ctx context.Context, rel Relation, cols []Column) error {
	const op = "add columns"
	if err := s.checkRel(op, rel); err != nil {
		return err
	}
	stmts := make([]string, 0, len(cols))
	for _, c := range cols {
		if err := checkIdentifier(s.d, "column", c.Name); err != nil {
			return &Error{Op: op, Relation: rel, Kind: ErrInvalidIdentifier, Err: err}
		}
		ts, err := s.d.TypeSQL(c.Type)
		if err != nil {
			return errorf(op, rel, ErrUnsupported, "column %q: %w", c.Name, err)
		}
		q := "ALTER TABLE " + s.d.QuoteRelation(rel) + " ADD COLUMN " + s.d.QuoteIdentifier(c.Name) + " " + ts
		if !c.Nullable {
			q += " NOT NULL"
		}
		stmts = append(stmts, q)
	}
	return s.atomic(ctx, func(t *session) error { return t.exec(ctx, op, rel, stmts...) })
}

// AlterColumnType changes the type of a table's column, converting the
// values it holds; use it to widen a column (integer to decimal, anything to
// string). The engine's error (for a conversion that fails) names the table.
// Both DuckDB and PostgreSQL spell it ALTER TABLE … ALTER COLUMN … TYPE.
func (s *session) AlterColumnType(ctx context.Context, rel Relation, column string, t Type) error {
	const op = "alter column type"
	if err := s.checkRel(op, rel); err != nil {
		return err
	}
	if err := checkIdentifier(s.d, "column", column); err != nil {
		return &Error{Op: op, Relation: rel, Kind: ErrInvalidIdentifier, Err: err}
	}
	ts, err := s.d.TypeSQL(t)
	if err != nil {
		return errorf(op, rel, ErrUnsupported, "column %q: %w", column, err)
	}
	return s.exec(ctx, op, rel, "ALTER TABLE "+s.d.QuoteRelation(rel)+" ALTER COLUMN "+s.d.QuoteIdentifier(column)+" TYPE "+ts)
}

// Rename renames a table or view within its schema.
func (s *session) Rename(ctx context.Context, rel Relation, newName string) error {
	const op = "rename"
	if err := s.checkRel(op, rel); err != nil {
		return err
	}
	if err := checkIdentifier(s.d, "relation", newName); err != nil {
		return &Error{Op: op, Relation: rel, Kind: ErrInvalidIdentifier, Err: err}
	}
	ri, err := s.Relation(ctx, rel)
	if err != nil {
		return err
	}
	return s.exec(ctx, op, rel, renameSQL(s.d, ri.Kind, rel, newName))
}

// Drop drops a table or view if it exists.
func (s *session) Drop(ctx context.Context, rel Relation) error {
	const op = "drop"
	if err := s.checkRel(op, rel); err != nil {
		return err
	}
	ri, err := s.Relation(ctx, rel)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.exec(ctx, op, rel, dropSQL(s.d, ri.Kind, ri.Relation))
}

// MergeOptions adjust Merge.
type MergeOptions struct {
	// Columns to write; default: all columns of source.
	Columns []string
}

// Merge upserts the rows of source into target by the key columns: target
// rows whose key appears in source are replaced by the source rows, and the
// other source rows are inserted; all in one transaction. Source must hold
// each key at most once.
func (s *session) Merge(ctx context.Context, target, source Relation, keys []string, opts *MergeOptions) error {
	const op = "merge"
	if err := s.checkRel(op, target); err != nil {
		return err
	}
	if err := s.checkRel(op, source); err != nil {
		return err
	}
	if len(keys) == 0 {
		return errorf(op, target, nil, "no key columns")
	}
	if err := s.checkColumns(op, target, keys); err != nil {
		return err
	}
	var cols []string
	if opts != nil && len(opts.Columns) > 0 {
		cols = opts.Columns
		if err := s.checkColumns(op, target, cols); err != nil {
			return err
		}
	} else {
		sc, err := s.Columns(ctx, source)
		if err != nil {
			return err
		}
		for _, c := range sc {
			cols = append(cols, c.Name)
		}
	}
	t, src := s.d.QuoteRelation(target), s.d.QuoteRelation(source)
	conds := make([]string, len(keys))
	for i, k := range keys {
		qk := s.d.QuoteIdentifier(k)
		conds[i] = "s." + qk + " = " + t + "." + qk
	}
	del := "DELETE FROM " + t + " WHERE EXISTS (SELECT 1 FROM " + src + " AS s WHERE " + strings.Join(conds, " AND ") + ")"
	list := s.quoteList(cols)
	ins := "INSERT INTO " + t + " (" + list + ") SELECT " + list + " FROM " + src
	return s.atomic(ctx, func(tx *session) error { return tx.exec(ctx, op, target, del, ins) })
}

// Load appends rows to the table rel through the engine's bulk path (DuckDB's
// appender, PostgreSQL's COPY FROM STDIN), never row by row INSERTs. columns
// names the table columns each row holds, in order; nil means all columns in
// table order. Rows come from an iterator and are not kept: a producer may
// reuse its slice between rows. It returns the number of rows loaded. Inside
// a Tx the rows become visible with the commit; outside one the load runs in
// a transaction of its own: all rows or none.
func (s *session) Load(ctx context.Context, rel Relation, columns []string, rows iter.Seq2[[]any, error]) (int64, error) {
	const op = "load"
	cols, err := s.loadColumns(ctx, op, rel, columns)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.atomic(ctx, func(t *session) error {
		return t.raw(ctx, func(raw any) error {
			var lerr error
			n, lerr = t.eng.Load(ctx, raw, rel, cols, rows)
			return lerr
		})
	})
	if err != nil {
		return n, wrap(op, rel, err, s.eng.Classify)
	}
	s.log.DebugContext(ctx, "loaded", "relation", rel.String(), "rows", n)
	return n, nil
}

// loadColumns returns the columns of rel that a load names (nil: all, in
// table order), with the table's spelling and types.
func (s *session) loadColumns(ctx context.Context, op string, rel Relation, columns []string) ([]Column, error) {
	if err := s.checkRel(op, rel); err != nil {
		return nil, err
	}
	all, err := s.Columns(ctx, rel)
	if err != nil {
		return nil, err
	}
	if columns == nil {
		return all, nil
	}
	cols := make([]Column, len(columns))
	for i, name := range columns {
		if slices.Contains(columns[:i], name) {
			return nil, &Error{Op: op, Relation: rel, Err: fmt.Errorf("column %q listed twice", name)}
		}
		found := false
		for _, c := range all {
			if c.Name == name || (!s.d.CaseSensitive() && strings.EqualFold(c.Name, name)) {
				cols[i], found = c, true
				break
			}
		}
		if !found {
			return nil, &Error{Op: op, Relation: rel, Kind: ErrNotFound, Err: fmt.Errorf("column %q", name)}
		}
	}
	return cols, nil
}
