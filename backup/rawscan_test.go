package backup

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// DuckDB tables read with dates, timestamps and decimals as integers
// (duckRawExprs) hash as the SQL row hash does, for every kind rebuilt so,
// NULLs, negatives and 18-digit decimals included, and restore to the same
// rows; a -0.0 survives backups, incremental ones too.
func TestRawScanAndNegativeZero(t *testing.T) {
	ctx := context.Background()
	cols := []warehouse.Column{
		{Name: "id", Type: warehouse.Integer},
		{Name: "i16", Type: warehouse.Type{Kind: warehouse.KindInteger, Bits: 16}, Nullable: true},
		{Name: "i32", Type: warehouse.Type{Kind: warehouse.KindInteger, Bits: 32}, Nullable: true},
		{Name: "f", Type: warehouse.Float, Nullable: true},
		{Name: "f32", Type: warehouse.Type{Kind: warehouse.KindFloat, Bits: 32}, Nullable: true},
		{Name: "b", Type: warehouse.Boolean, Nullable: true},
		{Name: "s", Type: warehouse.String, Nullable: true},
		{Name: "bin", Type: warehouse.Binary, Nullable: true},
		{Name: "dt", Type: warehouse.Date, Nullable: true},
		{Name: "ts", Type: warehouse.Timestamp, Nullable: true},
		{Name: "tz", Type: warehouse.TimestampTZ, Nullable: true},
		{Name: "d2", Type: warehouse.DecimalType(12, 2), Nullable: true},
		{Name: "d18", Type: warehouse.DecimalType(18, 6), Nullable: true},
	}
	floats := []float64{0, -1.5, 1e308, 5e-324, math.Inf(1), math.Inf(-1), math.NaN(), 0.1}
	row := func(i int) []any {
		ts := time.Date(1950+i%100, time.Month(1+i%12), 1+i%28, i%24, i%60, i%60, (i%1000)*1000, time.UTC)
		r := []any{int64(i), int64(i%300 - 150), int64(-i * 1000), floats[i%len(floats)], float64(float32(i) / 7), i%2 == 0,
			"naïve ✓ " + string(rune('a'+i%26)), []byte{0, byte(i), 255}, ts.Truncate(24 * time.Hour), ts, ts.Add(-time.Hour),
			warehouse.MustDecimal("-" + time.Duration(i).String()[:len(time.Duration(i).String())-2] + ".25"), warehouse.MustDecimal("123456789012.123456")}
		if i%7 == 3 {
			for j := 1; j < len(r); j++ {
				r[j] = nil
			}
		}
		return r
	}
	w := openDuck(t, "duckdb:")
	rel := makeTable(t, w, "raw", "kinds", cols, []string{"id"}, 300, row)
	want := tableFingerprint(t, w, rel)
	repo := initRepo(t, "file://"+t.TempDir(), "")
	var st struct {
		N   int64  `db:"n"`
		Sum string `db:"s"`
		XOR string `db:"x"`
	}
	d := w.Dialect()
	if err := w.Get(ctx, &st, "SELECT count(*) AS n, CAST(sum(CAST(h AS HUGEINT)) AS VARCHAR) AS s, CAST(bit_xor(h) AS VARCHAR) AS x FROM (SELECT "+RowHashColumn+" AS h FROM ("+
		duckHashedSelect(d, d.QuoteRelation(rel), cols, cols)+"))"); err != nil {
		t.Fatal(err)
	}
	if sqlFP, err := fingerprintOf(st.N, st.Sum, st.XOR); err != nil || sqlFP != want {
		t.Fatalf("Go fingerprint over the raw scan %v, SQL row hashes %v (%v)", want, sqlFP, err)
	}
	res, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.kinds"}})
	if err != nil {
		t.Fatal(err)
	}
	if e := res.Tables[0]; e.Fingerprint != entryFingerprint(t, w, rel, &e) || e.RowHashKind() == HashSHA256 {
		t.Fatalf("backup fingerprint %v (%s), table's %v", e.Fingerprint, e.RowHash, entryFingerprint(t, w, rel, &e))
	}
	if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: res.ID, Schema: "back", Overwrite: true, Rehash: true}); err != nil {
		t.Fatal(err)
	}
	if got := tableFingerprint(t, w, warehouse.Rel("back", "kinds")); got != want {
		t.Fatalf("restored %v, want %v", got, want)
	}

	// DuckDB's Parquet writer merges -0.0 with 0.0: an incremental of a table
	// holding -0.0 does not write its upserts with it, and both zeros come back
	mustExec(t, w, "UPDATE raw.kinds SET f = -(0.0::DOUBLE), s = 'changed' WHERE id IN (1, 2)")
	want = tableFingerprint(t, w, rel)
	inc, err := Backup(ctx, repo, w, Options{Tables: []string{"raw.kinds"}, Parent: res.ID})
	if err != nil {
		t.Fatal(err)
	}
	if e := inc.Tables[0]; e.Fingerprint != entryFingerprint(t, w, rel, &e) || e.Data.Mode != ModeDelta {
		t.Fatalf("with -0.0: %s, fingerprint %v, want %v", e.Data.Mode, e.Fingerprint, entryFingerprint(t, w, rel, &e))
	}
	for _, rehash := range []bool{false, true} {
		if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: inc.ID, Schema: "back", Overwrite: true, Rehash: rehash}); err != nil {
			t.Fatal(err)
		}
		var neg, pos int
		if err := w.Get(ctx, &neg, "SELECT count(*) FROM back.kinds WHERE f = 0 AND signbit(f)"); err != nil || neg != 2 {
			t.Fatalf("restored negative zeros: %d, %v", neg, err)
		}
		if err := w.Get(ctx, &pos, "SELECT count(*) FROM back.kinds WHERE f = 0 AND NOT signbit(f)"); err != nil || pos == 0 {
			t.Fatalf("restored positive zeros: %d, %v", pos, err)
		}
	}
}
