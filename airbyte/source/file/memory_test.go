package file

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/parquet-go/parquet-go"

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
// records stream (after a collection, so garbage does not count): it must
// stay far below the file's size.
func TestLargeCSVMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 64 MiB file; skipped with -short")
	}
	const size = 64 << 20
	const bound = 8 << 20
	dir := t.TempDir()
	rows := writeBigCSV(t, filepath.Join(dir, "big.csv"), size)
	runtime.GC()
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
			runtime.GC() // count what is live, not garbage waiting for the collector
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
	}
	if n != rows {
		t.Fatalf("read %d records, wrote %d", n, rows)
	}
	t.Logf("%d records from a %d MiB file; live heap at most %.1f MiB", n, size>>20, float64(maxHeap)/(1<<20))
	if maxHeap == 0 || maxHeap > bound {
		t.Errorf("heap reached %.1f MiB reading a %d MiB file; want under %d MiB", float64(maxHeap)/(1<<20), size>>20, bound>>20)
	}
}

type bigPQRow struct {
	ID      int64   `parquet:"id"`
	Amount  float64 `parquet:"amount"`
	Comment string  `parquet:"comment"`
	Code    string  `parquet:"code"`
}

// TestLargeParquetMemoryIsFlat reads a Parquet file of several row groups
// and samples the live heap: the file is never held whole.
func TestLargeParquetMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a large Parquet file; skipped with -short")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "big.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[bigPQRow](f, parquet.MaxRowsPerRowGroup(100000))
	const rows = 600000
	batch := make([]bigPQRow, 0, 1000)
	for i := 0; i < rows; i++ {
		// Distinct, poorly compressible values keep the file large.
		batch = append(batch, bigPQRow{ID: int64(i), Amount: float64(i) / 7, Comment: fmt.Sprintf("comment %d %x %x", i, i*2654435761, i*40503), Code: fmt.Sprintf("C%09d", i*7919%1000000007)})
		if len(batch) == cap(batch) {
			if _, err := w.Write(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	w, batch = nil, nil
	runtime.GC() // what the writer left behind is not the reader's

	src := New()
	cfg := config(t, dir, map[string]any{"name": "big", "globs": []string{"big.parquet"}, "format": map[string]any{"filetype": "parquet"}})
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
		if n++; n%20000 == 0 {
			runtime.GC() // count what is live, not garbage waiting for the collector
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
	}
	if n != rows {
		t.Fatalf("read %d records, wrote %d", n, rows)
	}
	t.Logf("%d records from a %.1f MiB file in 6 row groups; live heap at most %.1f MiB", n, float64(info.Size())/(1<<20), float64(maxHeap)/(1<<20))
	const bound = 12 << 20 // a row group is about 6 MiB
	if maxHeap == 0 || maxHeap > bound {
		t.Errorf("heap reached %.1f MiB reading a %.1f MiB file; want under %d MiB", float64(maxHeap)/(1<<20), float64(info.Size())/(1<<20), bound>>20)
	}
}

// TestLargeJSONLMemoryIsFlat reads a 32 MiB JSONL file and samples the
// live heap.
func TestLargeJSONLMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 32 MiB file; skipped with -short")
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rows := 0
	for written := 0; written < 32<<20; rows++ {
		n, _ := fmt.Fprintf(w, `{"id":%d,"amount":%d.5,"ok":%v,"tags":["a","b"],"note":"row %d"}`+"\n", rows, rows%1000, rows%2 == 0, rows)
		written += n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	src := New()
	cfg := config(t, dir, map[string]any{"name": "big", "globs": []string{"big.jsonl"}, "format": map[string]any{"filetype": "jsonl"}})
	rs, err := src.Read(t.Context(), cfg, discover(t, src, cfg, airbyte.FullRefresh), nil)
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
		if m.Type == airbyte.TypeRecord {
			if n++; n%50000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				maxHeap = max(maxHeap, ms.HeapAlloc)
			}
		}
	}
	if n != rows {
		t.Fatalf("read %d records, wrote %d", n, rows)
	}
	t.Logf("%d records from a 32 MiB file; live heap at most %.1f MiB", n, float64(maxHeap)/(1<<20))
	if maxHeap == 0 || maxHeap > 8<<20 {
		t.Errorf("live heap reached %.1f MiB reading a 32 MiB file; want under 8 MiB", float64(maxHeap)/(1<<20))
	}
}
