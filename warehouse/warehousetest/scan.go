package warehousetest

import (
	"context"
	"errors"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// testScanColumns: ScanColumns streams a result as column batches, in the
// result's order, with the values Rows gives (every column kind, NULLs
// included, inside a transaction too); fn's error comes back as it is; a
// column without a scan form is ErrUnsupported.
func testScanColumns(t *testing.T, f *fixture) {
	ctx := context.Background()
	cols := columnFormCols()
	r := f.mustCreate(t, "scan", cols...)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	const total = 9098
	if n, err := f.w.LoadColumns(ctx, r, names, columnBatches(5000, 4097, 1)); err != nil || n != total {
		t.Fatalf("LoadColumns: %d rows (%v)", n, err)
	}
	all := "SELECT * FROM " + f.q("scan") + " ORDER BY " + f.id("id")
	// without strings: DuckDB scans it in place
	fixed := "SELECT " + f.id("id") + ", " + f.id("f") + ", " + f.id("b") + ", " + f.id("ts") + ", " + f.id("tz") + ", " + f.id("d") +
		", CAST(" + f.id("id") + " AS INTEGER) AS i32 FROM " + f.q("scan") + " ORDER BY " + f.id("id")
	tx, err := f.w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "DELETE FROM "+f.q("scan")+" WHERE "+f.id("id")+" = 0"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{all, fixed} {
		var want [][]any
		for rec, err := range tx.Rows(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, append([]any(nil), rec.Values...))
		}
		if len(want) != total-1 {
			t.Fatalf("%s: Rows read %d rows in the transaction, want %d", q, len(want), total-1)
		}
		i, batches := 0, 0
		err := tx.ScanColumns(ctx, q, nil, func(cs []warehouse.Column, b *warehouse.ColumnBatch) error {
			batches++
			types := make([]warehouse.Type, len(cs))
			for c := range cs {
				types[c] = cs[c].Type
			}
			one := func(yield func(*warehouse.ColumnBatch, error) bool) { yield(b, nil) }
			for row, err := range warehouse.BatchRows(types, one) {
				if err != nil {
					return err
				}
				if i >= len(want) {
					t.Fatalf("%s: scanned more than %d rows", q, len(want))
				}
				for c := range row {
					if err := sameValue(types[c], want[i][c], row[c]); err != nil {
						t.Fatalf("%s: row %d, column %s: %v", q, i, cs[c].Name, err)
					}
				}
				i++
			}
			return nil
		})
		if err != nil || i != len(want) || batches < 2 {
			t.Fatalf("%s: scanned %d rows in %d batches (%v), want %d", q, i, batches, err, len(want))
		}
	}
	// fn's error stops the scan and comes back as it is
	stop := errors.New("enough")
	calls := 0
	err = f.w.ScanColumns(ctx, fixed, nil, func([]warehouse.Column, *warehouse.ColumnBatch) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("fn's error: %v after %d calls", err, calls)
	}
	// a DECIMAL has no scan form
	err = f.w.ScanColumns(ctx, "SELECT CAST(1.5 AS DECIMAL(10,2)) AS d", nil, func([]warehouse.Column, *warehouse.ColumnBatch) error { return nil })
	if !errors.Is(err, warehouse.ErrUnsupported) {
		t.Fatalf("scan of a DECIMAL: %v, want ErrUnsupported", err)
	}
}
