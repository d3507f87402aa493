package duckdb

import (
	"encoding/binary"
	"fmt"
)

// uuid128 is a UUID as DuckDB stores it: a hugeint_t whose upper half is
// the first 8 bytes (big-endian) with the top bit flipped, so that the
// signed order of hugeints is the byte order of UUIDs.
type uuid128 struct {
	lower uint64
	upper int64
}

// uuidOf returns the DuckDB form of the UUID bytes u.
func uuidOf(u [16]byte) uuid128 {
	return uuid128{
		lower: binary.BigEndian.Uint64(u[8:]),
		upper: int64(binary.BigEndian.Uint64(u[:8]) ^ 1<<63),
	}
}

// hexVal maps an ASCII byte to its hex digit value, or 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// canonicalAt are the places of the bytes' digit pairs in a UUID's
// canonical text (8-4-4-4-12).
var canonicalAt = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// parseUUID parses the text of a UUID in the forms DuckDB accepts: 32 hex
// digits, optionally with hyphens between groups of digits and in braces
// ({…}); 16 bytes that are not such text are taken as the UUID's bytes.
func parseUUID[S string | []byte](s S) (uuid128, error) {
	var u [16]byte
	if len(s) == 16 {
		copy(u[:], s)
		return uuidOf(u), nil
	}
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		// The canonical form: the digits are at fixed places.
		var bad byte
		for i, at := range canonicalAt {
			hi, lo := hexVal[s[at]], hexVal[s[at+1]]
			bad |= hi | lo
			u[i] = hi<<4 | lo
		}
		if bad&0xf0 == 0 {
			return uuidOf(u), nil
		}
		return uuid128{}, fmt.Errorf("invalid UUID %.40q", string(s))
	}
	t := s
	if len(t) >= 2 && t[0] == '{' && t[len(t)-1] == '}' {
		t = t[1 : len(t)-1]
	}
	digits := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '-' && digits > 0 && digits < 32 && i+1 < len(t) && t[i+1] != '-' {
			continue
		}
		v := hexVal[c]
		if v == 0xff || digits == 32 {
			return uuid128{}, fmt.Errorf("invalid UUID %.40q", string(s))
		}
		if digits%2 == 0 {
			u[digits/2] = v << 4
		} else {
			u[digits/2] |= v
		}
		digits++
	}
	if digits != 32 {
		return uuid128{}, fmt.Errorf("invalid UUID %.40q", string(s))
	}
	return uuidOf(u), nil
}
