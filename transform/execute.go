package transform

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/dataopskit/dataops/transform/materialize"
	"github.com/dataopskit/dataops/warehouse"
)

// execute runs a compiled node on the warehouse through the
// materializations of package materialize.
func (r *runner) execute(ctx context.Context, n *Node, sql string, nr *NodeResult) error {
	if r.w == nil {
		return fmt.Errorf("no warehouse to run on")
	}
	rel := r.relation(n)
	hooks, err := r.hooks(ctx, n)
	if err != nil {
		return err
	}
	var resp materialize.Response
	switch n.ResourceType {
	case ResourceSeed:
		cfg := materialize.SeedConfig{ColumnTypes: n.Config.ColumnTypes, QuoteColumns: n.Config.QuoteColumns, FullRefresh: r.fullRefresh(n), Hooks: hooks}
		if d := n.Config.Delimiter; d != "" {
			cfg.Delimiter = []rune(d)[0]
		}
		resp, err = materialize.Seed(ctx, r.w, rel, n.file, cfg)
		if err == nil {
			nr.Message = "INSERT " + strconv.FormatInt(resp.RowsAffected, 10)
		}
	case ResourceTest:
		return r.runTest(ctx, n, sql, nr)
	case ResourceSnapshot:
		resp, err = r.snapshot(ctx, n, rel, sql, hooks)
	case ResourceModel:
		switch m := n.Config.Materialized; m {
		case "view":
			resp, err = materialize.View(ctx, r.w, rel, sql, materialize.ViewConfig{Hooks: hooks})
		case "table":
			resp, err = materialize.Table(ctx, r.w, rel, sql, materialize.TableConfig{Hooks: hooks})
		case "incremental":
			resp, err = materialize.Incremental(ctx, r.w, rel, sql, materialize.IncrementalConfig{
				Strategy:              n.Config.IncrementalStrategy,
				UniqueKey:             n.Config.UniqueKey,
				IncrementalPredicates: n.Config.IncrementalPredicates,
				OnSchemaChange:        n.Config.OnSchemaChange,
				MergeUpdateColumns:    asStrings(n.Config.Raw["merge_update_columns"]),
				MergeExcludeColumns:   asStrings(n.Config.Raw["merge_exclude_columns"]),
				FullRefresh:           r.fullRefresh(n),
				Hooks:                 hooks,
				StrategySQL:           r.incrementalStrategySQL(n),
			})
		default:
			return fmt.Errorf("unknown materialization %q (view, table, incremental and ephemeral are supported)", m)
		}
	default:
		return nil
	}
	if err != nil {
		return err
	}
	nr.Status = StatusSuccess
	nr.RowsAffected = resp.RowsAffected
	nr.RelationName = r.w.Dialect().QuoteRelation(rel)
	if nr.Message == "" {
		nr.Message = resp.Code
	}
	if r.c.dir != "" && n.ResourceType != ResourceSeed {
		_ = r.c.write("run", n, sql)
	}
	return nil
}

// relation is the node's relation as the engine stores it: DuckDB and
// PostgreSQL address the current database, so the database part is left
// out when it is the target's.
func (r *runner) relation(n *Node) warehouse.Relation {
	rel := n.Relation()
	if rel.Database == r.p.Target.Database {
		rel.Database = ""
	}
	return rel
}

func (r *runner) fullRefresh(n *Node) bool {
	if n.Config.FullRefresh != nil {
		return *n.Config.FullRefresh
	}
	return r.opts.FullRefresh
}

// hooks renders the node's pre- and post-hooks.
func (r *runner) hooks(ctx context.Context, n *Node) (materialize.Hooks, error) {
	var h materialize.Hooks
	for i, raw := range asList(n.Config.Raw["pre-hook"]) {
		hk, err := r.hook(ctx, n, "pre-hook", i, raw)
		if err != nil {
			return h, err
		}
		h.Pre = append(h.Pre, hk)
	}
	for i, raw := range asList(n.Config.Raw["post-hook"]) {
		hk, err := r.hook(ctx, n, "post-hook", i, raw)
		if err != nil {
			return h, err
		}
		h.Post = append(h.Post, hk)
	}
	return h, nil
}

func (r *runner) hook(ctx context.Context, n *Node, kind string, i int, raw any) (materialize.Hook, error) {
	src, outside := asString(raw), false
	if m, ok := raw.(map[string]any); ok {
		src = asString(m["sql"])
		if t, ok := m["transaction"]; ok {
			outside = !asBool(t, true)
		}
	}
	sql, err := r.c.renderSQL(ctx, n, fmt.Sprintf("%s %s %d", n.OriginalFilePath, kind, i+1), src)
	return materialize.Hook{SQL: sql, OutsideTransaction: outside}, err
}

// runTest runs a data test through materialize.RunTest: the failing rows
// counted by fail_calc and compared with warn_if / error_if at the test's
// severity; failures stored when configured.
func (r *runner) runTest(ctx context.Context, n *Node, sql string, nr *NodeResult) error {
	c := n.Config
	cfg := materialize.TestConfig{
		Severity: c.Severity, WarnIf: c.WarnIf, ErrorIf: c.ErrorIf,
		FailCalc: asString(c.Raw["fail_calc"]), Limit: c.Limit,
		StoreFailuresAs: asString(c.Raw["store_failures_as"]),
	}
	if c.StoreFailures != nil && *c.StoreFailures || cfg.StoreFailuresAs != "" {
		cfg.StoreFailures = true
		cfg.StoreRelation = r.relation(n)
		nr.RelationName = r.w.Dialect().QuoteRelation(cfg.StoreRelation)
	}
	if r.c.dir != "" {
		_ = r.c.write("run", n, materialize.TestSQL(sql, cfg))
	}
	res, err := materialize.RunTest(ctx, r.w, n.Name, sql, cfg)
	if err != nil {
		return err
	}
	failures := res.Failures
	nr.Failures = &failures
	nr.Message = res.Message
	switch res.Status {
	case "pass":
		nr.Status = StatusPass
	case "fail":
		nr.Status = StatusFail
	case "warn":
		nr.Status = StatusWarn
	default:
		return fmt.Errorf("%s", res.Message)
	}
	return nil
}

func plural(n int64, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func toInt64(v any) (int64, bool) {
	if n, ok := warehouse.ToInt64(v); ok {
		return n, true
	}
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		return int64(x), true
	case warehouse.Decimal:
		n, err := strconv.ParseInt(strings.Split(x.String(), ".")[0], 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// snapshot records the snapshot's query through materialize.Snapshot.
func (r *runner) snapshot(ctx context.Context, n *Node, rel warehouse.Relation, sql string, hooks materialize.Hooks) (materialize.Response, error) {
	c := n.Config
	cfg := materialize.SnapshotConfig{
		Strategy: c.Strategy, UniqueKey: c.UniqueKey, UpdatedAt: c.UpdatedAt,
		HardDeletes: asString(c.Raw["hard_deletes"]), InvalidateHardDeletes: asBool(c.Raw["invalidate_hard_deletes"], false),
		ValidToCurrent: asString(c.Raw["dbt_valid_to_current"]), Hooks: hooks,
	}
	if len(c.CheckCols) == 1 && c.CheckCols[0] == "all" {
		cfg.CheckAll = true
	} else {
		cfg.CheckCols = c.CheckCols
	}
	return materialize.Snapshot(ctx, r.w, rel, sql, cfg)
}
