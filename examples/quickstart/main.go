// Quickstart runs dataops end to end on the embedded default warehouse,
// DuckDB, with no service to install or start:
//
//	go run ./examples/quickstart            # in a new temporary directory
//	go run ./examples/quickstart -dir out   # in ./out, kept for you to inspect
//
// It writes a small sample of raw data as local files — customers as CSV,
// orders as JSON lines — extracts them with the native file source by the
// Airbyte protocol, lands them exactly once in the warehouse's staging
// schema "raw", builds the star schema of the dbt project in ./shop (a seed,
// staging views, dimensions, a fact and a monthly mart, with their tests) as
// `dataops build` would, then protects the warehouse: a full backup, a few
// changed rows, an incremental backup, a verification and a restore drill
// side by side whose fingerprints must match. Run it twice: the second sync
// finds no new file and lands nothing.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/dataopskit/dataops/airbyte/source/file"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

func main() {
	dir := flag.String("dir", "", "directory for the sample files and the DuckDB file (default: a new temporary directory)")
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
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "quickstart.duckdb")
	fmt.Fprintf(out, "sample files: %s\nwarehouse:    %s\n", data, path)

	// 1. Raw data as local files (kept if they exist: the sync is incremental).
	if err := writeSample(data, nCustomers, nOrders); err != nil {
		return err
	}

	// 2. Extract with the native file source and stage, exactly once.
	w, err := warehouse.Open(ctx, "duckdb:"+path)
	if err != nil {
		return err
	}
	defer w.Close()
	config, _ := json.Marshal(map[string]any{
		"base_dir": data,
		"streams": []map[string]any{
			{"name": "customers", "globs": []string{"customers*.csv"}, "format": map[string]any{"filetype": "csv"}},
			{"name": "orders", "globs": []string{"orders*.jsonl"}, "format": map[string]any{"filetype": "jsonl"}},
		},
	})
	start := time.Now()
	res, err := staging.Sync(ctx, file.New(), w, staging.SyncOptions{
		Config:  config,
		Options: staging.Options{Schema: "raw", Logger: slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		return err
	}
	for _, s := range res.Streams {
		fmt.Fprintf(out, "staged %-9s %8d records (%s)\n", s.Stream.Name, s.Records, s.Mode)
	}
	fmt.Fprintf(out, "sync took %s\n", time.Since(start).Round(time.Millisecond))

	// 3. Transform: build the shop dbt project's star schema, tests included.
	if err := transformStep(ctx, out, w, dir, path); err != nil {
		return err
	}

	// 4. Protect: full backup, a few changes, incremental, verify, and a
	// restore drill side by side.
	return backupStep(ctx, out, w, dir)
}

var countries = []string{"DE", "FR", "GB", "JP", "US", "BR", "IN"}
var statuses = []string{"placed", "shipped", "completed", "completed", "completed", "returned", "cancelled"}

// writeSample writes customers.csv and orders.jsonl unless they exist.
func writeSample(dir string, nCustomers, nOrders int) error {
	if err := writeFile(filepath.Join(dir, "customers.csv"), func(w *bufio.Writer) {
		r := rand.New(rand.NewPCG(1, 2))
		base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
		w.WriteString("id,name,country,created_at\n")
		for i := 1; i <= nCustomers; i++ {
			fmt.Fprintf(w, "%d,customer %d,%s,%s\n", i, i, countries[r.IntN(len(countries))],
				base.Add(time.Duration(r.IntN(365*24))*time.Hour).Format(time.RFC3339))
		}
	}); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "orders.jsonl"), func(w *bufio.Writer) {
		r := rand.New(rand.NewPCG(3, 4))
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 1; i <= nOrders; i++ {
			fmt.Fprintf(w, `{"id":%d,"customer_id":%d,"amount":%d.%02d,"status":%q,"ordered_at":%q}`+"\n",
				i, 1+r.IntN(nCustomers), 1+r.IntN(999), r.IntN(100), statuses[r.IntN(len(statuses))],
				base.Add(time.Duration(r.IntN(365*24*60))*time.Minute).Format(time.RFC3339))
		}
	})
}

func writeFile(path string, fill func(*bufio.Writer)) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
