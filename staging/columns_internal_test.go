package staging

import (
	"math/rand/v2"
	"strconv"
	"testing"
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
		cases = append(cases, s)
	}
	for _, s := range cases {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := plainDecimal([]byte(s))
		digits := 0
		for _, c := range s {
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
