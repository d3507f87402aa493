package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/airbyte/source/postgres"
)

// Discover the tables of a schema and read them all by full refresh. (Not
// run as a test: it needs a server.)
func Example() {
	ctx := context.Background()
	src := postgres.New()
	cfg := json.RawMessage(`{"url": "postgres://postgres@127.0.0.1:5432/test", "schemas": ["public"]}`)
	cat, err := src.Discover(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	configured := &airbyte.ConfiguredCatalog{}
	for _, st := range cat.Streams {
		configured.Streams = append(configured.Streams, airbyte.ConfiguredStream{
			Stream: st, SyncMode: airbyte.FullRefresh, DestinationSyncMode: airbyte.Overwrite,
		})
	}
	rs, err := src.Read(ctx, cfg, configured, nil)
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
			fmt.Printf("%s: %s\n", msg.Record.Stream, msg.Record.Data)
		case airbyte.TypeState:
			// Store the records before it, then the state, then:
			_ = rs.Ack(ctx, msg.State)
		}
	}
}

// The spec's config properties.
func ExampleSource_Spec() {
	spec, err := postgres.New().Spec(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(spec.ConnectionSpecification, &schema); err != nil {
		log.Fatal(err)
	}
	fmt.Println(slices.Sorted(maps.Keys(schema.Properties)))
	// Output: [database host jdbc_url_params password port replication_method schemas ssl_mode url username]
}

// An invalid config lists every failing path (for the CDC branch, the
// other replication methods' branches say what they expected).
func ExampleParseConfig() {
	_, err := postgres.ParseConfig(json.RawMessage(`{"host": "db", "port": "5432", "database": "app", "username": "etl", "replication_method": {"method": "CDC", "publication": "p"}}`))
	var ce *airbyte.ConfigError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Println(p.Path + ": " + p.Message)
		}
	}
	// Output:
	// $.port: got string, want integer
	// $.replication_method.method: value must be 'Standard'
	// $.replication_method.method: value must be 'Xmin'
	// $.replication_method.replication_slot: required property is missing
}
