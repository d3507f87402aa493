package staging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dataopskit/dataops/airbyte/source/file"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

// Sync extracts every stream of a source and lands it in the warehouse,
// resuming from the state committed by the previous sync: the second sync
// finds no new file and lands nothing.
func ExampleSync() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "staging-example-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "users.csv"), []byte("id,name\n1,ada\n2,grace\n"), 0o644)
	config, _ := json.Marshal(map[string]any{"base_dir": dir, "streams": []any{
		map[string]any{"name": "users", "globs": []string{"*.csv"}, "format": map[string]any{"filetype": "csv"}},
	}})

	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	opts := staging.SyncOptions{Config: config, Options: staging.Options{Schema: "raw", Logger: slog.New(slog.DiscardHandler)}}
	for range 2 {
		res, err := staging.Sync(ctx, file.New(), w, opts)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Stream("users").Table, res.Stream("users").Records, "records")
	}
	var n int
	_ = w.Get(ctx, &n, "SELECT count(*) FROM raw.users")
	fmt.Println(n, "rows")
	// Output:
	// raw.users 2 records
	// raw.users 0 records
	// 2 rows
}

// Options.Parallelism lets streams that the source checkpoints one by one
// (STREAM states) be written by several transactions at once, each
// committing its streams' rows with their states. The first sync learns
// from its first commit that the source sends STREAM states; a later sync
// knows it from the committed states and writes in parallel from the start.
func ExampleOptions_parallelism() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "staging-example-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "users.csv"), []byte("id,name\n1,ada\n2,grace\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "orders.csv"), []byte("id,amount\n10,9.5\n11,20\n12,7.25\n"), 0o644)
	config, _ := json.Marshal(map[string]any{"base_dir": dir, "streams": []any{
		map[string]any{"name": "users", "globs": []string{"users.csv"}, "format": map[string]any{"filetype": "csv"}},
		map[string]any{"name": "orders", "globs": []string{"orders.csv"}, "format": map[string]any{"filetype": "csv"}},
	}})

	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	opts := staging.SyncOptions{Config: config, Options: staging.Options{
		Schema:      "raw",
		Parallelism: 2, // up to two transactions at once
		Logger:      slog.New(slog.DiscardHandler),
	}}
	res, err := staging.Sync(ctx, file.New(), w, opts)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Streams {
		fmt.Println(s.Table, s.Records, "records")
	}
	// Output:
	// raw.users 2 records
	// raw.orders 3 records
}
