// Package jsonscan is the project's one validating JSON scanner: it finds
// where a JSON value ends in a byte slice, accepting exactly what
// encoding/json's Valid accepts, without decoding or allocating. The
// Airbyte codec and the dbt artifact writer use it, and its AppendString,
// which writes a JSON string as encoding/json does.
package jsonscan

// SkipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func SkipSpace(data []byte, i int) int {
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

// MaxDepth bounds nesting, as encoding/json does.
const MaxDepth = 10000

// Value returns the index just past the valid JSON value that starts at
// data[i], or -1.
func Value(data []byte, i, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return String(data, i)
	case c == '{':
		if depth > MaxDepth {
			return -1
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(data) || data[i] != '"' {
				return -1
			}
			if i = String(data, i); i < 0 {
				return -1
			}
			i = SkipSpace(data, i)
			if i >= len(data) || data[i] != ':' {
				return -1
			}
			if i = Value(data, SkipSpace(data, i+1), depth+1); i < 0 {
				return -1
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case ',':
				i = SkipSpace(data, i+1)
			case '}':
				return i + 1
			default:
				return -1
			}
		}
	case c == '[':
		if depth > MaxDepth {
			return -1
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return i + 1
		}
		for {
			if i = Value(data, i, depth+1); i < 0 {
				return -1
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case ',':
				i = SkipSpace(data, i+1)
			case ']':
				return i + 1
			default:
				return -1
			}
		}
	case c == 't':
		return Literal(data, i, "true")
	case c == 'f':
		return Literal(data, i, "false")
	case c == 'n':
		return Literal(data, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return Number(data, i)
	}
	return -1
}

// Literal returns the index just past lit if data[i:] starts with it, or -1.
func Literal(data []byte, i int, lit string) int {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// Number returns the index just past the JSON number at data[i], or -1. It
// follows the JSON number grammar:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func Number(data []byte, i int) int {
	if data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return -1
	}
	switch {
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		for i++; i < len(data) && IsDigit(data[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !IsDigit(data[i]) {
			return -1
		}
		for ; i < len(data) && IsDigit(data[i]); i++ {
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !IsDigit(data[i]) {
			return -1
		}
		for ; i < len(data) && IsDigit(data[i]); i++ {
		}
	}
	return i
}

// IsDigit reports whether c is an ASCII digit.
func IsDigit(c byte) bool { return c >= '0' && c <= '9' }

// plainByte marks the bytes a string may hold without a closer look: not a
// quote, not a backslash, not a control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// String returns the index just past the valid JSON string that starts
// at data[i] (a quote), or -1. Like json.Valid it accepts invalid UTF-8.
func String(data []byte, i int) int {
	i++
	for {
		for i+8 <= len(data) && plainByte[data[i]] && plainByte[data[i+1]] && plainByte[data[i+2]] && plainByte[data[i+3]] &&
			plainByte[data[i+4]] && plainByte[data[i+5]] && plainByte[data[i+6]] && plainByte[data[i+7]] {
			i += 8
		}
		for i < len(data) && plainByte[data[i]] {
			i++
		}
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(data) {
				return -1
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !IsHex(data[i+2]) || !IsHex(data[i+3]) || !IsHex(data[i+4]) || !IsHex(data[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
}

// IsHex reports whether c is an ASCII hexadecimal digit.
func IsHex(c byte) bool { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }

// Valid reports whether data is one valid JSON value (surrounded by
// optional whitespace), like json.Valid.
func Valid(data []byte) bool {
	i := Value(data, SkipSpace(data, 0), 1)
	return i >= 0 && SkipSpace(data, i) == len(data)
}
