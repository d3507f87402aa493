// Package warehousetest is the conformance suite that every warehouse driver
// runs, as gocloud.dev/blob/drivertest is for blob drivers: a feature is done
// when this suite proves it on every driver that claims it.
//
// A driver's test calls Run with a Harness that opens its warehouse:
//
//	func TestConformance(t *testing.T) {
//		warehousetest.Run(t, warehousetest.Harness{
//			Open: func(t *testing.T) *warehouse.Warehouse { … },
//		})
//	}
//
// Every subtest works in a schema of its own, created with a random name and
// dropped at the end, so the suite can run against a shared server.
package warehousetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// Harness tells Run how to reach the driver under test.
type Harness struct {
	// Open returns an open warehouse; it is called once per subtest and the
	// suite closes what it returns. Required.
	Open func(t *testing.T) *warehouse.Warehouse
	// BulkRows is the row count of the bulk-load test; default 1,000,000
	// (100,000 with -short).
	BulkRows int
	// SlowQuery is a query that runs for many seconds, used to prove that
	// cancelling its context stops it. The default cross-joins two
	// generate_series(1, 1000000) of a single column.
	SlowQuery string
}

// Run runs the whole suite against h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("warehousetest: Harness.Open is nil")
	}
	if h.BulkRows == 0 {
		h.BulkRows = 1_000_000
		if testing.Short() {
			h.BulkRows = 100_000
		}
	}
	if h.SlowQuery == "" {
		h.SlowQuery = "SELECT sum(a.x * b.y) FROM generate_series(1, 1000000) AS a(x), generate_series(1, 1000000) AS b(y)"
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"TypeRoundTrip", testTypeRoundTrip},
		{"TypeMapping", testTypeMapping},
		{"HostileIdentifiers", testHostileIdentifiers},
		{"OverlongIdentifier", testOverlongIdentifier},
		{"Introspection", testIntrospection},
		{"CreateErrors", testCreateErrors},
		{"AlterAndDrop", testAlterAndDrop},
		{"AtomicReplace", testAtomicReplace},
		{"ReplaceView", testReplaceView},
		{"Merge", testMerge},
		{"BulkLoad", testBulkLoad},
		{"LoadErrors", testLoadErrors},
		{"LoadCancel", testLoadCancel},
		{"LoadColumns", testLoadColumns},
		{"ScanColumns", testScanColumns},
		{"Transactions", testTransactions},
		{"BindParameters", testBindParameters},
		{"CancelQuery", testCancelQuery},
		{"Info", testInfo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newFixture(t, h))
		})
	}
}

// fixture is what each subtest gets: an open warehouse and a fresh schema.
type fixture struct {
	h      Harness
	w      *warehouse.Warehouse
	schema string
}

func newFixture(t *testing.T, h Harness) *fixture {
	t.Helper()
	w := h.Open(t)
	if w == nil {
		t.Fatal("warehousetest: Harness.Open returned nil")
	}
	f := &fixture{h: h, w: w, schema: randomName("wt")}
	ctx := context.Background()
	if err := w.CreateSchema(ctx, f.schema); err != nil {
		t.Fatalf("create schema %s: %v", f.schema, err)
	}
	t.Cleanup(func() {
		if err := w.DropSchema(context.Background(), f.schema, true); err != nil {
			t.Errorf("drop schema %s: %v", f.schema, err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return f
}

// rel names a relation in the fixture's schema.
func (f *fixture) rel(name string) warehouse.Relation { return warehouse.Rel(f.schema, name) }

// q renders a relation for SQL.
func (f *fixture) q(name string) string { return f.w.Dialect().QuoteRelation(f.rel(name)) }

// id quotes a column name.
func (f *fixture) id(name string) string { return f.w.Dialect().QuoteIdentifier(name) }

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// mustCreate creates a table or fails the test.
func (f *fixture) mustCreate(t *testing.T, name string, cols ...warehouse.Column) warehouse.Relation {
	t.Helper()
	r := f.rel(name)
	if err := f.w.CreateTable(context.Background(), r, cols, nil); err != nil {
		t.Fatalf("create table %s: %v", r, err)
	}
	return r
}

// count returns count(*) of a relation in the fixture's schema.
func (f *fixture) count(t *testing.T, name string) int64 {
	t.Helper()
	var n int64
	if err := f.w.Get(context.Background(), &n, "SELECT count(*) FROM "+f.q(name)); err != nil {
		t.Fatalf("count %s: %v", name, err)
	}
	return n
}

// col is shorthand for a nullable column.
func col(name string, t warehouse.Type) warehouse.Column {
	return warehouse.Column{Name: name, Type: t, Nullable: true}
}

// rowsOf adapts a slice of rows to the iterator Load takes; the suite uses it
// only for small fixtures.
func rowsOf(rows ...[]any) func(func([]any, error) bool) {
	return func(yield func([]any, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// expectKind fails unless err matches kind and its message names subject.
func expectKind(t *testing.T, err, kind error, subject string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v naming %q", kind, subject)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q does not match %v", err, kind)
	}
	if subject != "" && !strings.Contains(err.Error(), subject) {
		t.Fatalf("error %q does not name %q", err, subject)
	}
}
