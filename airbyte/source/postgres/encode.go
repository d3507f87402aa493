package postgres

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"

	"github.com/dataopskit/dataops/airbyte"
)

// An encoder appends one non-null PostgreSQL value, in binary or text
// format, to dst as JSON. It returns false (and dst unchanged) when the value
// has no JSON form in the declared type (NaN, ±Infinity, infinite dates):
// the record then carries null there and a meta change.
type encoder func(dst, src []byte) ([]byte, bool)

// binaryEncoder returns the binary-format encoder of k, or nil when k is
// read in text format.
func binaryEncoder(k kind) encoder {
	switch k {
	case kInt16:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 2 {
				return dst, false
			}
			return strconv.AppendInt(dst, int64(int16(binary.BigEndian.Uint16(src))), 10), true
		}
	case kInt32:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 4 {
				return dst, false
			}
			return strconv.AppendInt(dst, int64(int32(binary.BigEndian.Uint32(src))), 10), true
		}
	case kInt64:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 8 {
				return dst, false
			}
			return strconv.AppendInt(dst, int64(binary.BigEndian.Uint64(src)), 10), true
		}
	case kFloat32:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 4 {
				return dst, false
			}
			f := float64(math.Float32frombits(binary.BigEndian.Uint32(src)))
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return dst, false
			}
			return strconv.AppendFloat(dst, f, 'g', -1, 32), true
		}
	case kFloat64:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 8 {
				return dst, false
			}
			f := math.Float64frombits(binary.BigEndian.Uint64(src))
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return dst, false
			}
			return strconv.AppendFloat(dst, f, 'g', -1, 64), true
		}
	case kBool:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 1 {
				return dst, false
			}
			if src[0] != 0 {
				return append(dst, "true"...), true
			}
			return append(dst, "false"...), true
		}
	case kDate:
		var cache dateCache
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 4 {
				return dst, false
			}
			d := int32(binary.BigEndian.Uint32(src))
			if d == math.MaxInt32 || d == math.MinInt32 {
				return dst, false
			}
			dst = append(dst, '"')
			dst, bc := cache.append(dst, int64(d))
			if bc {
				dst = append(dst, " BC"...)
			}
			return append(dst, '"'), true
		}
	case kTime:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 8 {
				return dst, false
			}
			dst = append(dst, '"')
			dst = appendClock(dst, int64(binary.BigEndian.Uint64(src)))
			return append(dst, '"'), true
		}
	case kTimeTZ:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 12 {
				return dst, false
			}
			dst = append(dst, '"')
			dst = appendClock(dst, int64(binary.BigEndian.Uint64(src)))
			// PostgreSQL stores the zone as seconds west of UTC.
			dst = appendOffset(dst, -int64(int32(binary.BigEndian.Uint32(src[8:]))))
			return append(dst, '"'), true
		}
	case kTimestamp, kTimestampTZ:
		tz := k == kTimestampTZ
		var cache dateCache
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 8 {
				return dst, false
			}
			us := int64(binary.BigEndian.Uint64(src))
			if us == math.MaxInt64 || us == math.MinInt64 {
				return dst, false
			}
			days := us / 86400000000
			rem := us % 86400000000
			if rem < 0 {
				rem += 86400000000
				days--
			}
			dst = append(dst, '"')
			dst, bc := cache.append(dst, days)
			dst = append(dst, 'T')
			dst = appendClock(dst, rem)
			if tz {
				dst = append(dst, 'Z')
			}
			if bc {
				dst = append(dst, " BC"...)
			}
			return append(dst, '"'), true
		}
	case kUUID:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) != 16 {
				return dst, false
			}
			dst = append(dst, '"')
			dst = appendUUID(dst, src)
			return append(dst, '"'), true
		}
	case kBytea:
		return func(dst, src []byte) ([]byte, bool) {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, src)
			return append(dst, '"'), true
		}
	}
	return nil
}

// textEncoder returns the encoder of k's text output, under the session
// settings of sessionParams (DateStyle ISO, TimeZone UTC, IntervalStyle
// iso_8601, bytea_output hex).
func textEncoder(k kind) encoder {
	switch k {
	case kInt16, kInt32, kInt64, kFloat32, kFloat64, kNumeric:
		return encNumberText
	case kMoney:
		return encMoneyText
	case kBool:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) == 1 && src[0] == 't' {
				return append(dst, "true"...), true
			}
			return append(dst, "false"...), true
		}
	case kBytea:
		return func(dst, src []byte) ([]byte, bool) {
			if len(src) < 2 || src[0] != '\\' || src[1] != 'x' {
				return dst, false
			}
			raw := make([]byte, hex.DecodedLen(len(src)-2))
			if _, err := hex.Decode(raw, src[2:]); err != nil {
				return dst, false
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, raw)
			return append(dst, '"'), true
		}
	case kDate:
		return func(dst, src []byte) ([]byte, bool) {
			if isInfinity(src) {
				return dst, false
			}
			return appendJSONBytes(dst, src), true
		}
	case kTimeTZ:
		return func(dst, src []byte) ([]byte, bool) {
			dst = append(dst, '"')
			dst = appendTextZone(dst, src)
			return append(dst, '"'), true
		}
	case kTimestamp, kTimestampTZ:
		return func(dst, src []byte) ([]byte, bool) {
			if isInfinity(src) {
				return dst, false
			}
			// "2024-01-02 03:04:05.5+00 BC" -> "2024-01-02T03:04:05.5Z BC"
			bc := len(src) > 3 && string(src[len(src)-3:]) == " BC"
			if bc {
				src = src[:len(src)-3]
			}
			dst = append(dst, '"')
			if len(src) > 10 && src[10] == ' ' {
				dst = append(dst, src[:10]...)
				dst = append(dst, 'T')
				dst = appendTextZone(dst, src[11:])
			} else {
				dst = append(dst, src...)
			}
			if bc {
				dst = append(dst, " BC"...)
			}
			return append(dst, '"'), true
		}
	}
	return encStringText
}

func isInfinity(src []byte) bool {
	s := string(src)
	return s == "infinity" || s == "-infinity"
}

// appendTextZone copies a clock text with an optional zone, writing "+00"
// as "Z" and "+hh" as "+hh:00".
func appendTextZone(dst, src []byte) []byte {
	i := len(src) - 1
	for i >= 0 && src[i] != '+' && src[i] != '-' {
		i--
	}
	if i < 0 {
		return append(dst, src...)
	}
	dst = append(dst, src[:i]...)
	zone := src[i:]
	switch {
	case string(zone) == "+00":
		return append(dst, 'Z')
	case len(zone) == 3:
		dst = append(dst, zone...)
		return append(dst, ":00"...)
	}
	return append(dst, zone...)
}

func encNumberText(dst, src []byte) ([]byte, bool) {
	if !numberTextOK(src) {
		return dst, false
	}
	return append(dst, src...), true
}

// numberTextOK reports whether a number's text output is a JSON number
// (not NaN, Infinity or -Infinity).
func numberTextOK(src []byte) bool {
	return len(src) > 0 && (src[0] >= '0' && src[0] <= '9' || src[0] == '-' && len(src) >= 2 && src[1] >= '0' && src[1] <= '9')
}

// encMoneyText keeps the digits, sign and decimal point of a money text
// such as "-$1,234.56" (lc_monetary with "." as decimal point).
func encMoneyText(dst, src []byte) ([]byte, bool) {
	start := len(dst)
	for _, c := range src {
		if c >= '0' && c <= '9' || c == '.' || (c == '-' && len(dst) == start) {
			dst = append(dst, c)
		}
	}
	if len(dst) == start || (len(dst) == start+1 && dst[start] == '-') {
		return dst[:start], false
	}
	return dst, true
}

func encStringText(dst, src []byte) ([]byte, bool) {
	return appendJSONBytes(dst, src), true
}

// appendDate writes the proleptic Gregorian date of days since 2000-01-01
// as YYYY-MM-DD and reports whether it is BC (year 0 is 1 BC, as PostgreSQL
// prints it).
func appendDate(dst []byte, days int64) ([]byte, bool) {
	// civil-from-days (days since 1970-01-01)
	z := days + 10957 + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	dst = appendPad(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, m, 2)
	dst = append(dst, '-')
	dst = appendPad(dst, d, 2)
	return dst, bc
}

// appendClock writes microseconds since midnight as hh:mm:ss[.ffffff]
// without trailing zeros in the fraction.
func appendClock(dst []byte, us int64) []byte {
	s := us / 1000000
	frac := us % 1000000
	dst = appendPad(dst, s/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, s/60%60, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, s%60, 2)
	if frac != 0 {
		dst = append(dst, '.')
		n := 6
		for frac%10 == 0 {
			frac /= 10
			n--
		}
		dst = appendPad(dst, frac, n)
	}
	return dst
}

// appendOffset writes a UTC offset in seconds as Z or ±hh:mm[:ss].
func appendOffset(dst []byte, sec int64) []byte {
	if sec == 0 {
		return append(dst, 'Z')
	}
	if sec < 0 {
		dst = append(dst, '-')
		sec = -sec
	} else {
		dst = append(dst, '+')
	}
	dst = appendPad(dst, sec/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, sec/60%60, 2)
	if sec%60 != 0 {
		dst = append(dst, ':')
		dst = appendPad(dst, sec%60, 2)
	}
	return dst
}

// digits2 holds "00" to "99".
const digits2 = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

func appendPad(dst []byte, v int64, width int) []byte {
	switch {
	case width == 2 && v >= 0 && v < 100:
		return append(dst, digits2[v*2], digits2[v*2+1])
	case width == 4 && v >= 0 && v < 10000:
		return append(dst, digits2[v/100*2], digits2[v/100*2+1], digits2[v%100*2], digits2[v%100*2+1])
	}
	var b [20]byte
	i := len(b)
	for v > 0 || i == len(b) {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	for len(b)-i < width {
		i--
		b[i] = '0'
	}
	return append(dst, b[i:]...)
}

// dateCache remembers the text of the last date written, since
// consecutive rows often fall on the same day.
type dateCache struct {
	days int64
	text [16]byte
	n    int
	bc   bool
	ok   bool
}

func (c *dateCache) append(dst []byte, days int64) ([]byte, bool) {
	if !c.ok || c.days != days {
		b, bc := appendDate(c.text[:0], days)
		c.days, c.n, c.bc, c.ok = days, len(b), bc, true
	}
	return append(dst, c.text[:c.n]...), c.bc
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte { return airbyte.AppendJSONString(dst, s) }

// appendJSONBytes is appendJSONString for a byte slice.
func appendJSONBytes(dst, b []byte) []byte {
	return appendJSONString(dst, unsafeString(b))
}

// encodeTextArray appends a PostgreSQL array literal (text output, e.g.
// {1,NULL,"a b",{2,3}}) as a JSON array, each element through enc. It
// reports false when the literal does not parse.
func encodeTextArray(dst, src []byte, enc encoder) ([]byte, bool) {
	// Arrays with lower bounds other than 1 are prefixed "[0:2]=".
	if len(src) > 0 && src[0] == '[' {
		for i, c := range src {
			if c == '=' {
				src = src[i+1:]
				break
			}
		}
	}
	var elem []byte
	i := 0
	var parse func() bool
	parse = func() bool {
		if i >= len(src) || src[i] != '{' {
			return false
		}
		i++
		dst = append(dst, '[')
		first := true
		for i < len(src) {
			if src[i] == '}' {
				i++
				dst = append(dst, ']')
				return true
			}
			if !first {
				if src[i] != ',' && src[i] != ';' {
					return false
				}
				i++
				dst = append(dst, ',')
			}
			first = false
			switch {
			case i < len(src) && src[i] == '{':
				if !parse() {
					return false
				}
			case i < len(src) && src[i] == '"':
				i++
				elem = elem[:0]
				for i < len(src) && src[i] != '"' {
					if src[i] == '\\' && i+1 < len(src) {
						i++
					}
					elem = append(elem, src[i])
					i++
				}
				if i >= len(src) {
					return false
				}
				i++
				var ok bool
				if dst, ok = enc(dst, elem); !ok {
					dst = append(dst, "null"...)
				}
			default:
				j := i
				for i < len(src) && src[i] != ',' && src[i] != '}' && src[i] != ';' {
					i++
				}
				raw := src[j:i]
				if len(raw) == 4 && (string(raw) == "NULL" || string(raw) == "null") {
					dst = append(dst, "null"...)
					continue
				}
				var ok bool
				if dst, ok = enc(dst, raw); !ok {
					dst = append(dst, "null"...)
				}
			}
		}
		return false
	}
	start := len(dst)
	if !parse() {
		return dst[:start], false
	}
	return dst, true
}
