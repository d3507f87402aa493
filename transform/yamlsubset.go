package transform

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// subsetYAML decodes the block YAML that property and project files are
// almost always written in — nested block mappings and sequences, one-line
// flow sequences and mappings, plain words, decimal integers, booleans,
// nulls and one-line quoted strings — straight from the text, several
// times faster than any general decoder. Anything outside that subset
// (comments after values, anchors, tags, block scalars, multi-line
// scalars, floats, dates, escapes, duplicate keys, odd indentation, any
// error) reports ok=false and the caller decodes the document with a full
// YAML decoder. What it accepts it decodes to exactly goccy/go-yaml's
// values (the fuzz test checks).
func subsetYAML(b []byte) (v any, ok bool) {
	src := string(b)
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' || c == 0x7f {
				return nil, false // tabs, CRs, control characters
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == utf8.RuneError && size == 1, r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff, r >= 0xfffe:
			return nil, false // invalid UTF-8, C1 controls, breaks, BOMs
		}
		i += size - 1
	}
	d := subsetDecoder{lines: strings.Split(src, "\n")}
	for _, l := range d.lines {
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...") || strings.HasPrefix(l, "%") {
			return nil, false
		}
	}
	i := d.next(0)
	if i == len(d.lines) {
		return nil, true
	}
	col := indentOf(d.lines[i])
	if col != 0 {
		return nil, false
	}
	var end int
	if isSeqItem(d.lines[i], 0) {
		v, end, ok = d.seq(i, 0)
	} else {
		v, end, ok = d.mapping(i, 0, 0)
	}
	if !ok || d.next(end) != len(d.lines) {
		return nil, false
	}
	return v, true
}

type subsetDecoder struct {
	lines []string
}

// next returns the index of the first line at or after i that is neither
// blank nor a comment.
func (d *subsetDecoder) next(i int) int {
	for ; i < len(d.lines); i++ {
		t := strings.TrimLeft(d.lines[i], " ")
		if t != "" && t[0] != '#' {
			return i
		}
	}
	return i
}

func indentOf(l string) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

// isSeqItem reports whether line l holds a sequence item "-" at col.
func isSeqItem(l string, col int) bool {
	return len(l) > col && l[col] == '-' && (len(l) == col+1 || l[col+1] == ' ')
}

// mapping decodes a block mapping whose keys are at column col; its first
// entry starts at column first of line i (after "- " for a mapping in a
// sequence item), the others on lines indented exactly col. It returns
// the line after the mapping.
func (d *subsetDecoder) mapping(i, col, first int) (any, int, bool) {
	m := map[string]any{}
	start := first
	for {
		l := d.lines[i]
		key, rest, ok := subsetKey(l[start:])
		if !ok {
			return nil, 0, false
		}
		if _, dup := m[key]; dup {
			return nil, 0, false
		}
		var v any
		if rest == "" {
			j := d.next(i + 1)
			switch {
			case j < len(d.lines) && indentOf(d.lines[j]) > col:
				c := indentOf(d.lines[j])
				if isSeqItem(d.lines[j], c) {
					v, i, ok = d.seq(j, c)
				} else {
					v, i, ok = d.mapping(j, c, c)
				}
			case j < len(d.lines) && indentOf(d.lines[j]) == col && isSeqItem(d.lines[j], col):
				v, i, ok = d.seq(j, col)
			default:
				v, i, ok = nil, i+1, true
			}
		} else {
			v, ok = subsetInline(rest)
			i++
		}
		if !ok {
			return nil, 0, false
		}
		m[key] = v
		j := d.next(i)
		if j == len(d.lines) {
			return m, j, true
		}
		c := indentOf(d.lines[j])
		if c < col {
			return m, j, true
		}
		if c > col || isSeqItem(d.lines[j], col) {
			// A continuation line, or a sequence where a key should be.
			return nil, 0, false
		}
		i, start = j, col
	}
}

// seq decodes a block sequence whose "-" are at column col from line i.
func (d *subsetDecoder) seq(i, col int) (any, int, bool) {
	s := []any{}
	for {
		l := d.lines[i]
		if !isSeqItem(l, col) {
			return nil, 0, false
		}
		c := col + 1
		for c < len(l) && l[c] == ' ' {
			c++
		}
		var v any
		var ok bool
		switch {
		case c == len(l):
			j := d.next(i + 1)
			if j < len(d.lines) && indentOf(d.lines[j]) > col {
				cc := indentOf(d.lines[j])
				if isSeqItem(d.lines[j], cc) {
					v, i, ok = d.seq(j, cc)
				} else {
					v, i, ok = d.mapping(j, cc, cc)
				}
			} else {
				v, i, ok = nil, i+1, true
			}
		case isSeqItem(l, c) || l[c] == '#':
			return nil, 0, false
		default:
			if _, _, isKey := subsetKey(l[c:]); isKey {
				v, i, ok = d.mapping(i, c, c)
			} else {
				v, ok = subsetInline(l[c:])
				i++
			}
		}
		if !ok {
			return nil, 0, false
		}
		s = append(s, v)
		j := d.next(i)
		if j == len(d.lines) {
			return s, j, true
		}
		cc := indentOf(d.lines[j])
		if cc < col || cc == col && !isSeqItem(d.lines[j], col) {
			return s, j, true
		}
		if cc > col {
			return nil, 0, false
		}
		i = j
	}
}

// subsetKey splits "key: rest" (or "key:") into the key and the value
// text, trimmed; ok is false unless the line starts with a string key.
func subsetKey(l string) (key, rest string, ok bool) {
	var after string
	switch {
	case l == "":
		return "", "", false
	case l[0] == '\'' || l[0] == '"':
		key, after, ok = subsetQuoted(l)
		if !ok {
			return "", "", false
		}
		after = strings.TrimLeft(after, " ")
	default:
		k := strings.IndexByte(l, ':')
		if k <= 0 {
			return "", "", false
		}
		key = strings.TrimRight(l[:k], " ")
		v, ok := subsetPlain(key)
		if !ok {
			return "", "", false
		}
		if _, isStr := v.(string); !isStr || key == "<<" {
			return "", "", false
		}
		after = l[k:]
	}
	if after == "" || after[0] != ':' || len(after) > 1 && after[1] != ' ' {
		return "", "", false
	}
	return key, strings.Trim(after[1:], " "), true
}

// subsetInline decodes a value written on one line after "key: " or "- ".
func subsetInline(s string) (any, bool) {
	switch s[0] {
	case '[', '{':
		v, rest, ok := subsetFlow(s)
		if !ok || strings.TrimLeft(rest, " ") != "" {
			return nil, false
		}
		return v, true
	case '\'', '"':
		v, rest, ok := subsetQuoted(s)
		if !ok || strings.TrimLeft(rest, " ") != "" {
			return nil, false
		}
		return v, true
	}
	return subsetPlain(s)
}

// subsetFlow decodes a one-line flow sequence or mapping at the start of
// s, returning what follows it.
func subsetFlow(s string) (any, string, bool) {
	closing := byte(']')
	if s[0] == '{' {
		closing = '}'
	}
	s = strings.TrimLeft(s[1:], " ")
	var list []any
	var m map[string]any
	if closing == ']' {
		list = []any{}
	} else {
		m = map[string]any{}
	}
	if s != "" && s[0] == closing {
		if closing == ']' {
			return list, s[1:], true
		}
		return m, s[1:], true
	}
	for {
		var key string
		if closing == '}' {
			var k any
			var ok bool
			k, s, ok = subsetFlowScalar(s)
			ks, isStr := k.(string)
			if !ok || !isStr || ks == "<<" || !strings.HasPrefix(s, ": ") {
				return nil, "", false
			}
			if _, dup := m[ks]; dup {
				return nil, "", false
			}
			key, s = ks, strings.TrimLeft(s[2:], " ")
		}
		var v any
		var ok bool
		if s != "" && (s[0] == '[' || s[0] == '{') {
			v, s, ok = subsetFlow(s)
			s = strings.TrimLeft(s, " ")
		} else {
			v, s, ok = subsetFlowScalar(s)
		}
		if !ok || s == "" {
			return nil, "", false
		}
		if closing == ']' {
			list = append(list, v)
		} else {
			m[key] = v
		}
		switch s[0] {
		case ',':
			s = strings.TrimLeft(s[1:], " ")
			if s == "" || s[0] == ']' || s[0] == '}' || s[0] == ',' {
				return nil, "", false
			}
		case closing:
			if closing == ']' {
				return list, s[1:], true
			}
			return m, s[1:], true
		default:
			return nil, "", false
		}
	}
}

// subsetFlowScalar decodes a quoted or plain scalar inside a flow
// collection, returning the text after it (spaces skipped).
func subsetFlowScalar(s string) (any, string, bool) {
	if s == "" {
		return nil, "", false
	}
	if s[0] == '\'' || s[0] == '"' {
		v, rest, ok := subsetQuoted(s)
		return v, strings.TrimLeft(rest, " "), ok
	}
	e := strings.IndexAny(s, ",]}:")
	if e < 0 {
		return nil, "", false
	}
	v, ok := subsetPlain(strings.TrimRight(s[:e], " "))
	return v, s[e:], ok
}

// subsetQuoted decodes a one-line single-quoted string, or a double-quoted
// one without escapes, at the start of s.
func subsetQuoted(s string) (string, string, bool) {
	q := s[0]
	if q == '"' {
		e := strings.IndexByte(s[1:], '"')
		if e < 0 || strings.IndexByte(s[1:1+e], '\\') >= 0 {
			return "", "", false
		}
		return s[1 : 1+e], s[2+e:], true
	}
	var b strings.Builder
	i := 1
	for {
		e := strings.IndexByte(s[i:], '\'')
		if e < 0 {
			return "", "", false
		}
		if i+e+1 < len(s) && s[i+e+1] == '\'' {
			b.WriteString(s[i : i+e+1])
			i += e + 2
			continue
		}
		if b.Len() == 0 {
			return s[i : i+e], s[i+e+1:], true
		}
		b.WriteString(s[i : i+e])
		return b.String(), s[i+e+1:], true
	}
}

// subsetPlain resolves a plain scalar as the YAML decoders agree on it:
// words are strings; true/false, null/~ and decimal integers are typed;
// anything that might resolve otherwise (floats, dates, yes/no, special
// characters) is refused.
func subsetPlain(s string) (any, bool) {
	if s == "" {
		return nil, true
	}
	if s[len(s)-1] == ' ' {
		s = strings.TrimRight(s, " ")
	}
	if strings.ContainsAny(s, ":#,[]{}&*!|>'\"%@`?\\") {
		return nil, false
	}
	c := s[0]
	switch {
	case c >= '0' && c <= '9' || c == '-':
		digits := s
		if c == '-' {
			digits = s[1:]
		}
		if digits == "" || len(digits) > 1 && digits[0] == '0' {
			return nil, false
		}
		for i := 0; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return nil, false
			}
		}
		if c == '-' {
			n, err := strconv.ParseInt(s, 10, 64)
			return n, err == nil && n != 0
		}
		n, err := strconv.ParseUint(s, 10, 64)
		return n, err == nil
	case c == '+':
		// dbt_project.yml's "+config" keys; "+1" and "+.5" are numbers.
		if len(s) == 1 || !(s[1] >= 'a' && s[1] <= 'z' || s[1] >= 'A' && s[1] <= 'Z' || s[1] == '_') {
			return nil, false
		}
	case c == '.' || c == '=' || c == '<' || c == '~' && len(s) > 1:
		return nil, false
	}
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	case "null", "Null", "NULL", "~":
		return nil, true
	}
	if len(s) <= 8 {
		switch strings.ToLower(s) {
		case "y", "n", "yes", "no", "on", "off", "inf", "nan", "infinity", "true", "false", "null":
			return nil, false
		}
	}
	return s, true
}
