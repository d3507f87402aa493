package materialize

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestSnapshotRuns runs each strategy and hard_deletes setting through
// four runs — insert, update + delete, re-insert, no change — and checks
// the snapshot's rows after each, with times from the run shown as "now".
func TestSnapshotRuns(t *testing.T) {
	ctx := context.Background()
	type run struct {
		setup string // statements on src, ';'-separated
		want  []string
	}
	base := []string{
		"insert into %s values (1, 'a', timestamp '2024-01-01 00:00:00'), (2, 'b', timestamp '2024-01-01 00:00:00'), (3, 'c', timestamp '2024-01-01 00:00:00')",
		"update %s set name = 'A', updated_at = timestamp '2024-02-01 00:00:00' where id = 1; delete from %s where id = 2",
		"insert into %s values (2, 'b2', timestamp '2024-03-01 00:00:00')",
		"",
	}
	const t1, t2, t3 = "2024-01-01 00:00:00", "2024-02-01 00:00:00", "2024-03-01 00:00:00"
	row := func(parts ...string) string { return strings.Join(parts, "|") }
	tests := []struct {
		name string
		cfg  SnapshotConfig
		runs [][]string
	}{
		{"timestamp ignore", SnapshotConfig{Strategy: "timestamp", UniqueKey: []string{"id"}, UpdatedAt: "updated_at"}, [][]string{
			{row("1", "a", t1, "NULL"), row("2", "b", t1, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, t3), row("2", "b2", t3, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, t3), row("2", "b2", t3, "NULL"), row("3", "c", t1, "NULL")},
		}},
		{"timestamp invalidate (legacy)", SnapshotConfig{Strategy: "timestamp", UniqueKey: []string{"id"}, UpdatedAt: "updated_at", InvalidateHardDeletes: true}, [][]string{
			{row("1", "a", t1, "NULL"), row("2", "b", t1, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, "now"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, "now"), row("2", "b2", t3, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, "now"), row("2", "b2", t3, "NULL"), row("3", "c", t1, "NULL")},
		}},
		{"timestamp new_record", SnapshotConfig{Strategy: "timestamp", UniqueKey: []string{"id"}, UpdatedAt: "updated_at", HardDeletes: "new_record"}, [][]string{
			{row("1", "a", t1, "NULL", "False"), row("2", "b", t1, "NULL", "False"), row("3", "c", t1, "NULL", "False")},
			{row("1", "a", t1, t2, "False"), row("1", "A", t2, "NULL", "False"), row("2", "b", t1, "now", "False"), row("2", "b", "now", "NULL", "True"), row("3", "c", t1, "NULL", "False")},
			{row("1", "a", t1, t2, "False"), row("1", "A", t2, "NULL", "False"), row("2", "b", t1, "now", "False"), row("2", "b2", t3, "NULL", "False"), row("2", "b", "now", t3, "True"), row("3", "c", t1, "NULL", "False")},
			{row("1", "a", t1, t2, "False"), row("1", "A", t2, "NULL", "False"), row("2", "b", t1, "now", "False"), row("2", "b2", t3, "NULL", "False"), row("2", "b", "now", t3, "True"), row("3", "c", t1, "NULL", "False")},
		}},
		{"check invalidate", SnapshotConfig{Strategy: "check", UniqueKey: []string{"id"}, CheckCols: []string{"name"}, HardDeletes: "invalidate"}, [][]string{
			{row("1", "a", "now", "NULL"), row("2", "b", "now", "NULL"), row("3", "c", "now", "NULL")},
			{row("1", "a", "now", "now"), row("1", "A", "now", "NULL"), row("2", "b", "now", "now"), row("3", "c", "now", "NULL")},
			{row("1", "a", "now", "now"), row("1", "A", "now", "NULL"), row("2", "b", "now", "now"), row("2", "b2", "now", "NULL"), row("3", "c", "now", "NULL")},
			{row("1", "a", "now", "now"), row("1", "A", "now", "NULL"), row("2", "b", "now", "now"), row("2", "b2", "now", "NULL"), row("3", "c", "now", "NULL")},
		}},
		{"check all with updated_at and list key", SnapshotConfig{Strategy: "check", UniqueKey: []string{"id", "id * 10"}, CheckAll: true, UpdatedAt: "updated_at"}, [][]string{
			{row("1", "a", t1, "NULL"), row("2", "b", t1, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, t3), row("2", "b2", t3, "NULL"), row("3", "c", t1, "NULL")},
			{row("1", "a", t1, t2), row("1", "A", t2, "NULL"), row("2", "b", t1, t3), row("2", "b2", t3, "NULL"), row("3", "c", t1, "NULL")},
		}},
	}
	each(t, func(t *testing.T, e engine) {
		for i, tc := range tests {
			src := e.q("src" + string(rune('a'+i)))
			snap := e.rel("snap" + string(rune('a'+i)))
			mustExec(t, e.w, "create table "+src+" (id integer, name text, updated_at timestamp)")
			for r, setup := range base {
				for _, stmt := range strings.Split(setup, "; ") {
					if stmt != "" {
						mustExec(t, e.w, strings.ReplaceAll(stmt, "%s", src))
					}
				}
				if _, err := Snapshot(ctx, e.w, snap, "select * from "+src, tc.cfg); err != nil {
					t.Fatalf("%s run %d: %v", tc.name, r+1, err)
				}
				shown := func(col string) string {
					return "case when " + col + " is null then 'NULL' when " + col + " > timestamp '2025-01-01 00:00:00' then 'now' else cast(" + col + " as varchar) end"
				}
				q := "select id, name, " + shown("dbt_valid_from") + ", " + shown("dbt_valid_to")
				if tc.cfg.HardDeletes == "new_record" {
					q += ", dbt_is_deleted"
				}
				q += " from " + e.w.Dialect().QuoteRelation(snap) + " order by id, dbt_is_deleted_sort, name"
				q = strings.Replace(q, "dbt_is_deleted_sort", map[bool]string{true: "dbt_is_deleted", false: "dbt_valid_from"}[tc.cfg.HardDeletes == "new_record"], 1)
				got, want := rows(t, e.w, q), slices.Clone(tc.runs[r])
				slices.Sort(got)
				slices.Sort(want)
				eq(t, tc.name+" run "+string(rune('1'+r)), got, want)
			}
		}
		// dbt_scd_id is md5 of key|updated_at as text, and dbt_updated_at is
		// updated_at.
		sum := md5.Sum([]byte("3|2024-01-01 00:00:00"))
		eq(t, "scd id", rows(t, e.w, "select dbt_scd_id, cast(dbt_updated_at as varchar) from "+e.q("snapa")+" where id = 3"),
			[]string{hex.EncodeToString(sum[:]) + "|2024-01-01 00:00:00"})
	})
}

func TestSnapshotSchemaAndErrors(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		src := e.q("src")
		mustExec(t, e.w, "create table "+src+" (id integer, name text)", "insert into "+src+" values (1, 'a')")
		cfg := SnapshotConfig{Strategy: "check", UniqueKey: []string{"id"}, CheckCols: []string{"name"}}
		if _, err := Snapshot(ctx, e.w, e.rel("snap"), "select * from "+src, cfg); err != nil {
			t.Fatal(err)
		}
		// A new column in the query is added to the snapshot.
		mustExec(t, e.w, "alter table "+src+" add column extra integer", "update "+src+" set extra = 7, name = 'b'")
		res, err := Snapshot(ctx, e.w, e.rel("snap"), "select * from "+src, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if e.name == "postgres" && res.Code != "INSERT 0 1" {
			t.Errorf("code %q", res.Code)
		}
		eq(t, "new column", rows(t, e.w, "select id, name, extra, dbt_valid_to is null from "+e.q("snap")+" order by name"), []string{"1|a|NULL|false", "1|b|7|true"})
		// Turning new_record on needs dbt_is_deleted, as in dbt 1.9.
		cfg.HardDeletes = "new_record"
		mustExec(t, e.w, "delete from "+src)
		if _, err := Snapshot(ctx, e.w, e.rel("snap"), "select * from "+src, cfg); !errors.Is(err, ErrNotSnapshotTable) || !strings.Contains(err.Error(), "dbt_is_deleted") {
			t.Fatalf("new_record on old snapshot: %v", err)
		}
		mustExec(t, e.w, "alter table "+e.q("snap")+" add column dbt_is_deleted text", "update "+e.q("snap")+" set dbt_is_deleted = 'False'")
		if _, err := Snapshot(ctx, e.w, e.rel("snap"), "select * from "+src, cfg); err != nil {
			t.Fatal(err)
		}
		eq(t, "deleted record", rows(t, e.w, "select name, dbt_is_deleted from "+e.q("snap")+" where dbt_valid_to is null"), []string{"b|True"})

		for _, bad := range []struct {
			cfg  SnapshotConfig
			want string
		}{
			{SnapshotConfig{Strategy: "timestamp", UniqueKey: []string{"id"}}, "needs updated_at"},
			{SnapshotConfig{Strategy: "check", UniqueKey: []string{"id"}}, "needs check_cols"},
			{SnapshotConfig{Strategy: "other", UniqueKey: []string{"id"}}, "unknown snapshot strategy"},
			{SnapshotConfig{Strategy: "check", CheckAll: true}, "unique_key is required"},
			{SnapshotConfig{Strategy: "check", CheckAll: true, UniqueKey: []string{"id"}, HardDeletes: "invalidate", InvalidateHardDeletes: true}, "cannot set both"},
			{SnapshotConfig{Strategy: "check", CheckAll: true, UniqueKey: []string{"id"}, HardDeletes: "purge"}, "invalid hard_deletes"},
		} {
			_, err := Snapshot(ctx, e.w, e.rel("snap"), "select * from "+src, bad.cfg)
			if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "snap") {
				t.Errorf("%+v: error %v, want %q", bad.cfg, err, bad.want)
			}
		}
		mustExec(t, e.w, "create table "+e.q("plain")+" (id integer)")
		_, err = Snapshot(ctx, e.w, e.rel("plain"), "select * from "+src, SnapshotConfig{Strategy: "check", CheckAll: true, UniqueKey: []string{"id"}})
		if !errors.Is(err, ErrNotSnapshotTable) {
			t.Errorf("plain table: %v", err)
		}
	})
}

func TestSnapshotValidToCurrent(t *testing.T) {
	each(t, func(t *testing.T, e engine) {
		src := e.q("src")
		mustExec(t, e.w, "create table "+src+" (id integer, name text, updated_at timestamp)",
			"insert into "+src+" values (1, 'a', timestamp '2024-01-01 00:00:00'), (2, 'b', timestamp '2024-01-01 00:00:00')")
		cfg := SnapshotConfig{Strategy: "timestamp", UniqueKey: []string{"id"}, UpdatedAt: "updated_at", HardDeletes: "invalidate",
			ValidToCurrent: "cast('9999-12-31 00:00:00' as timestamp)"}
		for _, step := range []string{"", "update " + src + " set name = 'A', updated_at = timestamp '2024-02-01 00:00:00' where id = 1; delete from " + src + " where id = 2"} {
			snapshotStep(t, e, step, src, cfg)
		}
		got := rows(t, e.w, "select id, name, case when dbt_valid_to > timestamp '9000-01-01 00:00:00' then 'current' when dbt_valid_to > timestamp '2025-01-01 00:00:00' then 'now' else cast(dbt_valid_to as varchar) end from "+e.q("snap")+" order by id, dbt_valid_from")
		eq(t, "valid_to_current", got, []string{"1|a|2024-02-01 00:00:00", "1|A|current", "2|b|now"})
	})
}

func TestSnapshotColumnNames(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		src := e.q("src")
		mustExec(t, e.w, "create table "+src+" (id integer, name text)", "insert into "+src+" values (1, 'a'), (2, 'b')")
		cfg := SnapshotConfig{Strategy: "check", UniqueKey: []string{"id"}, CheckAll: true, HardDeletes: "new_record",
			ColumnNames: SnapshotColumnNames{ValidFrom: "Valid_From", ValidTo: "valid_until", SCDID: "version_id", IsDeleted: "gone"}}
		for _, step := range []string{"", "update " + src + " set name = 'A' where id = 1; delete from " + src + " where id = 2"} {
			snapshotStep(t, e, step, src, cfg)
		}
		want := map[string][]string{
			"duckdb":   {"id", "name", "version_id", "dbt_updated_at", "Valid_From", "valid_until", "gone"},
			"postgres": {"id", "name", "version_id", "dbt_updated_at", "valid_from", "valid_until", "gone"},
		}[e.name]
		cols, _ := e.w.Columns(ctx, e.rel("snap"))
		eq(t, "columns", columnNames(cols), want)
		got := rows(t, e.w, "select id, name, gone from "+e.q("snap")+" where valid_until is null order by id")
		eq(t, "current rows", got, []string{"1|A|False", "2|b|True"})
	})
}

// snapshotStep runs the "; "-separated statements of step on the source,
// then the snapshot "snap" of src.
func snapshotStep(t *testing.T, e engine, step, src string, cfg SnapshotConfig) {
	t.Helper()
	for _, stmt := range strings.Split(step, "; ") {
		if stmt != "" {
			mustExec(t, e.w, stmt)
		}
	}
	if _, err := Snapshot(context.Background(), e.w, e.rel("snap"), "select * from "+src, cfg); err != nil {
		t.Fatal(err)
	}
}
