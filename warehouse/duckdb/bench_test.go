package duckdb_test

import (
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
	"github.com/dataopskit/dataops/warehouse/duckdb"
)

// benchRows is the row count of BenchmarkLoad: -load.rows=10000000 for the
// 10M figure.
var benchRows = flag.Int("load.rows", 1_000_000, "rows per BenchmarkLoad iteration")

// loadShape is a table shape of BenchmarkLoad: its columns, a generator of
// its rows (reusing one row slice), and the column list read_csv needs.
type loadShape struct {
	name    string
	cols    []warehouse.Column
	rows    func(n int) func(func([]any, error) bool)
	csvCols string
}

var benchBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var loadShapes = []loadShape{
	{
		name: "4col",
		cols: []warehouse.Column{
			{Name: "id", Type: warehouse.Integer},
			{Name: "name", Type: warehouse.String, Nullable: true},
			{Name: "amount", Type: warehouse.Float, Nullable: true},
			{Name: "created_at", Type: warehouse.Timestamp, Nullable: true},
		},
		rows: func(n int) func(func([]any, error) bool) {
			return func(yield func([]any, error) bool) {
				row := make([]any, 4)
				for i := range n {
					row[0] = int64(i)
					row[1] = "name-" + strconv.Itoa(i)
					row[2] = float64(i) * 0.25
					row[3] = benchBase.Add(time.Duration(i) * time.Microsecond)
					if !yield(row, nil) {
						return
					}
				}
			}
		},
		csvCols: "{'id': 'BIGINT', 'name': 'VARCHAR', 'amount': 'DOUBLE', 'created_at': 'TIMESTAMP'}",
	},
	{
		// Ten mixed columns, as a PostgreSQL table reaches staging: integers,
		// strings, a float, timestamps, a boolean, a decimal, JSON, NULLs.
		name: "10col",
		cols: []warehouse.Column{
			{Name: "id", Type: warehouse.Integer},
			{Name: "customer_id", Type: warehouse.Type{Kind: warehouse.KindInteger, Bits: 32}, Nullable: true},
			{Name: "status", Type: warehouse.String, Nullable: true},
			{Name: "amount", Type: warehouse.DecimalType(12, 2), Nullable: true},
			{Name: "score", Type: warehouse.Float, Nullable: true},
			{Name: "flag", Type: warehouse.Boolean, Nullable: true},
			{Name: "created_at", Type: warehouse.TimestampTZ, Nullable: true},
			{Name: "updated_at", Type: warehouse.Timestamp, Nullable: true},
			{Name: "note", Type: warehouse.String, Nullable: true},
			{Name: "meta", Type: warehouse.JSON, Nullable: true},
		},
		rows: func(n int) func(func([]any, error) bool) {
			return func(yield func([]any, error) bool) {
				statuses := []any{"placed", "shipped", "completed", "returned"}
				amounts := make([]any, 1000) // decimals made beforehand: the producer stays cheap
				for i := range amounts {
					amounts[i] = warehouse.MustDecimal(strconv.Itoa(i*97) + ".25")
				}
				row := make([]any, 10)
				meta := make([]byte, 0, 64)
				for i := range n {
					row[0] = int64(i)
					row[1] = int64(i % 997)
					row[2] = statuses[i%4]
					row[3] = amounts[i%1000]
					row[4] = float64(i) * 0.5
					row[5] = i%2 == 0
					row[6] = benchBase.Add(time.Duration(i) * time.Second)
					row[7] = benchBase.Add(time.Duration(i) * time.Millisecond)
					if i%3 == 0 {
						row[7] = nil
					}
					row[8] = nil
					if i%2 == 0 {
						row[8] = "note " + strconv.Itoa(i)
					}
					meta = append(strconv.AppendInt(append(meta[:0], `{"changes":[],"sync_id":`...), int64(i%10), 10), '}')
					row[9] = json.RawMessage(meta)
					if !yield(row, nil) {
						return
					}
				}
			}
		},
		csvCols: "{'id': 'BIGINT', 'customer_id': 'INTEGER', 'status': 'VARCHAR', 'amount': 'DECIMAL(12,2)', 'score': 'DOUBLE', 'flag': 'BOOLEAN', 'created_at': 'TIMESTAMPTZ', 'updated_at': 'TIMESTAMP', 'note': 'VARCHAR', 'meta': 'JSON'}",
	},
}

// BenchmarkLoad compares, per table shape, Warehouse.Load through the chunk
// path (dataops_load), Warehouse.LoadColumns of the same rows as column
// batches (shapes whose columns all have a column form), and Warehouse.Load
// through DuckDB's appender with DuckDB's own bulk
// paths on the same rows: COPY FROM a Parquet file and read_csv of a CSV
// file, both written beforehand from the loaded rows. Each reports rows/s.
//
//	go test -run '^$' -bench 'BenchmarkLoad/10col' -benchtime 1x -load.rows 10000000 ./warehouse/duckdb/
func BenchmarkLoad(b *testing.B) {
	for _, shape := range loadShapes {
		b.Run(shape.name, func(b *testing.B) { benchLoadShape(b, shape) })
	}
}

func benchLoadShape(b *testing.B, shape loadShape) {
	ctx := context.Background()
	n := *benchRows
	w := open(b, "duckdb:")
	defer w.Close()
	eng := w.Engine().(*duckdb.Engine)
	dir := b.TempDir()
	parquet, csv := filepath.Join(dir, "rows.parquet"), filepath.Join(dir, "rows.csv")

	// The files hold exactly the rows the iterator makes.
	src := warehouse.Rel("", "src")
	if err := w.CreateTable(ctx, src, shape.cols, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Load(ctx, src, nil, shape.rows(n)); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		"COPY src TO '" + parquet + "' (FORMAT parquet)",
		"COPY src TO '" + csv + "' (FORMAT csv, HEADER true)",
		"DROP TABLE src",
	} {
		if _, err := w.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}

	run := func(b *testing.B, load func(rel warehouse.Relation) error) {
		b.Helper()
		want := int64(n)
		if b.Name() == "" || strings.HasSuffix(b.Name(), "/generate-only") {
			want = 0
		}
		rel := warehouse.Rel("", "t")
		var elapsed, cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			if err := w.Drop(ctx, rel); err != nil {
				b.Fatal(err)
			}
			if err := w.CreateTable(ctx, rel, shape.cols, nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			if err := load(rel); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			cpu += cpuTime() - cpu0
		}
		var got int64
		if err := w.Get(ctx, &got, "SELECT count(*) FROM t"); err != nil || got != want {
			b.Fatalf("loaded %d rows (%v), want %d", got, err, n)
		}
		b.ReportMetric(float64(int64(b.N)*int64(n))/elapsed.Seconds(), "rows/s")
		// The machine may be shared: CPU time (all threads of the process,
		// DuckDB's included) is the steadier figure.
		b.ReportMetric(float64(int64(b.N)*int64(n))/cpu.Seconds(), "rows/cpu-s")
	}
	b.Run("chunks", func(b *testing.B) {
		duckdb.SetAppenderOnly(eng, false)
		run(b, func(rel warehouse.Relation) error {
			_, err := w.Load(ctx, rel, nil, shape.rows(n))
			return err
		})
	})
	if columnForms(shape.cols) {
		b.Run("columns", func(b *testing.B) {
			run(b, func(rel warehouse.Relation) error {
				_, err := w.LoadColumns(ctx, rel, nil, columnBatchesOf(shape.cols, shape.rows(n)))
				return err
			})
		})
	}
	b.Run("appender", func(b *testing.B) {
		duckdb.SetAppenderOnly(eng, true)
		defer duckdb.SetAppenderOnly(eng, false)
		run(b, func(rel warehouse.Relation) error {
			_, err := w.Load(ctx, rel, nil, shape.rows(n))
			return err
		})
	})
	b.Run("native-parquet", func(b *testing.B) {
		run(b, func(rel warehouse.Relation) error {
			_, err := w.Exec(ctx, "COPY t FROM '"+parquet+"' (FORMAT parquet)")
			return err
		})
	})
	b.Run("native-csv", func(b *testing.B) {
		run(b, func(rel warehouse.Relation) error {
			_, err := w.Exec(ctx, "INSERT INTO t SELECT * FROM read_csv('"+csv+"', header = true, columns = "+shape.csvCols+")")
			return err
		})
	})
	b.Run("generate-only", func(b *testing.B) {
		// The producer alone: what no load path can go below.
		run(b, func(rel warehouse.Relation) error {
			for range shape.rows(n) {
			}
			return nil
		})
	})
}

// columnForms reports whether every column has a column form.
func columnForms(cols []warehouse.Column) bool {
	for _, c := range cols {
		if !warehouse.ColumnForm(c.Type) {
			return false
		}
	}
	return true
}

// columnBatchesOf turns rows of cols (int64, float64, bool, string and UTC
// time.Time values) into column batches of 10,000 rows, as a producer with
// typed values (the staging loader) makes them; one batch is reused.
func columnBatchesOf(cols []warehouse.Column, rows func(func([]any, error) bool)) func(func(*warehouse.ColumnBatch, error) bool) {
	return func(yield func(*warehouse.ColumnBatch, error) bool) {
		const size = 10_000
		b := &warehouse.ColumnBatch{Cols: make([]warehouse.ColumnData, len(cols))}
		for i := range b.Cols {
			d := &b.Cols[i]
			d.Null, d.Int, d.Float, d.Bool, d.Bytes = make([]bool, size), make([]int64, size), make([]float64, size), make([]bool, size), make([][]byte, size)
		}
		var arena []byte
		for row, err := range rows {
			if err != nil {
				yield(nil, err)
				return
			}
			r := b.Len
			for i, v := range row {
				d := &b.Cols[i]
				d.Null[r] = v == nil
				switch x := v.(type) {
				case int64:
					d.Int[r] = x
				case float64:
					d.Float[r] = x
				case bool:
					d.Bool[r] = x
				case string:
					start := len(arena)
					arena = append(arena, x...)
					d.Bytes[r] = arena[start:len(arena):len(arena)]
				case time.Time:
					d.Int[r] = x.UnixMicro()
				}
			}
			if b.Len++; b.Len == size {
				if !yield(b, nil) {
					return
				}
				b.Len, arena = 0, arena[:0]
			}
		}
		if b.Len > 0 {
			yield(b, nil)
		}
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
