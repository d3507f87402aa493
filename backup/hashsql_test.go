package backup

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// The SQL row hash on DuckDB equals RowHasher's for every kind it supports,
// with NULLs, negatives, unicode, extreme decimals and every class of float.
func TestDuckHashSQLEqualsGo(t *testing.T) {
	ctx := context.Background()
	var cols []warehouse.Column
	for _, c := range allTypes {
		if c.Type.Kind != warehouse.KindJSON && c.Type.Kind != warehouse.KindArray {
			cols = append(cols, c)
		}
	}
	cols = append(cols,
		warehouse.Column{Name: "f32", Type: warehouse.Type{Kind: warehouse.KindFloat, Bits: 32}, Nullable: true},
		warehouse.Column{Name: "dbig", Type: warehouse.DecimalType(38, 0), Nullable: true},
		warehouse.Column{Name: "d9", Type: warehouse.DecimalType(9, 4), Nullable: true})
	if !duckHashable(cols) {
		t.Fatal("not hashable")
	}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 1.5, 0.1, 1e308, -1e-308, 5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 3, 4, 0.5, 0.75, 1 << 52, 1<<53 + 2}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		floats = append(floats, math.Float64frombits(rng.Uint64()))
	}
	decs := []string{"0", "1", "-1", "127", "128", "-128", "-129", "255", "32767", "-32768", "99999999999999999999999999999999999999", "-99999999999999999999999999999999999999"}
	row := func(i int) []any {
		base := allTypesRow(i)
		var r []any
		for j, c := range allTypes {
			if c.Type.Kind != warehouse.KindJSON && c.Type.Kind != warehouse.KindArray {
				r = append(r, base[j])
			}
		}
		f := floats[i%len(floats)]
		r[6] = f
		var f32 any = float64(float32(f))
		if i%9 == 4 {
			f32 = nil
		}
		return append(r, f32, warehouse.MustDecimal(decs[i%len(decs)]), warehouse.MustDecimal("-0.0001"))
	}
	w := openDuck(t, "duckdb:")
	n := len(floats)
	rel := makeTable(t, w, "raw", "h", cols, nil, n, row)
	h := NewRowHasher(cols)
	var got []int64
	if err := w.Select(ctx, &got, "SELECT "+RowHashColumn+" FROM ("+duckHashedSelect(w.Dialect(), w.Dialect().QuoteRelation(rel), cols, cols)+") ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d hashes for %d rows", len(got), n)
	}
	for i := range n {
		var vals []any
		for rec, err := range w.Rows(ctx, selectSQL(w.Dialect(), rel, cols)+" WHERE id = ?", i) {
			if err != nil {
				t.Fatal(err)
			}
			vals = append([]any(nil), rec.Values...)
		}
		want, err := h.Hash(vals)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(got[i]) != want {
			enc, _ := h.Encode(vals)
			t.Fatalf("row %d (float %v): SQL hash %x, Go %x; encoding %x", i, vals[6], uint64(got[i]), want, enc)
		}
	}
}
