package staging

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// TestPlainDecimal: plainDecimal agrees with strconv.ParseFloat on every
// number it takes, and leaves the others to it.
func TestPlainDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []string{"0", "-0", "1", "-1", "0.5", "123.45", "999999999999999", "-99999999999.9999", "0.000000000000001",
		"1234567890.12345", "0.1", "0.3", "2.675", "1.005"}
	for range 200_000 {
		s := strconv.FormatInt(rng.Int64N(1_000_000_000_000_000), 10)
		if k := rng.IntN(len(s) + 1); k > 0 && k < len(s) {
			s = s[:k] + "." + s[k:]
		}
		if rng.IntN(2) == 0 {
			s = "-" + s
		}
		if rng.IntN(3) == 0 {
			// Trailing zeros, as PostgreSQL writes a numeric of no declared
			// scale: they do not count against the 15 digits.
			if !strings.Contains(s, ".") {
				s += "."
			}
			s += strings.Repeat("0", 1+rng.IntN(20))
		}
		cases = append(cases, s)
	}
	cases = append(cases, "0.01000000000000000000", "-0.000", "5.000", "12345678901234.50000", "1234567890123456.0")
	for _, s := range cases {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := plainDecimal([]byte(s))
		digits := 0
		sig := s
		if strings.Contains(sig, ".") {
			sig = strings.TrimRight(sig, "0")
			if strings.HasSuffix(sig, ".") {
				sig += "0"
			}
		}
		for _, c := range sig {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		if ok != (digits <= 15) {
			t.Fatalf("%s: ok %v with %d digits", s, ok, digits)
		}
		if ok && (got != want || (got == 0 && (1/got > 0) != (1/want > 0))) {
			t.Fatalf("%s: %v, ParseFloat %v", s, got, want)
		}
	}
	for _, s := range []string{"", "-", ".5", "5.", "1e5", "1.2.3", "--1", "1 ", "+1", "1234567890123456"} {
		if _, ok := plainDecimal([]byte(s)); ok {
			t.Errorf("%q: taken", s)
		}
	}
}

// TestColBatchRows: a column batch keeps its slices at full length with
// every row past Len NULL: rows added past its room grow it, a dropped row
// and the rows of a reset batch are NULL again, and values survive growth.
func TestColBatchRows(t *testing.T) {
	cols := []warehouse.Column{
		{Name: "i", Type: warehouse.Type{Kind: warehouse.KindInteger}},
		{Name: "s", Type: warehouse.Type{Kind: warehouse.KindString}},
		{Name: "f", Type: warehouse.Type{Kind: warehouse.KindFloat}},
	}
	b := newColBatch(cols, 2)
	for n := range 5 {
		r := b.start()
		if r != n {
			t.Fatalf("row %d: start returned %d", n, r)
		}
		for c := range cols {
			if !b.Cols[c].Null[r] {
				t.Fatalf("row %d column %d: not NULL at start", r, c)
			}
		}
		b.setInt(0, r, int64(10*n))
		if n%2 == 0 {
			b.setString(1, r, "v"+strconv.Itoa(n))
		}
		if n == 3 {
			b.drop() // not added: NULL again, and the next start reuses it
			for c := range cols {
				if !b.Cols[c].Null[r] {
					t.Fatalf("dropped row %d column %d: not NULL", r, c)
				}
			}
			r = b.start()
			b.setInt(0, r, 30)
		}
		b.Len++
	}
	if len(b.Cols[0].Null) < 5 || b.Len != 5 {
		t.Fatalf("batch of %d rows, %d flags", b.Len, len(b.Cols[0].Null))
	}
	for r := range 5 {
		if got := b.Cols[0].Int[r]; got != int64(10*r) || b.Cols[0].Null[r] {
			t.Fatalf("row %d: int %d (null %v), want %d", r, got, b.Cols[0].Null[r], 10*r)
		}
		wantNull := r%2 == 1
		if b.Cols[1].Null[r] != wantNull || !wantNull && string(b.Cols[1].Bytes[r]) != "v"+strconv.Itoa(r) {
			t.Fatalf("row %d: string %q (null %v)", r, b.Cols[1].Bytes[r], b.Cols[1].Null[r])
		}
		if !b.Cols[2].Null[r] {
			t.Fatalf("row %d: float not NULL", r)
		}
	}
	b.reset()
	if b.Len != 0 || len(b.arena) != 0 {
		t.Fatalf("reset: Len %d, arena %d bytes", b.Len, len(b.arena))
	}
	for c := range cols {
		for r, null := range b.Cols[c].Null {
			if !null {
				t.Fatalf("reset: row %d column %d not NULL", r, c)
			}
		}
	}
	for r, v := range b.Cols[1].Bytes {
		if v != nil {
			t.Fatalf("reset: row %d keeps bytes %q", r, v)
		}
	}
}
