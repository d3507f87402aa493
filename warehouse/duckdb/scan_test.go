package duckdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

// TestScanColumnsInPlace: DuckDB's own column scan takes 64-bit integers,
// narrower ones, doubles, booleans and dates in result order, NULLs
// included, and refuses strings (ErrUnsupported: the warehouse takes the
// row path); a cancelled context stops a long scan.
func TestScanColumnsInPlace(t *testing.T) {
	ctx := context.Background()
	w := openMem(t)
	eng := w.Engine().(*duckdb.Engine)
	conn, err := eng.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	scan := func(ctx context.Context, q string, fn func([]warehouse.Column, *warehouse.ColumnBatch) error) error {
		return conn.Raw(func(raw any) error { return eng.ScanColumns(ctx, raw, q, nil, fn) })
	}
	const n = 100_000
	var rows, nulls int64
	next := int64(0)
	err = scan(ctx, `SELECT i, CAST(i % 1000 AS SMALLINT) AS s, i / 2 AS half, i % 2 = 0 AS even,
		CASE WHEN i % 10 = 3 THEN NULL ELSE i END AS sometimes, DATE '1970-01-01' + CAST(i % 50 AS INTEGER) - 25 AS day
		FROM range(100000) r(i)`, func(cols []warehouse.Column, b *warehouse.ColumnBatch) error {
		if cols[1].Type.Kind != warehouse.KindInteger || cols[2].Type.Kind != warehouse.KindFloat || cols[3].Type.Kind != warehouse.KindBoolean || cols[5].Type.Kind != warehouse.KindDate {
			t.Fatalf("column types %+v", cols)
		}
		for r := range b.Len {
			i := b.Cols[0].Int[r]
			if i != next {
				t.Fatalf("row %d holds %d: out of order", next, i)
			}
			next++
			if b.Cols[1].Int[r] != i%1000 || b.Cols[2].Float[r] != float64(i)/2 || b.Cols[3].Bool[r] != (i%2 == 0) || b.Cols[5].Int[r] != i%50-25 {
				t.Fatalf("row %d: %d %v %v %d", i, b.Cols[1].Int[r], b.Cols[2].Float[r], b.Cols[3].Bool[r], b.Cols[5].Int[r])
			}
			null := b.Cols[4].Null != nil && b.Cols[4].Null[r]
			if null != (i%10 == 3) || (!null && b.Cols[4].Int[r] != i) {
				t.Fatalf("row %d: sometimes NULL %v, %d", i, null, b.Cols[4].Int[r])
			}
			if null {
				nulls++
			}
			rows++
		}
		return nil
	})
	if err != nil || rows != n || nulls != n/10 {
		t.Fatalf("scanned %d rows, %d NULLs (%v)", rows, nulls, err)
	}
	if err := scan(ctx, "SELECT 'text' AS s", func([]warehouse.Column, *warehouse.ColumnBatch) error { return nil }); !errors.Is(err, warehouse.ErrUnsupported) {
		t.Fatalf("a VARCHAR result: %v, want ErrUnsupported", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	err = scan(cctx, "SELECT a.x * b.y AS p FROM range(100000000) a(x), range(1000) b(y)", func(_ []warehouse.Column, b *warehouse.ColumnBatch) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: %v", err)
	}
	// the scans leave the session's streaming_buffer_size as it was: the
	// default (widened for the scan), or a larger one of the session's
	setting := func() string {
		var v string
		if err := conn.QueryRowContext(ctx, "SELECT current_setting('streaming_buffer_size')::VARCHAR").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := setting()
	ok := func(_ []warehouse.Column, b *warehouse.ColumnBatch) error { return nil }
	if err := scan(ctx, "SELECT 1 AS x", ok); err != nil || setting() != before {
		t.Fatalf("streaming_buffer_size %s after a scan (%v), %s before", setting(), err, before)
	}
	if _, err := conn.ExecContext(ctx, "SET SESSION streaming_buffer_size = '64MB'"); err != nil {
		t.Fatal(err)
	}
	big := setting()
	if err := scan(ctx, "SELECT 1 AS x", ok); err != nil || setting() != big {
		t.Fatalf("streaming_buffer_size %s after a scan (%v), %s before", setting(), err, big)
	}
	// the connection is usable after the cancel
	if err := scan(ctx, "SELECT 42 AS x", func(_ []warehouse.Column, b *warehouse.ColumnBatch) error {
		if b.Len != 1 || b.Cols[0].Int[0] != 42 {
			t.Fatalf("after the cancel: %+v", b)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
