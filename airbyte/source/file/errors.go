package file

import (
	"errors"
	"fmt"
)

// ErrNoFiles means a stream's globs match no file. The error that wraps it
// names the stream and its globs.
var ErrNoFiles = errors.New("no file matches")

// ErrUnknownStream means a configured catalog asks for a stream the config
// does not define. The error that wraps it names the stream.
var ErrUnknownStream = errors.New("no such stream in the config")

// ErrTypeMismatch is the cause of a ParseError for a value that breaks the
// stream's schema (for example "abc" in an integer column).
var ErrTypeMismatch = errors.New("value does not match the column type")

// ParseError is bad input in a file: a malformed CSV record, a JSONL line
// that is not a JSON object, a value that breaks the stream's schema, an
// unreadable Parquet row group.
type ParseError struct {
	File   string // the file's URL, as in _ab_source_file_url
	Line   int    // 1-based line (CSV: the line the record starts on); Parquet: 0
	Row    int64  // Parquet: 0-based row in the file; otherwise 0
	Column string // the column, when the problem is one value
	Err    error  // what is wrong; ErrTypeMismatch for type errors
}

// Error renders "file:line: column "c": what".
func (e *ParseError) Error() string {
	loc := e.File
	switch {
	case e.Line > 0:
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Row > 0 || e.Column != "":
		loc = fmt.Sprintf("%s: row %d", e.File, e.Row)
	}
	if e.Column != "" {
		return fmt.Sprintf("%s: column %q: %v", loc, e.Column, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// typeError is the cause of a type mismatch: it says what the value is
// not.
type typeError struct {
	value string
	want  string
}

// Error says what the value is not.
func (e *typeError) Error() string {
	v := e.value
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("value %q is not %s", v, e.want)
}

// Unwrap returns ErrTypeMismatch.
func (e *typeError) Unwrap() error { return ErrTypeMismatch }
