package jinja

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tData
	tVarBegin
	tVarEnd
	tBlockBegin
	tBlockEnd
	tName
	tString
	tInt
	tFloat
	tOp
)

var tokNames = [...]string{"end of template", "template data", "begin of print statement", "end of print statement", "begin of statement block", "end of statement block", "name", "string", "integer", "float", "operator"}

type token struct {
	kind tokKind
	val  string
	line int
	col  int
}

func (t token) describe() string {
	switch t.kind {
	case tName, tOp:
		return "'" + t.val + "'"
	}
	return tokNames[t.kind]
}

// normalizeNewlines turns every line break Python's str.splitlines knows into
// "\n" and drops one trailing newline, as Jinja2 does with
// keep_trailing_newline=False.
func normalizeNewlines(src string) string {
	needs := false
	for i := 0; i < len(src) && !needs; i++ {
		switch c := src[i]; c {
		case '\r', '\v', '\f', 0x1c, 0x1d, 0x1e:
			needs = true
		case 0xc2: // U+0085
			needs = i+1 < len(src) && src[i+1] == 0x85
		case 0xe2: // U+2028, U+2029
			needs = i+2 < len(src) && src[i+1] == 0x80 && (src[i+2] == 0xa8 || src[i+2] == 0xa9)
		}
	}
	if needs {
		var b strings.Builder
		rs := []rune(src)
		for i := 0; i < len(rs); i++ {
			r := rs[i]
			switch r {
			case '\r':
				if i+1 < len(rs) && rs[i+1] == '\n' {
					i++
				}
				b.WriteByte('\n')
			case '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
				b.WriteByte('\n')
			default:
				b.WriteRune(r)
			}
		}
		src = b.String()
	}
	return strings.TrimSuffix(src, "\n")
}

type lexer struct {
	src    string
	pos    int
	line   int
	lstart int // offset of the current line's start
	cpos   int
	toks   []token
	name   string
	ascii  bool // src is all ASCII: columns are byte offsets
}

func (l *lexer) errAt(pos int, format string, args ...any) error {
	line, col := l.posOf(pos)
	e := newErr(ErrSyntax, format, args...)
	e.Template, e.Line, e.Col = l.name, line, col
	return e
}

func (l *lexer) posOf(pos int) (int, int) {
	if pos < l.cpos {
		l.cpos, l.line, l.lstart = 0, 1, 0
	}
	if l.line == 0 {
		l.line = 1
	}
	for l.cpos < pos {
		if l.src[l.cpos] == '\n' {
			l.line++
			l.lstart = l.cpos + 1
		}
		l.cpos++
	}
	if l.ascii {
		return l.line, pos - l.lstart + 1
	}
	return l.line, utf8.RuneCountInString(l.src[l.lstart:pos]) + 1
}

func (l *lexer) emit(kind tokKind, val string, pos int) {
	line, col := l.posOf(pos)
	l.toks = append(l.toks, token{kind, val, line, col})
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// tokenize splits a template source into tokens.
func tokenize(name, src string) ([]token, error) {
	return tokenizeInto(nil, name, src)
}

// tokPool holds token buffers for parseTemplate: tokens live only while a
// template is parsed, and allocating them afresh for each of a project's
// thousands of templates was a large share of parse allocation.
var tokPool = sync.Pool{New: func() any { return new([]token) }}

// tokenizeInto is tokenize appending to buf[:0].
func tokenizeInto(buf []token, name, src string) ([]token, error) {
	l := &lexer{src: src, name: name, ascii: true}
	for i := 0; i < len(src); i++ {
		if src[i] >= utf8.RuneSelf {
			l.ascii = false
			break
		}
	}
	// Room for the usual token count up front: growing the slice from
	// empty was a large part of lexing cost.
	if want := 8*strings.Count(src, "{") + 8; cap(buf) < want {
		buf = make([]token, 0, want)
	}
	l.toks = buf[:0]
	if err := l.run(); err != nil {
		return nil, err
	}
	l.emit(tEOF, "", len(src))
	return l.toks, nil
}

func (l *lexer) run() error {
	src := l.src
	lstripNext := false
	for l.pos < len(src) {
		i := l.nextTagStart(l.pos)
		end := i
		if i < 0 {
			end = len(src)
		}
		data := src[l.pos:end]
		dataPos := l.pos
		if lstripNext {
			t := strings.TrimLeft(data, " \t\n\r\f\v")
			dataPos += len(data) - len(t)
			data = t
			lstripNext = false
		}
		if i < 0 {
			if data != "" {
				l.emit(tData, data, dataPos)
			}
			l.pos = len(src)
			break
		}
		kind := src[i+1]
		p := i + 2
		strip := false
		if p < len(src) && (src[p] == '-' || src[p] == '+') {
			strip = src[p] == '-'
			p++
		}
		if strip {
			data = strings.TrimRight(data, " \t\n\r\f\v")
		}
		// raw block?
		if kind == '%' {
			q := p
			for q < len(src) && isSpace(src[q]) {
				q++
			}
			if strings.HasPrefix(src[q:], "raw") {
				r := q + 3
				for r < len(src) && isSpace(src[r]) {
					r++
				}
				rstrip := false
				if r < len(src) && src[r] == '-' {
					rstrip = true
					r++
				}
				if strings.HasPrefix(src[r:], "%}") {
					if data != "" {
						l.emit(tData, data, dataPos)
					}
					body := r + 2
					if body == len(src) {
						// Jinja2 accepts a raw tag that ends the template
						l.pos = body
						continue
					}
					bodyEnd, after, endStrip, lst, ok := l.findEndRaw(body)
					if !ok {
						return l.errAt(i, "Missing end of raw directive")
					}
					raw := src[body:bodyEnd]
					if rstrip {
						raw = strings.TrimLeft(raw, " \t\n\r\f\v")
					}
					if endStrip {
						raw = strings.TrimRight(raw, " \t\n\r\f\v")
					}
					if raw != "" {
						l.emit(tData, raw, body)
					}
					l.pos = after
					lstripNext = lst
					continue
				}
			}
		}
		if data != "" {
			l.emit(tData, data, dataPos)
		}
		switch kind {
		case '#':
			j := strings.Index(src[p:], "#}")
			if j < 0 {
				return l.errAt(i, "Missing end of comment tag")
			}
			e := p + j
			if e > p && src[e-1] == '-' {
				lstripNext = true
			}
			l.pos = e + 2
		case '{', '%':
			bk, ek := tVarBegin, tVarEnd
			closing := "}}"
			if kind == '%' {
				bk, ek, closing = tBlockBegin, tBlockEnd, "%}"
			}
			l.emit(bk, "", i)
			np, ls, err := l.lexInside(p, closing, ek)
			if err != nil {
				return err
			}
			l.pos = np
			lstripNext = ls
		}
	}
	return nil
}

// nextTagStart finds the next "{{", "{%" or "{#" at or after pos.
func (l *lexer) nextTagStart(pos int) int {
	s := l.src
	for {
		j := strings.IndexByte(s[pos:], '{')
		if j < 0 {
			return -1
		}
		k := pos + j
		if k+1 < len(s) && (s[k+1] == '{' || s[k+1] == '%' || s[k+1] == '#') {
			return k
		}
		pos = k + 1
	}
}

// findEndRaw finds "{% endraw %}" (with optional "-") from pos.
func (l *lexer) findEndRaw(pos int) (bodyEnd, after int, strip, lstrip, ok bool2) {
	s := l.src
	for {
		j := strings.Index(s[pos:], "{%")
		if j < 0 {
			return 0, 0, false, false, false
		}
		k := pos + j
		p := k + 2
		st := false
		if p < len(s) && (s[p] == '-' || s[p] == '+') {
			st = s[p] == '-'
			p++
		}
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if strings.HasPrefix(s[p:], "endraw") {
			p += 6
			for p < len(s) && isSpace(s[p]) {
				p++
			}
			ls := false
			if p < len(s) && s[p] == '-' {
				ls = true
				p++
			}
			if strings.HasPrefix(s[p:], "%}") {
				return k, p + 2, st, ls, true
			}
		}
		pos = k + 2
	}
}

type bool2 = bool

var ops3 = []string{"//", "**", "==", "!=", ">=", "<="}

// lexInside tokenizes an expression until the closing delimiter.
func (l *lexer) lexInside(p int, closing string, endKind tokKind) (int, bool, error) {
	s := l.src
	depth := 0
	start := p
	for {
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p >= len(s) {
			what := "print statement"
			if endKind == tBlockEnd {
				what = "block"
			}
			_ = start
			return 0, false, l.errAt(p, "unexpected end of template, expected end of %s", what)
		}
		if depth == 0 {
			if s[p] == '-' && strings.HasPrefix(s[p+1:], closing) {
				l.emit(endKind, "", p)
				return p + 1 + len(closing), true, nil
			}
			if strings.HasPrefix(s[p:], closing) {
				l.emit(endKind, "", p)
				return p + len(closing), false, nil
			}
		}
		c := s[p]
		switch {
		case c == '\'' || c == '"':
			q := p + 1
			for q < len(s) && s[q] != c {
				if s[q] == '\\' {
					q++
				}
				q++
			}
			if q >= len(s) {
				return 0, false, l.errAt(p, "unexpected char %s at %d", pyQuote(string(c)), p)
			}
			l.emit(tString, unescapeString(s[p+1:q]), p)
			p = q + 1
		case c >= '0' && c <= '9':
			q, kind := scanNumber(s, p)
			l.emit(kind, strings.ReplaceAll(s[p:q], "_", ""), p)
			p = q
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			q := p
			for q < len(s) {
				if c := s[q]; c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || q > p && c >= '0' && c <= '9' {
					q++
					continue
				}
				r, n := utf8.DecodeRuneInString(s[q:])
				if r == '_' || unicode.IsLetter(r) || (q > p && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r))) {
					q += n
					continue
				}
				break
			}
			if q == p {
				r, _ := utf8.DecodeRuneInString(s[p:])
				return 0, false, l.errAt(p, "unexpected char %s at %d", pyQuote(string(r)), p)
			}
			l.emit(tName, s[p:q], p)
			p = q
		default:
			op := ""
			for _, o := range ops3 {
				if strings.HasPrefix(s[p:], o) {
					op = o
					break
				}
			}
			if op == "" && strings.IndexByte("+-/*%~[](){}><=.:|,;", c) >= 0 {
				op = string(c)
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(s[p:])
				return 0, false, l.errAt(p, "unexpected char %s at %d", pyQuote(string(r)), p)
			}
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					return 0, false, l.errAt(p, "unexpected '%s'", op)
				}
				depth--
			}
			l.emit(tOp, op, p)
			p += len(op)
		}
	}
}

func isDigitIn(c byte, base int) bool {
	switch base {
	case 2:
		return c == '0' || c == '1'
	case 8:
		return c >= '0' && c <= '7'
	case 16:
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	return c >= '0' && c <= '9'
}

// scanDigits scans digits with single underscores between them.
func scanDigits(s string, p, base int) int {
	q := p
	for q < len(s) {
		if isDigitIn(s[q], base) {
			q++
			continue
		}
		if s[q] == '_' && q > p && q+1 < len(s) && isDigitIn(s[q+1], base) {
			q++
			continue
		}
		break
	}
	return q
}

func scanNumber(s string, p int) (int, tokKind) {
	if s[p] == '0' && p+1 < len(s) {
		base := 0
		switch s[p+1] {
		case 'b', 'B':
			base = 2
		case 'o', 'O':
			base = 8
		case 'x', 'X':
			base = 16
		}
		if base != 0 {
			q := p + 2
			if q < len(s) && s[q] == '_' {
				q++
			}
			e := scanDigits(s, q, base)
			if e > q {
				return e, tInt
			}
		}
	}
	q := scanDigits(s, p, 10)
	isFloat := false
	if q+1 < len(s) && s[q] == '.' && s[q+1] >= '0' && s[q+1] <= '9' {
		q = scanDigits(s, q+1, 10)
		isFloat = true
	}
	if q < len(s) && (s[q] == 'e' || s[q] == 'E') {
		r := q + 1
		if r < len(s) && (s[r] == '+' || s[r] == '-') {
			r++
		}
		if r < len(s) && s[r] >= '0' && s[r] <= '9' {
			q = scanDigits(s, r, 10)
			isFloat = true
		}
	}
	if isFloat {
		return q, tFloat
	}
	// Jinja2 reads a leading zero as the integer 0 (then zeros)
	if s[p] == '0' {
		e := p + 1
		for e < len(s) && (s[e] == '0' || s[e] == '_' && e+1 < len(s) && s[e+1] == '0') {
			e++
		}
		return e, tInt
	}
	return q, tInt
}

// unescapeString decodes backslash escapes as Python's unicode-escape codec
// does (unknown escapes are kept).
func unescapeString(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		case '\'':
			b.WriteByte('\'')
		case '"':
			b.WriteByte('"')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\n':
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, j := 0, i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				v = v*8 + int(s[j]-'0')
				j++
			}
			b.WriteRune(rune(v))
			i = j - 1
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
			if i+n < len(s)+0 && i+n <= len(s)-1+1 && hexOK(s[i+1:min(len(s), i+1+n)], n) {
				v := 0
				for _, h := range s[i+1 : i+1+n] {
					v = v*16 + hexVal(byte(h))
				}
				b.WriteRune(rune(v))
				i += n
			} else {
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func hexOK(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigitIn(s[i], 16) {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
