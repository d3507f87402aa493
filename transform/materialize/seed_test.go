package materialize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInferSeedTypes(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"integers", []string{"1", "-2", " 3 ", ""}, "integer"},
		{"normalized decimals are integers", []string{"1.0", "2.50", "100"}, "float8"},
		{"trailing zeros only", []string{"1.0", "2.00"}, "integer"},
		{"decimals", []string{"1.5", "2"}, "float8"},
		{"exponent", []string{"1e3", "2E-2"}, "float8"},
		{"percent and currency", []string{"50%", "$3", "-€4"}, "integer"},
		{"wide integers", []string{"1", "3000000000"}, "bigint"},
		{"huge integers", []string{"1", "99999999999999999999"}, "numeric"},
		{"dates", []string{"2024-01-31", "2024-2-1"}, "date"},
		{"invalid date", []string{"2024-02-30"}, "text"},
		{"datetimes", []string{"2024-01-31 10:00:00", "2024-01-31 9:5:3"}, "timestamp without time zone"},
		{"iso datetimes", []string{"2024-01-31T10:00:00", "2024-01-31T10:00:00.123Z", "20240131T1000+02:00"}, "timestamp without time zone"},
		{"mixed datetime styles are text", []string{"2024-01-31 10:00:00", "2024-01-31T10:00:00"}, "text"},
		{"datetime with fraction is text", []string{"2024-01-31 10:00:00.5"}, "text"},
		{"booleans", []string{"true", "False", "TRUE"}, "boolean"},
		{"yes is text", []string{"yes", "no"}, "text"},
		{"zero one are integers", []string{"0", "1"}, "integer"},
		{"text", []string{"1", "x"}, "text"},
		{"null word makes text", []string{"1", "null"}, "text"},
		{"all empty", []string{"", ""}, "integer"},
		{"nan is text", []string{"NaN"}, "text"},
	}
	for _, tc := range tests {
		c := newInference()
		for _, v := range tc.values {
			c.observe(v)
		}
		if _, got := c.result(); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.name, tc.values, got, tc.want)
		}
	}
}

func TestSeedLoad(t *testing.T) {
	ctx := context.Background()
	csv := "\ufeffid,price,day,at,iso,flag,name,mixed,empty,big\n" +
		"1,1.50,2024-01-31,2024-01-31 10:00:00,2024-01-31T10:00:00Z,true,alice,1,,3000000000\n" +
		"2,2,2024-02-01,2024-02-01 11:30:00,2024-02-01T12:00:00+02:00,False,null,x,,1\n" +
		"3,,,,,,,,,\n" +
		"4,-0.25,2024-03-01,2024-03-01 00:00:01,2024-03-01T00:00:00,TRUE,\"o'brien, jr\",2\n"
	path := writeFile(t, "people.csv", csv)
	wantTypes := map[string][]string{
		"duckdb":   {"id:integer", "price:double", "day:date", "at:timestamp", "iso:timestamp", "flag:boolean", "name:varchar", "mixed:varchar", "empty:integer", "big:bigint"},
		"postgres": {"id:integer", "price:double precision", "day:date", "at:timestamp without time zone", "iso:timestamp without time zone", "flag:boolean", "name:text", "mixed:text", "empty:integer", "big:bigint"},
	}
	wantRows := map[string][]string{
		"duckdb": {
			"1|1.5|2024-01-31|2024-01-31 10:00:00|2024-01-31 10:00:00|true|alice|1|NULL|3000000000",
			"2|2|2024-02-01|2024-02-01 11:30:00|2024-02-01 10:00:00|false|null|x|NULL|1",
			"3|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
			"4|-0.25|2024-03-01|2024-03-01 00:00:01|2024-03-01|true|o'brien, jr|2|NULL|NULL",
		},
	}
	wantRows["postgres"] = append([]string(nil), wantRows["duckdb"]...)
	wantRows["postgres"][1] = strings.Replace(wantRows["postgres"][1], "|null|", "|NULL|", 1)
	each(t, func(t *testing.T, e engine) {
		res, err := Seed(ctx, e.w, e.rel("people"), path, SeedConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != "CREATE 4" || res.RowsAffected != 4 {
			t.Errorf("response %+v", res)
		}
		eq(t, "types", colTypes(t, e.w, e.rel("people")), wantTypes[e.name])
		eq(t, "rows", rows(t, e.w, "select * from "+e.q("people")+" order by id"), wantRows[e.name])

		// A second run truncates and reloads, keeping the table.
		mustExec(t, e.w, "ALTER TABLE "+e.q("people")+" ALTER COLUMN price TYPE numeric(10,3)")
		res, err = Seed(ctx, e.w, e.rel("people"), path, SeedConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != "INSERT 4" {
			t.Errorf("reload response %+v", res)
		}
		eq(t, "reloaded keeps types", rows(t, e.w, "select price from "+e.q("people")+" order by id"), []string{"1.500", "2.000", "NULL", "-0.250"})
		// Full refresh recreates it with inferred types.
		if res, err = Seed(ctx, e.w, e.rel("people"), path, SeedConfig{FullRefresh: true}); err != nil || res.Code != "CREATE 4" {
			t.Fatalf("full refresh: %+v %v", res, err)
		}
		eq(t, "full refresh types", colTypes(t, e.w, e.rel("people"))[1:2], wantTypes[e.name][1:2])
	})
}

func TestSeedOptions(t *testing.T) {
	ctx := context.Background()
	path := writeFile(t, "codes.csv", "Code;Amount;When\n007;12.5;2024-01-02\n010;3;2024-01-03\n")
	no := false
	each(t, func(t *testing.T, e engine) {
		cfg := SeedConfig{Delimiter: ';', QuoteColumns: &no, ColumnTypes: map[string]string{"Code": "varchar(5)", "Amount": "numeric(8,2)"}}
		if _, err := Seed(ctx, e.w, e.rel("codes"), path, cfg); err != nil {
			t.Fatal(err)
		}
		got := colTypes(t, e.w, e.rel("codes"))
		want := map[string][]string{
			"duckdb":   {"Code:varchar", "Amount:decimal(8,2)", "When:date"},
			"postgres": {"code:character varying(5)", "amount:numeric(8,2)", "when:date"},
		}[e.name]
		eq(t, "types", got, want)
		eq(t, "rows", rows(t, e.w, "select * from "+e.q("codes")+" order by 1"), []string{"007|12.50|2024-01-02", "010|3.00|2024-01-03"})
	})
}

func TestSeedErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, csv string
		cfg       SeedConfig
		want      string
	}{
		{"long row", "a,b\n1,2\n3,4,5\n", SeedConfig{}, "bad.csv:3: row has 3 values"},
		{"bad quote", "a,b\n1,2\n\"x\"y,3\n", SeedConfig{}, "bad.csv:3"},
		{"override type mismatch", "a,b\n1,2\nx,3\n", SeedConfig{ColumnTypes: map[string]string{"a": "integer"}}, `bad.csv:3: column a: cannot read "x"`},
		{"empty file", "", SeedConfig{}, "bad.csv:1: no header row"},
	}
	each(t, func(t *testing.T, e engine) {
		mustExec(t, e.w, "CREATE TABLE "+e.q("bad")+" (a integer, b integer)", "INSERT INTO "+e.q("bad")+" VALUES (42, 42)")
		for _, tc := range tests {
			path := filepath.Join(t.TempDir(), "bad.csv")
			os.WriteFile(path, []byte(tc.csv), 0o644)
			tc.cfg.FullRefresh = true
			_, err := Seed(ctx, e.w, e.rel("bad"), path, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
				continue
			}
			if tc.name != "bad quote" && !errors.Is(err, ErrSeed) {
				t.Errorf("%s: not ErrSeed: %v", tc.name, err)
			}
			eq(t, tc.name+": table unchanged", rows(t, e.w, "select * from "+e.q("bad")), []string{"42|42"})
		}
	})
}
