package warehousetest

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// BulkColumns are the columns of the bulk-load table: the shape of a typical
// raw table.
func BulkColumns() []warehouse.Column {
	return []warehouse.Column{
		{Name: "id", Type: warehouse.Integer},
		{Name: "name", Type: warehouse.String, Nullable: true},
		{Name: "amount", Type: warehouse.Float, Nullable: true},
		{Name: "created_at", Type: warehouse.TimestampTZ, Nullable: true},
	}
}

// BulkRows generates n rows for BulkColumns without holding them: the row
// slice is reused, as Load allows. Every 97th row has NULLs.
func BulkRows(n int) func(func([]any, error) bool) {
	return func(yield func([]any, error) bool) {
		row := make([]any, 4)
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			row[0] = int64(i)
			if i%97 == 0 {
				row[1], row[2], row[3] = nil, nil, nil
			} else {
				row[1] = "name-" + strconv.Itoa(i)
				row[2] = float64(i) * 0.25
				row[3] = base.Add(time.Duration(i) * time.Second)
			}
			if !yield(row, nil) {
				return
			}
		}
	}
}

// rowHash hashes one row of BulkColumns values; summing it over rows gives an
// order-independent checksum of a table.
func rowHash(vals []any) uint64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(u uint64) {
		for i := range 8 {
			b[i] = byte(u >> (8 * i))
		}
		h.Write(b[:])
	}
	put(uint64(vals[0].(int64)))
	if vals[1] == nil {
		h.Write([]byte{0xff})
	} else {
		h.Write([]byte(vals[1].(string)))
		h.Write([]byte{0})
		put(math.Float64bits(vals[2].(float64)))
		put(uint64(vals[3].(time.Time).UnixMicro()))
	}
	return h.Sum64()
}

func testBulkLoad(t *testing.T, f *fixture) {
	ctx := context.Background()
	r := f.mustCreate(t, "bulk", BulkColumns()...)
	n := f.h.BulkRows
	var want uint64
	for row := range BulkRows(n) {
		want += rowHash(row)
	}
	loaded, err := f.w.Load(ctx, r, nil, BulkRows(n))
	if err != nil {
		t.Fatalf("load %d rows: %v", n, err)
	}
	if loaded != int64(n) {
		t.Fatalf("load reported %d rows, want %d", loaded, n)
	}
	if got := f.count(t, "bulk"); got != int64(n) {
		t.Fatalf("count(*) = %d, want %d", got, n)
	}
	var got uint64
	read := 0
	for rec, err := range f.w.Rows(ctx, "SELECT * FROM "+f.q("bulk")) {
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		got += rowHash(rec.Values)
		read++
	}
	if read != n || got != want {
		t.Fatalf("read back %d rows with checksum %x, want %d rows with %x", read, got, n, want)
	}
	// Columns in another order, and a subset: the rest are NULL.
	r2 := f.mustCreate(t, "bulk_subset", BulkColumns()...)
	sub := func(yield func([]any, error) bool) {
		for i := range 1000 {
			if !yield([]any{"n" + strconv.Itoa(i), int64(i)}, nil) {
				return
			}
		}
	}
	if loaded, err := f.w.Load(ctx, r2, []string{"name", "id"}, sub); err != nil || loaded != 1000 {
		t.Fatalf("load subset: %d %v", loaded, err)
	}
	var nulls, sum int64
	if err := f.w.Get(ctx, &nulls, "SELECT count(*) FROM "+f.q("bulk_subset")+" WHERE "+f.id("amount")+" IS NULL AND "+f.id("name")+" = 'n' || CAST("+f.id("id")+" AS VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Get(ctx, &sum, "SELECT sum("+f.id("id")+") FROM "+f.q("bulk_subset")); err != nil {
		t.Fatal(err)
	}
	if nulls != 1000 || sum != 999*1000/2 {
		t.Fatalf("subset load: %d matching rows (want 1000), sum %d (want %d)", nulls, sum, 999*1000/2)
	}
}

func testLoadErrors(t *testing.T, f *fixture) {
	ctx := context.Background()
	r := f.mustCreate(t, "load_err", BulkColumns()...)
	_, err := f.w.Load(ctx, r, []string{"id", "no_such_column"}, rowsOf([]any{int64(1), "x"}))
	expectKind(t, err, warehouse.ErrNotFound, "no_such_column")
	_, err = f.w.Load(ctx, f.rel("no_such_table"), nil, rowsOf([]any{int64(1)}))
	expectKind(t, err, warehouse.ErrNotFound, "no_such_table")

	// A value of the wrong type fails the whole load and names the column.
	_, err = f.w.Load(ctx, r, []string{"id", "amount"}, rowsOf([]any{int64(1), 1.5}, []any{int64(2), "not a number"}))
	if err == nil {
		t.Fatal("load of a string into a float column: no error")
	}
	if !strings.Contains(err.Error(), "amount") || !strings.Contains(err.Error(), "load_err") {
		t.Fatalf("error %q names neither the column amount nor the table load_err", err)
	}
	// A row of the wrong width.
	if _, err := f.w.Load(ctx, r, []string{"id", "name"}, rowsOf([]any{int64(1)})); err == nil {
		t.Fatal("load of a short row: no error")
	}
	// The producer's error stops the load and is returned.
	boom := errors.New("source broke")
	failing := func(yield func([]any, error) bool) {
		for i := range 5000 {
			if !yield([]any{int64(i), "x", 1.0, time.Now()}, nil) {
				return
			}
		}
		yield(nil, boom)
	}
	if _, err := f.w.Load(ctx, r, nil, failing); !errors.Is(err, boom) {
		t.Fatalf("producer error: got %v, want %v", err, boom)
	}
	if n := f.count(t, "load_err"); n != 0 {
		t.Fatalf("failed loads left %d rows; a load is all or nothing", n)
	}
}

func testLoadCancel(t *testing.T, f *fixture) {
	r := f.mustCreate(t, "load_cancel", BulkColumns()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	produced := 0
	rows := func(yield func([]any, error) bool) {
		for row := range BulkRows(10_000_000) {
			produced++
			if produced == 50_000 {
				cancel()
			}
			if !yield(row, nil) {
				return
			}
		}
	}
	start := time.Now()
	_, err := f.w.Load(ctx, r, nil, rows)
	if err == nil {
		t.Fatal("cancelled load: no error")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled load: %v does not match context.Canceled", err)
	}
	if produced > 2_000_000 {
		t.Fatalf("load went on for %d rows after cancel at 50,000", produced)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
	if n := f.count(t, "load_cancel"); n != 0 {
		t.Fatalf("a cancelled load left %d rows", n)
	}
}
