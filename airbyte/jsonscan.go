package airbyte

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dataopskit/dataops/internal/jsonscan"
)

// errSyntax is returned by the object scanner for input that is not a JSON
// object. The scanner never panics, whatever its input.
var errSyntax = errors.New("malformed JSON object")

// eachMember calls fn for every member of the JSON object in data, in order,
// with the member's key (unescaped) and its raw value. It validates as it
// goes, accepting exactly what json.Valid accepts, so a value handed to fn is
// valid JSON; on the first error it stops and returns it.
func eachMember(data []byte, fn func(key string, value []byte) error) error {
	end, err := parseObject(data, skipSpace(data, 0), 1, func(key []byte, i int) (int, error) {
		vend := scanValue(data, i, 2)
		if vend < 0 {
			return -1, errSyntax
		}
		return vend, fn(string(key), data[i:vend])
	})
	if err != nil {
		return err
	}
	if skipSpace(data, end) != len(data) {
		return errSyntax
	}
	return nil
}

// parseObject parses the object that starts at data[i] (depth levels deep)
// and returns the index just past it. For each member it calls member with
// the key (unescaped; valid only during the call) and the index where the
// value starts; member consumes the value and returns the index just past
// it.
func parseObject(data []byte, i, depth int, member func(key []byte, i int) (int, error)) (int, error) {
	if i >= len(data) || data[i] != '{' || depth > maxDepth {
		return -1, errSyntax
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return -1, errSyntax
		}
		end := scanString(data, i)
		if end < 0 {
			return -1, errSyntax
		}
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if err := json.Unmarshal(data[i:end], &k); err != nil {
				return -1, errSyntax
			}
			key = []byte(k)
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return -1, errSyntax
		}
		vend, err := member(key, skipSpace(data, i+1))
		if err != nil {
			return -1, err
		}
		if vend < 0 {
			return -1, errSyntax
		}
		i = skipSpace(data, vend)
		if i >= len(data) {
			return -1, errSyntax
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return i + 1, nil
		default:
			return -1, errSyntax
		}
	}
}

// The scanner lives in internal/jsonscan (shared with the artifact writer);
// these names keep the codec's call sites short and inline.

const maxDepth = jsonscan.MaxDepth

func skipSpace(data []byte, i int) int               { return jsonscan.SkipSpace(data, i) }
func scanValue(data []byte, i, depth int) int        { return jsonscan.Value(data, i, depth) }
func scanLiteral(data []byte, i int, lit string) int { return jsonscan.Literal(data, i, lit) }
func scanNumber(data []byte, i int) int              { return jsonscan.Number(data, i) }
func scanString(data []byte, i int) int              { return jsonscan.String(data, i) }
func isDigit(c byte) bool                            { return jsonscan.IsDigit(c) }
func isHex(c byte) bool                              { return jsonscan.IsHex(c) }
func validJSON(data []byte) bool                     { return jsonscan.Valid(data) }

// isNull reports whether a raw value is JSON null.
func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// decodeString decodes a raw JSON string value without allocating more than
// the result when it holds no escapes.
func decodeString(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		inner := v[1 : len(v)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) && !hasControl(inner) {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// decodeInt decodes a JSON number into an int64; a number with a fraction or
// exponent (some connectors write 1.7e12) is truncated toward zero.
func decodeInt(v []byte) (int64, error) {
	if len(v) > 0 && len(v) <= 18 {
		var n int64
		digits := true
		for _, c := range v {
			if !isDigit(c) {
				digits = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if digits {
			return n, nil
		}
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err == nil {
		return n, nil
	}
	f, ferr := strconv.ParseFloat(string(v), 64)
	if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("%s is not an integer", truncateForError(v))
	}
	return int64(f), nil
}

// truncateForError shortens a raw value for an error message.
func truncateForError(v []byte) string {
	const max = 64
	if len(v) > max {
		return string(v[:max]) + "…"
	}
	return string(v)
}

// AppendJSONString appends s to dst as a JSON string, for sources that
// build record data by hand, byte for byte as an encoding/json Encoder with
// SetEscapeHTML(false) writes it: quotes, backslashes and control
// characters escaped, U+2028 and U+2029 escaped, invalid UTF-8 replaced with
// U+FFFD; <, > and & left alone.
func AppendJSONString(dst []byte, s string) []byte { return jsonscan.AppendString(dst, s, false) }

// extraBuilder collects the members of an object that a struct does not know,
// as the raw text `"key":value,...` (no braces), in input order.
type extraBuilder struct{ b []byte }

func (e *extraBuilder) add(key string, value []byte) {
	if len(e.b) > 0 {
		e.b = append(e.b, ',')
	}
	e.b = AppendJSONString(e.b, key)
	e.b = append(e.b, ':')
	e.b = append(e.b, bytes.TrimSpace(value)...)
}

// addBytes is add for a key held as bytes.
func (e *extraBuilder) addBytes(key []byte, value []byte) {
	if len(e.b) > 0 {
		e.b = append(e.b, ',')
	}
	e.b = AppendJSONString(e.b, string(key))
	e.b = append(e.b, ':')
	e.b = append(e.b, bytes.TrimSpace(value)...)
}

func (e *extraBuilder) String() string { return string(e.b) }

// appendExtra splices the unknown members back into an encoded object.
func appendExtra(obj []byte, extra string) []byte {
	if extra == "" {
		return obj
	}
	if len(obj) < 2 || obj[len(obj)-1] != '}' {
		return obj
	}
	obj = obj[:len(obj)-1]
	if len(obj) > 1 {
		obj = append(obj, ',')
	}
	obj = append(obj, extra...)
	return append(obj, '}')
}

// knownKeys returns the JSON names of a struct type's exported fields.
var knownKeysCache sync.Map // reflect.Type -> []string

func knownKeys(t reflect.Type) []string {
	if v, ok := knownKeysCache.Load(t); ok {
		return v.([]string)
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys = append(keys, name)
	}
	knownKeysCache.Store(t, keys)
	return keys
}

// isKnown matches a key as encoding/json does: exactly, else ignoring case.
func isKnown(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// decodeWithExtra decodes data into v (a pointer to a method-free alias of a
// protocol struct) with encoding/json and returns the members v does not
// know.
func decodeWithExtra[T any](data []byte, v *T) (string, error) {
	if isNull(bytes.TrimSpace(data)) {
		return "", nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", err
	}
	keys := knownKeys(reflect.TypeFor[T]())
	var extra extraBuilder
	err := eachMember(data, func(k string, val []byte) error {
		if !isKnown(keys, k) {
			extra.add(k, val)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return extra.String(), nil
}

// encodeWithExtra encodes v (a pointer to a method-free alias) and appends
// the unknown members.
func encodeWithExtra[T any](v *T, extra string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return appendExtra(b, extra), nil
}
