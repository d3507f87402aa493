package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dataopskit/dataops/warehouse"
)

// Load appends rows to rel with COPY FROM STDIN (binary) on the raw
// connection, inside whatever transaction is open on it.
func (e *engine) Load(ctx context.Context, raw any, rel warehouse.Relation, cols []warehouse.Column, rows iter.Seq2[[]any, error]) (int64, error) {
	conn, err := pgxConn(raw)
	if err != nil {
		return 0, err
	}
	if len(cols) == 0 {
		return 0, errors.New("postgres: load: no columns")
	}
	if rows == nil {
		return 0, errors.New("postgres: load: no rows iterator")
	}
	src := &copySource{
		ctx:     ctx,
		cols:    cols,
		conv:    make([]convertFunc, len(cols)),
		notNull: make([]bool, len(cols)),
		vals:    make([]any, len(cols)),
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
		src.conv[i] = converter(c.Type)
		src.notNull[i] = !c.Nullable
	}
	var ident pgx.Identifier
	for _, p := range []string{rel.Database, rel.Schema, rel.Name} {
		if p != "" {
			ident = append(ident, p)
		}
	}
	if err := prepareTypes(ctx, conn, ident, cols); err != nil {
		return 0, err
	}
	next, stop := iter.Pull2(rows)
	src.next = next
	// CopyFrom drains the source in a goroutine of its own but has always
	// finished with it when it returns; only then may stop run.
	n, err := conn.CopyFrom(ctx, ident, names, src)
	stop()
	if src.err != nil {
		return 0, src.err
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch {
			case pgErr.Code == "57014" && strings.HasPrefix(pgErr.Message, "COPY from stdin failed") && src.row > 0:
				// pgx could not encode a value of the last row read and
				// aborted the copy with its own message.
				err = fmt.Errorf("row %d: %w", src.row, err)
			case strings.HasPrefix(pgErr.Where, "COPY "):
				// The server names the row ("line", counted from 1) and
				// the column: "COPY t, line 2, column c: …".
				err = fmt.Errorf("%s: %w", pgErr.Where, err)
			}
		}
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return 0, fmt.Errorf("postgres: copy into %s: %w", rel, err)
	}
	return n, nil
}

// copySource adapts a pulled row iterator to pgx.CopyFromSource, converting
// portable values to values that pgx encodes in binary.
type copySource struct {
	ctx     context.Context
	next    func() ([]any, error, bool)
	cols    []warehouse.Column
	conv    []convertFunc
	notNull []bool
	vals    []any // reused for every row; pgx encodes a row before asking for the next
	row     int64 // rows read so far, so the number of the current one
	err     error
}

func (s *copySource) Next() (more bool) {
	if s.err != nil {
		return false
	}
	if s.row&1023 == 0 {
		if err := s.ctx.Err(); err != nil {
			s.err = fmt.Errorf("postgres: load stopped after %d rows: %w", s.row, err)
			return false
		}
	}
	defer func() {
		if p := recover(); p != nil {
			s.err = fmt.Errorf("postgres: load: row %d: the row iterator panicked: %v", s.row+1, p)
			more = false
		}
	}()
	row, err, ok := s.next()
	if !ok {
		return false
	}
	s.row++
	if err != nil {
		s.err = fmt.Errorf("postgres: load: row %d: %w", s.row, err)
		return false
	}
	if len(row) != len(s.cols) {
		s.err = fmt.Errorf("postgres: load: row %d has %d values for %d columns", s.row, len(row), len(s.cols))
		return false
	}
	for i, v := range row {
		if v == nil {
			if s.notNull[i] {
				s.err = fmt.Errorf("postgres: load: row %d, column %q: NULL in a NOT NULL column", s.row, s.cols[i].Name)
				return false
			}
			s.vals[i] = nil
			continue
		}
		cv, err := s.conv[i](v)
		if err != nil {
			s.err = fmt.Errorf("postgres: load: row %d, column %q (%s): %w", s.row, s.cols[i].Name, s.cols[i].Type, err)
			return false
		}
		s.vals[i] = cv
	}
	return true
}

func (s *copySource) Values() ([]any, error) { return s.vals, nil }
func (s *copySource) Err() error             { return s.err }

// convertFunc turns a non-nil portable input value into a value pgx encodes
// for the column's type. Values that pgx takes as they are pass through
// unchanged, without allocating.
type convertFunc func(v any) (any, error)

func converter(t warehouse.Type) convertFunc {
	switch t.Kind {
	case warehouse.KindString:
		return convString
	case warehouse.KindInteger:
		return convInteger(t.Bits)
	case warehouse.KindDecimal:
		return convDecimal(t)
	case warehouse.KindFloat:
		return convFloat
	case warehouse.KindBoolean:
		return convBool
	case warehouse.KindDate, warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		return convTimestamp
	case warehouse.KindTime:
		return convTime
	case warehouse.KindJSON:
		return convJSON
	case warehouse.KindBinary:
		return convBinary
	case warehouse.KindArray:
		if t.Elem != nil {
			return convArray(converter(*t.Elem))
		}
	}
	return func(v any) (any, error) { return v, nil }
}

func typeErr(v any) error { return fmt.Errorf("cannot use a %T value", v) }

func convString(v any) (any, error) {
	switch v.(type) {
	case string, []byte:
		return v, nil
	}
	return nil, typeErr(v)
}

func convInteger(bits int) convertFunc {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch bits {
	case 16:
		lo, hi = math.MinInt16, math.MaxInt16
	case 32:
		lo, hi = math.MinInt32, math.MaxInt32
	}
	return func(v any) (any, error) {
		i, ok := warehouse.ToInt64(v)
		if !ok {
			if _, isInt := v.(uint64); isInt {
				return nil, fmt.Errorf("%v is out of range", v)
			}
			if _, isInt := v.(uint); isInt {
				return nil, fmt.Errorf("%v is out of range", v)
			}
			return nil, typeErr(v)
		}
		if i < lo || i > hi {
			return nil, fmt.Errorf("%d is out of range for a %d-bit integer", i, bits)
		}
		if _, same := v.(int64); same {
			return v, nil
		}
		return i, nil
	}
}

func convFloat(v any) (any, error) {
	switch v.(type) {
	case float64, float32:
		return v, nil
	}
	if i, ok := warehouse.ToInt64(v); ok {
		return float64(i), nil
	}
	return nil, typeErr(v)
}

func convBool(v any) (any, error) {
	if _, ok := v.(bool); ok {
		return v, nil
	}
	return nil, typeErr(v)
}

// convTimestamp passes time.Time on: pgx writes a timestamp's wall clock in
// the value's own location (the portable KindTimestamp rule), a timestamptz's
// instant, and a date's calendar day in the value's location.
func convTimestamp(v any) (any, error) {
	switch v.(type) {
	case time.Time, pgtype.Timestamp, pgtype.Timestamptz, pgtype.Date:
		return v, nil
	}
	return nil, typeErr(v)
}

const microsPerDay = 24 * 60 * 60 * 1_000_000

func convTime(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		us := int64(x.Hour())*3_600_000_000 + int64(x.Minute())*60_000_000 + int64(x.Second())*1_000_000 + int64(x.Nanosecond())/1000
		return pgtype.Time{Microseconds: us, Valid: true}, nil
	case time.Duration:
		if x < 0 || x > 24*time.Hour {
			return nil, fmt.Errorf("duration %s is not a time of day", x)
		}
		return pgtype.Time{Microseconds: x.Microseconds(), Valid: true}, nil
	case pgtype.Time:
		return v, nil
	}
	return nil, typeErr(v)
}

func convJSON(v any) (any, error) {
	switch x := v.(type) {
	case json.RawMessage:
		if x == nil {
			return nil, nil
		}
		if !json.Valid(x) {
			return nil, fmt.Errorf("value is not valid JSON: %.40q", x)
		}
		return v, nil
	case []byte:
		if x == nil {
			return nil, nil
		}
		if !json.Valid(x) {
			return nil, fmt.Errorf("value is not valid JSON: %.40q", x)
		}
		return v, nil
	case string:
		if !json.Valid([]byte(x)) {
			return nil, fmt.Errorf("value is not valid JSON: %.40q", x)
		}
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %T to JSON: %w", v, err)
	}
	return json.RawMessage(b), nil
}

func convBinary(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(x), nil
	}
	return nil, typeErr(v)
}

func convDecimal(t warehouse.Type) convertFunc {
	constrained := t.Precision > 0
	return func(v any) (any, error) {
		if n, ok := v.(pgtype.Numeric); ok {
			return n, nil
		}
		d, err := warehouse.ToDecimal(v)
		if err != nil {
			return nil, err
		}
		if constrained && d.Scale > t.Scale {
			// PostgreSQL would round; the warehouse never loses digits silently.
			if d, err = d.Rescale(t.Scale); err != nil {
				return nil, err
			}
		}
		return numeric(d), nil
	}
}

var bigZero = new(big.Int)

// numeric converts a Decimal to the pgtype value pgx encodes.
func numeric(d warehouse.Decimal) pgtype.Numeric {
	u := d.Unscaled
	if u == nil {
		u = bigZero
	}
	return pgtype.Numeric{Int: u, Exp: int32(-d.Scale), Valid: true}
}

func convArray(elem convertFunc) convertFunc {
	return func(v any) (any, error) {
		switch x := v.(type) {
		case []any:
			if x == nil {
				return nil, nil
			}
			out := make([]any, len(x))
			for i, e := range x {
				if e == nil {
					continue
				}
				ce, err := elem(e)
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = ce
			}
			return out, nil
		case []byte, string:
			return nil, typeErr(v)
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return nil, typeErr(v)
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			e := rv.Index(i).Interface()
			if e == nil {
				continue
			}
			if ev := reflect.ValueOf(e); ev.Kind() == reflect.Pointer {
				if ev.IsNil() {
					continue
				}
				e = ev.Elem().Interface()
			}
			ce, err := elem(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = ce
		}
		return out, nil
	}
}

// prepareTypes makes sure that pgx can encode every column of a type without
// a portable kind: enums, domains, composites and ranges are loaded into the
// connection's type map; a type pgx has no binary codec for (timetz, …) is
// an error here rather than a puzzling one from the server. Tables of
// portable types cost no round trip.
func prepareTypes(ctx context.Context, conn *pgx.Conn, ident pgx.Identifier, cols []warehouse.Column) error {
	var names []string
	for _, c := range cols {
		if c.Type.Kind == warehouse.KindUnknown || (c.Type.Kind == warehouse.KindArray && c.Type.Elem != nil && c.Type.Elem.Kind == warehouse.KindUnknown) {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	type colType struct {
		name, typ string
		oid       uint32
	}
	rows, err := conn.Query(ctx, `SELECT a.attname, a.atttypid, a.atttypid::regtype::text
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1::text::regclass AND a.attname = ANY($2::text[]) AND a.attnum > 0 AND NOT a.attisdropped`, ident.Sanitize(), names)
	if err != nil {
		return fmt.Errorf("postgres: load: column types: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (colType, error) {
		var ct colType
		err := r.Scan(&ct.name, &ct.oid, &ct.typ)
		return ct, err
	})
	if err != nil {
		return fmt.Errorf("postgres: load: column types: %w", err)
	}
	m := conn.TypeMap()
	for _, ct := range found {
		if _, ok := m.TypeForOID(ct.oid); ok {
			continue
		}
		dt, err := conn.LoadType(ctx, ct.typ)
		if err != nil {
			return fmt.Errorf("postgres: load: column %q: COPY cannot encode type %s: %w", ct.name, ct.typ, err)
		}
		m.RegisterType(dt)
	}
	return nil
}
