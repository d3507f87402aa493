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
)

// errSyntax is returned by the object scanner for input that is not a JSON
// object. The scanner never panics, whatever its input.
var errSyntax = errors.New("malformed JSON object")

// eachMember calls fn for every member of the JSON object in data, in order,
// with the member's key (unescaped) and its raw value. It checks structure
// (braces, brackets, strings, commas, colons) but leaves scalar validation to
// whoever decodes the values: callers pass input that json.Valid accepted, or
// decode every value they keep.
func eachMember(data []byte, fn func(key string, value []byte) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errSyntax
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		if skipSpace(data, i+1) != len(data) {
			return errSyntax
		}
		return nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return errSyntax
		}
		end, escaped := scanString(data, i)
		if end < 0 {
			return errSyntax
		}
		var key string
		if escaped {
			if err := json.Unmarshal(data[i:end], &key); err != nil {
				return errSyntax
			}
		} else {
			key = string(data[i+1 : end-1])
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return errSyntax
		}
		i = skipSpace(data, i+1)
		vend := skipValue(data, i)
		if vend < 0 {
			return errSyntax
		}
		if err := fn(key, data[i:vend]); err != nil {
			return err
		}
		i = skipSpace(data, vend)
		if i >= len(data) {
			return errSyntax
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			if skipSpace(data, i+1) != len(data) {
				return errSyntax
			}
			return nil
		default:
			return errSyntax
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the index just past the string starting at data[i]
// (a quote), and whether it holds escapes; -1 if it is unterminated.
func scanString(data []byte, i int) (int, bool) {
	escaped := false
	i++
	for i < len(data) {
		j := bytes.IndexAny(data[i:], "\"\\")
		if j < 0 {
			return -1, escaped
		}
		i += j
		if data[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2
	}
	return -1, escaped
}

// skipValue returns the index just past the JSON value starting at data[i],
// or -1 if it is not well nested.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		end, _ := scanString(data, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, _ := scanString(data, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		start := i
		for i < len(data) {
			switch data[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
				if i == start {
					return -1
				}
				return i
			}
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// isNull reports whether a raw value is JSON null.
func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// decodeString decodes a raw JSON string value without allocating more than
// the result when it holds no escapes.
func decodeString(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		inner := v[1 : len(v)-1]
		if bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && utf8.Valid(inner) && !hasControl(inner) {
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

// appendString appends s as a JSON string. It escapes what JSON requires
// (quotes, backslashes, control characters), U+2028 and U+2029, and replaces
// invalid UTF-8 with U+FFFD, as encoding/json does; it leaves <, > and &
// alone.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// extraBuilder collects the members of an object that a struct does not know,
// as the raw text `"key":value,...` (no braces), in input order.
type extraBuilder struct{ b []byte }

func (e *extraBuilder) add(key string, value []byte) {
	if len(e.b) > 0 {
		e.b = append(e.b, ',')
	}
	e.b = appendString(e.b, key)
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

// extraMap decodes the unknown members into a map (later keys win).
func extraMap(extra string) map[string]json.RawMessage {
	if extra == "" {
		return nil
	}
	m := map[string]json.RawMessage{}
	_ = eachMember([]byte("{"+extra+"}"), func(k string, v []byte) error {
		m[k] = json.RawMessage(v)
		return nil
	})
	return m
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
