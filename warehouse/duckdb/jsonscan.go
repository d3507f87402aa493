package duckdb

import "unicode/utf8"

// maxJSONDepth is the deepest nesting scanJSON accepts, as encoding/json.
const maxJSONDepth = 10000

// scanJSON checks that b is one valid JSON value (RFC 8259, as
// encoding/json.Valid, and valid UTF-8) and reports whether it is already in
// the form duckdb-go stores a json.RawMessage in: compact (no whitespace
// between tokens) and without <, >, &, U+2028 or U+2029, which
// encoding/json escapes. It is the load path's replacement for json.Valid
// plus a re-encoding, several times faster on the short documents staging
// writes (_airbyte_meta and the like).
func scanJSON[T string | []byte](b T) (valid, compact bool) {
	s := jsonScanner[T]{b: b, compact: true}
	s.ws()
	if !s.value(0) {
		return false, false
	}
	s.ws()
	if s.i != len(s.b) {
		return false, false
	}
	if s.high && !utf8Valid(b) {
		return false, false
	}
	return true, s.compact
}

func utf8Valid[T string | []byte](b T) bool {
	switch x := any(b).(type) {
	case string:
		return utf8.ValidString(x)
	case []byte:
		return utf8.Valid(x)
	}
	return false
}

type jsonScanner[T string | []byte] struct {
	b       T
	i       int
	compact bool
	high    bool // a byte ≥ 0x80 was seen: check UTF-8 at the end
}

// ws skips whitespace; any makes the text not compact.
func (s *jsonScanner[T]) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.compact = false
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner[T]) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

func (s *jsonScanner[T]) lit(word string) bool {
	if len(s.b)-s.i < len(word) {
		return false
	}
	for k := 0; k < len(word); k++ {
		if s.b[s.i+k] != word[k] {
			return false
		}
	}
	s.i += len(word)
	return true
}

func (s *jsonScanner[T]) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *jsonScanner[T]) number() bool {
	if s.b[s.i] == '-' {
		s.i++
		if s.i >= len(s.b) {
			return false
		}
	}
	switch c := s.b[s.i]; {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// str scans a string from its opening quote.
func (s *jsonScanner[T]) str() bool {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		if jsonPlain[c] {
			s.i++
			continue
		}
		switch {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return false
				}
				for k := 1; k <= 4; k++ {
					if !isHex(s.b[s.i+k]) {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		case c == '<' || c == '>' || c == '&':
			s.compact = false
			s.i++
		default: // ≥ 0x80
			s.high = true
			if c == 0xE2 && s.i+2 < len(s.b) && s.b[s.i+1] == 0x80 && (s.b[s.i+2] == 0xA8 || s.b[s.i+2] == 0xA9) {
				s.compact = false // U+2028, U+2029
			}
			s.i++
		}
	}
	return false
}

func (s *jsonScanner[T]) object(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		if !s.value(depth) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *jsonScanner[T]) array(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	s.i++ // [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(depth) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// jsonPlain marks the bytes a string holds with nothing to check: printable
// ASCII other than the quote, the backslash and <, >, &.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = true
	}
	for _, c := range []byte{'"', '\\', '<', '>', '&'} {
		t[c] = false
	}
	return t
}()
