package duckdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

// chunkCols are the portable kinds the chunk path carries.
var chunkCols = []warehouse.Column{
	col("i64", warehouse.Integer), col("i32", intN(32)), col("i16", intN(16)),
	col("s", warehouse.String), col("f64", warehouse.Float), col("f32", floatN(32)),
	col("b", warehouse.Boolean), col("d12", warehouse.DecimalType(12, 2)), col("d4", warehouse.DecimalType(4, 4)),
	col("d38", warehouse.DecimalType(38, 6)), col("dt", warehouse.Date), col("ts", warehouse.Timestamp),
	col("tz", warehouse.TimestampTZ), col("j", warehouse.JSON), col("bin", warehouse.Binary),
	col("long", warehouse.String), col("lbin", warehouse.Binary),
}

// chunkRows makes n rows of chunkCols with varied values, NULLs in every
// column now and then, and inputs that need converting (other integer
// types, []byte strings, zoned times, decimal text, non-compact JSON).
func chunkRows(n int) func(func([]any, error) bool) {
	ist := time.FixedZone("IST", 5*3600+30*60)
	base := time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)
	return func(yield func([]any, error) bool) {
		row := make([]any, len(chunkCols))
		buf := make([]byte, 0, 64)
		for i := range n {
			buf = strconv.AppendInt(append(buf[:0], "bytes-"...), int64(i), 10)
			row[0] = int64(i)*7919 - 1<<40
			row[1] = int32(i % 100000)
			row[2] = uint8(i % 200)
			if i%3 == 0 {
				row[3] = buf // reused by the producer
			} else {
				row[3] = "s-" + strconv.Itoa(i) + strings.Repeat("é", i%5)
			}
			row[4] = float64(i) / 3
			row[5] = float32(i) / 4
			row[6] = i%2 == 0
			switch i % 4 {
			case 0:
				row[7] = warehouse.MustDecimal(strconv.Itoa(i) + ".5")
			case 1:
				row[7] = strconv.Itoa(-i) + ".125" // rounded half away from zero
			case 2:
				row[7] = int64(i)
			default:
				row[7] = float64(i) + 0.25
			}
			row[8] = warehouse.MustDecimal("0." + strconv.Itoa(1000+i%9000))
			row[9] = warehouse.MustDecimal(strconv.Itoa(i) + "123456789012345678901234567.000001")
			if i%2 == 1 {
				row[9] = int64(-i)
			}
			row[10] = base.AddDate(0, 0, i%20000-10000)
			t := base.Add(time.Duration(i) * 1234567 * time.Microsecond)
			if i%2 == 0 {
				t = t.In(ist) // the wall clock is kept
			}
			row[11] = t
			row[12] = base.Add(-time.Duration(i) * time.Second).In(ist) // the instant is kept
			switch i % 3 {
			case 0:
				row[13] = json.RawMessage(`{"changes":[],"sync_id":` + strconv.Itoa(i) + `}`)
			case 1:
				row[13] = `{ "a" : [1, 2, "<&>"] }` // re-encoded
			default:
				row[13] = map[string]any{"k": i}
			}
			row[14] = buf
			// Long strings, equal in runs (written once per run) and not.
			switch i % 7 {
			case 0, 1, 2:
				row[15] = "a value longer than twelve bytes"
			case 3:
				row[15] = "twelve bytes"
			default:
				row[15] = "another value, " + strconv.Itoa(i)
			}
			row[16] = []byte{0xff, 0xfe, 0, byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, byte(i >> 8)} // not UTF-8
			for c := range row {
				if (i+c)%11 == 0 {
					row[c] = nil
				}
			}
			if !yield(row, nil) {
				return
			}
		}
	}
}

// TestChunkLoadMatchesAppender loads the same rows through the chunk path
// and through the appender and finds the tables equal, over several
// many batches.
func TestChunkLoadMatchesAppender(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	eng := w.Engine().(*duckdb.Engine)
	if !duckdb.UsesChunks(chunkCols) {
		t.Fatal("the chunk path does not carry chunkCols")
	}
	const n = 100_000
	for _, name := range []string{"via_chunks", "via_appender"} {
		duckdb.SetAppenderOnly(eng, name == "via_appender")
		rel := warehouse.Rel("", name)
		if err := w.CreateTable(ctx, rel, chunkCols, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := w.Load(ctx, rel, nil, chunkRows(n)); err != nil || got != n {
			t.Fatalf("%s: loaded %d rows (%v), want %d", name, got, err, n)
		}
	}
	duckdb.SetAppenderOnly(eng, false)
	var diff, count, nulls int64
	if err := w.Get(ctx, &diff, `SELECT (SELECT count(*) FROM (SELECT * FROM via_chunks EXCEPT ALL SELECT * FROM via_appender)) + (SELECT count(*) FROM (SELECT * FROM via_appender EXCEPT ALL SELECT * FROM via_chunks))`); err != nil || diff != 0 {
		t.Fatalf("the tables differ in %d rows (%v)", diff, err)
	}
	if err := w.Get(ctx, &count, "SELECT count(*) FROM via_chunks"); err != nil || count != n {
		t.Fatalf("via_chunks has %d rows (%v)", count, err)
	}
	var wantNulls int64
	for i := range n {
		if (i+12)%11 == 0 {
			wantNulls++
		}
	}
	if err := w.Get(ctx, &nulls, "SELECT count(*) FROM via_chunks WHERE tz IS NULL"); err != nil || nulls != wantNulls {
		t.Fatalf("via_chunks has %d NULL tz, want %d (%v)", nulls, wantNulls, err)
	}
	// Spot checks against known values, read back as portable values.
	_, rows := readAll(t, w, `SELECT s, d12, ts, tz, j, dt FROM via_chunks WHERE i64 = ? OR i64 = ? ORDER BY i64`, int64(1)*7919-1<<40, int64(4)*7919-1<<40)
	if len(rows) != 2 {
		t.Fatalf("spot rows: %v", rows)
	}
	base := time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)
	want1 := []any{"s-1é", "-1.13", base.Add(1234567 * time.Microsecond), base.Add(-time.Second), `{"a":[1,2,"\u003c\u0026\u003e"]}`, nil /* (1+10)%11 */}
	want4 := []any{"s-4éééé", nil /* (4+7)%11 */, time.Date(1970, 1, 1, 4, 30, 4, 938268000, time.UTC) /* wall clock in IST */, base.Add(-4 * time.Second), `{"a":[1,2,"\u003c\u0026\u003e"]}`, time.Date(1942, time.August, 19, 0, 0, 0, 0, time.UTC)}
	types := []warehouse.Type{warehouse.String, warehouse.DecimalType(12, 2), warehouse.Timestamp, warehouse.TimestampTZ, warehouse.JSON, warehouse.Date}
	for i, want := range [][]any{want1, want4} {
		for c := range want {
			if err := same(types[c], want[c], rows[i][c]); err != nil {
				t.Errorf("row %d column %d: %v", i, c, err)
			}
		}
	}
}

// TestChunkLoadErrors: a constraint DuckDB checks fails the load (and
// leaves nothing), in a later batch too; the warehouse stays usable.
func TestChunkLoadErrors(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	if _, err := w.Exec(ctx, "CREATE TABLE pk (k BIGINT PRIMARY KEY, s VARCHAR NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	rel := warehouse.Rel("", "pk")
	cols, err := w.Columns(ctx, rel)
	if err != nil || !duckdb.UsesChunks(cols) {
		t.Fatalf("pk does not take the chunk path (%v)", err)
	}
	rows := func(n, dup, null int) func(func([]any, error) bool) {
		return func(yield func([]any, error) bool) {
			for i := range n {
				k := int64(i)
				if i == dup {
					k = 0
				}
				var s any = "x"
				if i == null {
					s = nil
				}
				if !yield([]any{k, s}, nil) {
					return
				}
			}
		}
	}
	_, err = w.Load(ctx, rel, nil, rows(100_000, 90_000, -1))
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "duplicate key") {
		t.Fatalf("duplicate key in a later batch: %v", err)
	}
	_, err = w.Load(ctx, rel, nil, rows(50_000, -1, 40_000))
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "not null") {
		t.Fatalf("NULL into NOT NULL: %v", err)
	}
	// The producer's error after many batches went in.
	boom := errors.New("source broke")
	failing := func(yield func([]any, error) bool) {
		for i := range 70_000 {
			if !yield([]any{int64(i), "x"}, nil) {
				return
			}
		}
		yield(nil, boom)
	}
	if _, err := w.Load(ctx, rel, nil, failing); !errors.Is(err, boom) {
		t.Fatalf("producer error: %v", err)
	}
	var n int64
	if err := w.Get(ctx, &n, "SELECT count(*) FROM pk"); err != nil || n != 0 {
		t.Fatalf("failed loads left %d rows (%v)", n, err)
	}
	if got, err := w.Load(ctx, rel, nil, rows(70_000, -1, -1)); err != nil || got != 70_000 {
		t.Fatalf("load after failures: %d %v", got, err)
	}
}

// TestChunkLoadInTx: loads inside a transaction span many batches, see each
// other, and vanish with a rollback.
func TestChunkLoadInTx(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	rel := warehouse.Rel("", "tx")
	if err := w.CreateTable(ctx, rel, chunkCols, nil); err != nil {
		t.Fatal(err)
	}
	tx, err := w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if n, err := tx.Load(ctx, rel, nil, chunkRows(40_000)); err != nil || n != 40_000 {
			t.Fatalf("load in tx: %d %v", n, err)
		}
	}
	var n int64
	if err := tx.Get(ctx, &n, "SELECT count(*) FROM tx"); err != nil || n != 80_000 {
		t.Fatalf("inside the transaction: %d rows (%v)", n, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := w.Get(ctx, &n, "SELECT count(*) FROM tx"); err != nil || n != 0 {
		t.Fatalf("after rollback: %d rows (%v)", n, err)
	}
}

// TestChunkLoadSharedFile: a second warehouse on the same file (one DuckDB
// instance, dataops_load already registered) loads through the chunk path.
func TestChunkLoadSharedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	a := open(t, "duckdb:"+path)
	defer a.Close()
	b := open(t, "duckdb:"+path)
	defer b.Close()
	for _, w := range []*warehouse.Warehouse{a, b} {
		if !duckdb.ChunksEnabled(w.Engine().(*duckdb.Engine)) {
			t.Fatal("the chunk path is off")
		}
	}
	rel := warehouse.Rel("", "t")
	if err := a.CreateTable(ctx, rel, chunkCols, nil); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*warehouse.Warehouse{a, b} {
		if n, err := w.Load(ctx, rel, nil, chunkRows(5000)); err != nil || n != 5000 {
			t.Fatalf("load: %d %v", n, err)
		}
	}
	var n int64
	if err := b.Get(ctx, &n, "SELECT count(*) FROM t"); err != nil || n != 10_000 {
		t.Fatalf("%d rows (%v), want 10000", n, err)
	}
}

// TestLoadColumnsSharedJSON: a column batch whose JSON rows share one
// slice (a staging load's _airbyte_meta) stores each row's value, compacted
// when it is not, and between the shared rows other values stay their own.
func TestLoadColumnsSharedJSON(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	rel := warehouse.Rel("", "j")
	if err := w.CreateTable(ctx, rel, []warehouse.Column{col("k", warehouse.Integer), col("j", warehouse.JSON)}, nil); err != nil {
		t.Fatal(err)
	}
	shared := []byte(`{ "changes" : [], "sync_id": 7 }`)
	const n = 5000
	b := &warehouse.ColumnBatch{Len: n, Cols: make([]warehouse.ColumnData, 2)}
	for i := range n {
		b.Cols[0].Int = append(b.Cols[0].Int, int64(i))
		v := shared
		switch {
		case i%100 == 99:
			v = []byte(`{"k":` + strconv.Itoa(i) + `}`)
		case i%10 == 9:
			v = shared[:len(shared):len(shared)] // the same bytes, sliced anew
		}
		b.Cols[1].Bytes = append(b.Cols[1].Bytes, v)
	}
	got, err := w.LoadColumns(ctx, rel, []string{"k", "j"}, func(yield func(*warehouse.ColumnBatch, error) bool) { yield(b, nil) })
	if err != nil || got != n {
		t.Fatalf("loaded %d (%v)", got, err)
	}
	_, rows := readAll(t, w, "SELECT k, CAST(j AS VARCHAR) FROM j ORDER BY k")
	for i, r := range rows {
		want := `{"changes":[],"sync_id":7}`
		if i%100 == 99 {
			want = `{"k":` + strconv.Itoa(i) + `}`
		}
		if r[1] != want {
			t.Fatalf("row %d: %v, want %s", i, r[1], want)
		}
	}
	if len(rows) != n {
		t.Fatalf("%d rows", len(rows))
	}
	// A shared invalid value fails the load.
	bad := []byte(`{"a":`)
	b2 := &warehouse.ColumnBatch{Len: 2, Cols: []warehouse.ColumnData{{Int: []int64{1, 2}}, {Bytes: [][]byte{bad, bad}}}}
	if _, err := w.LoadColumns(ctx, rel, []string{"k", "j"}, func(yield func(*warehouse.ColumnBatch, error) bool) { yield(b2, nil) }); err == nil {
		t.Fatal("invalid JSON loaded")
	}
}
