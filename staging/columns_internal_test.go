package staging

import (
	"math/rand/v2"
	"strconv"
	"strings"
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
