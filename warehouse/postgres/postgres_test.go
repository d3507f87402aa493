package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/postgres"
)

// randomName returns a fresh lower-case name with the given prefix.
func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// withParams returns rawURL with the query parameters added.
func withParams(t testing.TB, rawURL string, kv ...string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// testWarehouse opens the test server and creates a schema of its own, named
// randomly, that is dropped when the test ends. Extra URL parameters are
// added to the URL; schema= is set to the new schema.
func testWarehouse(t testing.TB, params ...string) (*warehouse.Warehouse, string) {
	t.Helper()
	base := testenv.PostgresURL(t)
	schema := randomName("dataops_pgtest_")
	ctx := context.Background()
	admin, err := warehouse.Open(ctx, base)
	if err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	if err := admin.CreateSchema(ctx, schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := admin.DropSchema(context.Background(), schema, true); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	w, err := warehouse.Open(ctx, withParams(t, base, append([]string{"schema", schema}, params...)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, schema
}

func TestOpenAndInfo(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	info, err := w.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Engine != "postgres" || info.Database != "test" || info.Schema != schema || !strings.HasPrefix(info.Version, "1") {
		t.Errorf("Info = %+v, want postgres, test, %s", info, schema)
	}
	var version string
	if err := w.Get(ctx, &version, "SHOW server_version"); err != nil || version != info.Version {
		t.Errorf("SHOW server_version = %q (%v), Info.Version %q", version, err, info.Version)
	}
	var num int
	var wal string
	if err := w.Get(ctx, &num, "SELECT current_setting('server_version_num')::int"); err != nil {
		t.Fatal(err)
	}
	if err := w.Get(ctx, &wal, "SHOW wal_level"); err != nil {
		t.Fatal(err)
	}
	want := warehouse.Capabilities{TransactionalDDL: true, Merge: num >= 150000, ChangeStreams: wal == "logical"}
	if got := w.Capabilities(); got != want {
		t.Errorf("Capabilities = %+v, want %+v", got, want)
	}
	if w.Engine().DriverName() != "pgx" || w.Dialect().Name() != "postgres" {
		t.Errorf("DriverName %q, dialect %q", w.Engine().DriverName(), w.Dialect().Name())
	}
}

func TestURLHandling(t *testing.T) {
	base := testenv.PostgresURL(t)
	ctx := context.Background()
	admin, err := warehouse.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var defaultSchema string
	if err := admin.Get(ctx, &defaultSchema, "SELECT current_schema()"); err != nil {
		t.Fatal(err)
	}
	odd := randomName(`Odd "Schema" `)
	if err := admin.CreateSchema(ctx, odd); err != nil {
		t.Fatal(err)
	}
	defer admin.DropSchema(ctx, odd, true)

	cases := []struct {
		name       string
		url        string
		wantSchema string
		wantTZ     string
	}{
		{"no schema", base, defaultSchema, ""},
		{"schema", withParams(t, base, "schema", odd), odd, ""},
		{"postgresql scheme", strings.Replace(withParams(t, base, "schema", odd), "postgres://", "postgresql://", 1), odd, ""},
		{"server setting", withParams(t, base, "schema", odd, "timezone", "Asia/Kathmandu"), odd, "Asia/Kathmandu"},
		{"exec mode", withParams(t, base, "schema", odd, "default_query_exec_mode", "simple_protocol"), odd, ""},
		{"missing schema", withParams(t, base, "schema", "no_such_schema_x"), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := warehouse.Open(ctx, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			// Several connections at once: every one gets the setting.
			err = w.WithTx(ctx, func(tx *warehouse.Tx) error {
				for i := 0; i < 3; i++ {
					info, err := w.Info(ctx)
					if err != nil {
						return err
					}
					if info.Schema != tc.wantSchema {
						t.Errorf("schema %q, want %q", info.Schema, tc.wantSchema)
					}
				}
				info, err := tx.Info(ctx)
				if err != nil {
					return err
				}
				if info.Schema != tc.wantSchema {
					t.Errorf("tx schema %q, want %q", info.Schema, tc.wantSchema)
				}
				if tc.wantTZ != "" {
					var tz string
					if err := tx.Get(ctx, &tz, "SHOW timezone"); err != nil {
						return err
					}
					if tz != tc.wantTZ {
						t.Errorf("timezone %q, want %q", tz, tc.wantTZ)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	// Unqualified names land in the schema of the URL.
	w, err := warehouse.Open(ctx, withParams(t, base, "schema", odd))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.CreateTable(ctx, warehouse.Relation{Name: "t"}, []warehouse.Column{{Name: "a", Type: warehouse.Integer}}, nil); err != nil {
		t.Fatal(err)
	}
	rels, err := admin.Relations(ctx, odd)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 1 || rels[0].Name != "t" || rels[0].Schema != odd {
		t.Errorf("relations of %q = %+v", odd, rels)
	}

	// Pool limits from pgxpool's URL parameters.
	pw, err := warehouse.Open(ctx, withParams(t, base, "pool_max_conns", "3", "pool_min_conns", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := pw.DB().Stats().MaxOpenConnections; got != 3 {
		t.Errorf("pool_max_conns=3: MaxOpenConnections %d", got)
	}
	pw.Close()

	// schema= twice is refused.
	if _, err := warehouse.Open(ctx, base+"&schema=a&schema=b"); err == nil {
		t.Error("two schema parameters: no error")
	}
}

func TestPasswordRedaction(t *testing.T) {
	const secret = "hunter2-secret"
	urls := []string{
		"postgres://postgres:" + secret + "@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",               // closed port
		"postgres://postgres:" + secret + "@no-such-host.invalid:5432/test?sslmode=disable&connect_timeout=2", // wrong host
		"postgresql://postgres:" + secret + "@127.0.0.1:1/test?sslmode=bogus",                                 // parse error
		"postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2&password=" + secret,           // password parameter
		"postgres://postgres:" + secret + "@127.0.0.1:1/test?sslmode=disable&connect_timeout=oops",            // parse error
		"postgres://postgres:" + secret + "@127.0.0.1:1/test?sslmode=disable&default_query_exec_mode=x",       // pgx parse error
		"postgres://postgres:" + secret + "@127.0.0.1:1/test?sslmode=disable&pool_max_conns=-1",               // pgxpool parse error
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, raw := range urls {
		// Through the core, which scrubs too, and through the driver alone.
		if w, err := warehouse.Open(ctx, raw); err == nil {
			w.Close()
			t.Errorf("Open(%s): no error", warehouse.RedactURL(raw))
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("warehouse.Open error shows the password: %v", err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := postgres.Driver{}.Open(ctx, u, warehouse.Config{})
		if err == nil {
			eng.Close()
			t.Errorf("Driver.Open(%s): no error", warehouse.RedactURL(raw))
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Driver.Open error shows the password: %v", err)
		}
		t.Logf("%s → %v", warehouse.RedactURL(raw), err)
	}
}

func TestClassify(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	cols := []warehouse.Column{{Name: "id", Type: warehouse.Integer}}
	rel := warehouse.Rel(schema, "t")
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	role := randomName("dataops_nopriv_")
	if _, err := w.Exec(ctx, "CREATE ROLE "+w.Dialect().QuoteIdentifier(role)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Exec(context.Background(), "DROP ROLE IF EXISTS "+w.Dialect().QuoteIdentifier(role))
	})

	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"duplicate table", func() error { return w.CreateTable(ctx, rel, cols, nil) }, warehouse.ErrAlreadyExists},
		{"duplicate schema", func() error {
			_, err := w.Exec(ctx, "CREATE SCHEMA "+w.Dialect().QuoteIdentifier(schema))
			return err
		}, warehouse.ErrAlreadyExists},
		{"duplicate column", func() error {
			return w.AddColumns(ctx, rel, []warehouse.Column{{Name: "id", Type: warehouse.Integer, Nullable: true}})
		}, warehouse.ErrAlreadyExists},
		{"undefined table", func() error {
			_, err := w.Exec(ctx, "SELECT * FROM "+w.Dialect().QuoteRelation(warehouse.Rel(schema, "nope")))
			return err
		}, warehouse.ErrNotFound},
		{"undefined schema", func() error {
			return w.CreateTable(ctx, warehouse.Rel("no_such_schema_zz", "t"), cols, nil)
		}, warehouse.ErrNotFound},
		{"undefined column", func() error {
			_, err := w.Exec(ctx, "SELECT nope FROM "+w.Dialect().QuoteRelation(rel))
			return err
		}, warehouse.ErrNotFound},
		{"columns of a missing table", func() error {
			_, err := w.Columns(ctx, warehouse.Rel(schema, "nope"))
			return err
		}, warehouse.ErrNotFound},
		{"load into a missing table", func() error {
			_, err := w.Load(ctx, warehouse.Rel(schema, "nope"), nil, rowsOf([]any{int64(1)}))
			return err
		}, warehouse.ErrNotFound},
		{"permission", func() error {
			return w.WithTx(ctx, func(tx *warehouse.Tx) error {
				if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+w.Dialect().QuoteIdentifier(role)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "SELECT * FROM "+w.Dialect().QuoteRelation(rel))
				return err
			})
		}, warehouse.ErrPermission},
		{"name too long", func() error {
			return w.CreateTable(ctx, warehouse.Rel(schema, strings.Repeat("x", 64)), cols, nil)
		}, warehouse.ErrInvalidIdentifier},
		{"other database", func() error {
			_, err := w.Columns(ctx, warehouse.Relation{Database: "postgres", Schema: schema, Name: "t"})
			return err
		}, warehouse.ErrUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}

	// The engine's own mapping, code by code.
	eng := w.Engine()
	codes := map[string]error{
		"42P01": warehouse.ErrNotFound, "3F000": warehouse.ErrNotFound, "42703": warehouse.ErrNotFound,
		"42P07": warehouse.ErrAlreadyExists, "42P06": warehouse.ErrAlreadyExists, "42701": warehouse.ErrAlreadyExists,
		"42501": warehouse.ErrPermission, "42622": warehouse.ErrInvalidIdentifier,
		"23505": nil, "22003": nil,
	}
	for code, want := range codes {
		err := &pgconn.PgError{Code: code, Message: "x"}
		if got := eng.Classify(err); got != want {
			t.Errorf("Classify(%s) = %v, want %v", code, got, want)
		}
		if got := eng.Classify(errors.Join(errors.New("context"), err)); got != want {
			t.Errorf("Classify(wrapped %s) = %v, want %v", code, got, want)
		}
	}
	if got := eng.Classify(errors.New("plain")); got != nil {
		t.Errorf("Classify(plain) = %v", got)
	}
}

func TestIntrospection(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	q := func(s string) string { return w.Dialect().QuoteIdentifier(s) }
	s := q(schema)
	for _, stmt := range []string{
		"CREATE TABLE " + s + ".plain (id bigint NOT NULL, name varchar(20), amount numeric(38,10), tags text[], doc json, at timestamp(3) with time zone, iv interval)",
		"CREATE TABLE " + s + ".parted (id int NOT NULL, day date) PARTITION BY RANGE (day)",
		"CREATE TABLE " + s + ".parted_2024 PARTITION OF " + s + ".parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
		"CREATE VIEW " + s + ".v AS SELECT id, name FROM " + s + ".plain",
		"CREATE MATERIALIZED VIEW " + s + ".mv AS SELECT id FROM " + s + ".plain",
		"CREATE TABLE " + s + `."MixedCase" (x int)`,
		"CREATE SEQUENCE " + s + ".seq",
		"CREATE INDEX plain_id ON " + s + ".plain (id)",
		"ALTER TABLE " + s + ".plain ADD COLUMN gone int",
		"ALTER TABLE " + s + ".plain DROP COLUMN gone",
	} {
		if _, err := w.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	schemas, err := w.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(schemas, schema) || !slices.Contains(schemas, "public") {
		t.Errorf("Schemas = %v, missing %s or public", schemas, schema)
	}
	for _, s := range schemas {
		if s == "pg_catalog" || s == "information_schema" || strings.HasPrefix(s, "pg_toast") || strings.HasPrefix(s, "pg_temp") {
			t.Errorf("Schemas lists %s", s)
		}
	}

	want := []warehouse.RelationInfo{
		{Relation: warehouse.Rel(schema, "MixedCase"), Kind: warehouse.KindTable},
		{Relation: warehouse.Rel(schema, "mv"), Kind: warehouse.KindView},
		{Relation: warehouse.Rel(schema, "parted"), Kind: warehouse.KindTable},
		{Relation: warehouse.Rel(schema, "parted_2024"), Kind: warehouse.KindTable},
		{Relation: warehouse.Rel(schema, "plain"), Kind: warehouse.KindTable},
		{Relation: warehouse.Rel(schema, "v"), Kind: warehouse.KindView},
	}
	for _, sc := range []string{schema, ""} { // "" is the current schema, set by the URL
		got, err := w.Relations(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Relations(%q) = %+v\nwant %+v", sc, got, want)
		}
	}
	if _, err := w.Relation(ctx, warehouse.Rel(schema, "mixedcase")); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("names are case-sensitive: Relation(mixedcase) = %v", err)
	}
	// The current database may be named; others may not.
	eng := w.Engine()
	if rels, err := eng.Relations(ctx, w.DB(), "test", schema); err != nil || len(rels) != len(want) {
		t.Errorf("Relations in database test: %d, %v", len(rels), err)
	}
	if _, err := eng.Relations(ctx, w.DB(), "postgres", schema); !errors.Is(err, warehouse.ErrUnsupported) {
		t.Errorf("Relations in another database: %v", err)
	}

	cols, err := w.Columns(ctx, warehouse.Rel(schema, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []warehouse.Column{
		{Name: "id", Type: warehouse.Integer, Nullable: false},
		{Name: "name", Type: varcharT(20), Nullable: true},
		{Name: "amount", Type: warehouse.DecimalType(38, 10), Nullable: true},
		{Name: "tags", Type: warehouse.ArrayOf(warehouse.String), Nullable: true},
		{Name: "doc", Type: warehouse.JSON, Nullable: true},
		{Name: "at", Type: warehouse.TimestampTZ, Nullable: true},
		{Name: "iv", Type: warehouse.Type{Kind: warehouse.KindUnknown, Native: "interval"}, Nullable: true},
	}
	wantNative := []string{"bigint", "character varying(20)", "numeric(38,10)", "text[]", "json", "timestamp(3) with time zone", "interval"}
	if len(cols) != len(wantCols) {
		t.Fatalf("Columns = %+v", cols)
	}
	for i, c := range cols {
		if c.Name != wantCols[i].Name || !c.Type.Equal(wantCols[i].Type) || c.Nullable != wantCols[i].Nullable || c.Type.Native != wantNative[i] {
			t.Errorf("column %d = %+v (native %q), want %+v (native %q)", i, c, c.Type.Native, wantCols[i], wantNative[i])
		}
	}
	vcols, err := w.Columns(ctx, warehouse.Relation{Name: "v"})
	if err != nil || len(vcols) != 2 || vcols[0].Name != "id" || !vcols[1].Type.Equal(varcharT(20)) {
		t.Errorf("Columns(v) = %+v, %v", vcols, err)
	}
	if _, err := w.Columns(ctx, warehouse.Rel(schema, "seq")); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("a sequence is not a relation: %v", err)
	}
}

// TestTypesOnServer creates a column of every portable type and reads the
// types back through introspection and through a query.
func TestTypesOnServer(t *testing.T) {
	w, schema := testWarehouse(t)
	ctx := context.Background()
	var cols []warehouse.Column
	for i, tc := range allTypes {
		cols = append(cols, warehouse.Column{Name: "c" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Type: tc.typ, Nullable: i%2 == 0})
	}
	rel := warehouse.Rel(schema, "types")
	if err := w.CreateTable(ctx, rel, cols, nil); err != nil {
		t.Fatal(err)
	}
	got, err := w.Columns(ctx, rel)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range got {
		if !c.Type.Equal(allTypes[i].typ) || c.Nullable != cols[i].Nullable || c.Type.Native != allTypes[i].formatType {
			t.Errorf("column %s: %s (native %q, nullable %v), want %s (native %q, nullable %v)",
				c.Name, c.Type, c.Type.Native, c.Nullable, allTypes[i].typ, allTypes[i].formatType, cols[i].Nullable)
		}
	}
	// Result columns of a query carry the same types, from the OIDs and type
	// modifiers of the row description (a row of NULLs here).
	n := 0
	for rec, err := range w.Rows(ctx, "SELECT * FROM "+w.Dialect().QuoteRelation(rel)+" RIGHT JOIN (SELECT 1) AS one ON true") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		for i, c := range rec.Columns[:len(allTypes)] {
			if !c.Type.Equal(allTypes[i].typ) || c.Type.Native != allTypes[i].formatType {
				t.Errorf("result column %s: %s (native %q), want %s (%q)", c.Name, c.Type, c.Type.Native, allTypes[i].typ, allTypes[i].formatType)
			}
			if rec.Values[i] != nil {
				t.Errorf("result column %s: %v, want NULL", c.Name, rec.Values[i])
			}
		}
	}
	if n != 1 {
		t.Errorf("%d rows", n)
	}
}
