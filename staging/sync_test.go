package staging_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

func TestSync(t *testing.T) {
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		ctx := context.Background()
		src := &genSource{streams: []genStream{{name: "a", n: 30}, {name: "b", n: 40}, {name: "c", n: 50}}, stateEvery: 10}
		o := staging.SyncOptions{Options: opts(schema), Streams: []string{"a", "c"}}
		res, err := staging.Sync(ctx, src, w, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Streams) != 2 || res.Stream("a").Records != 30 || res.Stream("c").Records != 50 || res.Stream("b") != nil {
			t.Fatalf("results %+v", res.Streams)
		}
		if n := count(t, w, schema, "c", ""); n != 50 {
			t.Fatalf("c: %d rows", n)
		}
		if _, err := w.Relation(ctx, warehouse.Rel(schema, "b")); err == nil {
			t.Fatal("stream b was synced though not asked for")
		}
		o.Streams = []string{"a", "nope"}
		if _, err := staging.Sync(ctx, src, w, o); err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Fatalf("unknown stream: %v", err)
		}
	})
}

func TestConfigure(t *testing.T) {
	cat := &airbyte.Catalog{Streams: []airbyte.Stream{
		{Name: "cdc", SupportedSyncModes: []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental}, SourceDefinedCursor: true, SourceDefinedPrimaryKey: [][]string{{"id"}}},
		{Name: "events", SupportedSyncModes: []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental}, DefaultCursorField: []string{"at"}},
		{Name: "dim", SupportedSyncModes: []airbyte.SyncMode{airbyte.FullRefresh}, SourceDefinedPrimaryKey: [][]string{{"id"}}},
	}}
	cc, err := staging.Configure(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range cc.Streams {
		got[s.Stream.Name] = string(s.SyncMode) + "/" + string(s.DestinationSyncMode)
	}
	want := map[string]string{"cdc": "incremental/append_dedup", "events": "incremental/append", "dim": "full_refresh/overwrite"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
}
