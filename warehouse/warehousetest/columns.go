package warehousetest

import (
	"context"
	"iter"
	"strconv"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// columnFormCols are columns of every kind a ColumnBatch carries.
func columnFormCols() []warehouse.Column {
	return []warehouse.Column{
		{Name: "id", Type: warehouse.Integer},
		col("f", warehouse.Float), col("b", warehouse.Boolean), col("s", warehouse.String),
		col("j", warehouse.JSON), col("bin", warehouse.Binary), col("ts", warehouse.Timestamp),
		col("tz", warehouse.TimestampTZ), col("d", warehouse.Date),
	}
}

// columnBatches yields batches of the given sizes of columnFormCols, all in
// one set of buffers that it overwrites between batches (a load must be
// done with a batch when it asks for the next). Row i is NULL in column c
// when (i+c)%7 == 0, but for the id.
func columnBatches(sizes ...int) iter.Seq2[*warehouse.ColumnBatch, error] {
	return func(yield func(*warehouse.ColumnBatch, error) bool) {
		maxN := 0
		for _, n := range sizes {
			maxN = max(maxN, n)
		}
		b := &warehouse.ColumnBatch{Cols: make([]warehouse.ColumnData, 9)}
		for c := range b.Cols {
			d := &b.Cols[c]
			d.Null = make([]bool, maxN)
			d.Int, d.Float, d.Bool, d.Bytes = make([]int64, maxN), make([]float64, maxN), make([]bool, maxN), make([][]byte, maxN)
		}
		b.Cols[0].Null = nil
		first := 0
		for _, n := range sizes {
			b.Len = n
			for r := range n {
				i := first + r
				for c := 1; c < len(b.Cols); c++ {
					b.Cols[c].Null[r] = (i+c)%7 == 0
				}
				b.Cols[0].Int[r] = int64(i)
				b.Cols[1].Float[r] = float64(i) / 4
				b.Cols[2].Bool[r] = i%3 == 0
				b.Cols[3].Bytes[r] = []byte("s" + strconv.Itoa(i) + strings.Repeat("é", i%9))
				b.Cols[4].Bytes[r] = []byte(`{ "k": ` + strconv.Itoa(i) + `, "a": [1, "<x>"] }`)
				b.Cols[5].Bytes[r] = []byte{0xff, byte(i), byte(i >> 8), 0}
				b.Cols[6].Int[r] = int64(i)*1_000_003 - 5_000_000_000
				b.Cols[7].Int[r] = int64(i) * 7_000_001
				b.Cols[8].Int[r] = int64(i%40000) - 20000
			}
			if !yield(b, nil) {
				return
			}
			first += n
		}
	}
}

// testLoadColumns: LoadColumns lands column batches (taken as they are by
// engines with a column path, as rows by the others) with the values the
// same rows would have through Load.
func testLoadColumns(t *testing.T, f *fixture) {
	ctx := context.Background()
	cols := columnFormCols()
	r := f.mustCreate(t, "colbatch", cols...)
	sizes := []int{5000, 4097, 1}
	names := make([]string, len(cols))
	types := make([]warehouse.Type, len(cols))
	for i, c := range cols {
		names[i], types[i] = c.Name, c.Type
	}
	n, err := f.w.LoadColumns(ctx, r, names, columnBatches(sizes...))
	if err != nil || n != 9098 {
		t.Fatalf("LoadColumns: %d rows (%v), want 9098", n, err)
	}
	var want [][]any
	for row, err := range warehouse.BatchRows(types, columnBatches(sizes...)) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, append([]any(nil), row...))
	}
	i := 0
	for rec, err := range f.w.Rows(ctx, "SELECT * FROM "+f.q("colbatch")+" ORDER BY "+f.id("id")) {
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if i >= len(want) {
			t.Fatalf("read back more than %d rows", len(want))
		}
		for c := range cols {
			if err := sameValue(cols[c].Type, want[i][c], rec.Values[c]); err != nil {
				t.Fatalf("row %d, column %s: %v", i, cols[c].Name, err)
			}
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("read back %d rows, want %d", i, len(want))
	}
	// A column without a column form is refused.
	r2 := f.mustCreate(t, "colbatch_dec", col("d", warehouse.DecimalType(10, 2)))
	one := func(yield func(*warehouse.ColumnBatch, error) bool) {
		yield(&warehouse.ColumnBatch{Len: 1, Cols: []warehouse.ColumnData{{Int: []int64{1}}}}, nil)
	}
	if _, err := f.w.LoadColumns(ctx, r2, nil, one); err == nil {
		t.Fatal("LoadColumns into a DECIMAL column: no error")
	}
}
