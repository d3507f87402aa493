package materialize

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// Error is the error of a materialization: it names what was being built
// (the model's relation, seed file, snapshot or test) and wraps the cause.
type Error struct {
	Op      string // "view", "table", "incremental", "seed", "snapshot", "test", "hook"
	Subject string // the relation or file it was about
	Err     error
}

// Error renders "materialize: <op> <subject>: <cause>".
func (e *Error) Error() string {
	return fmt.Sprintf("materialize: %s %s: %v", e.Op, e.Subject, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func fail(op string, subject any, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Subject: fmt.Sprint(subject), Err: err}
}

// ViewConfig configures View.
type ViewConfig struct {
	Hooks Hooks
}

// TableConfig configures Table.
type TableConfig struct {
	Hooks Hooks
}

// View makes rel a view of the compiled SQL: built as <name>__dbt_tmp and
// swapped in within one transaction (on DuckDB, CREATE OR REPLACE VIEW in
// it), replacing a view or table of that name
// (with its dependent views on PostgreSQL, as dbt-postgres's cascade does).
// The schema is created if missing.
func View(ctx context.Context, db DB, rel warehouse.Relation, compiled string, cfg ViewConfig) (Response, error) {
	if res, ok := replaceInOne(ctx, db, warehouse.KindView, rel, compiled, cfg.Hooks); ok {
		return res, nil
	}
	return build(ctx, db, "view", rel, cfg.Hooks, func(tx *warehouse.Tx, careful bool) (Response, error) {
		if err := swapIn(ctx, tx, warehouse.KindView, rel, compiled, nil, careful); err != nil {
			return Response{}, err
		}
		return response(tx.Dialect(), "CREATE VIEW", -1), nil
	})
}

// Table makes rel a table holding the result of the compiled SQL: built as
// <name>__dbt_tmp and swapped in within one transaction (on DuckDB, CREATE OR
// REPLACE TABLE in it), so that a reader sees the old table or the new one,
// never neither. It replaces a view of that
// name too. The schema is created if missing.
func Table(ctx context.Context, db DB, rel warehouse.Relation, compiled string, cfg TableConfig) (Response, error) {
	if res, ok := replaceInOne(ctx, db, warehouse.KindTable, rel, compiled, cfg.Hooks); ok {
		return res, nil
	}
	return build(ctx, db, "table", rel, cfg.Hooks, func(tx *warehouse.Tx, careful bool) (Response, error) {
		var n int64
		if err := swapIn(ctx, tx, warehouse.KindTable, rel, compiled, &n, careful); err != nil {
			return Response{}, err
		}
		return response(tx.Dialect(), "SELECT", n), nil
	})
}

// replaceInOne is the fast path of a model without hooks on DuckDB: one
// CREATE OR REPLACE statement, atomic on its own (DuckDB builds the new
// relation before it drops the old one, in the statement's transaction). It
// reports false, having changed nothing, when it does not apply or fails —
// the schema is missing, the old relation is of the other kind, the query
// is wrong — and the caller then takes the general path, which reports
// the real error.
func replaceInOne(ctx context.Context, db DB, kind warehouse.RelationKind, rel warehouse.Relation, compiled string, hooks Hooks) (Response, bool) {
	d := db.Dialect()
	if _, own := db.(*warehouse.Warehouse); !own || isPostgres(d) || len(hooks.Pre)+len(hooks.Post) > 0 {
		return Response{}, false
	}
	what := "TABLE "
	if kind == warehouse.KindView {
		what = "VIEW "
	}
	res, err := db.Exec(ctx, "CREATE OR REPLACE "+what+d.QuoteRelation(rel)+" AS "+compiled)
	if err != nil {
		return Response{}, false
	}
	return Response{Code: "OK", RowsAffected: rowsAffected(res)}, true
}

// errKindGuess is returned by swapIn when it guessed the kind of the
// relation it replaces wrongly; the transaction is then aborted and build
// runs the body again, carefully.
var errKindGuess = errors.New("existing relation is of another kind")

// build runs the hooks around body, inside one transaction as dbt does, and
// names rel in any error. body is first run not careful when the
// transaction is build's own, so that it may guess instead of asking the
// catalog (slow on DuckDB with many relations); if the guess was wrong
// (errKindGuess) the transaction is rolled back and body runs again,
// careful.
func build(ctx context.Context, db DB, op string, rel warehouse.Relation, hooks Hooks, body func(tx *warehouse.Tx, careful bool) (Response, error)) (Response, error) {
	if err := ensureSchema(ctx, db, rel.Schema); err != nil {
		return Response{}, fail(op, rel, err)
	}
	if err := runHooks(ctx, db, "pre-hook", hooks.Pre, true); err != nil {
		return Response{}, fail(op, rel, err)
	}
	var res Response
	_, own := db.(*warehouse.Warehouse)
	attempt := func(careful bool) error {
		return inTx(ctx, db, func(tx *warehouse.Tx) error {
			if err := runHooks(ctx, tx, "pre-hook", hooks.Pre, false); err != nil {
				return err
			}
			var err error
			if res, err = body(tx, careful); err != nil {
				return err
			}
			return runHooks(ctx, tx, "post-hook", hooks.Post, false)
		})
	}
	err := attempt(!own)
	if errors.Is(err, errKindGuess) {
		err = attempt(true)
	}
	if err != nil {
		return Response{}, fail(op, rel, err)
	}
	if err := runHooks(ctx, db, "post-hook", hooks.Post, true); err != nil {
		return res, fail(op, rel, err)
	}
	return res, nil
}

// swapIn builds compiled as a relation of kind under a scratch name and puts
// it in rel's place; n, if not nil, receives the rows written. Careful, it
// asks the catalog what rel is before dropping it; otherwise it guesses rel
// is absent or of the same kind and returns errKindGuess if not.
func swapIn(ctx context.Context, tx *warehouse.Tx, kind warehouse.RelationKind, rel warehouse.Relation, compiled string, n *int64, careful bool) error {
	d := tx.Dialect()
	verb := "CREATE TABLE "
	if kind == warehouse.KindView {
		verb = "CREATE VIEW "
	}
	if !careful && !isPostgres(d) {
		// DuckDB replaces a relation of the same kind in one statement,
		// building the new one before dropping the old, and inside this
		// transaction as atomically as the rename dance below; a relation
		// of the other kind is an error, and so is a failing query: both
		// are retried carefully, which reports the real error.
		res, err := tx.Exec(ctx, "CREATE OR REPLACE "+strings.TrimPrefix(verb, "CREATE ")+d.QuoteRelation(rel)+" AS "+compiled)
		if err != nil {
			return fmt.Errorf("%w: %w", errKindGuess, err)
		}
		if n != nil {
			*n = rowsAffected(res)
		}
		return nil
	}
	// No scratch relation can be left over from an earlier run: it is
	// created and renamed within one transaction (DDL is transactional on
	// DuckDB and PostgreSQL), so a failed run leaves nothing behind.
	tmp := scratch(d, rel, "__dbt_tmp")
	res, err := exec(ctx, tx, "create", verb+d.QuoteRelation(tmp)+" AS "+compiled)
	if err != nil {
		return err
	}
	if n != nil {
		*n = rowsAffected(res)
	}
	drop := dropSQL(d, kind, rel)
	if careful {
		old, ok, err := exists(ctx, tx, rel)
		if err != nil {
			return err
		}
		drop = ""
		if ok {
			drop = dropSQL(d, old.Kind, old.Relation)
		}
	}
	if drop != "" {
		if _, err := tx.Exec(ctx, drop); err != nil {
			if !careful {
				return fmt.Errorf("%w: %w", errKindGuess, err)
			}
			return fmt.Errorf("swap: %w", err)
		}
	}
	_, err = exec(ctx, tx, "swap", renameSQL(d, kind, tmp, rel.Name))
	return err
}

// ensureSchema creates schema if missing. Two models of a new schema built
// at once may both try: PostgreSQL then reports a duplicate key for one of
// them, DuckDB a write-write conflict on the catalog while the other's
// CREATE has not committed yet. Creates from this process take turns
// (schemaMu), and one that fails is retried a few times, a little later
// each time; a schema that exists afterwards is success.
func ensureSchema(ctx context.Context, db DB, schema string) error {
	if schema == "" {
		return nil
	}
	schemaMu.Lock()
	defer schemaMu.Unlock()
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("create schema %s: %w (after %w)", schema, ctx.Err(), err)
			case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
			}
		}
		if err = db.CreateSchema(ctx, schema); err == nil || schemaExists(ctx, db, schema) {
			return nil
		}
	}
	return err
}

// schemaMu serialises ensureSchema's creates within the process.
var schemaMu sync.Mutex

// schemaExists reports whether db is a warehouse that lists schema.
func schemaExists(ctx context.Context, db DB, schema string) bool {
	w, ok := db.(*warehouse.Warehouse)
	if !ok {
		return false
	}
	schemas, err := w.Schemas(ctx)
	if err != nil {
		return false
	}
	for _, s := range schemas {
		if sameName(db.Dialect(), s, schema) {
			return true
		}
	}
	return false
}
