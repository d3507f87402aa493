package warehouse_test

import (
	"context"
	"fmt"
	"iter"
	"log"
	"time"

	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

// Open a warehouse by URL; the scheme picks the driver. "duckdb:" alone is an
// in-memory DuckDB; "duckdb:path/to/file.duckdb" a file.
func ExampleOpen() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	info, err := w.Info(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Engine, info.Schema)
	// Output: duckdb main
}

// Load streams rows from an iterator through the engine's bulk path, so
// memory stays flat however many rows there are.
func ExampleWarehouse_Load() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	events := warehouse.Rel("main", "events")
	err = w.CreateTable(ctx, events, []warehouse.Column{
		{Name: "id", Type: warehouse.Integer},
		{Name: "at", Type: warehouse.TimestampTZ},
		{Name: "amount", Type: warehouse.DecimalType(12, 2), Nullable: true},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	rows := func(n int) iter.Seq2[[]any, error] {
		return func(yield func([]any, error) bool) {
			row := make([]any, 3) // reused: Load keeps nothing between rows
			for i := range n {
				row[0], row[1], row[2] = int64(i), time.Unix(int64(i), 0), warehouse.MustDecimal("9.99")
				if !yield(row, nil) {
					return
				}
			}
		}
	}
	n, err := w.Load(ctx, events, nil, rows(100_000))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded", n)
	// Output: loaded 100000
}

// ReplaceTableAs builds the new table aside and swaps it in within one
// transaction: readers see the old table or the new one, never neither.
func ExampleWarehouse_ReplaceTableAs() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	daily := warehouse.Rel("main", "daily")
	for _, days := range []int{3, 7} {
		q := "SELECT * FROM generate_series(1, ?) AS t(day)"
		if err := w.ReplaceTableAs(ctx, daily, q, days); err != nil {
			log.Fatal(err)
		}
	}
	var n int
	if err := w.Get(ctx, &n, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(daily)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "days")
	// Output: 7 days
}

// WithTx commits data and bookkeeping together, or neither.
func ExampleWarehouse_WithTx() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	state := warehouse.Rel("main", "sync_state")
	if err := w.CreateTable(ctx, state, []warehouse.Column{{Name: "stream", Type: warehouse.String}, {Name: "cursor", Type: warehouse.String}}, nil); err != nil {
		log.Fatal(err)
	}
	err = w.WithTx(ctx, func(tx *warehouse.Tx) error {
		if _, err := tx.Load(ctx, state, nil, func(yield func([]any, error) bool) { yield([]any{"orders", "2024-06-01"}, nil) }); err != nil {
			return err
		}
		return fmt.Errorf("the data load failed")
	})
	fmt.Println(err)
	var n int
	_ = w.Get(ctx, &n, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(state))
	fmt.Println(n, "state rows")
	// Output:
	// the data load failed
	// 0 state rows
}

// Rows streams a query's result as portable Go values.
func ExampleWarehouse_Rows() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	for rec, err := range w.Rows(ctx, "SELECT 42::BIGINT AS answer, 12.50::DECIMAL(4,2) AS price") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rec.Columns[0].Name, rec.Values[0], rec.Columns[1].Type, rec.Values[1])
	}
	// Output: answer 42 decimal(4,2) 12.50
}

// ScanColumns streams a result column by column: on DuckDB each batch is
// one of its 2048-row chunks, read in place, without a value boxed. The
// batch is valid only inside the callback.
func ExampleWarehouse_ScanColumns() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	var rows, sum int64
	batches := 0
	err = w.ScanColumns(ctx, "SELECT i, i % 7 = 0 AS sevens FROM range(1000000) r(i)", nil,
		func(cols []warehouse.Column, b *warehouse.ColumnBatch) error {
			batches++
			ids, sevens := b.Cols[0].Int, b.Cols[1].Bool
			for r := range b.Len {
				if sevens[r] {
					sum += ids[r]
				}
			}
			rows += int64(b.Len)
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rows, sum, batches > 1)
	// Output: 1000000 71428928571 true
}
