package file

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"

	"github.com/dataopskit/dataops/airbyte"
)

// csvParser splits a CSV byte stream into records. It follows RFC 4180
// with a configurable delimiter, quote and escape character: a quoted
// field may span lines and holds doubled quotes; a quote inside an
// unquoted field is kept as it is (as Python's csv module does); anything
// but a delimiter or line end after a closing quote is an error. Empty
// lines are skipped. There is no limit on the length of a line.
type csvParser struct {
	br     *bufio.Reader
	file   string // the file's URL, for errors
	delim  byte
	quote  byte
	esc    byte
	hasEsc bool
	dbl    bool
	utf8   bool // check that every line is valid UTF-8

	line    int // physical lines read so far
	recLine int // the line the current record starts on

	buf     []byte // the current record's field contents
	bounds  []int  // start, end of each field in buf
	quoted  []bool // whether each field was quoted
	lineBuf []byte // holds a line longer than br's buffer
}

func newCSVParser(r io.Reader, file string, f *Format) *csvParser {
	p := &csvParser{
		file:  file,
		delim: f.delimiter()[0],
		quote: f.quote()[0],
		dbl:   f.doubleQuote(),
		utf8:  !f.latin1(),
	}
	if f.EscapeChar != "" {
		p.esc, p.hasEsc = f.EscapeChar[0], true
		if p.esc == p.quote {
			p.hasEsc, p.dbl = false, true
		}
	}
	if f.latin1() {
		r = transform.NewReader(r, charmap.ISO8859_1.NewDecoder())
	}
	p.br = bufio.NewReaderSize(r, 64<<10)
	if p.utf8 {
		if b, err := p.br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
			_, _ = p.br.Discard(3) // byte order mark
		}
	}
	return p
}

func (p *csvParser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Err: fmt.Errorf(format, args...)}
}

// readLine returns the next physical line with its line break, or io.EOF.
// The slice is valid until the next call.
func (p *csvParser) readLine() ([]byte, error) {
	line, err := p.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.lineBuf = append(p.lineBuf[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = p.br.ReadSlice('\n')
			p.lineBuf = append(p.lineBuf, line...)
		}
		line = p.lineBuf
	}
	if len(line) > 0 && err == io.EOF {
		err = nil
	}
	if err != nil {
		if err != io.EOF {
			err = &ParseError{File: p.file, Line: p.line + 1, Err: err}
		}
		return nil, err
	}
	p.line++
	if p.utf8 && !validUTF8(line) {
		return nil, p.errorf(p.line, "invalid UTF-8 (set format.encoding to latin1 for an ISO-8859-1 file)")
	}
	return line, nil
}

// skipLines skips n physical lines.
func (p *csvParser) skipLines(n int) error {
	for i := 0; i < n; i++ {
		if _, err := p.readLine(); err != nil {
			return err
		}
	}
	return nil
}

func isLineEnd(rest []byte) bool {
	return len(rest) == 0 || rest[0] == '\n' || (rest[0] == '\r' && (len(rest) == 1 || rest[1] == '\n'))
}

// read parses the next record; io.EOF at the end of the input.
func (p *csvParser) read() error {
	p.buf, p.bounds, p.quoted = p.buf[:0], p.bounds[:0], p.quoted[:0]
	var line []byte
	for {
		l, err := p.readLine()
		if err != nil {
			return err
		}
		if !isLineEnd(l) {
			line = l
			break
		}
	}
	p.recLine = p.line
	pos := 0
	for {
		if pos < len(line) && line[pos] == p.quote {
			pos++
			start := len(p.buf)
			for {
				rest := line[pos:]
				i := bytes.IndexByte(rest, p.quote)
				if p.hasEsc {
					if j := bytes.IndexByte(rest, p.esc); j >= 0 && (i < 0 || j < i) {
						p.buf = append(p.buf, rest[:j]...)
						if j+1 < len(rest) {
							p.buf = append(p.buf, rest[j+1])
							pos += j + 2
							continue
						}
						pos += j + 1 // escape at the very end: keep reading
						continue
					}
				}
				if i < 0 { // the field goes on on the next line
					p.buf = append(p.buf, rest...)
					l, err := p.readLine()
					if err == io.EOF {
						return p.errorf(p.recLine, "quoted field %d is not closed at the end of the file", len(p.quoted)+1)
					}
					if err != nil {
						return err
					}
					line, pos = l, 0
					continue
				}
				p.buf = append(p.buf, rest[:i]...)
				pos += i
				if p.dbl && pos+1 < len(line) && line[pos+1] == p.quote {
					p.buf = append(p.buf, p.quote)
					pos += 2
					continue
				}
				pos++ // the closing quote
				break
			}
			p.bounds = append(p.bounds, start, len(p.buf))
			p.quoted = append(p.quoted, true)
			rest := line[pos:]
			if isLineEnd(rest) {
				return nil
			}
			if rest[0] != p.delim {
				return p.errorf(p.line, "field %d: unexpected %q after the closing quote (a quote inside a quoted field must be doubled)", len(p.quoted), rest[0])
			}
			pos++
			continue
		}
		rest := line[pos:]
		i := bytes.IndexByte(rest, p.delim)
		start := len(p.buf)
		if i < 0 {
			end := len(rest)
			if end > 0 && rest[end-1] == '\n' {
				end--
			}
			if end > 0 && rest[end-1] == '\r' { // \r\n, or \r at the end of the file
				end--
			}
			p.buf = append(p.buf, rest[:end]...)
			p.bounds = append(p.bounds, start, len(p.buf))
			p.quoted = append(p.quoted, false)
			return nil
		}
		p.buf = append(p.buf, rest[:i]...)
		p.bounds = append(p.bounds, start, len(p.buf))
		p.quoted = append(p.quoted, false)
		pos += i + 1
	}
}

func (p *csvParser) numFields() int { return len(p.quoted) }

func (p *csvParser) field(i int) []byte { return p.buf[p.bounds[2*i]:p.bounds[2*i+1]] }

// header reads the column names: the file's header row, the configured
// names, or f0, f1, ... It leaves the parser at the first data record.
// For a file without a header it parses the first record to count the
// columns and reports it as pending. An empty file (nothing after the
// skipped rows) has no columns and no error.
func (p *csvParser) header(f *Format) (names []string, pending bool, err error) {
	if err := p.skipLines(f.SkipRowsBeforeHeader); err != nil {
		if err == io.EOF {
			return nil, false, nil // an empty file: no columns, no records
		}
		return nil, false, err
	}
	if f.header() {
		if err := p.read(); err != nil {
			if err == io.EOF {
				return nil, false, nil
			}
			return nil, false, err
		}
		if len(f.ColumnNames) > 0 {
			return f.ColumnNames, false, nil
		}
		seen := make(map[string]int, p.numFields())
		for i := 0; i < p.numFields(); i++ {
			n := string(p.field(i))
			if n == "" {
				return nil, false, p.errorf(p.recLine, "header: column %d has no name", i+1)
			}
			if j, dup := seen[n]; dup {
				return nil, false, p.errorf(p.recLine, "header: column name %q appears twice (columns %d and %d)", n, j+1, i+1)
			}
			seen[n] = i
			names = append(names, n)
		}
		return names, false, nil
	}
	if len(f.ColumnNames) > 0 {
		return f.ColumnNames, false, nil
	}
	if err := p.read(); err != nil {
		if err == io.EOF {
			return nil, false, nil
		}
		return nil, false, err
	}
	for i := 0; i < p.numFields(); i++ {
		names = append(names, "f"+strconv.Itoa(i))
	}
	return names, true, nil
}

// csvRecords turns the records of one CSV file into record data.
type csvRecords struct {
	p         *csvParser
	names     []string
	keys      [][]byte  // `"name":` per column
	types     []colType // per column
	nulls     [][]byte
	bools     *boolWords
	suffix    []byte // the metadata columns and the closing brace
	nullOnErr bool
	pending   bool // the parser holds a record not yet returned
}

// next appends the next record's data to dst, or returns io.EOF.
func (r *csvRecords) next(dst []byte) ([]byte, []airbyte.RecordChange, error) {
	p := r.p
	if r.pending {
		r.pending = false
	} else if err := p.read(); err != nil {
		return nil, nil, err
	}
	if p.numFields() != len(r.names) {
		return nil, nil, p.errorf(p.recLine, "the record has %d fields, the header %d", p.numFields(), len(r.names))
	}
	data := append(dst, '{')
	var changes []airbyte.RecordChange
	for i := range r.names {
		if i > 0 {
			data = append(data, ',')
		}
		data = append(data, r.keys[i]...)
		v := p.field(i)
		if r.isNull(v, p.quoted[i], r.types[i].kind) {
			data = append(data, "null"...)
			continue
		}
		var err error
		data, err = r.appendValue(data, v, r.types[i].kind)
		if err != nil {
			if !r.nullOnErr {
				return nil, nil, &ParseError{File: p.file, Line: p.recLine, Column: r.names[i], Err: err}
			}
			data = append(data, "null"...)
			changes = append(changes, airbyte.RecordChange{Field: r.names[i], Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"})
		}
	}
	data = append(data, ',')
	data = append(data, r.suffix...)
	return data, changes, nil
}

func (r *csvRecords) isNull(v []byte, quoted bool, k kind) bool {
	if len(v) == 0 {
		return !quoted || !(k == kString || k == kAny)
	}
	for _, n := range r.nulls {
		if bytes.Equal(v, n) {
			return true
		}
	}
	return false
}

func (r *csvRecords) appendValue(data, v []byte, k kind) ([]byte, error) {
	switch k {
	case kInteger:
		if isInteger(v) {
			return append(data, v...), nil
		}
		return data, &typeError{value: string(v), want: "an integer"}
	case kNumber:
		if isNumber(v) {
			return append(data, v...), nil
		}
		return data, &typeError{value: string(v), want: "a number"}
	case kBoolean:
		b, ok := r.bools.parse(v)
		if !ok {
			return data, &typeError{value: string(v), want: "a boolean"}
		}
		if b {
			return append(data, "true"...), nil
		}
		return append(data, "false"...), nil
	case kDate:
		if isDate(v) {
			return appendJSONString(data, v), nil
		}
		return data, &typeError{value: string(v), want: "a date (YYYY-MM-DD)"}
	case kTimestamp, kTimestampTZ, kTimestampNTZ:
		ok, zone := isTimestamp(v)
		if !ok || (k == kTimestampTZ && !zone) || (k == kTimestampNTZ && zone) {
			want := "a timestamp (YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm])"
			if k == kTimestampTZ {
				want = "a timestamp with a time zone (YYYY-MM-DDThh:mm:ss[.f]Z|±hh:mm)"
			} else if k == kTimestampNTZ {
				want = "a timestamp without a time zone (YYYY-MM-DDThh:mm:ss[.f])"
			}
			return data, &typeError{value: string(v), want: want}
		}
		n := len(data)
		data = appendJSONString(data, v)
		data[n+1+10] = 'T' // a space separator becomes T, as RFC 3339 asks
		return data, nil
	case kObject, kArray:
		t := bytes.TrimSpace(v)
		open := byte('{')
		if k == kArray {
			open = '['
		}
		if len(t) > 0 && t[0] == open && jsonValid(t) {
			return append(data, t...), nil
		}
		if k == kArray {
			return data, &typeError{value: string(v), want: "a JSON array"}
		}
		return data, &typeError{value: string(v), want: "a JSON object"}
	}
	return appendJSONString(data, v), nil
}

// csvInfer reads the header and up to n records of a CSV file and returns
// the columns with what their values could be.
func csvInfer(p *csvParser, f *Format, n int) ([]string, []typeSet, error) {
	names, pending, err := p.header(f)
	if err != nil {
		return nil, nil, err
	}
	sets := make([]typeSet, len(names))
	for i := range sets {
		sets[i] = newTypeSet()
	}
	if f.AllStrings {
		return names, sets, nil
	}
	bools := newBoolWords(f)
	nulls := nullValues(f)
	for row := 0; row < n; row++ {
		if pending {
			pending = false
		} else if err := p.read(); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, err
		}
		if p.numFields() != len(names) {
			return nil, nil, p.errorf(p.recLine, "the record has %d fields, the header %d", p.numFields(), len(names))
		}
	fields:
		for i := range names {
			v := p.field(i)
			if len(v) == 0 {
				continue
			}
			for _, nv := range nulls {
				if bytes.Equal(v, nv) {
					continue fields
				}
			}
			sets[i].add(v, bools)
		}
	}
	return names, sets, nil
}

func nullValues(f *Format) [][]byte {
	var out [][]byte
	for _, v := range f.NullValues {
		out = append(out, []byte(v))
	}
	return out
}
