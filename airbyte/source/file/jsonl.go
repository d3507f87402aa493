package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dataopskit/dataops/airbyte"
)

// lineReader reads physical lines of any length.
type lineReader struct {
	br      *bufio.Reader
	file    string
	line    int
	lineBuf []byte
}

func newLineReader(r io.Reader, file string) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), file: file}
}

// next returns the next line without its line break, or io.EOF. The slice
// is valid until the next call.
func (l *lineReader) next() ([]byte, error) {
	line, err := l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.lineBuf = append(l.lineBuf[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = l.br.ReadSlice('\n')
			l.lineBuf = append(l.lineBuf, line...)
		}
		line = l.lineBuf
	}
	if len(line) > 0 && err == io.EOF {
		err = nil
	}
	if err != nil {
		if err != io.EOF {
			err = &ParseError{File: l.file, Line: l.line + 1, Err: err}
		}
		return nil, err
	}
	l.line++
	if l.line == 1 && bytes.HasPrefix(line, []byte{0xEF, 0xBB, 0xBF}) {
		line = line[3:] // byte order mark
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// nextObject returns the next non-blank line, checked to be one JSON
// object in valid UTF-8.
func (l *lineReader) nextObject() ([]byte, error) {
	for {
		line, err := l.next()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !validUTF8(line) {
			return nil, &ParseError{File: l.file, Line: l.line, Err: errors.New("invalid UTF-8")}
		}
		if !json.Valid(line) {
			var v any
			err := json.Unmarshal(line, &v)
			var se *json.SyntaxError
			if errors.As(err, &se) {
				err = fmt.Errorf("JSON syntax error at byte %d: %v", se.Offset, se)
			} else if err == nil {
				err = errors.New("not valid JSON")
			}
			return nil, &ParseError{File: l.file, Line: l.line, Err: err}
		}
		if line[0] != '{' {
			return nil, &ParseError{File: l.file, Line: l.line, Err: errors.New("not a JSON object (JSONL wants one object per line)")}
		}
		return line, nil
	}
}

// --- scanning a valid JSON object's top level

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the string that starts at b[i] == '"'.
func scanString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// scanValue returns the index after the value that starts at b[i].
func scanValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = scanString(b, i)
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
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// eachMember calls fn with the raw key (quotes included) and raw value of
// every member of the valid JSON object obj.
func eachMember(obj []byte, fn func(key, val []byte) error) error {
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		ks := i
		i = scanString(obj, i)
		key := obj[ks:i]
		i = skipSpace(obj, i)
		i = skipSpace(obj, i+1) // ':'
		vs := i
		i = scanValue(obj, i)
		if err := fn(key, obj[vs:i]); err != nil {
			return err
		}
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil
}

// keyName unquotes a raw JSON key.
func keyName(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return string(raw[1 : len(raw)-1])
	}
	return s
}

// jsonKind classifies a raw JSON value.
func jsonKind(v []byte) kind {
	switch v[0] {
	case 'n':
		return kUnknown
	case 't', 'f':
		return kBoolean
	case '"':
		return kString
	case '{':
		return kObject
	case '[':
		return kArray
	}
	if isInteger(v) {
		return kInteger
	}
	return kNumber
}

// jsonFits reports whether a raw JSON value of kind got conforms to a
// column of kind want. Strings of a string column are not parsed: a JSONL
// file's strings are data, not dates to be checked.
func jsonFits(got, want kind) bool {
	switch {
	case got == kUnknown || want == kAny || got == want:
		return true
	case want == kNumber:
		return got == kInteger
	case stringy(want):
		return got == kString
	}
	return false
}

// jsonlRecords turns the lines of one JSONL file into record data.
type jsonlRecords struct {
	l         *lineReader
	types     map[string]colType // the stream's columns; nil: no check
	suffix    []byte
	nullOnErr bool

	fix []member // reused when a record must be rebuilt
}

type member struct {
	key, val []byte
	null     bool
	asString bool
}

// next appends the next record's data to dst, or returns io.EOF.
// Values that break the
// stream's schema fail the read or are nulled; a scalar, object or array
// in a string column becomes the string of its JSON text, which loses
// nothing.
func (r *jsonlRecords) next(dst []byte) ([]byte, []airbyte.RecordChange, error) {
	obj, err := r.l.nextObject()
	if err != nil {
		return nil, nil, err
	}
	var changes []airbyte.RecordChange
	rebuild := false
	if r.types != nil {
		r.fix = r.fix[:0]
		err = eachMember(obj, func(key, val []byte) error {
			m := member{key: key, val: val}
			if t, ok := r.types[string(key[1:len(key)-1])]; ok || bytes.IndexByte(key, '\\') >= 0 {
				if !ok {
					t, ok = r.types[keyName(key)]
				}
				got := jsonKind(val)
				if ok && !jsonFits(got, t.kind) {
					if t.kind == kString {
						m.asString, rebuild = true, true
					} else {
						name := keyName(key)
						if !r.nullOnErr {
							return &ParseError{File: r.l.file, Line: r.l.line, Column: name, Err: &typeError{value: string(val), want: kindName(t.kind)}}
						}
						m.null, rebuild = true, true
						changes = append(changes, airbyte.RecordChange{Field: name, Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"})
					}
				}
			}
			r.fix = append(r.fix, m)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if !rebuild {
		body := bytes.TrimSpace(obj[1 : len(obj)-1])
		data := append(dst, '{')
		if len(body) > 0 {
			data = append(data, body...)
			data = append(data, ',')
		}
		return append(data, r.suffix...), changes, nil
	}
	data := append(dst, '{')
	for _, m := range r.fix {
		data = append(data, m.key...)
		data = append(data, ':')
		switch {
		case m.null:
			data = append(data, "null"...)
		case m.asString:
			data = appendJSONString(data, m.val)
		default:
			data = append(data, m.val...)
		}
		data = append(data, ',')
	}
	return append(data, r.suffix...), changes, nil
}

func kindName(k kind) string {
	switch k {
	case kInteger:
		return "an integer"
	case kNumber:
		return "a number"
	case kBoolean:
		return "a boolean"
	case kObject:
		return "an object"
	case kArray:
		return "an array"
	}
	return "a string"
}

// jsonlInfer reads up to n objects of a JSONL file and returns the
// top-level keys in the order first seen, with their types.
func jsonlInfer(l *lineReader, n int) ([]column, error) {
	var cols []column
	index := map[string]int{}
	for row := 0; row < n; row++ {
		obj, err := l.nextObject()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		_ = eachMember(obj, func(key, val []byte) error {
			name := keyName(key)
			t := colType{kind: jsonKind(val)}
			if i, ok := index[name]; ok {
				cols[i].typ = cols[i].typ.merge(t)
			} else {
				index[name] = len(cols)
				cols = append(cols, column{name: name, typ: t})
			}
			return nil
		})
	}
	for i := range cols {
		if cols[i].typ.kind == kUnknown {
			cols[i].typ.kind = kString // only nulls seen
		}
	}
	return cols, nil
}
