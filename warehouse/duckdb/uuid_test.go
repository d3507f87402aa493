package duckdb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	duckdbgo "github.com/duckdb/duckdb-go/v2"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

// uuidText returns the canonical text of the i-th test UUID; its first
// byte takes every value, so that the order of the top bit is tested.
func uuidText(i int) string {
	return fmt.Sprintf("%02x%06x-%04x-4%03x-8%03x-%012x", (i*37)%256, i, i%65536, i%4096, (i*7)%4096, uint64(i)*0x9e3779b97f4a7c15>>16)
}

// TestChunkLoadUUID: a string column whose native type is UUID is created
// as UUID, takes the chunk path (rows and column batches) from the UUID's
// text in any form DuckDB accepts or its 16 bytes, reads back as the same
// text, sorts as the text does, and the appender path stores the same.
func TestChunkLoadUUID(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	eng := w.Engine().(*duckdb.Engine)
	cols := []warehouse.Column{col("k", warehouse.Integer), col("u", warehouse.Type{Kind: warehouse.KindString, Native: "UUID"})}
	const n = 5000
	rows := func(yield func([]any, error) bool) {
		for i := range n {
			s := uuidText(i)
			var v any = s
			switch i % 6 {
			case 1:
				v = strings.ToUpper(s)
			case 2:
				v = "{" + s + "}"
			case 3:
				v = []byte(strings.ReplaceAll(s, "-", ""))
			case 4:
				var u duckdbgo.UUID
				if err := u.Scan(s); err != nil {
					panic(err)
				}
				v = u
			case 5:
				if i%4 == 1 {
					v = nil
				}
			}
			if !yield([]any{int64(i), v}, nil) {
				return
			}
		}
	}
	for _, name := range []string{"via_chunks", "via_appender", "via_columns"} {
		rel := warehouse.Rel("", name)
		if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
			t.Fatal(err)
		}
		have, err := w.Columns(ctx, rel)
		if err != nil || !strings.EqualFold(have[1].Type.Native, "UUID") || have[1].Type.Kind != warehouse.KindString {
			t.Fatalf("column u: %+v (%v)", have, err)
		}
		if !duckdb.UsesChunks(have) {
			t.Fatal("a UUID column does not take the chunk path")
		}
		duckdb.SetAppenderOnly(eng, name == "via_appender")
		var got int64
		if name == "via_columns" {
			b := &warehouse.ColumnBatch{Len: n, Cols: make([]warehouse.ColumnData, 2)}
			for i := range n {
				b.Cols[0].Int = append(b.Cols[0].Int, int64(i))
				b.Cols[1].Bytes = append(b.Cols[1].Bytes, []byte(uuidText(i)))
				b.Cols[1].Null = append(b.Cols[1].Null, i%6 == 5 && i%4 == 1)
			}
			got, err = w.LoadColumns(ctx, rel, []string{"k", "u"}, func(yield func(*warehouse.ColumnBatch, error) bool) { yield(b, nil) })
		} else {
			got, err = w.Load(ctx, rel, nil, rows)
		}
		if err != nil || got != n {
			t.Fatalf("%s: loaded %d (%v)", name, got, err)
		}
	}
	duckdb.SetAppenderOnly(eng, false)
	for _, name := range []string{"via_chunks", "via_appender", "via_columns"} {
		var bad, nulls int64
		_, rows := readAll(t, w, "SELECT k, CAST(u AS VARCHAR) FROM "+name+" ORDER BY k")
		if len(rows) != n {
			t.Fatalf("%s: %d rows", name, len(rows))
		}
		for i, r := range rows {
			switch {
			case r[1] == nil:
				nulls++
			case r[1] != uuidText(i):
				bad++
				if bad < 3 {
					t.Errorf("%s row %d: %v, want %s", name, i, r[1], uuidText(i))
				}
			}
		}
		if bad != 0 || nulls != int64(countNulls(n)) {
			t.Fatalf("%s: %d values differ from their text, %d NULLs want %d", name, bad, nulls, countNulls(n))
		}
	}
	// Order by UUID is the order of the text.
	var unordered int64
	if err := w.Get(ctx, &unordered, `SELECT count(*) FROM (SELECT u, lag(u) OVER (ORDER BY u) AS p FROM via_chunks WHERE u IS NOT NULL) WHERE CAST(p AS VARCHAR) > CAST(u AS VARCHAR)`); err != nil || unordered != 0 {
		t.Fatalf("%d UUIDs out of text order (%v)", unordered, err)
	}
	// Text that is not a UUID fails the load, on both paths.
	for _, bad := range []any{"not-a-uuid", "0123456789abcdef0123456789abcdef0", "-0123456789abcdef0123456789abcdef", 42} {
		_, err := w.Load(ctx, warehouse.Rel("", "via_chunks"), nil, func(yield func([]any, error) bool) { yield([]any{int64(1), bad}, nil) })
		if err == nil {
			t.Errorf("%v loaded into a UUID column", bad)
		}
	}
}

func countNulls(n int) int {
	c := 0
	for i := range n {
		if i%6 == 5 && i%4 == 1 {
			c++
		}
	}
	return c
}

// BenchmarkLoadRawIDs loads 1M unique ids (as a staging load makes them:
// a fixed random prefix and a counter) with LoadColumns into a file
// database and commits, into a VARCHAR and a UUID column; run one
// sub-benchmark per process to read its CPU time.
func BenchmarkLoadRawIDs(b *testing.B) {
	const n = 1 << 20
	ids := make([][]byte, n)
	for i := range ids {
		ids[i] = fmt.Appendf(nil, "7f3a91c2-5b0e-4d17-%04x-%012x", 0x8000|(i>>48)&0x3fff, i)
	}
	for _, typ := range []string{"VARCHAR", "UUID"} {
		b.Run(typ, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				w := open(b, "duckdb:"+b.TempDir()+"/ids.duckdb")
				rel := warehouse.Rel("", "ids")
				if err := w.CreateTable(ctx, rel, []warehouse.Column{col("id", warehouse.Type{Kind: warehouse.KindString, Native: typ})}, nil); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				batch := &warehouse.ColumnBatch{Len: 8192, Cols: make([]warehouse.ColumnData, 1)}
				tx, err := w.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				_, err = tx.LoadColumns(ctx, rel, []string{"id"}, func(yield func(*warehouse.ColumnBatch, error) bool) {
					for off := 0; off < n; off += 8192 {
						batch.Cols[0].Bytes = ids[off : off+8192]
						if !yield(batch, nil) {
							return
						}
					}
				})
				if err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				w.Close()
				b.StartTimer()
			}
		})
	}
}
