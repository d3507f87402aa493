package materialize

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// Incremental strategies.
const (
	StrategyAppend       = "append"
	StrategyMerge        = "merge"
	StrategyDeleteInsert = "delete+insert"
)

// on_schema_change settings.
const (
	SchemaIgnore     = "ignore"
	SchemaFail       = "fail"
	SchemaAppendNew  = "append_new_columns"
	SchemaSyncAll    = "sync_all_columns"
	defaultOnChange  = SchemaIgnore
	scratchSuffix    = "__dbt_tmp"
	changeTypeColumn = "dbt_change_type"
)

// ErrSchemaChanged is matched (errors.Is) by the error of an incremental run
// with on_schema_change "fail" whose new rows do not have the target's columns.
var ErrSchemaChanged = errors.New("the source and target schemas on this incremental model are out of sync")

// IncrementalConfig configures Incremental, as dbt's model config does.
type IncrementalConfig struct {
	// Strategy is "append", "merge" or "delete+insert". Empty is dbt's
	// default on DuckDB and PostgreSQL: delete+insert with a UniqueKey,
	// append without.
	Strategy string
	// UniqueKey holds one or more key expressions (dbt's unique_key, a
	// string or a list), taken as SQL as dbt takes them.
	UniqueKey []string
	// IncrementalPredicates are SQL conditions added to the merge's ON
	// clause or the delete's WHERE, as dbt's incremental_predicates; they
	// may name DBT_INTERNAL_DEST and DBT_INTERNAL_SOURCE (merge).
	IncrementalPredicates []string
	// OnSchemaChange is "ignore" (default), "fail", "append_new_columns" or
	// "sync_all_columns".
	OnSchemaChange string
	// MergeUpdateColumns limits the columns a merge updates;
	// MergeExcludeColumns removes columns from them.
	MergeUpdateColumns, MergeExcludeColumns []string
	// FullRefresh rebuilds the table from scratch (dbt's --full-refresh
	// when the model's full_refresh config allows it).
	FullRefresh bool
	Hooks       Hooks
	// StrategySQL, when set, is a strategy the project defines (dbt's
	// get_incremental_<strategy>_sql macro): given the table, the scratch
	// table holding the new rows and the columns to write, it returns the
	// SQL that moves the rows over, which runs in the build's transaction.
	// It is used for a Strategy other than the built-in ones.
	StrategySQL func(ctx context.Context, target, temp warehouse.Relation, dest []warehouse.Column) (string, error)
}

// SchemaChanges is what on_schema_change compares: the columns of the new
// rows (Source) against the existing table's (Target).
type SchemaChanges struct {
	Source, Target    []warehouse.Column
	SourceNotInTarget []warehouse.Column
	TargetNotInSource []warehouse.Column
	// NewTypes are columns present in both whose type differs, with the
	// source's type.
	NewTypes []warehouse.Column
}

// Changed reports whether the schemas differ.
func (s SchemaChanges) Changed() bool {
	return len(s.SourceNotInTarget)+len(s.TargetNotInSource)+len(s.NewTypes) > 0
}

// Incremental builds rel the way dbt's incremental materialization does. On
// the first run, when the relation is a view, or with FullRefresh, it builds
// the table whole (as Table). Otherwise it builds the new rows aside as
// <name>__dbt_tmp, reconciles the schema by OnSchemaChange, applies the
// strategy, and drops the scratch table, all in one transaction.
func Incremental(ctx context.Context, db DB, rel warehouse.Relation, compiled string, cfg IncrementalConfig) (Response, error) {
	strategy := cfg.Strategy
	if strategy == "" || strategy == "default" {
		strategy = StrategyAppend
		if len(cfg.UniqueKey) > 0 {
			strategy = StrategyDeleteInsert
		}
	}
	switch {
	case strategy == StrategyAppend || strategy == StrategyMerge || strategy == StrategyDeleteInsert:
	case cfg.StrategySQL != nil:
	default:
		// dbt's wording: it looks for a macro named after the strategy.
		return Response{}, fail("incremental", rel, fmt.Errorf("dbt could not find an incremental strategy macro with the name %q: incremental_strategy %q is not one of append, merge or delete+insert", "get_incremental_"+cfg.Strategy+"_sql", cfg.Strategy))
	}
	onChange := cfg.OnSchemaChange
	if onChange == "" {
		onChange = defaultOnChange
	}
	switch onChange {
	case SchemaIgnore, SchemaFail, SchemaAppendNew, SchemaSyncAll:
	default:
		return Response{}, fail("incremental", rel, fmt.Errorf("unknown on_schema_change %q (want ignore, fail, append_new_columns or sync_all_columns)", cfg.OnSchemaChange))
	}
	return build(ctx, db, "incremental", rel, cfg.Hooks, func(tx *warehouse.Tx, _ bool) (Response, error) {
		old, ok, err := exists(ctx, tx, rel)
		if err != nil {
			return Response{}, err
		}
		if !ok || cfg.FullRefresh || old.Kind == warehouse.KindView {
			var n int64
			if err := swapIn(ctx, tx, warehouse.KindTable, rel, compiled, &n, true); err != nil {
				return Response{}, err
			}
			return response(tx.Dialect(), "SELECT", n), nil
		}
		return incrementalRun(ctx, tx, rel, compiled, strategy, onChange, cfg)
	})
}

func incrementalRun(ctx context.Context, tx *warehouse.Tx, rel warehouse.Relation, compiled, strategy, onChange string, cfg IncrementalConfig) (Response, error) {
	d := tx.Dialect()
	tmp := scratch(d, rel, scratchSuffix)
	if _, err := exec(ctx, tx, "build new rows", dropSQL(d, warehouse.KindTable, tmp), "CREATE TABLE "+d.QuoteRelation(tmp)+" AS "+compiled); err != nil {
		return Response{}, err
	}
	dest, err := ProcessSchemaChanges(ctx, tx, onChange, tmp, rel)
	if err != nil {
		return Response{}, err
	}
	target, source := d.QuoteRelation(rel), d.QuoteRelation(tmp)
	cols := quoteList(d, columnNames(dest))
	insert := "INSERT INTO " + target + " (" + cols + ") SELECT " + cols + " FROM " + source
	var stmts []string
	verb := "INSERT"
	switch strategy {
	case StrategyAppend:
		stmts = []string{insert}
	case StrategyDeleteInsert:
		if len(cfg.UniqueKey) > 0 {
			stmts = append(stmts, deleteSQL(target, source, cfg.UniqueKey, cfg.IncrementalPredicates))
		}
		stmts = append(stmts, insert)
	case StrategyMerge:
		stmts = []string{mergeSQL(d, target, source, dest, cfg)}
		verb = "MERGE"
	default:
		q, err := cfg.StrategySQL(ctx, rel, tmp, dest)
		if err != nil {
			return Response{}, fail("incremental", rel, fmt.Errorf("incremental_strategy %s: %w", strategy, err))
		}
		stmts, verb = []string{q}, "OK"
	}
	res, err := exec(ctx, tx, strategy, stmts...)
	if err != nil {
		return Response{}, err
	}
	n := rowsAffected(res)
	if _, err := exec(ctx, tx, "drop new rows", dropSQL(d, warehouse.KindTable, tmp)); err != nil {
		return Response{}, err
	}
	return response(d, verb, n), nil
}

// deleteSQL is dbt's delete+insert delete: by a single key with IN, by
// several with a join on each.
func deleteSQL(target, source string, keys, predicates []string) string {
	var b strings.Builder
	if len(keys) == 1 {
		b.WriteString("DELETE FROM " + target + " WHERE (" + keys[0] + ") IN (SELECT (" + keys[0] + ") FROM " + source + ")")
	} else {
		b.WriteString("DELETE FROM " + target + " USING " + source + " WHERE (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(source + "." + k + " = " + target + "." + k)
		}
		b.WriteString(")")
	}
	for _, p := range predicates {
		b.WriteString(" AND " + p)
	}
	return b.String()
}

// mergeSQL is dbt's default merge: keys (and incremental predicates) in the
// ON clause; without a key, every row is inserted.
func mergeSQL(d warehouse.Dialect, target, source string, dest []warehouse.Column, cfg IncrementalConfig) string {
	var on []string
	for _, k := range cfg.UniqueKey {
		on = append(on, "DBT_INTERNAL_SOURCE."+k+" = DBT_INTERNAL_DEST."+k)
	}
	if len(on) == 0 {
		on = []string{"FALSE"}
	}
	on = append(on, cfg.IncrementalPredicates...)
	var b strings.Builder
	b.WriteString("MERGE INTO " + target + " AS DBT_INTERNAL_DEST USING " + source + " AS DBT_INTERNAL_SOURCE ON (" + strings.Join(on, ") AND (") + ")")
	if len(cfg.UniqueKey) > 0 {
		update := columnNames(dest)
		if len(cfg.MergeUpdateColumns) > 0 {
			update = cfg.MergeUpdateColumns
		}
		var sets []string
		for _, c := range update {
			if slices.ContainsFunc(cfg.MergeExcludeColumns, func(x string) bool { return sameName(d, x, c) }) {
				continue
			}
			sets = append(sets, d.QuoteIdentifier(c)+" = DBT_INTERNAL_SOURCE."+d.QuoteIdentifier(c))
		}
		if len(sets) > 0 {
			b.WriteString(" WHEN MATCHED THEN UPDATE SET " + strings.Join(sets, ", "))
		}
	}
	names := columnNames(dest)
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = "DBT_INTERNAL_SOURCE." + d.QuoteIdentifier(n)
	}
	b.WriteString(" WHEN NOT MATCHED THEN INSERT (" + quoteList(d, names) + ") VALUES (" + strings.Join(vals, ", ") + ")")
	return b.String()
}

// CheckSchemaChanges compares the columns of source (the new rows) with
// those of target, as dbt's check_for_schema_changes does.
func CheckSchemaChanges(ctx context.Context, db DB, source, target warehouse.Relation) (SchemaChanges, error) {
	var sc SchemaChanges
	var err error
	if sc.Source, err = db.Columns(ctx, source); err != nil {
		return sc, err
	}
	if sc.Target, err = db.Columns(ctx, target); err != nil {
		return sc, err
	}
	d := db.Dialect()
	for _, c := range sc.Source {
		t, ok := findColumn(d, sc.Target, c.Name)
		switch {
		case !ok:
			sc.SourceNotInTarget = append(sc.SourceNotInTarget, c)
		case !sameType(c.Type, t.Type) && !fitsIn(c.Type, t.Type):
			sc.NewTypes = append(sc.NewTypes, c)
		}
	}
	for _, c := range sc.Target {
		if _, ok := findColumn(d, sc.Source, c.Name); !ok {
			sc.TargetNotInSource = append(sc.TargetNotInSource, c)
		}
	}
	return sc, nil
}

// fitsIn reports whether a string column of type src can be written to one
// of type dst unchanged: dst is unbounded or at least as wide. dbt does not
// count such a difference as a schema change (Column.can_expand_to), so a
// narrower string in the new rows never narrows, and truncates, the
// table's column.
func fitsIn(src, dst warehouse.Type) bool {
	if src.Kind != warehouse.KindString || dst.Kind != warehouse.KindString {
		return false
	}
	return dst.Length == 0 || (src.Length > 0 && src.Length <= dst.Length)
}

func sameType(a, b warehouse.Type) bool {
	if a.Native != "" && b.Native != "" {
		return strings.EqualFold(a.Native, b.Native)
	}
	return a.Equal(b)
}

// ProcessSchemaChanges applies on_schema_change to target given the new rows
// in source and returns the columns to write, as dbt's
// process_schema_changes: the target's columns for "ignore", the source's
// otherwise. "fail" returns an error matching ErrSchemaChanged that names the
// model and the columns; "append_new_columns" adds the new columns;
// "sync_all_columns" also drops the target's columns the source lacks and
// changes the types of columns whose type changed.
func ProcessSchemaChanges(ctx context.Context, db DB, onChange string, source, target warehouse.Relation) ([]warehouse.Column, error) {
	if onChange == "" || onChange == SchemaIgnore {
		return db.Columns(ctx, target)
	}
	sc, err := CheckSchemaChanges(ctx, db, source, target)
	if err != nil {
		return nil, err
	}
	if !sc.Changed() {
		return sc.Source, nil
	}
	d := db.Dialect()
	t := d.QuoteRelation(target)
	var stmts []string
	switch onChange {
	case SchemaFail:
		return nil, fmt.Errorf("%w: model %s: source columns not in target: %s; target columns not in source: %s; new column types: %s",
			ErrSchemaChanged, target, describe(sc.SourceNotInTarget, false), describe(sc.TargetNotInSource, false), describe(sc.NewTypes, true))
	case SchemaAppendNew, SchemaSyncAll:
		for _, c := range sc.SourceNotInTarget {
			ts, err := columnType(d, c)
			if err != nil {
				return nil, err
			}
			stmts = append(stmts, "ALTER TABLE "+t+" ADD COLUMN "+d.QuoteIdentifier(c.Name)+" "+ts)
		}
		if onChange == SchemaSyncAll {
			for _, c := range sc.TargetNotInSource {
				stmts = append(stmts, "ALTER TABLE "+t+" DROP COLUMN "+d.QuoteIdentifier(c.Name))
			}
			for _, c := range sc.NewTypes {
				ts, err := columnType(d, c)
				if err != nil {
					return nil, err
				}
				alter := "ALTER TABLE " + t + " ALTER COLUMN " + d.QuoteIdentifier(c.Name) + " TYPE " + ts
				if isPostgres(d) {
					alter += " USING " + d.QuoteIdentifier(c.Name) + "::" + ts
				}
				stmts = append(stmts, alter)
			}
		}
	default:
		return nil, fmt.Errorf("unknown on_schema_change %q", onChange)
	}
	if _, err := exec(ctx, db, "on_schema_change "+onChange, stmts...); err != nil {
		return nil, err
	}
	return sc.Source, nil
}

func describe(cols []warehouse.Column, withType bool) string {
	if len(cols) == 0 {
		return "[]"
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name
		if withType {
			parts[i] += " " + strings.ToLower(c.Type.Native)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
