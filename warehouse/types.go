package warehouse

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Kind is the portable class of a column type. Every driver maps each Kind
// to one of its engine's types and back (see Dialect.TypeSQL and
// Dialect.ParseType).
type Kind int

// The portable kinds. KindUnknown is what introspection reports for an engine
// type that has no portable equivalent; Type.Native then holds its name.
const (
	KindUnknown     Kind = iota
	KindString           // text of any length (Type.Length bounds it when > 0)
	KindInteger          // signed integer of Type.Bits bits (16, 32 or 64; 0 means 64)
	KindDecimal          // exact decimal(Type.Precision, Type.Scale)
	KindFloat            // IEEE float of Type.Bits bits (32 or 64; 0 means 64)
	KindBoolean          // true or false
	KindDate             // calendar date
	KindTime             // time of day without zone, microsecond precision
	KindTimestamp        // date and time without zone (wall clock), microseconds
	KindTimestampTZ      // an instant, microseconds
	KindJSON             // a JSON document (Snowflake: VARIANT)
	KindBinary           // bytes
	KindArray            // ordered list of Type.Elem
)

var kindNames = [...]string{"unknown", "string", "integer", "decimal", "float", "boolean", "date", "time", "timestamp", "timestamptz", "json", "binary", "array"}

// String returns the lower-case name of the kind ("timestamptz", "json", …).
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Type is a portable column type.
//
// The Go values that stand for each kind, both when loading (Load) and when
// reading (Rows), are:
//
//	KindString       string
//	KindInteger      int64 (any Go integer type is accepted on input)
//	KindDecimal      Decimal (string, integer and float64 accepted on input)
//	KindFloat        float64 (float32 accepted on input)
//	KindBoolean      bool
//	KindDate         time.Time at midnight UTC
//	KindTime         time.Time on 0001-01-01 UTC (only the clock is kept)
//	KindTimestamp    time.Time in UTC whose wall clock is the stored value
//	KindTimestampTZ  time.Time in UTC
//	KindJSON         json.RawMessage (string and []byte holding JSON text, or any
//	                 other value, which is marshalled, accepted on input)
//	KindBinary       []byte
//	KindArray        []any of the element kind's values
//
// nil is SQL NULL for every kind.
type Type struct {
	Kind      Kind
	Bits      int    // KindInteger: 16, 32, 64; KindFloat: 32, 64; 0 means 64
	Precision int    // KindDecimal: total digits, 1..38
	Scale     int    // KindDecimal: digits after the point
	Length    int    // KindString: maximum length in characters; 0 means unbounded
	Elem      *Type  // KindArray: the element type
	Native    string // the engine's own spelling, filled by introspection
}

// Common portable types.
var (
	String      = Type{Kind: KindString}
	Integer     = Type{Kind: KindInteger, Bits: 64}
	Float       = Type{Kind: KindFloat, Bits: 64}
	Boolean     = Type{Kind: KindBoolean}
	Date        = Type{Kind: KindDate}
	Time        = Type{Kind: KindTime}
	Timestamp   = Type{Kind: KindTimestamp}
	TimestampTZ = Type{Kind: KindTimestampTZ}
	JSON        = Type{Kind: KindJSON}
	Binary      = Type{Kind: KindBinary}
)

// DecimalType returns decimal(precision, scale).
func DecimalType(precision, scale int) Type {
	return Type{Kind: KindDecimal, Precision: precision, Scale: scale}
}

// ArrayOf returns an array whose elements have type elem.
func ArrayOf(elem Type) Type {
	e := elem
	return Type{Kind: KindArray, Elem: &e}
}

// String renders the portable type, e.g. "decimal(38,10)" or "array<integer>".
func (t Type) String() string {
	switch t.Kind {
	case KindDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case KindInteger, KindFloat:
		if t.Bits != 0 && t.Bits != 64 {
			return fmt.Sprintf("%s%d", t.Kind, t.Bits)
		}
	case KindString:
		if t.Length > 0 {
			return fmt.Sprintf("string(%d)", t.Length)
		}
	case KindArray:
		if t.Elem != nil {
			return "array<" + t.Elem.String() + ">"
		}
	case KindUnknown:
		if t.Native != "" {
			return "unknown(" + t.Native + ")"
		}
	}
	return t.Kind.String()
}

// Equal reports whether two types are the same portable type; Native is ignored
// and a zero Bits equals 64.
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case KindInteger, KindFloat:
		return bitsOr64(t.Bits) == bitsOr64(u.Bits)
	case KindDecimal:
		return t.Precision == u.Precision && t.Scale == u.Scale
	case KindString:
		return t.Length == u.Length
	case KindArray:
		if t.Elem == nil || u.Elem == nil {
			return t.Elem == u.Elem
		}
		return t.Elem.Equal(*u.Elem)
	case KindUnknown:
		return strings.EqualFold(t.Native, u.Native)
	}
	return true
}

func bitsOr64(b int) int {
	if b == 0 {
		return 64
	}
	return b
}

// Column describes one column of a relation.
type Column struct {
	Name     string
	Type     Type
	Nullable bool
}

// Decimal is an exact decimal number: Unscaled × 10^-Scale. It is the
// portable Go value of KindDecimal columns, able to hold all 38 digits.
type Decimal struct {
	Unscaled *big.Int
	Scale    int
}

// ParseDecimal parses decimal text such as "-12.340" or "1e-3".
func ParseDecimal(s string) (Decimal, error) {
	orig := s
	s = strings.TrimSpace(s)
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		var e int
		if _, err := fmt.Sscanf(s[i+1:], "%d", &e); err != nil {
			return Decimal{}, fmt.Errorf("warehouse: invalid decimal %q", orig)
		}
		exp = e
		s = s[:i]
	}
	scale := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		scale = len(s) - i - 1
		s = s[:i] + s[i+1:]
	}
	if s == "" || s == "-" || s == "+" {
		return Decimal{}, fmt.Errorf("warehouse: invalid decimal %q", orig)
	}
	u, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return Decimal{}, fmt.Errorf("warehouse: invalid decimal %q", orig)
	}
	scale -= exp
	if scale < 0 {
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
		scale = 0
	}
	return Decimal{Unscaled: u, Scale: scale}, nil
}

// MustDecimal is ParseDecimal for constants; it panics on bad input.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String renders the decimal with exactly Scale digits after the point.
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "0"
	}
	s := new(big.Int).Abs(d.Unscaled).String()
	if d.Scale > 0 {
		if len(s) <= d.Scale {
			s = strings.Repeat("0", d.Scale-len(s)+1) + s
		}
		s = s[:len(s)-d.Scale] + "." + s[len(s)-d.Scale:]
	}
	if d.Unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// Value makes Decimal usable as a bind parameter through database/sql: it
// binds as its exact decimal text.
func (d Decimal) Value() (driver.Value, error) { return d.String(), nil }

// Rat returns the decimal's exact value.
func (d Decimal) Rat() *big.Rat {
	if d.Unscaled == nil {
		return new(big.Rat)
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil)
	return new(big.Rat).SetFrac(d.Unscaled, den)
}

// Cmp compares two decimals by value (1.50 equals 1.5).
func (d Decimal) Cmp(e Decimal) int { return d.Rat().Cmp(e.Rat()) }

// Rescale returns the decimal with the given scale, or an error if digits
// would be lost.
func (d Decimal) Rescale(scale int) (Decimal, error) {
	u := new(big.Int)
	if d.Unscaled != nil {
		u.Set(d.Unscaled)
	}
	switch {
	case scale > d.Scale:
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale-d.Scale)), nil))
	case scale < d.Scale:
		q, r := new(big.Int).QuoRem(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-scale)), nil), new(big.Int))
		if r.Sign() != 0 {
			return Decimal{}, fmt.Errorf("warehouse: decimal %s does not fit scale %d", d, scale)
		}
		u = q
	}
	return Decimal{Unscaled: u, Scale: scale}, nil
}

// ToDecimal converts an input value for a decimal column (Decimal, string,
// integer, float64, *big.Int, *big.Rat) to a Decimal.
func ToDecimal(v any) (Decimal, error) {
	switch x := v.(type) {
	case Decimal:
		return x, nil
	case *Decimal:
		return *x, nil
	case string:
		return ParseDecimal(x)
	case []byte:
		return ParseDecimal(string(x))
	case *big.Int:
		return Decimal{Unscaled: new(big.Int).Set(x)}, nil
	case *big.Rat:
		return ParseDecimal(x.FloatString(38))
	case float64:
		return ParseDecimal(fmt.Sprintf("%g", x))
	case float32:
		return ParseDecimal(fmt.Sprintf("%g", x))
	case fmt.Stringer:
		return ParseDecimal(x.String())
	}
	if i, ok := ToInt64(v); ok {
		return Decimal{Unscaled: big.NewInt(i)}, nil
	}
	return Decimal{}, fmt.Errorf("warehouse: cannot use %T as a decimal", v)
}

// ToInt64 converts any Go integer type to int64; ok is false for other types
// or an unsigned value that overflows.
func ToInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	case uint:
		if uint64(x) > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// ToJSON converts an input value for a JSON column to JSON text: string and
// []byte must already hold JSON; json.RawMessage is taken as is; anything
// else is marshalled.
func ToJSON(v any) (json.RawMessage, error) {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	case string:
		raw = []byte(x)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("warehouse: marshal %T to JSON: %w", v, err)
		}
		return b, nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("warehouse: value is not valid JSON: %.40q", raw)
	}
	return raw, nil
}

// TimeOfDay returns t's clock on 0001-01-01 UTC, the portable KindTime value.
func TimeOfDay(t time.Time) time.Time {
	return time.Date(1, time.January, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// WallClockUTC returns t's wall clock (in its own location) as a UTC time, the
// portable KindTimestamp value.
func WallClockUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
