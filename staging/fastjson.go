package staging

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// errNotObject: record data is not a JSON object.
var errNotObject = errors.New("not a JSON object")

// eachField walks the members of a JSON object without decoding the values:
// fn gets each member's key (unescaped) and its raw value. It checks the
// structure it walks (strings, brackets, separators) but leaves scalar
// values to the column converters, which reject what is not valid. It is the
// record path's replacement for json.Unmarshal into a map, without a map or
// an allocation per field.
func eachField(data []byte, fn func(key string, raw json.RawMessage)) error {
	return eachFieldBytes(data, func(key []byte, raw json.RawMessage) { fn(string(key), raw) })
}

// eachFieldBytes is eachField with the key as bytes, valid only during the
// call: the record path looks columns up by it without allocating.
func eachFieldBytes(data []byte, fn func(key []byte, raw json.RawMessage)) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errNotObject
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return errNotObject
		}
		end, esc, err := scanString(data, i)
		if err != nil {
			return err
		}
		key := data[i+1 : end-1]
		if esc || !utf8.Valid(key) {
			var k string
			if err := json.Unmarshal(data[i:end], &k); err != nil {
				return err
			}
			key = []byte(k)
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return errNotObject
		}
		i = skipSpace(data, i+1)
		vend, err := skipValue(data, i)
		if err != nil {
			return err
		}
		fn(key, data[i:vend])
		i = skipSpace(data, vend)
		if i >= len(data) {
			return errNotObject
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return trailing(data, i+1)
		default:
			return errNotObject
		}
	}
}

func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return errNotObject
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

var errSyntax = errors.New("invalid JSON")

// scanString returns the index after the closing quote of the string that
// starts at data[i], and whether it holds escapes.
func scanString(data []byte, i int) (end int, esc bool, err error) {
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, esc, nil
		case c == '\\':
			esc = true
			j++
		case c < 0x20:
			return 0, false, errSyntax
		}
	}
	return 0, false, errSyntax
}

// skipValue returns the index after the JSON value that starts at data[i].
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errSyntax
	}
	switch data[i] {
	case '"':
		end, _, err := scanString(data, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, _, err := scanString(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					if !json.Valid(data[i : j+1]) {
						return 0, errSyntax
					}
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		j := i
		for j < len(data) {
			c := data[j]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}

// unquote returns the content of a JSON string, fast when it has no escapes.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c < 0x20 {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	if !utf8.Valid(body) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	return string(body), true
}
