package postgres_test

import (
	"context"
	"testing"

	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/warehousetest"
)

// TestConformance runs the warehouse conformance suite against PostgreSQL.
func TestConformance(t *testing.T) {
	url := testenv.PostgresURL(t)
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) *warehouse.Warehouse {
			w, err := warehouse.Open(context.Background(), url)
			if err != nil {
				t.Fatalf("open %s: %v", warehouse.RedactURL(url), err)
			}
			return w
		},
	})
}
