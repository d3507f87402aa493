package transform

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	yv3 "go.yaml.in/yaml/v3"
)

// fastYAML decodes the plain shapes property and project files almost
// always have — mappings with string keys, sequences, strings, booleans,
// nulls and decimal integers — with go.yaml.in/yaml/v3, about three times
// faster than goccy/go-yaml, giving exactly the values goccy gives
// (integers ≥ 0 as uint64, negative ones as int64, timestamps as strings).
// Anything else (anchors, aliases, merge keys, floats, tags, non-string
// keys, several documents, any syntax error) reports ok=false, and the
// caller decodes with goccy, whose values and error positions stay the
// reference.
func fastYAML(b []byte) (v any, ok bool) {
	if v, ok := subsetYAML(b); ok {
		return v, true
	}
	if bytes.HasPrefix(b, []byte("\ufeff")) {
		return nil, false
	}
	// The decoders differ on escapes in double-quoted strings (goccy
	// refuses some yaml.v3 takes): goccy decodes any backslash.
	if bytes.IndexByte(b, '\\') >= 0 {
		return nil, false
	}
	// yaml.v3 breaks lines at NEL, LS and PS; goccy does not.
	if bytes.Contains(b, []byte("\u0085")) || bytes.Contains(b, []byte("\u2028")) || bytes.Contains(b, []byte("\u2029")) {
		return nil, false
	}
	dec := yv3.NewDecoder(bytes.NewReader(b))
	var doc yv3.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF && len(bytes.TrimSpace(b)) == 0 {
			return nil, true
		}
		return nil, false
	}
	var more yv3.Node
	if err := dec.Decode(&more); err != io.EOF {
		return nil, false
	}
	if doc.Kind != yv3.DocumentNode || len(doc.Content) != 1 {
		return nil, false
	}
	f := fastDecoder{src: b}
	return f.node(doc.Content[0])
}

type fastDecoder struct {
	src   []byte
	lines []int // byte offset of each line's start, built on first use
}

// plainAsWritten reports whether the plain scalar n is its source text
// verbatim (one line, nothing folded), which is where the decoders agree.
func (f *fastDecoder) plainAsWritten(n *yv3.Node) bool {
	if f.lines == nil {
		f.lines = append(f.lines, 0)
		for i, c := range f.src {
			if c == '\n' {
				f.lines = append(f.lines, i+1)
			}
		}
	}
	if n.Line < 1 || n.Line > len(f.lines) || n.Column < 1 {
		return false
	}
	off := f.lines[n.Line-1]
	for range n.Column - 1 { // columns count characters
		if off >= len(f.src) {
			return false
		}
		_, size := utf8.DecodeRune(f.src[off:])
		off += size
	}
	v := n.Value
	if v == "" {
		return true
	}
	// Only plain words: no indicator or flow character anywhere, no edge
	// spaces; the rare rest goes to goccy.
	if strings.ContainsAny(v, ":#,[]{}&*!|>'\"%@`?\\\t\n\r") || v[0] == '-' && len(v) > 1 && !isDigit(v[1]) || v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	return bytes.HasPrefix(f.src[off:], []byte(v))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (f *fastDecoder) node(n *yv3.Node) (any, bool) {
	if n.Anchor != "" {
		return nil, false
	}
	switch n.Kind {
	case yv3.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yv3.ScalarNode || k.Tag != "!!str" || k.Anchor != "" || (k.Style == 0 && k.Value == "<<") {
				return nil, false
			}
			if _, ok := f.scalar(k); !ok {
				return nil, false
			}
			if _, dup := m[k.Value]; dup {
				return nil, false
			}
			v, ok := f.node(n.Content[i+1])
			if !ok {
				return nil, false
			}
			m[k.Value] = v
		}
		return m, true
	case yv3.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			if n.Style&yv3.FlowStyle != 0 && c.Kind == yv3.MappingNode {
				// "[a: b]": yaml.v3 reads a pair, goccy refuses it.
				return nil, false
			}
			v, ok := f.node(c)
			if !ok {
				return nil, false
			}
			s[i] = v
		}
		return s, true
	case yv3.ScalarNode:
		return f.scalar(n)
	}
	return nil, false
}

func (f *fastDecoder) scalar(n *yv3.Node) (any, bool) {
	if n.Style&(yv3.TaggedStyle) != 0 {
		return nil, false
	}
	if n.Style&(yv3.DoubleQuotedStyle|yv3.SingleQuotedStyle) != 0 {
		return n.Value, n.Tag == "!!str"
	}
	if n.Style&(yv3.LiteralStyle|yv3.FoldedStyle) != 0 {
		return nil, false
	}
	if !f.plainAsWritten(n) {
		return nil, false
	}
	switch n.Tag {
	case "!!str":
		return n.Value, true
	case "!!timestamp":
		// goccy keeps unquoted dates as strings when decoding into any.
		return n.Value, true
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	case "!!null":
		switch n.Value {
		case "", "~", "null", "Null", "NULL":
			return nil, true
		}
	case "!!int":
		s := n.Value
		neg := len(s) > 0 && s[0] == '-'
		digits := s
		if neg {
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
		if neg {
			i, err := strconv.ParseInt(s, 10, 64)
			return i, err == nil && i != 0
		}
		u, err := strconv.ParseUint(digits, 10, 64)
		return u, err == nil
	}
	return nil, false
}
