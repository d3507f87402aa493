package materialize

import (
	"context"
	"fmt"

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
// swapped in within one transaction, replacing a view or table of that name
// (with its dependent views on PostgreSQL, as dbt-postgres's cascade does).
// The schema is created if missing.
func View(ctx context.Context, db DB, rel warehouse.Relation, compiled string, cfg ViewConfig) (Response, error) {
	res, err := build(ctx, db, "view", rel, cfg.Hooks, func(tx *warehouse.Tx) (Response, error) {
		if err := swapIn(ctx, tx, warehouse.KindView, rel, compiled, nil); err != nil {
			return Response{}, err
		}
		return response(tx.Dialect(), "CREATE VIEW", -1), nil
	})
	return res, err
}

// Table makes rel a table holding the result of the compiled SQL: built as
// <name>__dbt_tmp and swapped in within one transaction, so that a reader sees
// the old table or the new one, never neither. It replaces a view of that
// name too. The schema is created if missing.
func Table(ctx context.Context, db DB, rel warehouse.Relation, compiled string, cfg TableConfig) (Response, error) {
	return build(ctx, db, "table", rel, cfg.Hooks, func(tx *warehouse.Tx) (Response, error) {
		var n int64
		if err := swapIn(ctx, tx, warehouse.KindTable, rel, compiled, &n); err != nil {
			return Response{}, err
		}
		return response(tx.Dialect(), "SELECT", n), nil
	})
}

// build runs the hooks around body, inside one transaction as dbt does, and
// names rel in any error.
func build(ctx context.Context, db DB, op string, rel warehouse.Relation, hooks Hooks, body func(tx *warehouse.Tx) (Response, error)) (Response, error) {
	if err := ensureSchema(ctx, db, rel.Schema); err != nil {
		return Response{}, fail(op, rel, err)
	}
	if err := runHooks(ctx, db, "pre-hook", hooks.Pre, true); err != nil {
		return Response{}, fail(op, rel, err)
	}
	var res Response
	err := inTx(ctx, db, func(tx *warehouse.Tx) error {
		if err := runHooks(ctx, tx, "pre-hook", hooks.Pre, false); err != nil {
			return err
		}
		var err error
		if res, err = body(tx); err != nil {
			return err
		}
		return runHooks(ctx, tx, "post-hook", hooks.Post, false)
	})
	if err != nil {
		return Response{}, fail(op, rel, err)
	}
	if err := runHooks(ctx, db, "post-hook", hooks.Post, true); err != nil {
		return res, fail(op, rel, err)
	}
	return res, nil
}

// swapIn builds compiled as a relation of kind under a scratch name and puts
// it in rel's place; n, if not nil, receives the rows written.
func swapIn(ctx context.Context, tx *warehouse.Tx, kind warehouse.RelationKind, rel warehouse.Relation, compiled string, n *int64) error {
	d := tx.Dialect()
	// No scratch relation can be left over from an earlier run: it is
	// created and renamed within one transaction (DDL is transactional on
	// DuckDB and PostgreSQL), so a failed run leaves nothing behind.
	tmp := scratch(d, rel, "__dbt_tmp")
	verb := "CREATE TABLE "
	if kind == warehouse.KindView {
		verb = "CREATE VIEW "
	}
	res, err := exec(ctx, tx, "create", verb+d.QuoteRelation(tmp)+" AS "+compiled)
	if err != nil {
		return err
	}
	if n != nil {
		*n = rowsAffected(res)
	}
	old, ok, err := exists(ctx, tx, rel)
	if err != nil {
		return err
	}
	stmts := []string{}
	if ok {
		stmts = append(stmts, dropSQL(d, old.Kind, old.Relation))
	}
	stmts = append(stmts, renameSQL(d, kind, tmp, rel.Name))
	_, err = exec(ctx, tx, "swap", stmts...)
	return err
}

// ensureSchema creates schema if missing. Two models of a new schema built
// at once may both try (PostgreSQL then reports a duplicate key for one of
// them); a schema that exists afterwards is success.
func ensureSchema(ctx context.Context, db DB, schema string) error {
	if schema == "" {
		return nil
	}
	err := db.CreateSchema(ctx, schema)
	if err == nil {
		return nil
	}
	if w, ok := db.(*warehouse.Warehouse); ok {
		if schemas, lerr := w.Schemas(ctx); lerr == nil {
			for _, s := range schemas {
				if sameName(db.Dialect(), s, schema) {
					return nil
				}
			}
		}
	}
	return err
}
