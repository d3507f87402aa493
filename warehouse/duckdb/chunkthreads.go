package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Parallel chunk loads.
//
// DuckDB's INSERT compresses and writes the table's row groups on the
// threads that run it, and this, not the Go side, is most of a bulk load's
// CPU: about 1 CPU-second per million rows of 14 mixed columns, as much as
// DuckDB's own load of the same rows from a Parquet file. On one thread it
// is the load's critical path. DuckDB runs an INSERT from a source without
// batch indexes (a table function of the C API has none) on one thread
// while preserve_insertion_order is true, its default; when a session sets
// it false (DuckDB's advice for loads larger than memory; in the URL:
// ?preserve_insertion_order=false) a chunk load runs its INSERT on several
// threads: dataops_load is a parallel table function, each of the
// statement's threads takes the producer's next batch, and the rows of one
// load land in no particular order. The package never changes the setting
// itself: it is the session's (a SET inside the loader's transaction would
// outlive a failed load, which leaves the transaction unable to reset it).
//
// Each thread fills a row group of its own in memory before it writes it,
// so the threads are also bounded by the memory limit: one per estimated
// row group's worth of memory_limit, at most DuckDB's threads setting, at
// least one. At memory_limit=32MB a load of 14 columns keeps one thread
// (two would spill their row groups to temporary files, slower than one);
// at 64MB it gets two.

// rowGroupRows is DuckDB's default row group size.
const rowGroupRows = 122880

// forceLoadThreads, when positive, replaces the threads a load would pick
// by its memory (for tests).
var forceLoadThreads int

// loadSettings are the settings a chunk load reads from its session.
type loadSettings struct {
	threads  int   // DuckDB's threads setting
	memory   int64 // memory_limit in bytes, or -1 when unknown
	preserve bool  // preserve_insertion_order
}

// readLoadSettings reads the load settings of conn's session.
func readLoadSettings(ctx context.Context, conn *duckdb.Conn) (loadSettings, error) {
	rows, err := conn.QueryContext(ctx, "SELECT current_setting('threads')::BIGINT, current_setting('memory_limit')::VARCHAR, current_setting('preserve_insertion_order')::BOOLEAN", nil)
	if err != nil {
		return loadSettings{}, err
	}
	defer rows.Close()
	v := make([]driver.Value, 3)
	if err := rows.Next(v); err != nil {
		return loadSettings{}, err
	}
	s := loadSettings{memory: -1}
	if n, ok := v[0].(int64); ok {
		s.threads = int(n)
	}
	if m, ok := v[1].(string); ok {
		if b, err := parseMemory(m); err == nil {
			s.memory = b
		}
	}
	s.preserve, _ = v[2].(bool)
	return s, nil
}

// parseMemory parses a memory size as DuckDB shows memory_limit ("30.5
// MiB", "18.8 GiB", "1.0 KiB", "512 bytes"), or as it takes one ("64MB").
func parseMemory(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("memory size %q: no number", s)
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("memory size %q: %w", s, err)
	}
	unit := strings.ToUpper(strings.TrimSpace(s[i:]))
	mult := map[string]float64{
		"": 1, "B": 1, "BYTE": 1, "BYTES": 1,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("memory size %q: unknown unit %q", s, s[i:])
	}
	return int64(n * mult), nil
}

// rowGroupBytes estimates the memory of one in-progress row group of the
// columns of plan: fixed-width values at their width plus validity, strings
// at a string_t and a short payload.
func rowGroupBytes(plan []chunkCol) int64 {
	var w int64
	for _, p := range plan {
		switch p.car {
		case carBool:
			w += 2
		case carUUID, carBigDec:
			w += 17
		case carString, carBlob:
			w += 40
		default:
			w += 9
		}
	}
	return w * rowGroupRows
}

// loadThreads returns how many threads a chunk load of plan runs its
// INSERT on under s.
func loadThreads(s loadSettings, plan []chunkCol) int {
	if s.preserve || s.threads <= 1 {
		return 1
	}
	if forceLoadThreads > 0 {
		return min(forceLoadThreads, s.threads)
	}
	n := s.threads
	if s.memory < 0 {
		return 1
	}
	if byMem := int(s.memory / rowGroupBytes(plan)); byMem < n {
		n = byMem
	}
	return max(n, 1)
}
