// Quickstart runs dataops end to end on the embedded default warehouse,
// DuckDB, with no service to install or start:
//
//	go run ./examples/quickstart            # in a new temporary directory
//	go run ./examples/quickstart -dir out   # in ./out, kept for you to inspect
//
// Today it creates a DuckDB file, bulk-loads a generated sample of raw
// customers and orders through the warehouse's streaming fast path, builds a
// small summary table atomically, and prints the row counts. Later versions
// grow it into the whole pipeline: extract, stage, transform, back up.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"math/big"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

func main() {
	dir := flag.String("dir", "", "directory for the DuckDB file (default: a new temporary directory)")
	customers := flag.Int("customers", 1_000, "customers to generate")
	orders := flag.Int("orders", 100_000, "orders to generate")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *dir, *customers, *orders); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run does the whole quickstart and reports to out.
func run(ctx context.Context, out io.Writer, dir string, nCustomers, nOrders int) error {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "dataops-quickstart-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "quickstart.duckdb")
	fmt.Fprintf(out, "warehouse: %s\n", path)

	w, err := warehouse.Open(ctx, "duckdb:"+path)
	if err != nil {
		return err
	}
	defer w.Close()

	raw := "raw"
	if err := w.CreateSchema(ctx, raw); err != nil {
		return err
	}
	customers := warehouse.Rel(raw, "customers")
	orders := warehouse.Rel(raw, "orders")
	start := time.Now()
	// Replace the tables of an earlier run, then create them empty.
	for _, t := range []struct {
		rel  warehouse.Relation
		cols []warehouse.Column
	}{
		{customers, []warehouse.Column{
			{Name: "id", Type: warehouse.Integer},
			{Name: "name", Type: warehouse.String},
			{Name: "country", Type: warehouse.String},
			{Name: "created_at", Type: warehouse.TimestampTZ},
		}},
		{orders, []warehouse.Column{
			{Name: "id", Type: warehouse.Integer},
			{Name: "customer_id", Type: warehouse.Integer},
			{Name: "amount", Type: warehouse.DecimalType(12, 2)},
			{Name: "status", Type: warehouse.String},
			{Name: "ordered_at", Type: warehouse.TimestampTZ},
		}},
	} {
		if err := w.Drop(ctx, t.rel); err != nil {
			return err
		}
		if err := w.CreateTable(ctx, t.rel, t.cols, nil); err != nil {
			return err
		}
	}
	if _, err := w.Load(ctx, customers, nil, genCustomers(nCustomers)); err != nil {
		return err
	}
	if _, err := w.Load(ctx, orders, nil, genOrders(nOrders, nCustomers)); err != nil {
		return err
	}
	loaded := time.Since(start)

	d := w.Dialect()
	summary := warehouse.Rel(raw, "revenue_by_country")
	if err := w.ReplaceTableAs(ctx, summary,
		"SELECT c."+d.QuoteIdentifier("country")+" AS country, count(*) AS orders, sum(o."+d.QuoteIdentifier("amount")+") AS revenue"+
			" FROM "+d.QuoteRelation(orders)+" o JOIN "+d.QuoteRelation(customers)+" c ON c."+d.QuoteIdentifier("id")+" = o."+d.QuoteIdentifier("customer_id")+
			" WHERE o."+d.QuoteIdentifier("status")+" <> 'cancelled' GROUP BY 1"); err != nil {
		return err
	}

	fmt.Fprintf(out, "loaded %d customers and %d orders in %s\n", nCustomers, nOrders, loaded.Round(time.Millisecond))
	for _, rel := range []warehouse.Relation{customers, orders, summary} {
		var n int64
		if err := w.Get(ctx, &n, "SELECT count(*) FROM "+d.QuoteRelation(rel)); err != nil {
			return err
		}
		fmt.Fprintf(out, "%-24s %8d rows\n", rel, n)
	}
	return nil
}

var countries = []string{"DE", "FR", "GB", "JP", "US", "BR", "IN"}

func genCustomers(n int) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		r := rand.New(rand.NewPCG(1, 2))
		base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
		row := make([]any, 4)
		for i := 1; i <= n; i++ {
			row[0] = int64(i)
			row[1] = fmt.Sprintf("customer %d", i)
			row[2] = countries[r.IntN(len(countries))]
			row[3] = base.Add(time.Duration(r.IntN(365*24)) * time.Hour)
			if !yield(row, nil) {
				return
			}
		}
	}
}

var statuses = []string{"placed", "shipped", "completed", "completed", "completed", "returned", "cancelled"}

func genOrders(n, customers int) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		r := rand.New(rand.NewPCG(3, 4))
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		row := make([]any, 5)
		for i := 1; i <= n; i++ {
			row[0] = int64(i)
			row[1] = int64(1 + r.IntN(customers))
			row[2] = warehouse.Decimal{Unscaled: big.NewInt(int64(100 + r.IntN(100_000))), Scale: 2}
			row[3] = statuses[r.IntN(len(statuses))]
			row[4] = base.Add(time.Duration(r.IntN(365*24*60)) * time.Minute)
			if !yield(row, nil) {
				return
			}
		}
	}
}
