package file_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/airbyte/source/file"
)

// configure turns a discovered catalog into a configured one.
func configure(cat *airbyte.Catalog, mode airbyte.SyncMode) *airbyte.ConfiguredCatalog {
	cc := &airbyte.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		cc.Streams = append(cc.Streams, airbyte.ConfiguredStream{Stream: s, SyncMode: mode, DestinationSyncMode: airbyte.Append})
	}
	return cc
}

// writeCSV writes a file with a fixed modification time, so the output
// below does not change.
func writeCSV(dir, name, content string, mtime time.Time) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		log.Fatal(err)
	}
}

// Discover a CSV stream, then read it: a RECORD per row, typed by the
// inferred schema, and a STATE after the file.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "filesource")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	writeCSV(dir, "orders.csv", "id,amount,paid,placed_on\n1,9.99,true,2026-01-02\n2,15,false,\n", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

	cfg := json.RawMessage(fmt.Sprintf(`{"base_dir": %q, "streams": [
		{"name": "orders", "globs": ["*.csv"], "format": {"filetype": "csv"}}]}`, dir))
	src := file.New()
	cat, err := src.Discover(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	rs, err := src.Read(ctx, cfg, configure(cat, airbyte.Incremental), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rs.Close()
	for msg, err := range rs.Messages() {
		if err != nil {
			log.Fatal(err)
		}
		switch msg.Type {
		case airbyte.TypeRecord:
			fmt.Println(string(msg.Record.Data))
		case airbyte.TypeState:
			fmt.Println("STATE", string(msg.State.Stream.StreamState))
		}
	}
	// Output:
	// {"id":1,"amount":9.99,"paid":true,"placed_on":"2026-01-02","_ab_source_file_url":"orders.csv","_ab_source_file_last_modified":"2026-01-02T03:04:05.000000Z"}
	// {"id":2,"amount":15,"paid":false,"placed_on":null,"_ab_source_file_url":"orders.csv","_ab_source_file_last_modified":"2026-01-02T03:04:05.000000Z"}
	// STATE {"history":{"orders.csv":{"last_modified":"2026-01-02T03:04:05Z","size":60}},"_ab_source_file_last_modified":"2026-01-02T03:04:05.000000Z_orders.csv"}
}

// An incremental read that starts from the last state reads only the files
// that are new or changed since.
func Example_incremental() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "filesource")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	writeCSV(dir, "day1.csv", "id\n1\n2\n", day)

	cfg := json.RawMessage(fmt.Sprintf(`{"base_dir": %q, "streams": [
		{"name": "events", "globs": ["day*.csv"], "format": {"filetype": "csv"}}]}`, dir))
	src := file.New()
	cat, err := src.Discover(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	cc := configure(cat, airbyte.Incremental)

	var state []airbyte.StateMessage
	sync := func() {
		rs, err := src.Read(ctx, cfg, cc, state)
		if err != nil {
			log.Fatal(err)
		}
		defer rs.Close()
		records := 0
		for msg, err := range rs.Messages() {
			if err != nil {
				log.Fatal(err)
			}
			switch msg.Type {
			case airbyte.TypeRecord:
				records++
			case airbyte.TypeState:
				state = []airbyte.StateMessage{*msg.State} // a real pipeline stores it with the data
			}
		}
		fmt.Println("records read:", records)
	}
	sync()
	writeCSV(dir, "day2.csv", "id\n3\n", day.AddDate(0, 0, 1))
	sync()
	sync()
	// Output:
	// records read: 2
	// records read: 1
	// records read: 0
}
