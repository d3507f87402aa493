package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
)

func TestBadConfigListsEveryPath(t *testing.T) {
	src := New()
	cases := []struct {
		name   string
		config string
		paths  []string
	}{
		{"wrong types", `{"host": 5, "port": "x", "database": "d", "username": "u", "schemas": []}`, []string{"$.host", "$.port", "$.schemas"}},
		{"bad ssl mode and method", `{"url": "postgres://h/d", "ssl_mode": {"mode": "sometimes"}, "replication_method": {"method": "CDC"}}`, []string{"$.ssl_mode.mode", "$.replication_method.replication_slot", "$.replication_method.publication"}},
		{"nothing to connect to", `{"schemas": ["public"]}`, []string{"$.url", "$.host", "$.database", "$.username"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, call := range []func() error{
				func() error { _, err := src.Check(context.Background(), json.RawMessage(tc.config)); return err },
				func() error { _, err := src.Discover(context.Background(), json.RawMessage(tc.config)); return err },
				func() error {
					_, err := src.Read(context.Background(), json.RawMessage(tc.config), &airbyte.ConfiguredCatalog{}, nil)
					return err
				},
			} {
				err := call()
				var ce *airbyte.ConfigError
				if !errors.As(err, &ce) || !errors.Is(err, airbyte.ErrInvalidConfig) {
					t.Fatalf("got %v, want *airbyte.ConfigError", err)
				}
				got := map[string]bool{}
				for _, p := range ce.Problems {
					got[p.Path] = true
				}
				for _, p := range tc.paths {
					if !got[p] {
						t.Errorf("no problem at %s in %v", p, ce.Problems)
					}
				}
			}
		})
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	src := New()
	cfg := `{"host": "127.0.0.1", "port": 1, "database": "d", "username": "u", "password": "s3cr3t-pw"}`
	st, err := src.Check(context.Background(), json.RawMessage(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != airbyte.StatusFailed || strings.Contains(st.Message, "s3cr3t-pw") || st.Message == "" {
		t.Fatalf("status %+v", st)
	}
	_, err = src.Discover(context.Background(), json.RawMessage(cfg))
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("discover error %v", err)
	}
}

func TestCheck(t *testing.T) {
	db := newTestDB(t)
	src := New()
	st, err := src.Check(context.Background(), db.config(t, nil))
	if err != nil || st.Status != airbyte.StatusSucceeded {
		t.Fatalf("check: %+v, %v", st, err)
	}
	st, err = src.Check(context.Background(), db.config(t, map[string]any{"schemas": []string{db.schema, "no_such_schema_x"}}))
	if err != nil || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, `"no_such_schema_x" does not exist`) {
		t.Fatalf("check with a missing schema: %+v, %v", st, err)
	}
	// The same server through the separate connection fields.
	u, err := url.Parse(db.url)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]any{"host": u.Hostname(), "port": 5432, "database": strings.TrimPrefix(u.Path, "/"),
		"username": u.User.Username(), "schemas": []string{db.schema}, "ssl_mode": map[string]any{"mode": "disable"},
		"jdbc_url_params": "application_name=dataops_test&connect_timeout=5"}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		fields["port"] = p
	}
	raw, _ := json.Marshal(fields)
	st, err = src.Check(context.Background(), raw)
	if err != nil || st.Status != airbyte.StatusSucceeded {
		t.Fatalf("check with host/port/database fields: %+v, %v", st, err)
	}
	cdc := map[string]any{"method": "CDC", "replication_slot": randName("slot_"), "publication": randName("pub_")}
	st, err = src.Check(context.Background(), db.config(t, map[string]any{"replication_method": cdc}))
	if err != nil || st.Status != airbyte.StatusSucceeded {
		t.Fatalf("CDC check: %+v, %v", st, err)
	}
}

func TestMissingStreamIsNamed(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("present")+" (id int PRIMARY KEY)")
	src := New()
	cfg := db.config(t, nil)
	cat := &airbyte.ConfiguredCatalog{Streams: []airbyte.ConfiguredStream{
		{Stream: airbyte.Stream{Name: "present", Namespace: db.schema}, SyncMode: airbyte.FullRefresh},
		{Stream: airbyte.Stream{Name: "absent", Namespace: db.schema}, SyncMode: airbyte.FullRefresh},
	}}
	_, err := src.Read(context.Background(), cfg, cat, nil)
	var nf *StreamNotFoundError
	if !errors.As(err, &nf) || nf.Stream.Name != "absent" || !errors.Is(err, ErrInvalidCatalog) || !strings.Contains(err.Error(), db.schema+".absent") {
		t.Fatalf("got %v, want StreamNotFoundError naming %s.absent", err, db.schema)
	}
	cat.Streams = []airbyte.ConfiguredStream{{Stream: airbyte.Stream{Name: "present", Namespace: db.schema}, SyncMode: airbyte.Incremental, CursorField: []string{"nope"}}}
	_, err = src.Read(context.Background(), cfg, cat, nil)
	if !errors.Is(err, ErrInvalidCatalog) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("missing cursor column: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	src, err := airbyte.NewSource("postgres")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*Source); !ok {
		t.Fatalf("airbyte.NewSource(postgres) = %T", src)
	}
}
