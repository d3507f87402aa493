package staging_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/airbyte/source/postgres"
	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// jsonOnlySource hides the typed records of its source's read streams.
type jsonOnlySource struct{ airbyte.Source }

type jsonOnlyStream struct{ airbyte.ReadStream }

func (s jsonOnlySource) Read(ctx context.Context, cfg json.RawMessage, cat *airbyte.ConfiguredCatalog, st []airbyte.StateMessage) (airbyte.ReadStream, error) {
	rs, err := s.Source.Read(ctx, cfg, cat, st)
	if err != nil {
		return nil, err
	}
	return jsonOnlyStream{rs}, nil
}

// sourceSchema creates a schema of its own, named prefix and a time, in
// the test PostgreSQL database, runs the statements stmts returns (q quotes
// a table of the schema) in it, drops it when the test ends and returns the
// PostgreSQL source's config for it.
func sourceSchema(t *testing.T, prefix string, stmts func(q func(table string) string) []string) json.RawMessage {
	t.Helper()
	pgURL := testenv.PostgresURL(t)
	ctx := context.Background()
	pg, err := warehouse.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	src := prefix + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Cleanup(func() {
		if pg, err := warehouse.Open(context.Background(), pgURL); err == nil {
			_ = pg.DropSchema(context.Background(), src, true)
			pg.Close()
		}
	})
	q := func(table string) string { return pg.Dialect().QuoteRelation(warehouse.Rel(src, table)) }
	for _, stmt := range append([]string{"CREATE SCHEMA " + pg.Dialect().QuoteIdentifier(src)}, stmts(q)...) {
		if _, err := pg.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	cfg, _ := json.Marshal(map[string]any{"url": pgURL, "schemas": []string{src}})
	return cfg
}

// The PostgreSQL source's typed records land exactly as its JSON records
// do: the same table is synced both ways and the two copies are compared
// value by value, on DuckDB and on PostgreSQL. 3003 rows: the typed
// records of the columnar path are released and their blocks (256 records)
// reused many times over.
func TestTypedRecordsLandAsJSON(t *testing.T) {
	ctx := context.Background()
	cfg := sourceSchema(t, "staging_typed_src_", func(q func(string) string) []string {
		return []string{
			"CREATE TABLE " + q("things") + ` (id bigint PRIMARY KEY, i2 smallint, i4 integer, n numeric(12,2), big numeric,
				r real, d double precision, b boolean, t text, c char(3), dt date, ts timestamp, tstz timestamptz,
				tm time, u uuid, jb jsonb, ai integer[], iv interval, by bytea)`,
			"INSERT INTO " + q("things") + ` SELECT i, (i % 100)::smallint, i * 7, i / 3.0, 1e30 + i, i / 4.0, i / 3.0, i % 2 = 0,
				'name "' || i || E'"\n☃', 'ab', date '2024-01-01' + i, timestamp '2024-01-01 12:00:00.123456' + i * interval '1 minute',
				timestamptz '2024-01-01 00:00:00+02' + i * interval '1 second', time '10:00' + i * interval '1 second',
				md5(i::text)::uuid, jsonb_build_object('i', i), ARRAY[i, NULL], i * interval '1 hour', '\xdeadbeef'::bytea
				FROM generate_series(1, 3000) AS s(i)`,
			"INSERT INTO " + q("things") + " (id) VALUES (10000)",
			"INSERT INTO " + q("things") + ` (id, n, d, dt, ts) VALUES (10001, 'NaN', 'Infinity', '0044-03-15 BC', 'infinity')`,
			"INSERT INTO " + q("things") + ` (id, dt, ts, tstz) VALUES (10002, '12024-01-01', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999+00')`,
			// Without the time column, every column of the stream has a
			// column form: DuckDB takes this one column by column.
			"CREATE TABLE " + q("things_nt") + " AS SELECT id, i2, i4, n, big, r, d, b, t, c, dt, ts, tstz, u, jb, ai, iv, by FROM " + q("things"),
			"ALTER TABLE " + q("things_nt") + " ADD PRIMARY KEY (id)",
		}
	})
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		var cols []string
		for name, s := range map[string]airbyte.Source{"typed": postgres.New(postgres.WithChunkSize(70)), "json": jsonOnlySource{postgres.New(postgres.WithChunkSize(70))}} {
			o := staging.SyncOptions{Config: cfg, Streams: []string{"things", "things_nt"}, Options: opts(schema + "_" + name)}
			res, err := staging.Sync(ctx, s, w, o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, r := range res.Streams {
				if got := r.Records; got != 3003 {
					t.Fatalf("%s: stream %s: %d records, want 3003", name, r.Stream.Name, got)
				}
			}
			t.Cleanup(func() {
				_ = w.DropSchema(context.Background(), schema+"_"+name, true)
				_ = w.DropSchema(context.Background(), schema+"_"+name+"_state", true)
			})
			if cols == nil {
				cc, err := w.Columns(ctx, warehouse.Rel(schema+"_"+name, "things"))
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cc {
					if c.Name != staging.ColRawID && c.Name != staging.ColExtractedAt {
						cols = append(cols, "CAST("+w.Dialect().QuoteIdentifier(c.Name)+" AS VARCHAR)")
					}
				}
			}
		}
		for _, table := range []string{"things", "things_nt"} {
			tcols := cols
			if table == "things_nt" {
				tcols = slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return strings.Contains(c, `"tm"`) })
			}
			list := strings.Join(tcols, ", ")
			rel := func(name string) string {
				return w.Dialect().QuoteRelation(warehouse.Rel(schema+"_"+name, table))
			}
			for _, pair := range [][2]string{{"typed", "json"}, {"json", "typed"}} {
				var n int64
				query := "SELECT count(*) FROM (SELECT " + list + " FROM " + rel(pair[0]) + " EXCEPT SELECT " + list + " FROM " + rel(pair[1]) + ") AS d"
				if err := w.Get(ctx, &n, query); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
				if n != 0 {
					t.Errorf("%s: %d rows of the %s copy are not in the %s copy", table, n, pair[0], pair[1])
				}
			}
			// Values that have no JSON form were nulled with a change either way.
			var meta string
			if err := w.Get(ctx, &meta, "SELECT CAST("+w.Dialect().QuoteIdentifier(staging.ColMeta)+" AS VARCHAR) FROM "+rel("typed")+" WHERE id = 10001"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(meta, "SOURCE_SERIALIZATION_ERROR") {
				t.Errorf("%s: meta of the row with NaN and infinity: %s", table, meta)
			}
		}
	})
}

// TestTypedRawIDs: the columnar path writes each _airbyte_raw_id of a typed
// record as its 16 bytes into a UUID column and as its canonical text into
// a VARCHAR one (a table the airbyte layout made); either way the ids read
// back as distinct canonical UUIDs, on DuckDB and PostgreSQL.
func TestTypedRawIDs(t *testing.T) {
	ctx := context.Background()
	cfg := sourceSchema(t, "staging_rawid_src_", func(q func(string) string) []string {
		return []string{
			"CREATE TABLE " + q("ids") + " AS SELECT i::bigint AS id, 'v' || i AS v FROM generate_series(1, 700) AS s(i)",
			"ALTER TABLE " + q("ids") + " ADD PRIMARY KEY (id)",
		}
	})
	canonical := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		isDuck := w.Dialect().Name() == "duckdb"
		check := func(o staging.Options, want int, native string) {
			t.Helper()
			var ids []string
			d := w.Dialect()
			query := "SELECT CAST(" + d.QuoteIdentifier(staging.ColRawID) + " AS VARCHAR) FROM " + d.QuoteRelation(warehouse.Rel(o.Schema, "ids"))
			if err := w.Select(ctx, &ids, query); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if !canonical.MatchString(id) {
					t.Fatalf("%s: raw id %q is not a canonical UUID", o.Schema, id)
				}
				seen[id] = true
			}
			if len(ids) != want || len(seen) != want {
				t.Fatalf("%s: %d rows, %d distinct raw ids, want %d", o.Schema, len(ids), len(seen), want)
			}
			if isDuck {
				if got := rawIDNative(t, w, o.Schema, "ids"); got != native {
					t.Fatalf("%s: raw id is %s, want %s", o.Schema, got, native)
				}
			}
		}
		sync := func(o staging.Options) {
			t.Helper()
			t.Cleanup(func() {
				_ = w.DropSchema(context.Background(), o.Schema, true)
				_ = w.DropSchema(context.Background(), o.StateSchema, true)
			})
			so := staging.SyncOptions{Config: cfg, Streams: []string{"ids"}, Options: o}
			if _, err := staging.Sync(ctx, postgres.New(postgres.WithChunkSize(100)), w, so); err != nil {
				t.Fatal(err)
			}
		}
		const uuid, text = "UUID", "VARCHAR"
		// A new table of the direct layout: UUID ids on DuckDB.
		o := opts(schema + "_ids")
		sync(o)
		check(o, 700, uuid)
		// A table the airbyte layout made: VARCHAR ids, which the direct
		// layout's typed load (an overwrite: into a table aside of the
		// same type) writes as text.
		a := opts(schema + "_vids")
		a.Layout, a.RawSchema = staging.LayoutAirbyte, schema+"_vids_raw"
		t.Cleanup(func() { _ = w.DropSchema(context.Background(), a.RawSchema, true) })
		sync(a)
		check(a, 700, text)
		dir := opts(schema + "_vids")
		dir.Connection = "direct"
		sync(dir)
		check(dir, 700, text)
	})
}
