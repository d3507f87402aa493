package backup

import (
	"context"
	"fmt"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// loadParquetFiles appends the rows of Parquet files to rel on DuckDB, with
// DuckDB's own reader: INSERT … SELECT … FROM read_parquet(files). Columns
// are matched by name, so the order of columns in the files does not matter.
// The engine releases the memory it holds unused first (where configured:
// warehouse.MemoryReleaser), so that a restore's INSERTs do not stack.
func loadParquetFiles(ctx context.Context, w *warehouse.Warehouse, rel warehouse.Relation, cols []warehouse.Column, files []string) error {
	if len(files) == 0 {
		return nil
	}
	w.ReleaseMemory()
	_, err := w.Exec(ctx, insertFromParquetSQL(w.Dialect(), rel, cols), files)
	if err != nil {
		return fmt.Errorf("backup: load parts into %s: %w", rel, err)
	}
	return nil
}

func insertFromParquetSQL(d warehouse.Dialect, rel warehouse.Relation, cols []warehouse.Column) string {
	var names strings.Builder
	for i, c := range cols {
		if i > 0 {
			names.WriteString(", ")
		}
		names.WriteString(d.QuoteIdentifier(c.Name))
	}
	return "INSERT INTO " + d.QuoteRelation(rel) + " (" + names.String() + ") SELECT " + names.String() + " FROM read_parquet(?)"
}
