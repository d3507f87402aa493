package materialize

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// FuzzSeedValue feeds arbitrary field text to the seed type tests and
// converters: none may panic, and a value read as a number must convert to
// the column types inference would give it.
func FuzzSeedValue(f *testing.F) {
	for _, s := range []string{"1", "-1.50", "1e5", "$3", "50%", "1,000", "2024-02-29", "2024-1-5 1:2:3", "2024-01-01T10:00:00.5+02:00", "20240101T1000Z", "true", "NaN", "", ".5", "5.", "--5", "1e99999", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := newInference()
		c.observe(s)
		typ, _ := c.result()
		if n, ok := parseNumber(strings.TrimSpace(s)); ok {
			if _, err := strconv.ParseFloat(n.text, 64); err != nil && !strings.Contains(err.Error(), "range") {
				t.Fatalf("%q: number text %q does not parse: %v", s, n.text, err)
			}
			if n.rat() == nil {
				t.Fatalf("%q: number text %q is not a rational", s, n.text)
			}
		}
		// The value converts to the type inferred from it alone.
		if strings.TrimSpace(s) != "" {
			tt := map[SeedType]warehouse.Type{SeedInteger: warehouse.Integer, SeedFloat: warehouse.Float, SeedDate: warehouse.Date,
				SeedDateTime: warehouse.Timestamp, SeedBoolean: warehouse.Boolean, SeedText: warehouse.String}[typ]
			if typ == SeedInteger && (c.wide || c.huge) {
				tt = warehouse.DecimalType(38, 0)
			}
			if _, err := seedConverter(tt, typ == SeedText, true)(s); err != nil {
				t.Fatalf("%q inferred %v but does not convert: %v", s, typ, err)
			}
		}
		parseAnyTime(s)
		parseBool(s)
	})
}

// FuzzInferSeedFile runs InferSeed on arbitrary file content: it returns
// columns or an error naming the file, never panics.
func FuzzInferSeedFile(f *testing.F) {
	f.Add("a,b\n1,2\n")
	f.Add("\ufeffx\n\"q\"\"\"\n")
	f.Add("a,a,\n1,2,3,4\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "f.csv")
		os.WriteFile(path, []byte(content), 0o644)
		cols, err := InferSeed(context.Background(), path, SeedConfig{})
		if err != nil && !strings.Contains(err.Error(), "f.csv") {
			t.Fatalf("error does not name the file: %v", err)
		}
		seen := map[string]bool{}
		for _, c := range cols {
			if seen[c.Name] || c.Name == "" {
				t.Fatalf("column names %v", cols)
			}
			seen[c.Name] = true
		}
	})
}

// FuzzInjectCTEs checks that injection never panics and keeps the statement
// and the CTE.
func FuzzInjectCTEs(f *testing.F) {
	for _, s := range []string{"select 1", "with a as (select 1) select * from a", "-- c\n/* d */ WITH RECURSIVE r as (select 1) select 1", "/* unterminated", "--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		out := InjectCTEs(sql, []CTE{{Name: "__dbt__cte__x", SQL: "select 2"}})
		if !strings.Contains(out, "__dbt__cte__x as (\nselect 2\n)") || len(out) < len(sql) {
			t.Fatalf("InjectCTEs(%q) = %q", sql, out)
		}
	})
}
