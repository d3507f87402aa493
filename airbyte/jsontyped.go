package airbyte

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unsafe"
)

// Typed records from JSON. A consumer that asks a connector's read for typed
// records (EnableTypedRecords) gets each record's data parsed once, while the
// decoder reads the line, straight into the Go values of RecordValues: the
// stream's JSON schema says which type each property is read as, and a
// value that is not plainly of that type (a number with a fraction for an
// integer, a timestamp with a zone offset, an object) is handed over as its
// json.RawMessage, for the consumer to convert as it converts JSON. A record
// with a field the schema does not list keeps its JSON Data instead, as do
// records of streams outside the catalog.

// valueKind is how a property's values are read.
type valueKind uint8

const (
	kindRaw    valueKind = iota // json.RawMessage
	kindInt                     // an integer literal → int64
	kindFloat                   // a number → float64
	kindBool                    // true/false → bool
	kindString                  // a string → string
	kindTime                    // "YYYY-MM-DDTHH:MM:SS[.f]" with Z or no zone → time.Time in UTC
	kindDate                    // "YYYY-MM-DD" → time.Time at midnight UTC
)

// recordPlan is how the records of one stream are read into typed values.
type recordPlan struct {
	namespace string
	fields    []string // shared by every record's values (see SameFields)
	kinds     []valueKind
	index     map[string]int

	// Blocks the values of records are carved from.
	vals  []any
	boxes []jsonValues
}

// typedPlans maps stream names to their plans; a name used by streams of two
// namespaces has none.
type typedPlans map[string]*recordPlan

// newTypedPlans reads the JSON schemas of a configured catalog.
func newTypedPlans(catalog *ConfiguredCatalog) typedPlans {
	plans := typedPlans{}
	dup := map[string]bool{}
	for _, cs := range catalog.Streams {
		name := cs.Stream.Name
		if _, seen := plans[name]; seen || dup[name] {
			dup[name] = true
			delete(plans, name)
			continue
		}
		if p := planOf(cs.Stream); p != nil {
			plans[name] = p
		}
	}
	return plans
}

// planSchema is the part of a property's JSON schema the plan reads.
type planSchema struct {
	Type        json.RawMessage `json:"type"`
	Format      string          `json:"format"`
	AirbyteType string          `json:"airbyte_type"`
}

// planOf returns the plan of a stream, or nil when its schema lists no
// properties.
func planOf(st Stream) *recordPlan {
	var root struct {
		Properties map[string]planSchema `json:"properties"`
	}
	if json.Unmarshal(st.JSONSchema, &root) != nil || len(root.Properties) == 0 {
		return nil
	}
	p := &recordPlan{namespace: st.Namespace, index: make(map[string]int, len(root.Properties))}
	// The properties in the schema's order: records usually list them so.
	_ = eachMember(schemaProperties(st.JSONSchema), func(key string, _ []byte) error {
		if _, ok := root.Properties[key]; ok {
			if _, dup := p.index[key]; !dup {
				p.index[key] = len(p.fields)
				p.fields = append(p.fields, key)
				p.kinds = append(p.kinds, kindOf(root.Properties[key]))
			}
		}
		return nil
	})
	if len(p.fields) != len(root.Properties) {
		return nil
	}
	return p
}

// schemaProperties returns the raw "properties" object of a JSON schema.
func schemaProperties(schema []byte) []byte {
	var props []byte
	_ = eachMember(schema, func(key string, v []byte) error {
		if key == "properties" {
			props = v
		}
		return nil
	})
	if len(props) == 0 {
		return []byte("{}")
	}
	return props
}

// kindOf says how values of a property are read.
func kindOf(s planSchema) valueKind {
	var one string
	if json.Unmarshal(s.Type, &one) != nil {
		var many []string
		if json.Unmarshal(s.Type, &many) != nil {
			return kindRaw
		}
		for _, t := range many {
			if t == "null" {
				continue
			}
			if one != "" {
				return kindRaw // a union
			}
			one = t
		}
	}
	switch one {
	case "integer":
		return kindInt
	case "number":
		if s.AirbyteType == "integer" || s.AirbyteType == "big_integer" {
			return kindInt
		}
		return kindFloat
	case "boolean":
		return kindBool
	case "string":
		switch {
		case s.AirbyteType == "timestamp_without_timezone" || s.AirbyteType == "timestamp_with_timezone" || s.Format == "date-time":
			return kindTime
		case s.Format == "date" || s.AirbyteType == "date":
			return kindDate
		case s.Format == "" && s.AirbyteType == "":
			return kindString
		}
	}
	return kindRaw
}

// jsonValues is a record's data read by a plan.
type jsonValues struct {
	fields []string
	vals   []any
	data   []byte
}

// Fields implements RecordValues.
func (v *jsonValues) Fields() []string { return v.fields }

// AppendValues implements RecordValues.
func (v *jsonValues) AppendValues(dst []any) []any { return append(dst, v.vals...) }

// VisitValues implements VisitableValues.
func (v *jsonValues) VisitValues(vis ValueVisitor) {
	for i, x := range v.vals {
		switch x := x.(type) {
		case nil:
			vis.Null(i)
		case int64:
			vis.Int(i, x)
		case float64:
			vis.Float(i, x)
		case bool:
			vis.Bool(i, x)
		case string:
			vis.String(i, unsafe.Slice(unsafe.StringData(x), len(x)))
		case time.Time:
			vis.Time(i, x.UnixMicro()) // plainTime's times are UTC
		case json.RawMessage:
			vis.JSON(i, x)
		}
	}
}

var _ VisitableValues = (*jsonValues)(nil)

// AppendJSON implements RecordValues: the data as the connector wrote it.
func (v *jsonValues) AppendJSON(dst []byte) []byte { return append(dst, v.data...) }

// Size implements RecordValues.
func (v *jsonValues) Size() int { return len(v.data) }

// parse reads the data object that starts at data[i] (depth levels deep)
// and returns the index just past it, validating as eachMember does. It
// returns nil values when the object has a field the plan does not know
// (the record then keeps its JSON).
func (p *recordPlan) parse(data []byte, i, depth int) (*jsonValues, int) {
	n := len(p.fields)
	if len(p.vals) < n {
		p.vals = make([]any, n*256)
	}
	vals := p.vals[:n:n]
	known := true
	next := 0 // the field expected next, when records follow the schema's order
	end, err := parseObject(data, i, depth, func(k []byte, j int) (int, error) {
		f := -1
		if next < n && string(k) == p.fields[next] {
			f = next
		} else if x, ok := p.index[string(k)]; ok {
			f = x
		}
		if f < 0 {
			known = false
			return scanValue(data, j, depth+1), nil
		}
		next = f + 1
		e, v := readValue(data, j, depth+1, p.kinds[f])
		vals[f] = v
		return e, nil
	})
	if err != nil {
		clear(vals)
		return nil, -1
	}
	if !known {
		clear(vals)
		return nil, end
	}
	p.vals = p.vals[n:]
	if len(p.boxes) == 0 {
		p.boxes = make([]jsonValues, 256)
	}
	b := &p.boxes[0]
	p.boxes = p.boxes[1:]
	*b = jsonValues{fields: p.fields, vals: vals, data: data[i:end:end]}
	return b, end
}

// readValue reads the value at data[i] as kind k and returns the index just
// past it (-1 when it is not valid JSON) and the value.
func readValue(data []byte, i, depth int, k valueKind) (int, any) {
	if i >= len(data) {
		return -1, nil
	}
	c := data[i]
	if c == 'n' {
		return scanLiteral(data, i, "null"), nil
	}
	switch k {
	case kindInt:
		if c == '-' || isDigit(c) {
			e := scanNumber(data, i)
			if e < 0 {
				return -1, nil
			}
			if n, ok := plainInt(data[i:e]); ok {
				return e, n
			}
			return e, json.RawMessage(data[i:e:e])
		}
	case kindFloat:
		if c == '-' || isDigit(c) {
			e := scanNumber(data, i)
			if e < 0 {
				return -1, nil
			}
			b := data[i:e]
			f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
			if err == nil && !math.IsInf(f, 0) {
				return e, f
			}
			return e, json.RawMessage(data[i:e:e])
		}
	case kindBool:
		switch c {
		case 't':
			if e := scanLiteral(data, i, "true"); e >= 0 {
				return e, true
			}
			return -1, nil
		case 'f':
			if e := scanLiteral(data, i, "false"); e >= 0 {
				return e, false
			}
			return -1, nil
		}
	case kindString:
		if c == '"' {
			e := scanString(data, i)
			if e < 0 {
				return -1, nil
			}
			s, err := decodeString(data[i:e])
			if err != nil {
				return -1, nil
			}
			return e, s
		}
	case kindTime, kindDate:
		if c == '"' {
			e := scanString(data, i)
			if e < 0 {
				return -1, nil
			}
			if t, ok := plainTime(data[i+1:e-1], k == kindDate); ok {
				return e, t
			}
			return e, json.RawMessage(data[i:e:e])
		}
	}
	e := scanValue(data, i, depth)
	if e < 0 {
		return -1, nil
	}
	return e, json.RawMessage(data[i:e:e])
}

// plainInt parses an integer literal of at most 18 digits.
func plainInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// plainTime parses the plain forms of a timestamp whose meaning does not
// depend on the column it lands in — "YYYY-MM-DDTHH:MM:SS", with an optional
// fraction of 1 to 9 digits, then Z or nothing (UTC either way) — or, when
// date, "YYYY-MM-DD". Anything else is left to the consumer.
func plainTime(b []byte, date bool) (time.Time, bool) {
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if !isDigit(c) {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) {
		return time.Time{}, false
	}
	if date {
		if len(b) != 10 {
			return time.Time{}, false
		}
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
	}
	if len(b) < 19 || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	h, ok1 := num(b[11:13])
	mi, ok2 := num(b[14:16])
	s, ok3 := num(b[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		j := 1
		for j < len(rest) && isDigit(rest[j]) {
			j++
		}
		digits := j - 1
		if digits < 1 || digits > 9 {
			return time.Time{}, false
		}
		ns, _ = num(rest[1:j])
		for range 9 - digits {
			ns *= 10
		}
		rest = rest[j:]
	}
	if len(rest) == 1 && rest[0] == 'Z' {
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
}
