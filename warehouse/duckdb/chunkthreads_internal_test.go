package duckdb

import (
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{
		"30.5 MiB": 31981568, "18.8 GiB": 20186346291, "1.0 KiB": 1024, "512 bytes": 512,
		"64MB": 64_000_000, "2GB": 2_000_000_000, "0 bytes": 0, " 1 TiB ": 1 << 40,
	} {
		if got, err := parseMemory(in); err != nil || got != want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "12 parsecs", "1.2.3 MB"} {
		if got, err := parseMemory(in); err == nil {
			t.Errorf("parseMemory(%q) = %d, want an error", in, got)
		}
	}
}

// TestLoadThreads: one thread while insertion order is preserved, else one
// per row group that fits in memory_limit, within DuckDB's threads.
func TestLoadThreads(t *testing.T) {
	// staging's 14 columns: 10 fixed-width, 3 strings, a UUID
	var cols []warehouse.Column
	for range 9 {
		cols = append(cols, warehouse.Column{Name: "n", Type: warehouse.Integer})
	}
	cols = append(cols, warehouse.Column{Name: "b", Type: warehouse.Boolean})
	for range 3 {
		cols = append(cols, warehouse.Column{Name: "s", Type: warehouse.String})
	}
	cols = append(cols, warehouse.Column{Name: "u", Type: warehouse.Type{Kind: warehouse.KindString, Native: "UUID"}})
	plan, ok := chunkPlan(cols)
	if !ok {
		t.Fatal("no chunk plan")
	}
	mib := int64(1 << 20)
	for _, c := range []struct {
		s    loadSettings
		want int
	}{
		{loadSettings{threads: 8, memory: 1 << 40, preserve: true}, 1},
		{loadSettings{threads: 8, memory: 30 * mib}, 1}, // memory_limit=32MB
		{loadSettings{threads: 8, memory: 45 * mib}, 1}, // 48MB: two spill
		{loadSettings{threads: 8, memory: 61 * mib}, 2}, // 64MB
		{loadSettings{threads: 8, memory: 122 * mib}, 4},
		{loadSettings{threads: 3, memory: 1 << 40}, 3},
		{loadSettings{threads: 1, memory: 1 << 40}, 1},
		{loadSettings{threads: 8, memory: -1}, 1},
	} {
		if got := loadThreads(c.s, plan); got != c.want {
			t.Errorf("loadThreads(%+v) = %d, want %d", c.s, got, c.want)
		}
	}
}
