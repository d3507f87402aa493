package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"testing"
	"time"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

// Tests read DuckDB tables in many small chunks, to exercise scanTable.
func init() { chunkRows = 16 }

// allTypes is a table with one column of every portable kind.
var allTypes = []warehouse.Column{
	{Name: "id", Type: warehouse.Integer, Nullable: false},
	{Name: "s", Type: warehouse.String, Nullable: true},
	{Name: "i16", Type: warehouse.Type{Kind: warehouse.KindInteger, Bits: 16}, Nullable: true},
	{Name: "i32", Type: warehouse.Type{Kind: warehouse.KindInteger, Bits: 32}, Nullable: true},
	{Name: "d", Type: warehouse.DecimalType(38, 10), Nullable: true},
	{Name: "d2", Type: warehouse.DecimalType(12, 2), Nullable: true},
	{Name: "f", Type: warehouse.Float, Nullable: true},
	{Name: "b", Type: warehouse.Boolean, Nullable: true},
	{Name: "dt", Type: warehouse.Date, Nullable: true},
	{Name: "tm", Type: warehouse.Time, Nullable: true},
	{Name: "ts", Type: warehouse.Timestamp, Nullable: true},
	{Name: "tz", Type: warehouse.TimestampTZ, Nullable: true},
	{Name: "j", Type: warehouse.JSON, Nullable: true},
	{Name: "bin", Type: warehouse.Binary, Nullable: true},
	{Name: "arr", Type: warehouse.ArrayOf(warehouse.Integer), Nullable: true},
	{Name: "sarr", Type: warehouse.ArrayOf(warehouse.String), Nullable: true},
}

// allTypesRow returns row i of the all-types sample: every kind, with NULLs,
// negatives, unicode and edge values sprinkled in.
func allTypesRow(i int) []any {
	ts := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1234567 * time.Microsecond)
	row := []any{
		int64(i),
		fmt.Sprintf("naïve café ✓ %d \x01 'q\"", i),
		int64(i%300 - 150),
		int64(i * -1000),
		warehouse.MustDecimal(fmt.Sprintf("%d12345678901234567890.0123456789", i)),
		warehouse.MustDecimal(fmt.Sprintf("-%d.5", i)),
		float64(i) / 3,
		i%2 == 0,
		time.Date(1960+i%80, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC),
		warehouse.TimeOfDay(ts),
		ts,
		ts.Add(-time.Hour),
		json.RawMessage(fmt.Sprintf(`{"b": [1, 2.50, null], "a": "x%d", "u": "ü"}`, i)),
		[]byte{0, 1, 2, byte(i)},
		[]any{int64(i), nil, int64(-i)},
		[]any{"a", fmt.Sprintf("ß%d", i)},
	}
	if i%5 == 3 { // a row of NULLs but the key
		for j := 1; j < len(row); j++ {
			row[j] = nil
		}
	}
	if i%7 == 6 {
		row[6] = math.Inf(-1)
		row[14] = []any{}
	}
	return row
}

func seqRows(n int, f func(int) []any) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for i := range n {
			if !yield(f(i), nil) {
				return
			}
		}
	}
}

// engines are the warehouses tests run on: DuckDB in memory, DuckDB in a
// file, and PostgreSQL (skipped outside CI when unreachable).
type engineCase struct {
	name string
	open func(t *testing.T) (*warehouse.Warehouse, string) // the warehouse and a schema to use
}

func engines() []engineCase {
	return []engineCase{
		{"duckdb-memory", func(t *testing.T) (*warehouse.Warehouse, string) { return openDuck(t, "duckdb:"), "raw" }},
		{"duckdb-file", func(t *testing.T) (*warehouse.Warehouse, string) {
			return openDuck(t, "duckdb:"+t.TempDir()+"/wh.duckdb"), "raw"
		}},
		{"postgres", func(t *testing.T) (*warehouse.Warehouse, string) { return openPG(t) }},
	}
}

func openDuck(t testing.TB, url string) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

var pgSeq int

// openPG opens the test PostgreSQL server and returns a fresh schema name
// unique to this package and test, dropped at the end.
func openPG(t testing.TB) (*warehouse.Warehouse, string) {
	t.Helper()
	u := testenv.PostgresURL(t)
	w, err := warehouse.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	pgSeq++
	schema := fmt.Sprintf("backup_t%d_%d", time.Now().UnixNano()%1_000_000_000, pgSeq)
	t.Cleanup(func() {
		ctx := context.Background()
		for _, s := range []string{schema, schema + "_restored", schema + "_snap"} {
			w.DropSchema(ctx, s, true)
		}
		w.Close()
	})
	return w, schema
}

// makeTable creates schema.name with cols and key and loads n rows of f.
func makeTable(t testing.TB, w *warehouse.Warehouse, schema, name string, cols []warehouse.Column, key []string, n int, f func(int) []any) warehouse.Relation {
	t.Helper()
	ctx := context.Background()
	if err := w.CreateSchema(ctx, schema); err != nil {
		t.Fatal(err)
	}
	rel := warehouse.Rel(schema, name)
	if err := w.CreateTable(ctx, rel, cols, &warehouse.TableOptions{PrimaryKey: key}); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		if _, err := w.Load(ctx, rel, nil, seqRows(n, f)); err != nil {
			t.Fatal(err)
		}
	}
	return rel
}

// entryFingerprint is rel's fingerprint by the row hash kind of entry te.
func entryFingerprint(t testing.TB, w *warehouse.Warehouse, rel warehouse.Relation, te *Table) Fingerprint {
	t.Helper()
	fp, err := FingerprintTableKind(context.Background(), w, rel, te.RowHashKind())
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// tableFingerprint reads a table through Rows and fingerprints it.
func tableFingerprint(t testing.TB, w *warehouse.Warehouse, rel warehouse.Relation) Fingerprint {
	t.Helper()
	fp, err := FingerprintTable(context.Background(), w, rel)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}
