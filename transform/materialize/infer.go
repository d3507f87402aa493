package materialize

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// SeedType is the type dbt infers for a seed column, in agate's order of
// preference: a column takes the first type every non-null value casts to.
type SeedType int

// Seed column types. SeedInteger and SeedFloat are agate's Number split as
// dbt's adapters split it: no digits after the point in any (normalized)
// value gives integer, else float8.
const (
	SeedInteger SeedType = iota
	SeedFloat
	SeedDate
	SeedDateTime
	SeedBoolean
	SeedText
)

var seedTypeNames = [...]string{"integer", "float8", "date", "timestamp without time zone", "boolean", "text"}

// String returns the SQL type dbt-duckdb and dbt-postgres create for it.
func (t SeedType) String() string { return seedTypeNames[t] }

// inference tracks which types remain possible for one column.
type inference struct {
	number, date, datetime, iso, boolean bool
	decimals                             int  // most digits after the point (normalized)
	wide                                 bool // an integer beyond 32 bits
	huge                                 bool // an integer beyond 64 bits
}

func newInference() *inference {
	return &inference{number: true, date: true, datetime: true, iso: true, boolean: true}
}

// observe narrows the candidates by one value.
func (c *inference) observe(s string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return // null for every type
	}
	if c.number {
		if n, ok := parseNumber(t); ok {
			c.decimals = max(c.decimals, n.places)
			switch {
			case n.huge:
				c.huge = true
			case n.isInt && (n.i > math.MaxInt32 || n.i < math.MinInt32):
				c.wide = true
			}
		} else {
			c.number = false
		}
	}
	if c.date {
		if _, ok := parseDate(t); !ok {
			c.date = false
		}
	}
	if c.datetime {
		if _, ok := parseDateTime(t); !ok {
			c.datetime = false
		}
	}
	if c.iso {
		if _, ok := parseISODateTime(t); !ok {
			c.iso = false
		}
	}
	if c.boolean {
		if _, ok := parseBool(t); !ok {
			c.boolean = false
		}
	}
}

// result is the inferred type and its SQL spelling.
func (c *inference) result() (SeedType, string) {
	switch {
	case c.number:
		if c.decimals > 0 {
			return SeedFloat, "float8"
		}
		// dbt creates integer; wider values would fail there, so they get
		// bigint (or numeric past 64 bits) here instead.
		if c.huge {
			return SeedInteger, "numeric"
		}
		if c.wide {
			return SeedInteger, "bigint"
		}
		return SeedInteger, "integer"
	case c.date:
		return SeedDate, SeedDate.String()
	case c.datetime, c.iso:
		return SeedDateTime, SeedDateTime.String()
	case c.boolean:
		return SeedBoolean, SeedBoolean.String()
	}
	return SeedText, SeedText.String()
}

var currencySymbols = []string{"$", "€", "£", "¥", "₹", "₩", "₽", "¢"}

// number is a value parsed as agate's Number.
type number struct {
	text   string // sign and digits, without currency, percent or group signs
	places int    // digits after the point once trailing zeros are dropped
	isInt  bool   // integral and within int64: then i holds it
	huge   bool   // integral beyond int64
	i      int64
	hasExp bool
}

// rat returns the exact value.
func (n number) rat() *big.Rat {
	r, _ := new(big.Rat).SetString(n.text)
	return r
}

// float returns the nearest float64 (±Inf beyond its range, as ParseFloat
// reports it).
func (n number) float() float64 {
	f, _ := strconv.ParseFloat(n.text, 64)
	return f
}

// decimal renders the value with at least scale digits after the point.
func (n number) decimal(scale int) string {
	return n.rat().FloatString(max(scale, n.places))
}

// parseNumber parses a value as agate's Number does (sign, surrounding
// percent signs, a currency symbol, then a Python Decimal, then the same
// without group separators) and counts its digits after the point once
// trailing zeros are dropped (agate's MaxPrecision).
func parseNumber(s string) (number, bool) {
	d := strings.Trim(s, "%")
	neg := false
	if strings.HasPrefix(d, "-") {
		d, neg = d[1:], true
	}
	for _, sym := range currencySymbols {
		if strings.HasPrefix(d, sym) {
			d = d[len(sym):]
			break
		}
		if strings.HasSuffix(d, sym) {
			d = d[:len(d)-len(sym)]
			break
		}
	}
	n, ok := parseDecimal(d)
	if !ok && strings.Contains(d, ",") {
		n, ok = parseDecimal(strings.ReplaceAll(d, ",", ""))
	}
	if !ok {
		return number{}, false
	}
	if neg {
		if strings.HasPrefix(n.text, "-") {
			n.text = n.text[1:]
		} else {
			n.text = "-" + strings.TrimPrefix(n.text, "+")
		}
		n.i = -n.i
	}
	return n, true
}

// parseDecimal accepts Python's finite Decimal syntax: [sign] digits with an
// optional point and optional exponent.
func parseDecimal(s string) (number, bool) {
	i := 0
	negative := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		negative = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[intStart:i]
	fracPart := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracPart = s[fs:i]
	}
	if intPart == "" && fracPart == "" {
		return number{}, false
	}
	exp := 0
	hasExp := false
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || s[i+1:] == "" || e > 1000 || e < -1000 {
			return number{}, false
		}
		exp, i, hasExp = e, len(s), true
	}
	if i != len(s) {
		return number{}, false
	}
	// Normalize: significant digits and exponent, trailing zeros dropped,
	// as Decimal.normalize.
	digits := strings.TrimLeft(intPart+fracPart, "0")
	e := exp - len(fracPart)
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		e++
	}
	n := number{text: s, hasExp: hasExp}
	if digits == "" {
		n.isInt = true
		return n, true
	}
	if e < 0 {
		n.places = -e
		return n, true
	}
	// Integral: digits followed by e zeros.
	if len(digits)+e <= 18 {
		v, _ := strconv.ParseInt(digits, 10, 64)
		for range e {
			v *= 10
		}
		if negative {
			v = -v
		}
		n.isInt, n.i = true, v
		return n, true
	}
	r, _ := new(big.Rat).SetString(s)
	if r.Num().IsInt64() {
		n.isInt, n.i = true, r.Num().Int64()
	} else {
		n.huge = true
	}
	return n, true
}

// parseDate accepts %Y-%m-%d as Python's strptime does (month and day of one
// or two digits).
func parseDate(s string) (time.Time, bool) {
	y, m, d, rest, ok := scanDate(s)
	if !ok || rest != "" {
		return time.Time{}, false
	}
	return mkTime(y, m, d, 0, 0, 0, 0, time.UTC)
}

func scanDate(s string) (y, m, d int, rest string, ok bool) {
	if len(s) < 8 || s[4] != '-' {
		return 0, 0, 0, "", false
	}
	var err error
	if y, err = strconv.Atoi(s[:4]); err != nil || s[0] == '+' || s[0] == '-' {
		return 0, 0, 0, "", false
	}
	rest = s[5:]
	if m, rest, ok = scanInt(rest, 1, 2); !ok || !strings.HasPrefix(rest, "-") {
		return 0, 0, 0, "", false
	}
	if d, rest, ok = scanInt(rest[1:], 1, 2); !ok {
		return 0, 0, 0, "", false
	}
	return y, m, d, rest, true
}

func scanInt(s string, min, max int) (int, string, bool) {
	n := 0
	for n < len(s) && n < max && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n < min {
		return 0, s, false
	}
	v, _ := strconv.Atoi(s[:n])
	return v, s[n:], true
}

func mkTime(y, mo, d, h, mi, sec, nsec int, loc *time.Location) (time.Time, bool) {
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, loc)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, false
	}
	return t, true
}

// parseDateTime accepts %Y-%m-%d %H:%M:%S as Python's strptime does.
func parseDateTime(s string) (time.Time, bool) {
	y, mo, d, rest, ok := scanDate(s)
	if !ok || !strings.HasPrefix(rest, " ") {
		return time.Time{}, false
	}
	h, mi, sec, rest, ok := scanClock(rest[1:], true)
	if !ok || rest != "" {
		return time.Time{}, false
	}
	return mkTime(y, mo, d, h, mi, sec, 0, time.UTC)
}

func scanClock(s string, loose bool) (h, m, sec int, rest string, ok bool) {
	min := 2
	if loose {
		min = 1
	}
	if h, rest, ok = scanInt(s, min, 2); !ok || !strings.HasPrefix(rest, ":") {
		return 0, 0, 0, "", false
	}
	if m, rest, ok = scanInt(rest[1:], min, 2); !ok {
		return 0, 0, 0, "", false
	}
	if !strings.HasPrefix(rest, ":") {
		if loose {
			return 0, 0, 0, "", false
		}
		return h, m, 0, rest, true
	}
	if sec, rest, ok = scanInt(rest[1:], min, 2); !ok {
		return 0, 0, 0, "", false
	}
	return h, m, sec, rest, true
}

// parseISODateTime accepts ISO 8601 date-times with a T separator, as the
// isodate library dbt uses: YYYY-MM-DD or YYYYMMDD, hh:mm[:ss[.fff]] or
// hhmm[ss], and an optional zone (Z, ±hh, ±hh:mm, ±hhmm). Zoned values are
// returned in UTC.
func parseISODateTime(s string) (time.Time, bool) {
	ds, ts, found := strings.Cut(s, "T")
	if !found {
		return time.Time{}, false
	}
	var y, mo, d int
	if len(ds) == 8 && allDigits(ds) {
		y, _ = strconv.Atoi(ds[:4])
		mo, _ = strconv.Atoi(ds[4:6])
		d, _ = strconv.Atoi(ds[6:])
	} else if len(ds) == 10 && ds[4] == '-' && ds[7] == '-' && allDigits(ds[:4]+ds[5:7]+ds[8:]) {
		y, _ = strconv.Atoi(ds[:4])
		mo, _ = strconv.Atoi(ds[5:7])
		d, _ = strconv.Atoi(ds[8:])
	} else {
		return time.Time{}, false
	}
	// Split the zone off.
	loc := time.UTC
	clock := ts
	if strings.HasSuffix(ts, "Z") {
		clock = ts[:len(ts)-1]
	} else if i := strings.LastIndexAny(ts, "+-"); i > 0 {
		clock = ts[:i]
		z := strings.ReplaceAll(ts[i+1:], ":", "")
		if !allDigits(z) || (len(z) != 2 && len(z) != 4) {
			return time.Time{}, false
		}
		zh, _ := strconv.Atoi(z[:2])
		zm := 0
		if len(z) == 4 {
			zm, _ = strconv.Atoi(z[2:])
		}
		off := zh*3600 + zm*60
		if ts[i] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	frac := ""
	if i := strings.IndexAny(clock, ".,"); i >= 0 {
		clock, frac = clock[:i], clock[i+1:]
		if frac == "" || !allDigits(frac) {
			return time.Time{}, false
		}
	}
	var h, mi, sec int
	switch {
	case strings.Contains(clock, ":"):
		var rest string
		var ok bool
		if h, mi, sec, rest, ok = scanClock(clock, false); !ok || rest != "" {
			return time.Time{}, false
		}
	case allDigits(clock) && (len(clock) == 2 || len(clock) == 4 || len(clock) == 6):
		h, _ = strconv.Atoi(clock[:2])
		if len(clock) >= 4 {
			mi, _ = strconv.Atoi(clock[2:4])
		}
		if len(clock) == 6 {
			sec, _ = strconv.Atoi(clock[4:])
		}
	default:
		return time.Time{}, false
	}
	nsec := 0
	if frac != "" {
		f := (frac + "000000000")[:9]
		nsec, _ = strconv.Atoi(f)
		nsec = nsec / 1000 * 1000 // microseconds, as Python's datetime
	}
	t, ok := mkTime(y, mo, d, h, mi, sec, nsec, loc)
	if !ok {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseBool accepts true and false in any case, as dbt's type tester does
// (agate removes commas first).
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, ",", ""))) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
