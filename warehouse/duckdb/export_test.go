package duckdb

import "github.com/dataopskit/dataops/warehouse"

// SetAppenderOnly makes Load use DuckDB's appender for every table (true) or
// the chunk path where it can (false), so tests and benchmarks compare both.
func SetAppenderOnly(e *Engine, on bool) { e.noChunks = on }

// ChunksEnabled reports whether Load may take the chunk path.
func ChunksEnabled(e *Engine) bool { return !e.noChunks }

// UsesChunks reports whether Load takes the chunk path for a table of cols.
func UsesChunks(cols []warehouse.Column) bool {
	_, ok := chunkPlan(cols)
	return ok
}

// LastLoadThreads returns how many threads took part in the most recent
// chunk load's INSERT.
func LastLoadThreads() int { return int(lastLoadThreads.Load()) }
