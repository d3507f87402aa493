package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	"github.com/dataopskit/dataops/warehouse/warehousetest"
)

func TestConformanceMemory(t *testing.T) {
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) *warehouse.Warehouse { return open(t, "duckdb::memory:") },
	})
}

func TestConformanceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conformance.db")
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) *warehouse.Warehouse { return open(t, "duckdb:"+path) },
	})
}

// open opens a warehouse; the suite or the test closes it.
func open(t testing.TB, url string) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return w
}
