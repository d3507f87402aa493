package materialize

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// Snapshot strategies and hard_deletes settings.
const (
	SnapshotTimestamp = "timestamp"
	SnapshotCheck     = "check"

	HardDeletesIgnore     = "ignore"
	HardDeletesInvalidate = "invalidate"
	HardDeletesNewRecord  = "new_record"
)

// SnapshotConfig configures Snapshot, as a snapshot's dbt config does.
type SnapshotConfig struct {
	// Strategy is "timestamp" or "check".
	Strategy string
	// UniqueKey holds one or more key expressions (a string or a list in
	// dbt), taken as SQL.
	UniqueKey []string
	// UpdatedAt is the column (or expression) that says when a row last
	// changed: required by the timestamp strategy; optional with check,
	// where it defaults to the snapshot's run time.
	UpdatedAt string
	// CheckCols lists the columns the check strategy compares; CheckAll
	// compares every column of the query (check_cols: all).
	CheckCols []string
	CheckAll  bool
	// HardDeletes is "ignore" (default), "invalidate" or "new_record"
	// (dbt 1.9). InvalidateHardDeletes is the legacy
	// invalidate_hard_deletes: true; setting both is an error, as in dbt.
	HardDeletes           string
	InvalidateHardDeletes bool
	// ValidToCurrent is an SQL expression that current rows hold in
	// dbt_valid_to instead of NULL (dbt_valid_to_current).
	ValidToCurrent string
	// ColumnNames renames the snapshot's meta columns (dbt 1.9's
	// snapshot_meta_column_names); empty fields keep dbt's names.
	ColumnNames SnapshotColumnNames
	Hooks       Hooks
}

// SnapshotColumnNames are the names of a snapshot's meta columns. Names are
// folded as the engine folds unquoted names, as dbt leaves them unquoted.
type SnapshotColumnNames struct {
	SCDID     string // dbt_scd_id
	UpdatedAt string // dbt_updated_at
	ValidFrom string // dbt_valid_from
	ValidTo   string // dbt_valid_to
	IsDeleted string // dbt_is_deleted
}

// Placeholders for the meta column names in the SQL this file builds,
// replaced by the quoted names at the end; a control character keeps them
// apart from anything in a user's query.
const (
	phSCD       = "\x01scd\x01"
	phUpdatedAt = "\x01updated_at\x01"
	phValidFrom = "\x01valid_from\x01"
	phValidTo   = "\x01valid_to\x01"
	phIsDeleted = "\x01is_deleted\x01"
)

// ErrNotSnapshotTable is matched by the error of a snapshot whose target
// exists but lacks dbt's snapshot columns.
var ErrNotSnapshotTable = errors.New("target is not a snapshot table")

type snapshotPlan struct {
	d         warehouse.Dialect
	query     string
	keys      []string // key expressions
	keyCols   []string // dbt_unique_key or dbt_unique_key_1..n
	updatedAt string
	now       string
	scdID     string
	hard      string
	validTo   string // the dbt_valid_to of a current row
	names     SnapshotColumnNames
	rep       *strings.Replacer
}

func newSnapshotPlan(d warehouse.Dialect, compiled string, cfg SnapshotConfig) (*snapshotPlan, error) {
	p := &snapshotPlan{d: d, query: compiled, keys: cfg.UniqueKey, now: "now()::timestamp", names: cfg.ColumnNames}
	for _, n := range []struct {
		name *string
		def  string
	}{{&p.names.SCDID, "dbt_scd_id"}, {&p.names.UpdatedAt, "dbt_updated_at"}, {&p.names.ValidFrom, "dbt_valid_from"}, {&p.names.ValidTo, "dbt_valid_to"}, {&p.names.IsDeleted, "dbt_is_deleted"}} {
		if *n.name == "" {
			*n.name = n.def
		}
		*n.name = d.NormalizeIdentifier(*n.name)
	}
	q := d.QuoteIdentifier
	p.rep = strings.NewReplacer(phSCD, q(p.names.SCDID), phUpdatedAt, q(p.names.UpdatedAt), phValidFrom, q(p.names.ValidFrom),
		phValidTo, q(p.names.ValidTo), phIsDeleted, q(p.names.IsDeleted))
	if isPostgres(d) {
		p.now = "now()::timestamp without time zone"
	}
	if len(cfg.UniqueKey) == 0 {
		return nil, errors.New("unique_key is required")
	}
	if len(cfg.UniqueKey) == 1 {
		p.keyCols = []string{"dbt_unique_key"}
	} else {
		for i := range cfg.UniqueKey {
			p.keyCols = append(p.keyCols, "dbt_unique_key_"+strconv.Itoa(i+1))
		}
	}
	switch cfg.Strategy {
	case SnapshotTimestamp:
		if cfg.UpdatedAt == "" {
			return nil, errors.New("the timestamp strategy needs updated_at")
		}
		p.updatedAt = cfg.UpdatedAt
	case SnapshotCheck:
		if !cfg.CheckAll && len(cfg.CheckCols) == 0 {
			return nil, errors.New("the check strategy needs check_cols (a list, or all)")
		}
		p.updatedAt = cfg.UpdatedAt
		if p.updatedAt == "" {
			p.updatedAt = p.now
		}
	default:
		return nil, fmt.Errorf("unknown snapshot strategy %q (want timestamp or check)", cfg.Strategy)
	}
	switch {
	case cfg.InvalidateHardDeletes && cfg.HardDeletes != "":
		return nil, errors.New("you cannot set both invalidate_hard_deletes and hard_deletes")
	case cfg.InvalidateHardDeletes:
		p.hard = HardDeletesInvalidate
	case cfg.HardDeletes == "":
		p.hard = HardDeletesIgnore
	case cfg.HardDeletes == HardDeletesIgnore, cfg.HardDeletes == HardDeletesInvalidate, cfg.HardDeletes == HardDeletesNewRecord:
		p.hard = cfg.HardDeletes
	default:
		return nil, fmt.Errorf("invalid hard_deletes %q (want ignore, invalidate or new_record)", cfg.HardDeletes)
	}
	p.scdID = hashArgs(append(append([]string(nil), cfg.UniqueKey...), p.updatedAt))
	p.validTo = "nullif(" + p.updatedAt + ", " + p.updatedAt + ")"
	if cfg.ValidToCurrent != "" {
		p.validTo = "coalesce(" + p.validTo + ", " + cfg.ValidToCurrent + ")"
	}
	return p, nil
}

// hashArgs is dbt's snapshot_hash_arguments: md5 of the arguments cast to
// text, NULL as the empty string, joined by a bar.
func hashArgs(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = "coalesce(cast(" + a + " as varchar), '')"
	}
	return "md5(" + strings.Join(parts, " || '|' || ") + ")"
}

// isCurrent is the condition for a current row of alias.
func (p *snapshotPlan) isCurrent(alias string, cfg SnapshotConfig) string {
	col := alias + phValidTo
	if cfg.ValidToCurrent != "" {
		return "(" + col + " = " + cfg.ValidToCurrent + " or " + col + " is null)"
	}
	return col + " is null"
}

// Snapshot records changes of the compiled query in rel as dbt's snapshot
// materialization does (dbt-core 1.9 semantics). The first run creates the
// table with the query's columns plus dbt_scd_id, dbt_updated_at,
// dbt_valid_from and dbt_valid_to (and dbt_is_deleted with hard_deletes
// new_record). Later runs build dbt's staging rows (insertions, updates and,
// for invalidate / new_record, deletes) as <name>__dbt_tmp, add columns the
// query gained, close the changed rows' validity and insert the new versions,
// all in one transaction.
func Snapshot(ctx context.Context, db DB, rel warehouse.Relation, compiled string, cfg SnapshotConfig) (Response, error) {
	p, err := newSnapshotPlan(db.Dialect(), compiled, cfg)
	if err != nil {
		return Response{}, fail("snapshot", rel, err)
	}
	return build(ctx, db, "snapshot", rel, cfg.Hooks, func(tx *warehouse.Tx, _ bool) (Response, error) {
		_, ok, err := exists(ctx, tx, rel)
		if err != nil {
			return Response{}, err
		}
		if !ok {
			return p.create(ctx, tx, rel)
		}
		return p.update(ctx, tx, rel, cfg)
	})
}

func (p *snapshotPlan) create(ctx context.Context, tx *warehouse.Tx, rel warehouse.Relation) (Response, error) {
	q := "select *, " + p.scdID + " as " + phSCD + ", " + p.updatedAt + " as " + phUpdatedAt + ", " + p.updatedAt + " as " + phValidFrom + ", " + p.validTo + " as " + phValidTo
	if p.hard == HardDeletesNewRecord {
		q += ", 'False' as " + phIsDeleted
	}
	q += " from (" + p.query + ") sbq"
	res, err := exec(ctx, tx, "create", "CREATE TABLE "+p.d.QuoteRelation(rel)+" AS "+p.rep.Replace(q))
	if err != nil {
		return Response{}, err
	}
	return response(p.d, "SELECT", rowsAffected(res)), nil
}

// queryColumns returns the names of the columns a query yields, by building
// it empty under a scratch name.
func queryColumns(ctx context.Context, tx *warehouse.Tx, near warehouse.Relation, query string) ([]warehouse.Column, error) {
	probe := scratch(tx.Dialect(), near, "__dbt_cols")
	q := tx.Dialect().QuoteRelation(probe)
	if _, err := exec(ctx, tx, "describe query", dropSQL(tx.Dialect(), warehouse.KindTable, probe), "CREATE TABLE "+q+" AS SELECT * FROM ("+query+") dbt_sbq LIMIT 0"); err != nil {
		return nil, err
	}
	cols, err := tx.Columns(ctx, probe)
	if err != nil {
		return nil, err
	}
	_, err = exec(ctx, tx, "describe query", "DROP TABLE "+q)
	return cols, err
}

func (p *snapshotPlan) update(ctx context.Context, tx *warehouse.Tx, rel warehouse.Relation, cfg SnapshotConfig) (Response, error) {
	d := p.d
	target, err := tx.Columns(ctx, rel)
	if err != nil {
		return Response{}, err
	}
	var missing []string
	required := []string{p.names.SCDID, p.names.ValidFrom, p.names.ValidTo, p.names.UpdatedAt}
	if p.hard == HardDeletesNewRecord {
		// As dbt 1.9: turning new_record on for an existing snapshot needs
		// the column added first.
		required = append(required, p.names.IsDeleted)
	}
	for _, c := range required {
		if _, ok := findColumn(d, target, c); !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return Response{}, fmt.Errorf("%w: %s lacks %s", ErrNotSnapshotTable, rel, strings.Join(missing, ", "))
	}
	qcols, err := queryColumns(ctx, tx, rel, p.query)
	if err != nil {
		return Response{}, err
	}
	rowChanged, err := p.rowChanged(ctx, tx, rel, target, qcols, cfg)
	if err != nil {
		return Response{}, err
	}
	staging := scratch(d, rel, scratchSuffix)
	sq := p.stagingSQL(rel, target, qcols, rowChanged, cfg)
	if _, err := exec(ctx, tx, "build staging", dropSQL(d, warehouse.KindTable, staging), "CREATE TABLE "+d.QuoteRelation(staging)+" AS "+sq); err != nil {
		return Response{}, err
	}
	scols, err := tx.Columns(ctx, staging)
	if err != nil {
		return Response{}, err
	}
	// Columns the query gained are added to the target.
	var insert []string
	var alters []string
	for _, c := range scols {
		if sameName(d, c.Name, changeTypeColumn) || p.isKeyCol(c.Name) {
			continue
		}
		insert = append(insert, c.Name)
		if _, ok := findColumn(d, target, c.Name); !ok {
			ts, err := columnType(d, c)
			if err != nil {
				return Response{}, err
			}
			alters = append(alters, "ALTER TABLE "+d.QuoteRelation(rel)+" ADD COLUMN "+d.QuoteIdentifier(c.Name)+" "+ts)
		}
	}
	if _, err := exec(ctx, tx, "add columns", alters...); err != nil {
		return Response{}, err
	}
	t, s := d.QuoteRelation(rel), d.QuoteRelation(staging)
	upd := "UPDATE " + t + " SET " + phValidTo + " = DBT_INTERNAL_SOURCE." + phValidTo + " FROM " + s + " AS DBT_INTERNAL_SOURCE" +
		" WHERE DBT_INTERNAL_SOURCE." + phSCD + " = " + t + "." + phSCD +
		" AND DBT_INTERNAL_SOURCE.dbt_change_type IN ('update', 'delete') AND " + p.isCurrent(t+".", cfg)
	srcCols := make([]string, len(insert))
	for i, c := range insert {
		srcCols[i] = "DBT_INTERNAL_SOURCE." + d.QuoteIdentifier(c)
	}
	ins := "INSERT INTO " + t + " (" + quoteList(d, insert) + ") SELECT " + strings.Join(srcCols, ", ") +
		" FROM " + s + " AS DBT_INTERNAL_SOURCE WHERE DBT_INTERNAL_SOURCE.dbt_change_type = 'insert'"
	if _, err := exec(ctx, tx, "merge", p.rep.Replace(upd)); err != nil {
		return Response{}, err
	}
	res, err := exec(ctx, tx, "merge", p.rep.Replace(ins))
	if err != nil {
		return Response{}, err
	}
	n := rowsAffected(res)
	if _, err := exec(ctx, tx, "drop staging", dropSQL(d, warehouse.KindTable, staging)); err != nil {
		return Response{}, err
	}
	return response(d, "INSERT", n), nil
}

func (p *snapshotPlan) isKeyCol(name string) bool {
	for _, k := range p.keyCols {
		if sameName(p.d, k, name) {
			return true
		}
	}
	return false
}

// rowChanged is the strategy's row_changed condition between
// snapshotted_data and source_data.
func (p *snapshotPlan) rowChanged(ctx context.Context, tx *warehouse.Tx, rel warehouse.Relation, target, qcols []warehouse.Column, cfg SnapshotConfig) (string, error) {
	if cfg.Strategy == SnapshotTimestamp {
		return "(snapshotted_data." + phValidFrom + " < source_data." + cfg.UpdatedAt + ")", nil
	}
	checked := qcols
	if !cfg.CheckAll {
		var err error
		checked, err = queryColumns(ctx, tx, rel, "select "+strings.Join(cfg.CheckCols, ", ")+" from ("+p.query+") subq")
		if err != nil {
			return "", fmt.Errorf("check_cols: %w", err)
		}
	}
	var conds []string
	for _, c := range checked {
		if _, ok := findColumn(p.d, target, c.Name); !ok {
			// A checked column the snapshot does not have yet: every row
			// counts as changed, as in dbt.
			return "(TRUE)", nil
		}
		q := p.d.QuoteIdentifier(c.Name)
		s, n := "snapshotted_data."+q, "source_data."+q
		conds = append(conds, s+" != "+n+" or (("+s+" is null) and not ("+n+" is null)) or ((not "+s+" is null) and ("+n+" is null))")
	}
	return "(" + strings.Join(conds, " or ") + ")", nil
}

// stagingSQL is dbt's snapshot_staging_table with explicit column lists.
func (p *snapshotPlan) stagingSQL(rel warehouse.Relation, target, qcols []warehouse.Column, rowChanged string, cfg SnapshotConfig) string {
	d := p.d
	newRecord := p.hard == HardDeletesNewRecord
	deletes := p.hard == HardDeletesInvalidate || newRecord
	keyFields := make([]string, len(p.keys))
	for i, k := range p.keys {
		keyFields[i] = k + " as " + p.keyCols[i]
	}
	keySel := strings.Join(keyFields, ", ")
	join := make([]string, len(p.keyCols))
	for i, k := range p.keyCols {
		join[i] = "snapshotted_data." + k + " = source_data." + k
	}
	on := strings.Join(join, " and ")
	isNull := func(alias string) string { return alias + "." + p.keyCols[0] + " is null" }
	notNull := func(alias string) string { return alias + "." + p.keyCols[0] + " is not null" }
	cols := func(alias string, from []warehouse.Column) string {
		parts := make([]string, 0, len(qcols)+len(p.keyCols))
		for _, c := range qcols {
			if _, ok := findColumn(d, from, c.Name); ok || from == nil {
				parts = append(parts, alias+"."+d.QuoteIdentifier(c.Name))
			} else {
				parts = append(parts, "NULL")
			}
		}
		for _, k := range p.keyCols {
			parts = append(parts, alias+"."+k)
		}
		return strings.Join(parts, ", ")
	}
	changed := rowChanged
	if newRecord {
		changed = "(" + rowChanged + " or snapshotted_data." + phIsDeleted + " = 'True')"
	}
	var b strings.Builder
	w := func(s ...string) {
		for _, x := range s {
			b.WriteString(x)
		}
	}
	w("with snapshot_query as (\n", p.query, "\n),\n")
	w("snapshotted_data as (select *, ", keySel, " from ", d.QuoteRelation(rel), " where ", p.isCurrent("", cfg), "),\n")
	w("insertions_source_data as (select *, ", keySel, ", ", p.updatedAt, " as "+phUpdatedAt+", ", p.updatedAt, " as "+phValidFrom+", ",
		p.validTo, " as "+phValidTo+", ", p.scdID, " as "+phSCD+" from snapshot_query),\n")
	w("updates_source_data as (select *, ", keySel, ", ", p.updatedAt, " as "+phUpdatedAt+", ", p.updatedAt, " as "+phValidFrom+", ",
		p.updatedAt, " as "+phValidTo+" from snapshot_query),\n")
	if deletes {
		w("deletes_source_data as (select *, ", keySel, " from snapshot_query),\n")
	}
	isDel := ""
	if newRecord {
		isDel = ", 'False' as " + phIsDeleted
	}
	w("insertions as (select 'insert' as dbt_change_type, ", cols("source_data", nil),
		", source_data."+phUpdatedAt+", source_data."+phValidFrom+", source_data."+phValidTo+", source_data."+phSCD, isDel,
		" from insertions_source_data as source_data left outer join snapshotted_data on ", on,
		" where ", isNull("snapshotted_data"), " or (", notNull("snapshotted_data"), " and ", changed, ")),\n")
	isDel = ""
	if newRecord {
		isDel = ", snapshotted_data." + phIsDeleted
	}
	w("updates as (select 'update' as dbt_change_type, ", cols("source_data", nil),
		", source_data."+phUpdatedAt+", source_data."+phValidFrom+", source_data."+phValidTo+", snapshotted_data."+phSCD, isDel,
		" from updates_source_data as source_data join snapshotted_data on ", on, " where ", changed, ")")
	if deletes {
		w(",\ndeletes as (select 'delete' as dbt_change_type, ", cols("source_data", nil),
			", ", p.now, " as "+phUpdatedAt+", ", p.now, " as "+phValidFrom+", ", p.now, " as "+phValidTo+", snapshotted_data."+phSCD, isDel,
			" from snapshotted_data left join deletes_source_data as source_data on ", on, " where ", isNull("source_data"))
		if newRecord {
			w(" and not (snapshotted_data."+phIsDeleted+" = 'True' and ", p.isCurrent("snapshotted_data.", cfg), ")")
		}
		w(")")
	}
	if newRecord {
		w(",\ndeletion_records as (select 'insert' as dbt_change_type, ", cols("snapshotted_data", target),
			", ", p.now, " as "+phUpdatedAt+", ", p.now, " as "+phValidFrom+", snapshotted_data."+phValidTo+" as "+phValidTo+", ",
			hashArgs([]string{"snapshotted_data." + phSCD, p.now}), " as "+phSCD+", 'True' as "+phIsDeleted,
			" from snapshotted_data left join deletes_source_data as source_data on ", on, " where ", isNull("source_data"),
			" and not (snapshotted_data."+phIsDeleted+" = 'True' and ", p.isCurrent("snapshotted_data.", cfg), "))")
	}
	w("\nselect * from insertions union all select * from updates")
	if deletes {
		w(" union all select * from deletes")
	}
	if newRecord {
		w(" union all select * from deletion_records")
	}
	return p.rep.Replace(b.String())
}
