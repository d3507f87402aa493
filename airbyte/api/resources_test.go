package api_test

import (
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"testing"

	"github.com/dataopskit/dataops/airbyte/api"
)

// TestResources walks every resource endpoint: create, get, list, update,
// replace, delete, with every request and response checked against the
// spec by the server.
func TestResources(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	ctx := t.Context()
	if err := c.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}

	ws, err := c.CreateWorkspace(ctx, api.WorkspaceCreate{Name: "analytics"})
	if err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	if ws.ID == "" || ws.Name != "analytics" {
		t.Fatalf("workspace = %+v", ws)
	}
	if ws, err = c.UpdateWorkspace(ctx, ws.ID, api.WorkspaceUpdate{Name: "analytics-prod"}); err != nil || ws.Name != "analytics-prod" {
		t.Fatalf("UpdateWorkspace = %+v, %v", ws, err)
	}

	src, err := c.CreateSource(ctx, api.SourceCreate{Name: "pg", WorkspaceID: ws.ID,
		Configuration: map[string]any{"sourceType": "postgres", "host": "db", "port": 5432}})
	if err != nil {
		t.Fatalf("CreateSource: %v", err)
	}
	if src.SourceType != "postgres" || src.WorkspaceID != ws.ID {
		t.Errorf("source = %+v", src)
	}
	var cfg map[string]any
	if err := json.Unmarshal(src.Configuration, &cfg); err != nil || cfg["host"] != "db" {
		t.Errorf("source configuration = %s (%v)", src.Configuration, err)
	}
	if src, err = c.UpdateSource(ctx, src.ID, api.SourceUpdate{Name: "pg-main"}); err != nil || src.Name != "pg-main" {
		t.Errorf("UpdateSource = %+v, %v", src, err)
	}
	if src, err = c.ReplaceSource(ctx, src.ID, "pg-replaced", map[string]any{"sourceType": "postgres", "host": "db2"}); err != nil || src.Name != "pg-replaced" || !json.Valid(src.Configuration) {
		t.Errorf("ReplaceSource = %+v, %v", src, err)
	}

	dst, err := c.CreateDestination(ctx, api.DestinationCreate{Name: "wh", WorkspaceID: ws.ID,
		Configuration: map[string]any{"destinationType": "duckdb", "destination_path": "/tmp/x.duckdb"}})
	if err != nil {
		t.Fatalf("CreateDestination: %v", err)
	}
	if dst.DestinationType != "duckdb" {
		t.Errorf("destination = %+v", dst)
	}
	if dst, err = c.UpdateDestination(ctx, dst.ID, api.DestinationUpdate{Name: "warehouse"}); err != nil || dst.Name != "warehouse" {
		t.Errorf("UpdateDestination = %+v, %v", dst, err)
	}
	if dst, err = c.ReplaceDestination(ctx, dst.ID, "wh2", map[string]any{"destinationType": "duckdb"}); err != nil || dst.Name != "wh2" {
		t.Errorf("ReplaceDestination = %+v, %v", dst, err)
	}

	streams, err := c.StreamProperties(ctx, src.ID, dst.ID, true)
	if err != nil || len(streams) == 0 || streams[0].StreamName != "records" {
		t.Fatalf("StreamProperties = %+v, %v", streams, err)
	}
	srv.SetStreams(src.ID, []api.StreamProperties{{StreamName: "orders", SyncModes: []string{"incremental_deduped_history"}}})
	if streams, err = c.StreamProperties(ctx, src.ID, "", false); err != nil || streams[0].StreamName != "orders" {
		t.Errorf("StreamProperties after SetStreams = %+v, %v", streams, err)
	}

	conn, err := c.CreateConnection(ctx, api.ConnectionCreate{
		Name: "pg → wh", SourceID: src.ID, DestinationID: dst.ID,
		Schedule:       &api.Schedule{ScheduleType: "cron", CronExpression: "0 0 * * * ?"},
		Configurations: &api.StreamConfigurations{Streams: []api.StreamConfiguration{{Name: "orders", SyncMode: "incremental_deduped_history", CursorField: []string{"updated_at"}, PrimaryKey: [][]string{{"id"}}}}},
	})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if conn.Schedule.ScheduleType != "cron" || len(conn.Configurations.Streams) != 1 || conn.WorkspaceID != ws.ID {
		t.Errorf("connection = %+v", conn)
	}
	if conn, err = c.UpdateConnection(ctx, conn.ID, api.ConnectionUpdate{Status: "inactive"}); err != nil || conn.Status != "inactive" {
		t.Errorf("UpdateConnection = %+v, %v", conn, err)
	}
	got, err := c.GetConnection(ctx, conn.ID)
	if err != nil || got.Status != "inactive" || got.Name != "pg → wh" {
		t.Errorf("GetConnection = %+v, %v", got, err)
	}

	// Lists, filtered by workspace.
	other := srv.AddConnection("other")
	var conns []string
	for cn, err := range c.Connections(ctx, &api.ListOptions{WorkspaceIDs: []string{ws.ID}}) {
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, cn.ID)
	}
	if !slices.Equal(conns, []string{conn.ID}) {
		t.Errorf("connections in workspace = %v, want [%s]", conns, conn.ID)
	}
	all := 0
	for _, err := range c.Connections(ctx, &api.ListOptions{PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		all++
	}
	if all != 2 {
		t.Errorf("all connections = %d, want 2 (%s and %s)", all, conn.ID, other.ID)
	}
	if n := len(collect(t, c.Sources(ctx, &api.ListOptions{WorkspaceIDs: []string{ws.ID}, IncludeDeleted: true}))); n != 1 {
		t.Errorf("sources in workspace = %d, want 1", n)
	}
	if n := len(collect(t, c.Destinations(ctx, nil))); n != 2 {
		t.Errorf("destinations = %d, want 2", n)
	}
	if n := len(collect(t, c.Workspaces(ctx, &api.ListOptions{PageSize: 1}))); n != 2 {
		t.Errorf("workspaces = %d, want 2", n)
	}

	// Gets and deletes.
	if s, err := c.GetSource(ctx, src.ID); err != nil || s.Name != "pg-replaced" {
		t.Errorf("GetSource = %+v, %v", s, err)
	}
	if d, err := c.GetDestination(ctx, dst.ID); err != nil || d.Name != "wh2" {
		t.Errorf("GetDestination = %+v, %v", d, err)
	}
	if w, err := c.GetWorkspace(ctx, ws.ID); err != nil || w.Name != "analytics-prod" {
		t.Errorf("GetWorkspace = %+v, %v", w, err)
	}
	for name, del := range map[string]func() error{
		"connection":  func() error { return c.DeleteConnection(ctx, conn.ID) },
		"source":      func() error { return c.DeleteSource(ctx, src.ID) },
		"destination": func() error { return c.DeleteDestination(ctx, dst.ID) },
		"workspace":   func() error { return c.DeleteWorkspace(ctx, ws.ID) },
	} {
		if err := del(); err != nil {
			t.Errorf("delete %s: %v", name, err)
		}
	}
	if _, err := c.GetConnection(ctx, conn.ID); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("GetConnection after delete: %v", err)
	}
	if _, err := c.GetSource(ctx, src.ID); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("GetSource after delete: %v", err)
	}
	if _, err := c.GetSource(ctx, ""); err == nil {
		t.Error("GetSource(\"\") succeeded")
	}
}

// collect drains an iterator, failing the test on an error.
func collect[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}
