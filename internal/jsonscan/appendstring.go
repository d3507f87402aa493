package jsonscan

import "unicode/utf8"

// AppendString appends s to dst as a JSON string, byte for byte as
// encoding/json writes it: quotes, backslashes and control characters
// escaped (\n, \r, \t, \b and \f in short form), U+2028 and U+2029 escaped,
// invalid UTF-8 replaced by U+FFFD, and with escapeHTML also <, > and &
// (json.Marshal's default; an Encoder with SetEscapeHTML(false) leaves
// them alone).
func AppendString(dst []byte, s string, escapeHTML bool) []byte {
	esc := &needsEscape
	if escapeHTML {
		esc = &needsEscapeHTML
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !esc[c] {
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
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default: // other control characters, and <, > and & with escapeHTML
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1: // invalid UTF-8
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // line and paragraph separators
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// needsEscape marks the ASCII bytes a JSON string escapes: control
// characters, the quote and the backslash; needsEscapeHTML adds <, > and &.
var needsEscape, needsEscapeHTML = func() (t, h [utf8.RuneSelf]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	h = t
	h['<'], h['>'], h['&'] = true, true, true
	return t, h
}()
