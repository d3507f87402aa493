package file

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
)

// writeBigCSV writes a CSV of at least size bytes and returns its row count.
func writeBigCSV(t testing.TB, path string, size int64) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,amount,active,created_at,day,name,comment,code")
	var written int64
	rows := 0
	for written < size {
		n, _ := fmt.Fprintf(w, "%d,%d.%02d,%v,2026-01-%02dT%02d:%02d:%02dZ,2026-02-%02d,customer %d,\"a note, with a comma and \"\"quotes\"\"\",C%06d\n",
			rows, rows%10000, rows%100, rows%2 == 0, rows%28+1, rows%24, rows%60, rows%60, rows%28+1, rows, rows%999999)
		written += int64(n)
		rows++
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestLargeCSVMemoryIsFlat reads a 64 MiB CSV and samples the live heap as
// records stream: it must stay far below the file's size.
func TestLargeCSVMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 64 MiB file; skipped with -short")
	}
	const size = 64 << 20
	const bound = 24 << 20
	dir := t.TempDir()
	rows := writeBigCSV(t, filepath.Join(dir, "big.csv"), size)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "big", "globs": []string{"big.csv"}, "format": map[string]any{"filetype": "csv"}})
	cc := discover(t, src, cfg, airbyte.FullRefresh)
	rs, err := src.Read(t.Context(), cfg, cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var ms runtime.MemStats
	var maxHeap uint64
	n := 0
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != airbyte.TypeRecord {
			continue
		}
		if n++; n%50000 == 0 {
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
	}
	if n != rows {
		t.Fatalf("read %d records, wrote %d", n, rows)
	}
	t.Logf("%d records from a %d MiB file; heap at most %.1f MiB", n, size>>20, float64(maxHeap)/(1<<20))
	if maxHeap == 0 || maxHeap > bound {
		t.Errorf("heap reached %.1f MiB reading a %d MiB file; want under %d MiB", float64(maxHeap)/(1<<20), size>>20, bound>>20)
	}
}
