package materialize

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

// SeedConfig configures Seed, as a seed's dbt config does.
type SeedConfig struct {
	// ColumnTypes overrides the inferred SQL type of columns, by CSV
	// header name (dbt's column_types). Their values are read as text and
	// converted to the column's type.
	ColumnTypes map[string]string
	// QuoteColumns quotes column names as written in the header; false
	// leaves them to the engine's folding (lower case on PostgreSQL). Nil
	// is dbt's default: quoted.
	QuoteColumns *bool
	// Delimiter separates fields; 0 means ','.
	Delimiter rune
	// FullRefresh drops and recreates the table; otherwise an existing
	// table is truncated and reloaded, keeping its columns and types.
	FullRefresh bool
	Hooks       Hooks
}

// SeedColumn is one column of a seed: its name in the table, its SQL type
// and whether the type came from ColumnTypes.
type SeedColumn struct {
	Name     string
	Header   string // as written in the CSV header (after deduplication)
	Type     string
	Inferred SeedType
	Override bool
}

// ErrSeed is matched (errors.Is) by errors about a seed file's content; the
// message names the file and line.
var ErrSeed = errors.New("bad seed file")

// seedReader is a CSV reader that knows its file name and line.
type seedReader struct {
	path string
	f    *os.File
	r    *csv.Reader
}

func openSeed(path string, delim rune) (*seedReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := &bomSkipper{r: f}
	r := csv.NewReader(br)
	if delim != 0 {
		r.Comma = delim
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return &seedReader{path: path, f: f, r: r}, nil
}

// bomSkipper drops a UTF-8 byte order mark at the start, as dbt does.
type bomSkipper struct {
	r       io.Reader
	started bool
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if b.started {
		return b.r.Read(p)
	}
	b.started = true
	buf := make([]byte, 3)
	n, err := io.ReadFull(b.r, buf)
	buf = buf[:n]
	if bytes.Equal(buf, []byte{0xEF, 0xBB, 0xBF}) {
		buf = nil
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	b.r = io.MultiReader(bytes.NewReader(buf), b.r)
	if err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

func (s *seedReader) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%w: %s:%d: %s", ErrSeed, s.path, line, fmt.Sprintf(format, args...))
}

// header reads the header row: empty names become a, b, … and repeated ones
// get _2, _3, … as agate names them.
func (s *seedReader) header() ([]string, error) {
	rec, err := s.r.Read()
	if err == io.EOF {
		return nil, s.errorf(1, "no header row")
	}
	if err != nil {
		return nil, s.wrapCSV(err)
	}
	names := make([]string, len(rec))
	seen := map[string]bool{}
	for i, n := range rec {
		if strings.TrimSpace(n) == "" {
			n = letterName(i)
		}
		base, k := n, 2
		for seen[n] {
			n = base + "_" + strconv.Itoa(k)
			k++
		}
		seen[n] = true
		names[i] = n
	}
	return names, nil
}

func letterName(i int) string {
	letters := "abcdefghijklmnopqrstuvwxyz"
	n := i/26 + 1
	return strings.Repeat(string(letters[i%26]), n)
}

func (s *seedReader) wrapCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return s.errorf(pe.Line, "%v", pe.Err)
	}
	return fmt.Errorf("%s: %w", s.path, err)
}

// each calls fn for every data row with its line number; short rows are
// padded with empty values, long ones are an error.
func (s *seedReader) each(ncols int, fn func(line int, rec []string) error) error {
	pad := make([]string, ncols)
	for {
		rec, err := s.r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return s.wrapCSV(err)
		}
		line, _ := s.r.FieldPos(0)
		if len(rec) > ncols {
			return s.errorf(line, "row has %d values, but the header has %d columns", len(rec), ncols)
		}
		if len(rec) < ncols {
			copy(pad, rec)
			clear(pad[len(rec):])
			rec = pad
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

// InferSeed reads the CSV file at path once, streaming, and returns its
// columns with the types dbt would create: agate's inference (integer,
// float8, date, timestamp, boolean, text; empty values are NULL) unless
// ColumnTypes names the column.
//
// Where dbt would fail, it does not: integers beyond 32 bits give bigint
// (numeric beyond 64), where dbt creates integer and the load fails; NaN
// and Infinity, which Python's Decimal accepts and the load then rejects,
// make the column text. The CSV dialect is RFC 4180 with the delimiter
// chosen: a quote inside an unquoted field, or text after a closing quote,
// is an error naming the line, where Python's csv module keeps it.
func InferSeed(ctx context.Context, path string, cfg SeedConfig) ([]SeedColumn, error) {
	s, err := openSeed(path, cfg.Delimiter)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSeed, err)
	}
	defer s.f.Close()
	names, err := s.header()
	if err != nil {
		return nil, err
	}
	inf := make([]*inference, len(names))
	for i := range inf {
		if _, ok := cfg.ColumnTypes[names[i]]; !ok {
			inf[i] = newInference()
		}
	}
	n := 0
	err = s.each(len(names), func(line int, rec []string) error {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		for i, v := range rec {
			if inf[i] != nil {
				inf[i].observe(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cols := make([]SeedColumn, len(names))
	for i, name := range names {
		cols[i] = SeedColumn{Name: name, Header: name}
		if t, ok := cfg.ColumnTypes[name]; ok {
			cols[i].Type, cols[i].Inferred, cols[i].Override = t, SeedText, true
			continue
		}
		cols[i].Inferred, cols[i].Type = inf[i].result()
	}
	return cols, nil
}

// Seed loads the CSV file at path into rel as dbt seed does: the types are
// inferred in a first streaming pass (see InferSeed), then the rows are
// streamed through warehouse Load (the engine's bulk path) in a second, so
// the file is never held in memory. A new table (or FullRefresh, which drops
// the old one) gives code "CREATE <n>"; reloading an existing table
// truncates it first and gives "INSERT <n>". Everything happens in one
// transaction. Errors about the file's content match ErrSeed and name the
// file and line.
func Seed(ctx context.Context, db DB, rel warehouse.Relation, path string, cfg SeedConfig) (Response, error) {
	cols, err := InferSeed(ctx, path, cfg)
	if err != nil {
		return Response{}, fail("seed", rel, err)
	}
	d := db.Dialect()
	quote := cfg.QuoteColumns == nil || *cfg.QuoteColumns
	for i := range cols {
		if !quote {
			cols[i].Name = d.NormalizeIdentifier(cols[i].Name)
		}
	}
	return build(ctx, db, "seed", rel, cfg.Hooks, func(tx *warehouse.Tx, _ bool) (Response, error) {
		old, ok, err := exists(ctx, tx, rel)
		if err != nil {
			return Response{}, err
		}
		code := "INSERT"
		if !ok || cfg.FullRefresh || old.Kind == warehouse.KindView {
			code = "CREATE"
			var b strings.Builder
			b.WriteString("CREATE TABLE " + d.QuoteRelation(rel) + " (")
			for i, c := range cols {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(d.QuoteIdentifier(c.Name) + " " + c.Type)
			}
			b.WriteString(")")
			stmts := []string{b.String()}
			if ok {
				stmts = append([]string{dropSQL(d, old.Kind, old.Relation)}, stmts...)
			}
			if _, err := exec(ctx, tx, "create", stmts...); err != nil {
				return Response{}, err
			}
		} else if _, err := exec(ctx, tx, "truncate", "TRUNCATE TABLE "+d.QuoteRelation(rel)); err != nil {
			return Response{}, err
		}
		n, err := loadSeed(ctx, tx, rel, path, cols, cfg)
		if err != nil {
			return Response{}, err
		}
		return Response{Code: fmt.Sprintf("%s %d", code, n), RowsAffected: n}, nil
	})
}

func loadSeed(ctx context.Context, tx *warehouse.Tx, rel warehouse.Relation, path string, cols []SeedColumn, cfg SeedConfig) (int64, error) {
	d := tx.Dialect()
	tcols, err := tx.Columns(ctx, rel)
	if err != nil {
		return 0, err
	}
	convs := make([]func(string) (any, error), len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		tc, ok := findColumn(d, tcols, c.Name)
		if !ok {
			return 0, fmt.Errorf("%w: %s: column %q is not in table %s", ErrSeed, path, c.Header, rel)
		}
		names[i] = tc.Name
		text := c.Override || c.Inferred == SeedText
		convs[i] = seedConverter(tc.Type, text, isPostgres(d))
	}
	s, err := openSeed(path, cfg.Delimiter)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSeed, err)
	}
	defer s.f.Close()
	if _, err := s.header(); err != nil {
		return 0, err
	}
	var line int
	rows := iter.Seq2[[]any, error](func(yield func([]any, error) bool) {
		vals := make([]any, len(cols))
		err := s.each(len(cols), func(l int, rec []string) error {
			line = l
			for i, v := range rec {
				x, err := convs[i](v)
				if err != nil {
					return s.errorf(l, "column %s: %v", cols[i].Header, err)
				}
				vals[i] = x
			}
			if !yield(vals, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			yield(nil, err)
		}
	})
	n, err := tx.Load(ctx, rel, names, rows)
	if err != nil && !errors.Is(err, ErrSeed) {
		return n, fmt.Errorf("seed %s (near line %d): %w", path, line, err)
	}
	return n, err
}

var errStop = errors.New("stop")

// seedConverter turns a CSV field into the Go value Load takes for a column
// of type t. text marks columns agate reads as text: there "" (and on
// PostgreSQL, "null" in any case, as agate's Text) is NULL, as dbt-postgres
// loads them; dbt-duckdb copies the file, where only an empty field is NULL.
func seedConverter(t warehouse.Type, text, postgres bool) func(string) (any, error) {
	isNull := func(s string) bool { return strings.TrimSpace(s) == "" }
	if text {
		isNull = func(s string) bool {
			if postgres {
				l := strings.ToLower(strings.TrimSpace(s))
				return l == "" || l == "null"
			}
			return s == ""
		}
	}
	conv := valueConverter(t)
	return func(s string) (any, error) {
		if isNull(s) {
			return nil, nil
		}
		return conv(s)
	}
}

// valueConverter parses text as a value of type t.
func valueConverter(t warehouse.Type) func(string) (any, error) {
	bad := func(s string) error { return fmt.Errorf("cannot read %q as %s", s, t) }
	switch t.Kind {
	case warehouse.KindInteger:
		return func(s string) (any, error) {
			n, ok := parseNumber(strings.TrimSpace(s))
			if !ok || !n.isInt {
				return nil, bad(s)
			}
			return n.i, nil
		}
	case warehouse.KindDecimal:
		return func(s string) (any, error) {
			n, ok := parseNumber(strings.TrimSpace(s))
			if !ok {
				return nil, bad(s)
			}
			return n.decimal(t.Scale), nil
		}
	case warehouse.KindFloat:
		return func(s string) (any, error) {
			n, ok := parseNumber(strings.TrimSpace(s))
			if !ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
					return f, nil
				}
				return nil, bad(s)
			}
			return n.float(), nil
		}
	case warehouse.KindBoolean:
		return func(s string) (any, error) {
			if b, ok := parseBool(s); ok {
				return b, nil
			}
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "t", "yes", "y", "1", "on":
				return true, nil
			case "f", "no", "n", "0", "off":
				return false, nil
			}
			return nil, bad(s)
		}
	case warehouse.KindDate:
		return func(s string) (any, error) {
			if tm, ok := parseAnyTime(strings.TrimSpace(s)); ok {
				return time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC), nil
			}
			return nil, bad(s)
		}
	case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		return func(s string) (any, error) {
			if tm, ok := parseAnyTime(strings.TrimSpace(s)); ok {
				return tm, nil
			}
			return nil, bad(s)
		}
	case warehouse.KindTime:
		return func(s string) (any, error) {
			for _, layout := range []string{"15:04:05.999999", "15:04"} {
				if tm, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
					return time.Date(1, 1, 1, tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), time.UTC), nil
				}
			}
			return nil, bad(s)
		}
	}
	return func(s string) (any, error) { return s, nil }
}

// parseAnyTime reads a date, a date-time (space or T, fractions, zone).
func parseAnyTime(s string) (time.Time, bool) {
	if t, ok := parseDate(s); ok {
		return t, true
	}
	if t, ok := parseDateTime(s); ok {
		return t, true
	}
	if t, ok := parseISODateTime(s); ok {
		return t, true
	}
	if t, ok := parseISODateTime(strings.Replace(s, " ", "T", 1)); ok {
		return t, true
	}
	return time.Time{}, false
}
