package materialize

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestIncrementalStrategies(t *testing.T) {
	ctx := context.Background()
	first := "select 1 as id, 'a' as v union all select 2, 'b'"
	second := "select 2 as id, 'B' as v union all select 3, 'c'"
	tests := []struct {
		name     string
		cfg      IncrementalConfig
		want     []string
		wantCode map[string]string
	}{
		{"append", IncrementalConfig{Strategy: "append"}, []string{"1|a", "2|B", "2|b", "3|c"}, map[string]string{"postgres": "INSERT 0 2", "duckdb": "OK"}},
		{"default without key appends", IncrementalConfig{}, []string{"1|a", "2|B", "2|b", "3|c"}, map[string]string{"postgres": "INSERT 0 2"}},
		{"default with key is delete+insert", IncrementalConfig{UniqueKey: []string{"id"}}, []string{"1|a", "2|B", "3|c"}, map[string]string{"postgres": "INSERT 0 2"}},
		{"delete+insert", IncrementalConfig{Strategy: "delete+insert", UniqueKey: []string{"id"}}, []string{"1|a", "2|B", "3|c"}, nil},
		{"delete+insert list key", IncrementalConfig{Strategy: "delete+insert", UniqueKey: []string{"id", "v"}}, []string{"1|a", "2|B", "2|b", "3|c"}, nil},
		{"delete+insert predicate", IncrementalConfig{Strategy: "delete+insert", UniqueKey: []string{"id"}, IncrementalPredicates: []string{"id > 5"}}, []string{"1|a", "2|B", "2|b", "3|c"}, nil},
		{"merge", IncrementalConfig{Strategy: "merge", UniqueKey: []string{"id"}}, []string{"1|a", "2|B", "3|c"}, map[string]string{"postgres": "MERGE 2", "duckdb": "OK"}},
		{"merge list key", IncrementalConfig{Strategy: "merge", UniqueKey: []string{"id", "v"}}, []string{"1|a", "2|B", "2|b", "3|c"}, nil},
		{"merge without key inserts", IncrementalConfig{Strategy: "merge"}, []string{"1|a", "2|B", "2|b", "3|c"}, nil},
		{"merge predicate", IncrementalConfig{Strategy: "merge", UniqueKey: []string{"id"}, IncrementalPredicates: []string{"DBT_INTERNAL_DEST.id > 2"}}, []string{"1|a", "2|B", "2|b", "3|c"}, nil},
		{"merge exclude columns", IncrementalConfig{Strategy: "merge", UniqueKey: []string{"id"}, MergeExcludeColumns: []string{"v"}}, []string{"1|a", "2|b", "3|c"}, nil},
		{"full refresh", IncrementalConfig{Strategy: "append", FullRefresh: true}, []string{"2|B", "3|c"}, map[string]string{"postgres": "SELECT 2"}},
	}
	each(t, func(t *testing.T, e engine) {
		for i, tc := range tests {
			rel := e.rel("inc" + string(rune('a'+i)))
			res, err := Incremental(ctx, e.w, rel, first, tc.cfg)
			if err != nil {
				t.Fatalf("%s first run: %v", tc.name, err)
			}
			if e.name == "postgres" && res.Code != "SELECT 2" {
				t.Errorf("%s: first run code %q", tc.name, res.Code)
			}
			res, err = Incremental(ctx, e.w, rel, second, tc.cfg)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if want, ok := tc.wantCode[e.name]; ok && res.Code != want {
				t.Errorf("%s: code %q, want %q", tc.name, res.Code, want)
			}
			eq(t, tc.name, rows(t, e.w, "select id, v from "+e.w.Dialect().QuoteRelation(rel)+" order by id, v"), tc.want)
		}
		rels, _ := e.w.Relations(ctx, e.schema)
		for _, r := range rels {
			if strings.Contains(r.Name, "__dbt") {
				t.Errorf("scratch relation %s left behind", r.Name)
			}
		}
	})
}

func TestIncrementalOnSchemaChange(t *testing.T) {
	ctx := context.Background()
	first := "select 1 as id, 'a' as v"
	tests := []struct {
		name, onChange, second string
		wantErr                []string
		query                  string
		want                   []string
		cols                   []string
	}{
		{"ignore new column", "ignore", "select 2 as id, 'b' as v, 10 as w", nil,
			"select id, v from %s order by id", []string{"1|a", "2|b"}, []string{"id", "v"}},
		{"ignore missing column fails", "ignore", "select 2 as id", []string{"v"}, "", nil, nil},
		{"fail", "fail", "select 2 as id, 10 as w", []string{"out of sync", "source columns not in target: [w]", "target columns not in source: [v]"}, "", nil, nil},
		{"fail on type", "fail", "select 2 as id, 5 as v", []string{"new column types: [v integer]"}, "", nil, nil},
		{"fail unchanged passes", "fail", "select 2 as id, 'b' as v", nil, "select id, v from %s order by id", []string{"1|a", "2|b"}, []string{"id", "v"}},
		{"append_new_columns", "append_new_columns", "select 2 as id, 10 as w", nil,
			"select id, v, w from %s order by id", []string{"1|a|NULL", "2|NULL|10"}, []string{"id", "v", "w"}},
		{"sync_all_columns", "sync_all_columns", "select 2 as id, 10 as w", nil,
			"select * from %s order by id", []string{"1|NULL", "2|10"}, []string{"id", "w"}},
		{"sync_all_columns type", "sync_all_columns", "select 'x' as id, 'b' as v", nil,
			"select * from %s order by id", []string{"1|a", "x|b"}, []string{"id", "v"}},
	}
	each(t, func(t *testing.T, e engine) {
		for i, tc := range tests {
			rel := e.rel("osc" + string(rune('a'+i)))
			cfg := IncrementalConfig{OnSchemaChange: tc.onChange}
			if _, err := Incremental(ctx, e.w, rel, first, cfg); err != nil {
				t.Fatal(err)
			}
			_, err := Incremental(ctx, e.w, rel, tc.second, cfg)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("%s: no error", tc.name)
				}
				for _, w := range append(tc.wantErr, rel.String()) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q lacks %q", tc.name, err, w)
					}
				}
				if tc.onChange == "fail" && !errors.Is(err, ErrSchemaChanged) {
					t.Errorf("%s: not ErrSchemaChanged: %v", tc.name, err)
				}
				eq(t, tc.name+" unchanged", rows(t, e.w, "select * from "+e.w.Dialect().QuoteRelation(rel)), []string{"1|a"})
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			q := strings.Replace(tc.query, "%s", e.w.Dialect().QuoteRelation(rel), 1)
			eq(t, tc.name, rows(t, e.w, q), tc.want)
			cols, _ := e.w.Columns(ctx, rel)
			eq(t, tc.name+" columns", columnNames(cols), tc.cols)
		}
	})
}

func TestIncrementalBadConfig(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, e engine) {
		for _, cfg := range []IncrementalConfig{{Strategy: "insert_overwrite"}, {OnSchemaChange: "whatever"}} {
			_, err := Incremental(ctx, e.w, e.rel("bad"), "select 1 as id", cfg)
			if err == nil || !strings.Contains(err.Error(), "bad") {
				t.Errorf("%+v: error %v", cfg, err)
			}
		}
	})
}
