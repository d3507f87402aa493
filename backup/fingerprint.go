package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// Fingerprint is the order-independent digest of a table's rows that every
// snapshot manifest records (FORMAT.md §7): the row count, the sum of the
// row hashes modulo 2^64 and their XOR. Two tables with the same rows have
// the same fingerprint whatever the engine or the row order.
type Fingerprint struct {
	Count int64
	Sum   uint64
	XOR   uint64
}

// Add folds one row hash into the fingerprint.
func (f *Fingerprint) Add(h uint64) {
	f.Count++
	f.Sum += h
	f.XOR ^= h
}

// Merge folds another fingerprint (of disjoint rows) into f.
func (f *Fingerprint) Merge(g Fingerprint) {
	f.Count += g.Count
	f.Sum += g.Sum
	f.XOR ^= g.XOR
}

// Remove takes out of f the fingerprint g of some of its rows (the
// inverse of Merge: sums wrap modulo 2^64, XOR is its own inverse).
func (f *Fingerprint) Remove(g Fingerprint) {
	f.Count -= g.Count
	f.Sum -= g.Sum
	f.XOR ^= g.XOR
}

// String renders the fingerprint as "count/sum/xor" with 16 hex digits each.
func (f Fingerprint) String() string {
	return fmt.Sprintf("%d/%016x/%016x", f.Count, f.Sum, f.XOR)
}

// fingerprintJSON is the manifest form of a Fingerprint.
type fingerprintJSON struct {
	Count int64  `json:"count"`
	Sum   string `json:"sum"`
	XOR   string `json:"xor"`
}

// MarshalJSON writes {"count", "sum", "xor"} with sum and xor as 16 hex digits.
func (f Fingerprint) MarshalJSON() ([]byte, error) {
	return json.Marshal(fingerprintJSON{f.Count, fmt.Sprintf("%016x", f.Sum), fmt.Sprintf("%016x", f.XOR)})
}

// UnmarshalJSON reads the manifest form written by MarshalJSON.
func (f *Fingerprint) UnmarshalJSON(b []byte) error {
	var j fingerprintJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	s, err := parseHex64(j.Sum)
	if err != nil {
		return fmt.Errorf("fingerprint sum: %w", err)
	}
	x, err := parseHex64(j.XOR)
	if err != nil {
		return fmt.Errorf("fingerprint xor: %w", err)
	}
	*f = Fingerprint{Count: j.Count, Sum: s, XOR: x}
	return nil
}

func parseHex64(s string) (uint64, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("%q is not 16 hex digits", s)
	}
	return binary.BigEndian.Uint64(b), nil
}

// RowHasher computes the canonical row hash of FORMAT.md §7 for rows of a
// fixed column list. It reuses its buffer: one per goroutine.
type RowHasher struct {
	types []warehouse.Type
	buf   []byte
}

// NewRowHasher returns a hasher for rows whose values follow cols in order.
func NewRowHasher(cols []warehouse.Column) *RowHasher {
	ts := make([]warehouse.Type, len(cols))
	for i, c := range cols {
		ts[i] = c.Type
	}
	return &RowHasher{types: ts, buf: make([]byte, 0, 256)}
}

// Hash returns the row hash of values (portable values, one per column).
// The error names the column whose value does not fit its type.
func (h *RowHasher) Hash(values []any) (uint64, error) {
	if len(values) != len(h.types) {
		return 0, fmt.Errorf("row has %d values for %d columns", len(values), len(h.types))
	}
	b := h.buf[:0]
	var err error
	for i, v := range values {
		b, err = appendValue(b, h.types[i], v)
		if err != nil {
			return 0, fmt.Errorf("column %d: %w", i+1, err)
		}
	}
	h.buf = b
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8]), nil
}

// Encode returns the canonical encoding of one row (a copy), for tests and
// for key comparison.
func (h *RowHasher) Encode(values []any) ([]byte, error) {
	if _, err := h.Hash(values); err != nil {
		return nil, err
	}
	return bytes.Clone(h.buf), nil
}

// canonicalNaN is the one NaN the encoding uses (the usual quiet NaN).
const canonicalNaN = 0x7ff8000000000000

// appendValue appends the tag byte and the canonical encoding of v.
func appendValue(b []byte, t warehouse.Type, v any) ([]byte, error) {
	if v == nil {
		return append(b, 0), nil
	}
	b = append(b, 1)
	switch t.Kind {
	case warehouse.KindInteger:
		n, ok := warehouse.ToInt64(v)
		if !ok {
			return b, fmt.Errorf("integer value of Go type %T", v)
		}
		return binary.BigEndian.AppendUint64(b, uint64(n)), nil
	case warehouse.KindDecimal:
		d, err := warehouse.ToDecimal(v)
		if err != nil {
			return b, err
		}
		if t.Precision > 0 && d.Scale != t.Scale {
			if r, err := d.Rescale(t.Scale); err == nil {
				d = r
			}
		}
		if d.Scale < 0 || d.Scale > 255 {
			return b, fmt.Errorf("decimal scale %d out of range", d.Scale)
		}
		u := twosComplement(d.Unscaled)
		if len(u) > 255 {
			return b, fmt.Errorf("decimal of %d bytes is too long", len(u))
		}
		b = append(b, byte(d.Scale), byte(len(u)))
		return append(b, u...), nil
	case warehouse.KindFloat:
		f, ok := toFloat64(v)
		if !ok {
			return b, fmt.Errorf("float value of Go type %T", v)
		}
		bits := math.Float64bits(f)
		if f != f {
			bits = canonicalNaN
		}
		return binary.BigEndian.AppendUint64(b, bits), nil
	case warehouse.KindBoolean:
		x, ok := v.(bool)
		if !ok {
			return b, fmt.Errorf("boolean value of Go type %T", v)
		}
		if x {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case warehouse.KindDate:
		tm, ok := v.(time.Time)
		if !ok {
			return b, fmt.Errorf("date value of Go type %T", v)
		}
		days := floorDiv(wallUnixMicro(tm), 86_400_000_000)
		return binary.BigEndian.AppendUint32(b, uint32(int32(days))), nil
	case warehouse.KindTime:
		tm, ok := v.(time.Time)
		if !ok {
			return b, fmt.Errorf("time value of Go type %T", v)
		}
		us := int64(tm.Hour())*3_600_000_000 + int64(tm.Minute())*60_000_000 + int64(tm.Second())*1_000_000 + int64(tm.Nanosecond()/1000)
		return binary.BigEndian.AppendUint64(b, uint64(us)), nil
	case warehouse.KindTimestamp:
		tm, ok := v.(time.Time)
		if !ok {
			return b, fmt.Errorf("timestamp value of Go type %T", v)
		}
		return binary.BigEndian.AppendUint64(b, uint64(wallUnixMicro(tm))), nil
	case warehouse.KindTimestampTZ:
		tm, ok := v.(time.Time)
		if !ok {
			return b, fmt.Errorf("timestamptz value of Go type %T", v)
		}
		return binary.BigEndian.AppendUint64(b, uint64(tm.UnixMicro())), nil
	case warehouse.KindJSON:
		raw, err := warehouse.ToJSON(v)
		if err != nil {
			return b, err
		}
		c, err := canonicalJSON(raw)
		if err != nil {
			return b, err
		}
		return appendBytes(b, c), nil
	case warehouse.KindBinary:
		switch x := v.(type) {
		case []byte:
			return appendBytes(b, x), nil
		case string:
			return appendBytes(b, []byte(x)), nil
		}
		return b, fmt.Errorf("binary value of Go type %T", v)
	case warehouse.KindArray:
		xs, ok := v.([]any)
		if !ok {
			return b, fmt.Errorf("array value of Go type %T", v)
		}
		elem := warehouse.String
		if t.Elem != nil {
			elem = *t.Elem
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(xs)))
		var err error
		for _, x := range xs {
			if b, err = appendValue(b, elem, x); err != nil {
				return b, err
			}
		}
		return b, nil
	default: // string and anything unknown: its text
		switch x := v.(type) {
		case string:
			return appendBytes(b, []byte(x)), nil
		case []byte:
			return appendBytes(b, x), nil
		}
		return appendBytes(b, fmt.Appendf(nil, "%v", v)), nil
	}
}

func appendBytes(b, x []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
	return append(b, x...)
}

// wallUnixMicro is the wall clock of t read as UTC, in microseconds since the
// epoch.
func wallUnixMicro(t time.Time) int64 {
	return warehouse.WallClockUTC(t).UnixMicro()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// twosComplement returns the shortest big-endian two's complement encoding of
// n, at least one byte (0 is 0x00).
func twosComplement(n *big.Int) []byte {
	if n == nil || n.Sign() == 0 {
		return []byte{0}
	}
	if n.Sign() > 0 {
		b := n.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// negative: 2^(8k) + n for the smallest k that keeps the sign bit set.
	k := (n.BitLen() + 8) / 8
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*k))
	m.Add(m, n)
	b := m.Bytes()
	for len(b) < k {
		b = append([]byte{0xff}, b...)
	}
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

// canonicalJSON re-renders JSON text compactly with object keys sorted and
// numbers as written, so that engines that normalise JSON (PostgreSQL jsonb)
// and those that keep the text (DuckDB) fingerprint alike.
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// toFloat64 converts a float value (float64 or float32) to float64.
func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

// tempDirOr returns dir, or the system's temporary directory when empty.
func tempDirOr(dir string) string {
	if dir == "" {
		return os.TempDir()
	}
	return dir
}
