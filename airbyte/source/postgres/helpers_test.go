package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// testDB is a random schema on the test server, dropped after the test.
type testDB struct {
	url    string
	schema string
	conn   *pgx.Conn
}

func randName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func newTestDB(t testing.TB) *testDB {
	t.Helper()
	u := testenv.PostgresURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	db := &testDB{url: u, schema: randName("src_"), conn: conn}
	db.exec(t, "CREATE SCHEMA "+quoteIdent(db.schema))
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+quoteIdent(db.schema)+" CASCADE")
		conn.Close(context.Background())
	})
	return db
}

func (db *testDB) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := db.conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (db *testDB) rel(name string) string { return pgx.Identifier{db.schema, name}.Sanitize() }

// config returns a config for the schema, with extra members merged in.
func (db *testDB) config(t testing.TB, extra map[string]any) json.RawMessage {
	t.Helper()
	m := map[string]any{"url": db.url, "schemas": []string{db.schema}}
	for k, v := range extra {
		m[k] = v
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// configured builds a configured catalog from the discovered streams named.
func configured(t testing.TB, cat *airbyte.Catalog, mode airbyte.SyncMode, cursor []string, names ...string) *airbyte.ConfiguredCatalog {
	t.Helper()
	out := &airbyte.ConfiguredCatalog{}
	for _, n := range names {
		found := false
		for _, s := range cat.Streams {
			if s.Name == n {
				out.Streams = append(out.Streams, airbyte.ConfiguredStream{Stream: s, SyncMode: mode, CursorField: cursor, DestinationSyncMode: airbyte.Append})
				found = true
			}
		}
		if !found {
			t.Fatalf("stream %s not discovered", n)
		}
	}
	return out
}

// result is what a read produced.
type result struct {
	records []*airbyte.RecordMessage
	states  []*airbyte.StateMessage
}

// readAll runs a read to its end (or until stop returns true after a
// message) and fails the test on error.
func readAll(t testing.TB, src *Source, cfg json.RawMessage, cat *airbyte.ConfiguredCatalog, state []airbyte.StateMessage, stop func(*airbyte.Message) bool) result {
	t.Helper()
	rs, err := src.Read(context.Background(), cfg, cat, state)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var res result
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case airbyte.TypeRecord:
			res.records = append(res.records, m.Record)
		case airbyte.TypeState:
			res.states = append(res.states, m.State)
		}
		if stop != nil && stop(m) {
			break
		}
	}
	return res
}

func discover(t testing.TB, src *Source, cfg json.RawMessage) *airbyte.Catalog {
	t.Helper()
	cat, err := src.Discover(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}
