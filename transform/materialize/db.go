package materialize

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dataopskit/dataops/warehouse"
)

// DB is where materializations run: a *warehouse.Warehouse, on which each
// call opens and commits a transaction of its own, or a *warehouse.Tx, which
// the call joins (and leaves to the caller to commit).
type DB interface {
	Dialect() warehouse.Dialect
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Get(ctx context.Context, dest any, query string, args ...any) error
	Rows(ctx context.Context, query string, args ...any) iter.Seq2[*warehouse.Record, error]
	Relation(ctx context.Context, rel warehouse.Relation) (warehouse.RelationInfo, error)
	Columns(ctx context.Context, rel warehouse.Relation) ([]warehouse.Column, error)
	CreateSchema(ctx context.Context, schema string) error
	Load(ctx context.Context, rel warehouse.Relation, columns []string, rows iter.Seq2[[]any, error]) (int64, error)
}

var (
	_ DB = (*warehouse.Warehouse)(nil)
	_ DB = (*warehouse.Tx)(nil)
)

// ErrUnsupportedDB is returned for a DB that is neither a *warehouse.Warehouse
// nor a *warehouse.Tx where a transaction is needed.
var ErrUnsupportedDB = errors.New("materialize: DB must be a *warehouse.Warehouse or *warehouse.Tx")

// Response is what a materialization reports, as dbt's adapter response:
// Code is the engine's status ("SELECT 100", "INSERT 0 5", "MERGE 3",
// "CREATE VIEW" on PostgreSQL; "OK" on DuckDB, as dbt-duckdb reports), and
// RowsAffected the rows written (-1 when the engine does not say).
type Response struct {
	Code         string
	RowsAffected int64
}

// String returns Code.
func (r Response) String() string { return r.Code }

// inTx runs fn in db's transaction, or in a new one committed on success.
func inTx(ctx context.Context, db DB, fn func(tx *warehouse.Tx) error) error {
	switch v := db.(type) {
	case *warehouse.Tx:
		return fn(v)
	case *warehouse.Warehouse:
		return v.WithTx(ctx, fn)
	}
	return ErrUnsupportedDB
}

// querier returns the sqlx handle behind db, for result metadata that the
// portable API does not carry.
func querier(db DB) (sqlx.QueryerContext, error) {
	switch v := db.(type) {
	case *warehouse.Tx:
		return v.Tx(), nil
	case *warehouse.Warehouse:
		return v.DB(), nil
	}
	return nil, ErrUnsupportedDB
}

func isPostgres(d warehouse.Dialect) bool { return d.Name() == "postgres" }

// response builds the adapter response of a statement that wrote n rows.
func response(d warehouse.Dialect, verb string, n int64) Response {
	if !isPostgres(d) {
		return Response{Code: "OK", RowsAffected: n}
	}
	switch verb {
	case "INSERT":
		return Response{Code: fmt.Sprintf("INSERT 0 %d", n), RowsAffected: n}
	case "CREATE VIEW":
		return Response{Code: "CREATE VIEW", RowsAffected: -1}
	}
	return Response{Code: fmt.Sprintf("%s %d", verb, n), RowsAffected: n}
}

func rowsAffected(res sql.Result) int64 {
	if res == nil {
		return -1
	}
	n, err := res.RowsAffected()
	if err != nil {
		return -1
	}
	return n
}

// exists reports whether rel exists and what it is.
func exists(ctx context.Context, db DB, rel warehouse.Relation) (warehouse.RelationInfo, bool, error) {
	ri, err := db.Relation(ctx, rel)
	if errors.Is(err, warehouse.ErrNotFound) {
		return ri, false, nil
	}
	return ri, err == nil, err
}

// scratch returns a relation beside rel named rel.Name+suffix, shortened
// with a hash when the engine's identifier limit requires it, as dbt names
// its __dbt_tmp and __dbt_backup relations.
func scratch(d warehouse.Dialect, rel warehouse.Relation, suffix string) warehouse.Relation {
	name := rel.Name + suffix
	if max := d.MaxIdentifierLength(); max > 0 && len(name) > max {
		sum := md5.Sum([]byte(rel.Name))
		h := hex.EncodeToString(sum[:])[:8]
		keep := max - len(suffix) - len(h) - 1
		if keep < 0 {
			keep = 0
		}
		name = rel.Name[:keep] + "_" + h + suffix
	}
	out := rel
	out.Name = name
	return out
}

func dropSQL(d warehouse.Dialect, kind warehouse.RelationKind, rel warehouse.Relation) string {
	what := "TABLE"
	if kind == warehouse.KindView {
		what = "VIEW"
	}
	q := "DROP " + what + " IF EXISTS " + d.QuoteRelation(rel)
	if isPostgres(d) {
		// dbt-postgres drops with cascade: views built on the old relation go
		// with it and are rebuilt when their own models run.
		q += " CASCADE"
	}
	return q
}

func renameSQL(d warehouse.Dialect, kind warehouse.RelationKind, rel warehouse.Relation, name string) string {
	verb := "ALTER TABLE "
	if kind == warehouse.KindView {
		verb = "ALTER VIEW "
	}
	return verb + d.QuoteRelation(rel) + " RENAME TO " + d.QuoteIdentifier(name)
}

// quoteList quotes each name and joins them with ", ".
func quoteList(d warehouse.Dialect, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = d.QuoteIdentifier(n)
	}
	return strings.Join(q, ", ")
}

// Literal renders s as an SQL string literal, doubling single quotes (the
// escaping DuckDB and PostgreSQL share with standard_conforming_strings on).
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// columnType is the engine spelling of a column's type for DDL.
func columnType(d warehouse.Dialect, c warehouse.Column) (string, error) {
	if c.Type.Native != "" {
		return c.Type.Native, nil
	}
	return d.TypeSQL(c.Type)
}

func columnNames(cols []warehouse.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// sameName compares column names as the engine does.
func sameName(d warehouse.Dialect, a, b string) bool {
	if d.CaseSensitive() {
		return a == b
	}
	return strings.EqualFold(a, b)
}

func findColumn(d warehouse.Dialect, cols []warehouse.Column, name string) (warehouse.Column, bool) {
	for _, c := range cols {
		if sameName(d, c.Name, name) {
			return c, true
		}
	}
	return warehouse.Column{}, false
}

func exec(ctx context.Context, db DB, what string, stmts ...string) (sql.Result, error) {
	var last sql.Result
	for _, q := range stmts {
		res, err := db.Exec(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		last = res
	}
	return last, nil
}
