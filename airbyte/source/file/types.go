package file

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// kind is the JSON-schema type of a column.
type kind uint8

const (
	kUnknown kind = iota // nothing seen yet (only nulls)
	kString
	kInteger
	kNumber
	kBoolean
	kDate
	kTimestampTZ  // date-time with a zone
	kTimestampNTZ // date-time without a zone
	kTimestamp    // date-time, either (a user's schema without airbyte_type)
	kTimeTZ
	kTimeNTZ
	kBinary // base64 string
	kObject
	kArray
	kAny // no type: any JSON value
)

// colType is a column's type: a kind, and for nested Parquet columns the
// full schema fragment.
type colType struct {
	kind   kind
	schema json.RawMessage // set for objects and arrays with known structure
}

// merge widens a by b for a column seen in several files.
func (a colType) merge(b colType) colType {
	switch {
	case a.kind == kUnknown:
		return b
	case b.kind == kUnknown:
		return a
	case a.kind == b.kind && bytes.Equal(a.schema, b.schema):
		return a
	case a.kind == b.kind:
		return colType{kind: a.kind} // same kind, different structure
	case numeric(a.kind) && numeric(b.kind):
		return colType{kind: kNumber}
	case stringy(a.kind) && stringy(b.kind):
		return colType{kind: kString}
	}
	return colType{kind: kAny}
}

func numeric(k kind) bool { return k == kInteger || k == kNumber }

func stringy(k kind) bool {
	switch k {
	case kString, kDate, kTimestampTZ, kTimestampNTZ, kTimestamp, kTimeTZ, kTimeNTZ, kBinary:
		return true
	}
	return false
}

// appendSchema appends the column's JSON schema; every column is nullable.
func (t colType) appendSchema(b []byte) []byte {
	if t.schema != nil {
		return append(b, t.schema...)
	}
	switch t.kind {
	case kInteger:
		return append(b, `{"type":["null","integer"]}`...)
	case kNumber:
		return append(b, `{"type":["null","number"]}`...)
	case kBoolean:
		return append(b, `{"type":["null","boolean"]}`...)
	case kDate:
		return append(b, `{"type":["null","string"],"format":"date"}`...)
	case kTimestampTZ:
		return append(b, `{"type":["null","string"],"format":"date-time","airbyte_type":"timestamp_with_timezone"}`...)
	case kTimestampNTZ:
		return append(b, `{"type":["null","string"],"format":"date-time","airbyte_type":"timestamp_without_timezone"}`...)
	case kTimestamp:
		return append(b, `{"type":["null","string"],"format":"date-time"}`...)
	case kTimeTZ:
		return append(b, `{"type":["null","string"],"format":"time","airbyte_type":"time_with_timezone"}`...)
	case kTimeNTZ:
		return append(b, `{"type":["null","string"],"format":"time","airbyte_type":"time_without_timezone"}`...)
	case kBinary:
		return append(b, `{"type":["null","string"],"contentEncoding":"base64"}`...)
	case kObject:
		return append(b, `{"type":["null","object"]}`...)
	case kArray:
		return append(b, `{"type":["null","array"]}`...)
	case kAny:
		return append(b, `{}`...)
	}
	return append(b, `{"type":["null","string"]}`...)
}

// Metadata columns every record carries, as Airbyte's file-based sources do.
const (
	ColumnFileURL          = "_ab_source_file_url"
	ColumnFileLastModified = "_ab_source_file_last_modified"
)

// column is a named column.
type column struct {
	name string
	typ  colType
}

// streamSchema renders the JSON schema of a stream with the given columns
// plus the metadata columns.
func streamSchema(cols []column) json.RawMessage {
	b := []byte(`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":true,"properties":{`)
	for _, c := range cols {
		if c.name == ColumnFileURL || c.name == ColumnFileLastModified {
			continue
		}
		b = appendJSONString(b, c.name)
		b = append(b, ':')
		b = c.typ.appendSchema(b)
		b = append(b, ',')
	}
	b = appendJSONString(b, ColumnFileURL)
	b = append(b, `:{"type":"string"},`...)
	b = appendJSONString(b, ColumnFileLastModified)
	b = append(b, `:{"type":"string","format":"date-time","airbyte_type":"timestamp_with_timezone"}}}`...)
	return b
}

// schemaColumns reads the column types out of a stream's JSON schema (the
// configured catalog's), keyed by name. Properties it cannot classify are
// kAny.
func schemaColumns(schema json.RawMessage) (map[string]colType, error) {
	if len(bytes.TrimSpace(schema)) == 0 || bytes.Equal(bytes.TrimSpace(schema), []byte("null")) {
		return nil, nil
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, err
	}
	if len(s.Properties) == 0 {
		return nil, nil
	}
	out := make(map[string]colType, len(s.Properties))
	for name, raw := range s.Properties {
		out[name] = propertyType(raw)
	}
	return out, nil
}

func propertyType(raw json.RawMessage) colType {
	var p struct {
		Type        json.RawMessage `json:"type"`
		Format      string          `json:"format"`
		AirbyteType string          `json:"airbyte_type"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return colType{kind: kAny}
	}
	var types []string
	var one string
	if json.Unmarshal(p.Type, &one) == nil {
		types = []string{one}
	} else if json.Unmarshal(p.Type, &types) != nil {
		return colType{kind: kAny}
	}
	t := ""
	for _, x := range types {
		if x == "null" {
			continue
		}
		if t != "" {
			return colType{kind: kAny} // a union
		}
		t = x
	}
	switch t {
	case "integer":
		return colType{kind: kInteger}
	case "number":
		if p.AirbyteType == "integer" {
			return colType{kind: kInteger}
		}
		return colType{kind: kNumber}
	case "boolean":
		return colType{kind: kBoolean}
	case "object":
		return colType{kind: kObject}
	case "array":
		return colType{kind: kArray}
	case "string":
		switch p.Format {
		case "date":
			return colType{kind: kDate}
		case "date-time":
			switch p.AirbyteType {
			case "timestamp_with_timezone":
				return colType{kind: kTimestampTZ}
			case "timestamp_without_timezone":
				return colType{kind: kTimestampNTZ}
			}
			return colType{kind: kTimestamp}
		}
		return colType{kind: kString}
	}
	return colType{kind: kAny}
}

// --- CSV value classification

// typeSet is what every non-null value of a CSV column seen so far could
// be. Merging two sets (two files, or two rows) is an AND of the
// possibilities.
type typeSet struct {
	seen     bool // a non-null value was seen
	canInt   bool
	canNum   bool
	canBool  bool
	canDate  bool
	canTSTZ  bool
	canTSNTZ bool
}

func newTypeSet() typeSet {
	return typeSet{canInt: true, canNum: true, canBool: true, canDate: true, canTSTZ: true, canTSNTZ: true}
}

func (s *typeSet) add(v []byte, bools *boolWords) {
	s.seen = true
	if s.canInt && !isInteger(v) {
		s.canInt = false
	}
	if s.canNum && !isNumber(v) {
		s.canNum = false
	}
	if s.canBool {
		if _, ok := bools.parse(v); !ok {
			s.canBool = false
		}
	}
	if s.canDate && !isDate(v) {
		s.canDate = false
	}
	if s.canTSTZ || s.canTSNTZ {
		ok, zone := isTimestamp(v)
		if !ok || zone {
			s.canTSNTZ = false
		}
		if !ok || !zone {
			s.canTSTZ = false
		}
	}
}

func (s typeSet) and(o typeSet) typeSet {
	if !s.seen {
		return o
	}
	if !o.seen {
		return s
	}
	return typeSet{
		seen:     true,
		canInt:   s.canInt && o.canInt,
		canNum:   s.canNum && o.canNum,
		canBool:  s.canBool && o.canBool,
		canDate:  s.canDate && o.canDate,
		canTSTZ:  s.canTSTZ && o.canTSTZ,
		canTSNTZ: s.canTSNTZ && o.canTSNTZ,
	}
}

// kind picks the narrowest type that fits every value. Integers win over
// booleans, so a column of 0 and 1 is an integer column; a column is
// boolean only if some value is not a number (yes, true, ...).
func (s typeSet) kind() kind {
	switch {
	case !s.seen:
		return kString
	case s.canInt:
		return kInteger
	case s.canNum:
		return kNumber
	case s.canBool:
		return kBoolean
	case s.canDate:
		return kDate
	case s.canTSTZ:
		return kTimestampTZ
	case s.canTSNTZ:
		return kTimestampNTZ
	}
	return kString
}

// boolWords holds the true and false values of a CSV format.
type boolWords struct {
	t, f [][]byte
}

func newBoolWords(f *Format) *boolWords {
	w := &boolWords{}
	for _, v := range f.trueValues() {
		w.t = append(w.t, []byte(v))
	}
	for _, v := range f.falseValues() {
		w.f = append(w.f, []byte(v))
	}
	return w
}

func (w *boolWords) parse(v []byte) (value, ok bool) {
	for _, t := range w.t { // exact matches first: the common case, and cheap
		if bytes.Equal(v, t) {
			return true, true
		}
	}
	for _, f := range w.f {
		if bytes.Equal(v, f) {
			return false, true
		}
	}
	for _, t := range w.t {
		if bytes.EqualFold(v, t) {
			return true, true
		}
	}
	for _, f := range w.f {
		if bytes.EqualFold(v, f) {
			return false, true
		}
	}
	return false, false
}

// isInteger reports whether v is a JSON integer (no leading zeros, no
// plus sign) that fits in 64 bits. "007" is not: it stays a string so the
// zeros survive.
func isInteger(v []byte) bool {
	d := v
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 19 || (d[0] == '0' && len(d) > 1) || !digits(d) {
		return false
	}
	if len(d) == 19 {
		_, err := strconv.ParseInt(string(v), 10, 64)
		return err == nil
	}
	return true
}

// isNumber reports whether v follows JSON's number grammar, so it can be
// written into a record verbatim, digit for digit.
func isNumber(v []byte) bool {
	i, n := 0, len(v)
	if i < n && v[i] == '-' {
		i++
	}
	if i >= n {
		return false
	}
	if v[i] == '0' {
		i++
	} else if v[i] >= '1' && v[i] <= '9' {
		for i < n && v[i] >= '0' && v[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < n && v[i] == '.' {
		i++
		start := i
		for i < n && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < n && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < n && (v[i] == '+' || v[i] == '-') {
			i++
		}
		start := i
		for i < n && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == n
}

func digits(v []byte) bool {
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func atoi2(v []byte) int { return int(v[0]-'0')*10 + int(v[1]-'0') }

// isDate reports whether v is a valid YYYY-MM-DD date.
func isDate(v []byte) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' || !digits(v[:4]) || !digits(v[5:7]) || !digits(v[8:]) {
		return false
	}
	year := atoi2(v[:2])*100 + atoi2(v[2:4])
	month, day := atoi2(v[5:7]), atoi2(v[8:])
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= daysIn(month, year)
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isTimestamp reports whether v is YYYY-MM-DD[T ]hh:mm:ss[.fraction][zone]
// with zone Z or ±hh:mm, and whether it has a zone.
func isTimestamp(v []byte) (ok, zone bool) {
	if len(v) < 19 || !isDate(v[:10]) || (v[10] != 'T' && v[10] != ' ') {
		return false, false
	}
	t := v[11:]
	if t[2] != ':' || t[5] != ':' || !digits(t[:2]) || !digits(t[3:5]) || !digits(t[6:8]) {
		return false, false
	}
	if atoi2(t[:2]) > 23 || atoi2(t[3:5]) > 59 || atoi2(t[6:8]) > 60 {
		return false, false
	}
	rest := t[8:]
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return false, false
		}
		rest = rest[i:]
	}
	switch {
	case len(rest) == 0:
		return true, false
	case len(rest) == 1 && rest[0] == 'Z':
		return true, true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' && digits(rest[1:3]) && digits(rest[4:6]):
		return atoi2(rest[1:3]) <= 23 && atoi2(rest[4:6]) <= 59, true
	}
	return false, false
}
