package airbyte_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/dataopskit/dataops/airbyte"
)

func ExampleDecoder() {
	out := strings.NewReader(`Starting source...
{"type":"RECORD","record":{"stream":"users","data":{"id":1,"name":"Ada"},"emitted_at":1700000000000}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"id":1}}}}
`)
	dec := airbyte.NewDecoder(out)
	for m, err := range dec.Messages() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		switch m.Type {
		case airbyte.TypeLog:
			fmt.Printf("log %s: %s\n", m.Log.Level, m.Log.Message)
		case airbyte.TypeRecord:
			var user struct{ Name string }
			if err := m.Record.DecodeData(&user); err != nil {
				fmt.Println("error:", err)
				return
			}
			fmt.Printf("record %s: %s (raw %s)\n", m.Record.Stream, user.Name, m.Record.Data)
		case airbyte.TypeState:
			fmt.Printf("state of %s: %s\n", m.State.Stream.StreamDescriptor, m.State.Stream.StreamState)
		}
	}
	// Output:
	// log INFO: Starting source...
	// record users: Ada (raw {"id":1,"name":"Ada"})
	// state of users: {"id":1}
}

func ExampleEncoder() {
	enc := airbyte.NewEncoder(os.Stdout)
	_ = enc.Encode(&airbyte.Message{Type: airbyte.TypeRecord, Record: &airbyte.RecordMessage{
		Stream: "users", Data: json.RawMessage(`{"id":1}`), EmittedAt: 1700000000000,
	}})
	// Output:
	// {"type":"RECORD","record":{"stream":"users","data":{"id":1},"emitted_at":1700000000000}}
}

func ExampleValidateConfig() {
	spec := &airbyte.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{
		"type": "object",
		"required": ["host", "password"],
		"properties": {
			"host": {"type": "string"},
			"port": {"type": "integer"},
			"password": {"type": "string", "airbyte_secret": true, "minLength": 8}
		}}`)}
	err := airbyte.ValidateConfig(spec, json.RawMessage(`{"port":"5432","password":"hunter2"}`))
	fmt.Println(err)
	// Output:
	// invalid config: $.host: required property is missing; $.password: secret value does not satisfy "minLength" (value not shown); $.port: got string, want integer
}

func ExampleNewProcessSource() {
	ctx := context.Background()
	src := airbyte.NewProcessSource(airbyte.Command{Path: "python", Args: []string{"-m", "source_faker"}},
		airbyte.WithLogger(slog.Default()),
		airbyte.WithControlHandler(func(_ context.Context, m *airbyte.ControlMessage) {
			// m.ConnectorConfig.Config is the new config to persist.
		}))
	config := json.RawMessage(`{"count": 10}`)
	catalog, err := src.Discover(ctx, config)
	if err != nil {
		fmt.Println(err) // a *airbyte.ConfigError or *airbyte.ConnectorError
		return
	}
	configured := &airbyte.ConfiguredCatalog{}
	for _, s := range catalog.Streams {
		configured.Streams = append(configured.Streams, airbyte.ConfiguredStream{
			Stream: s, SyncMode: airbyte.FullRefresh, DestinationSyncMode: airbyte.Append,
		})
	}
	rs, err := src.Read(ctx, config, configured, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rs.Close()
	for m, err := range rs.Messages() {
		if err != nil {
			fmt.Println(err)
			return
		}
		if m.Type == airbyte.TypeRecord {
			fmt.Println(m.Record.Stream, string(m.Record.Data))
		}
	}
}
