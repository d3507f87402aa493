package backup

import (
	"context"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

func TestRowEncodingIsTheDocumentedOne(t *testing.T) {
	cols := []warehouse.Column{
		{Name: "i", Type: warehouse.Integer}, {Name: "n", Type: warehouse.String},
		{Name: "d", Type: warehouse.DecimalType(10, 2)}, {Name: "b", Type: warehouse.Boolean},
		{Name: "dt", Type: warehouse.Date}, {Name: "s", Type: warehouse.String},
		{Name: "a", Type: warehouse.ArrayOf(warehouse.Integer)},
	}
	h := NewRowHasher(cols)
	got, err := h.Encode([]any{int64(-2), nil, warehouse.MustDecimal("-1.5"), true,
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "é", []any{int64(1), nil}})
	if err != nil {
		t.Fatal(err)
	}
	want := "01fffffffffffffffe" + // integer -2
		"00" + // NULL
		"01" + "02" + "02" + "ff6a" + // decimal -1.50: scale 2, 2 bytes, -150
		"0101" + // true
		"01ffffffff" + // date -1 day
		"0100000002c3a9" + // "é"
		"01" + "00000002" + "010000000000000001" + "00" // [1, NULL]
	if hex.EncodeToString(got) != want {
		t.Fatalf("encoding\n got %x\nwant %s", got, want)
	}
	// 1.5 given with scale 1 is rescaled to the column's scale.
	a, _ := h.Hash([]any{int64(1), nil, warehouse.MustDecimal("1.5"), nil, nil, nil, nil})
	b, _ := h.Hash([]any{int64(1), nil, warehouse.MustDecimal("1.50"), nil, nil, nil, nil})
	if a != b {
		t.Fatal("1.5 and 1.50 hash differently in a decimal(10,2) column")
	}
}

func TestTwosComplement(t *testing.T) {
	for n, want := range map[int64]string{0: "00", 1: "01", 127: "7f", 128: "0080", -1: "ff", -128: "80", -129: "ff7f", 255: "00ff", -256: "ff00"} {
		if got := hex.EncodeToString(twosComplement(big.NewInt(n))); got != want {
			t.Errorf("%d: got %s want %s", n, got, want)
		}
	}
}

func TestFingerprintOrderIndependentAndSensitive(t *testing.T) {
	h := NewRowHasher(allTypes)
	var a, b Fingerprint
	for i := range 50 {
		x, err := h.Hash(allTypesRow(i))
		if err != nil {
			t.Fatal(err)
		}
		a.Add(x)
	}
	for i := 49; i >= 0; i-- {
		x, _ := h.Hash(allTypesRow(i))
		b.Add(x)
	}
	if a != b {
		t.Fatalf("order changes the fingerprint: %v vs %v", a, b)
	}
	r := allTypesRow(7)
	r[1] = "changed"
	x, _ := h.Hash(r)
	y, _ := h.Hash(allTypesRow(7))
	if x == y {
		t.Fatal("a changed value keeps the row hash")
	}
}

// The same rows loaded into DuckDB and PostgreSQL fingerprint alike, and
// alike with the rows as generated.
func TestFingerprintSameAcrossEngines(t *testing.T) {
	const n = 60
	h := NewRowHasher(allTypes)
	var want Fingerprint
	for i := range n {
		x, err := h.Hash(allTypesRow(i))
		if err != nil {
			t.Fatal(err)
		}
		want.Add(x)
	}
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			w, schema := e.open(t)
			rel := makeTable(t, w, schema, "all_types", allTypes, []string{"id"}, n, allTypesRow)
			if got := tableFingerprint(t, w, rel); got != want {
				t.Fatalf("fingerprint %v, want %v", got, want)
			}
		})
	}
}

// A part written by the Parquet writer reads back in DuckDB with the same
// types and values: its fingerprint is the one of the rows written.
func TestPartReadsBackInDuckDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var parts []partFile
	pw, err := newPartWriter(allTypes, dir, 40, 0, true, func(p partFile) error { parts = append(parts, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	h := NewRowHasher(allTypes)
	var want Fingerprint
	for i := range 100 {
		r := allTypesRow(i)
		x, _ := h.Hash(r)
		want.Add(x)
		if err := pw.Write(r, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 || parts[0].Rows != 40 || parts[2].Rows != 20 {
		t.Fatalf("parts %+v, want 40+40+20 rows", parts)
	}
	w := openDuck(t, "duckdb:")
	rel := makeTable(t, w, "raw", "back", allTypes, nil, 0, nil)
	var files []string
	for _, p := range parts {
		files = append(files, p.Path)
	}
	if err := loadParquetFiles(ctx, w, rel, allTypes, files); err != nil {
		t.Fatal(err)
	}
	if got := tableFingerprint(t, w, rel); got != want {
		t.Fatalf("fingerprint after read back %v, want %v", got, want)
	}
	// the hash column holds the row hashes
	var sum uint64
	var cnt int64
	if err := w.Get(ctx, &cnt, "SELECT count(*) FROM read_parquet(?) WHERE "+RowHashColumn+" IS NOT NULL", files); err != nil {
		t.Fatal(err)
	}
	_ = sum
	if cnt != 100 {
		t.Fatalf("%d rows carry a hash", cnt)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.Base(parts[0].Path))); err != nil {
		t.Fatal(err)
	}
}
