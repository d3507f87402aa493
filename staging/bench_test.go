package staging_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// tenColumns is a 10-column record schema: the shape the figures use.
const tenColumns = `{"type":"object","properties":{"id":{"type":"integer"},"customer_id":{"type":"integer"},"status":{"type":"string"},"amount":{"type":"number"},"quantity":{"type":"integer"},"created_at":{"type":"string","format":"date-time"},"updated_at":{"type":"string","format":"date-time"},"note":{"type":["null","string"]},"flag":{"type":"boolean"},"tags":{"type":"array"}}}`

func tenColumnRecord(i int) string {
	return fmt.Sprintf(`{"id":%d,"customer_id":%d,"status":"shipped","amount":%d.25,"quantity":%d,"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-05-06T07:08:09.123456Z","note":"note %d","flag":true,"tags":["a","b"]}`, i, i%997, i%1000, i%7, i)
}

// BenchmarkLoader stages 10-column records from an in-process source into
// DuckDB and PostgreSQL and reports records/s. The source's own cost (making
// the JSON) is measured alone in the same run as "source-only", the baseline.
func BenchmarkLoader(b *testing.B) {
	const n = 200_000
	src := func() *genSource {
		return &genSource{streams: []genStream{{name: "orders", n: n, schema: tenColumns, data: tenColumnRecord}}, stateEvery: 10_000}
	}
	b.Run("source-only", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			start := time.Now()
			s := src()
			rs, _ := s.Read(context.Background(), nil, s.catalog(airbyte.Append), nil)
			for range rs.Messages() {
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "records/s")
	})
	for _, target := range []string{"duckdb", "duckdb-parallel", "postgres"} {
		b.Run(target, func(b *testing.B) {
			url := "duckdb:"
			switch target {
			case "duckdb-parallel":
				// loads on several threads (Loading on several threads)
				url = "duckdb:?preserve_insertion_order=false&memory_limit=1GB"
			case "postgres":
				url = testenv.PostgresURL(b)
			}
			ctx := context.Background()
			w, err := warehouse.Open(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			schema := "bench_staging"
			defer w.DropSchema(ctx, schema, true)
			defer w.DropSchema(ctx, schema+"_state", true)
			var elapsed time.Duration
			for i := 0; b.Loop(); i++ {
				o := staging.Options{Schema: schema, StateSchema: schema + "_state", Connection: fmt.Sprint("c", i), Logger: slog.New(slog.DiscardHandler)}
				s := src()
				cat := s.catalog(airbyte.Append)
				start := time.Now()
				rs, _ := s.Read(ctx, nil, cat, nil)
				res, err := staging.NewLoader(w, o).Load(ctx, cat, rs)
				if err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				if res.Stream("orders").Records != n {
					b.Fatalf("staged %d records", res.Stream("orders").Records)
				}
			}
			b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "records/s")
		})
	}
}
