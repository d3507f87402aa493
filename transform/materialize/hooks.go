package materialize

import (
	"context"
	"fmt"
	"strings"
)

// Hook is one pre- or post-hook statement.
type Hook struct {
	SQL string
	// OutsideTransaction runs the hook outside the model's transaction:
	// before BEGIN for a pre-hook, after COMMIT for a post-hook (dbt's
	// transaction: false, before_begin and after_commit). By default a hook
	// runs inside it, as dbt's do.
	OutsideTransaction bool
}

// Hooks are a model's pre-hooks and post-hooks, in the order they run.
type Hooks struct {
	Pre, Post []Hook
}

// RunHooks runs statements in order on db, stopping at the first error,
// which names the hook's position. Use it for on-run-start and on-run-end,
// which dbt runs outside any model's transaction; pass a *warehouse.Tx to run
// them all in one transaction. Blank statements are skipped, as dbt skips
// hooks that render empty.
func RunHooks(ctx context.Context, db DB, what string, statements []string) error {
	for i, q := range statements {
		if strings.TrimSpace(q) == "" {
			continue
		}
		if _, err := db.Exec(ctx, q); err != nil {
			return fmt.Errorf("materialize: %s %d of %d: %w", what, i+1, len(statements), err)
		}
	}
	return nil
}

// runHooks runs the hooks whose OutsideTransaction equals outside.
func runHooks(ctx context.Context, db DB, what string, hooks []Hook, outside bool) error {
	for i, h := range hooks {
		if h.OutsideTransaction != outside || strings.TrimSpace(h.SQL) == "" {
			continue
		}
		if _, err := db.Exec(ctx, h.SQL); err != nil {
			return fmt.Errorf("%s %d: %w", what, i+1, err)
		}
	}
	return nil
}
