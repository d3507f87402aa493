package warehouse

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"
)

// ColumnBatch is a batch of rows held column by column in typed slices, the
// form in which a producer that already has typed values (a staging loader
// fed by an in-process source) hands them to a bulk load without boxing
// each value in an interface (see LoadColumns). Len rows; Cols[i] holds the
// i-th loaded column, in the representation its Kind calls for:
//
//   - KindInteger: Int;
//   - KindFloat: Float;
//   - KindBoolean: Bool;
//   - KindString (valid UTF-8), KindJSON (JSON text) and KindBinary: Bytes;
//     a KindString column whose Native type is UUID takes a UUID's text or
//     its 16 bytes (engines with a UUID type: DuckDB's);
//   - KindTimestamp: Int as microseconds since 1970-01-01 of the wall clock;
//   - KindTimestampTZ: Int as microseconds since 1970-01-01 UTC;
//   - KindDate: Int as days since 1970-01-01.
//
// Other kinds have no column form (ColumnForm reports which do). Null[r]
// marks a NULL row (its value is ignored); a nil Null means no NULLs. Only
// the first Len elements of each slice are read.
type ColumnBatch struct {
	Len  int
	Cols []ColumnData
}

// ColumnData is one column of a ColumnBatch; only the slice its kind uses
// is set.
type ColumnData struct {
	Null  []bool
	Int   []int64
	Float []float64
	Bool  []bool
	Bytes [][]byte
}

// ColumnForm reports whether columns of type t can travel in a ColumnBatch.
func ColumnForm(t Type) bool {
	switch t.Kind {
	case KindInteger:
		return t.Bits == 0 || t.Bits == 64
	case KindFloat:
		return t.Bits == 0 || t.Bits == 64
	case KindBoolean, KindString, KindJSON, KindBinary, KindTimestamp, KindTimestampTZ, KindDate:
		return true
	}
	return false
}

// ColumnLoader is implemented by engines whose bulk path takes column
// batches directly (DuckDB's). LoadColumns appends the batches' rows to
// rel, as Engine.Load appends rows; a batch may be reused by its producer
// once the iterator asks for the next one. Engines without it get the rows
// of each batch through Load.
type ColumnLoader interface {
	LoadColumns(ctx context.Context, raw any, rel Relation, cols []Column, batches iter.Seq2[*ColumnBatch, error]) (int64, error)
}

// LoadColumns appends the rows of batches to the table rel, as Load does;
// columns names the columns each batch holds, in order, and every one must
// have a column form (ColumnForm). Engines that take column batches
// (ColumnLoader) get them as they are; others get each batch's rows as
// portable values.
func (s *session) LoadColumns(ctx context.Context, rel Relation, columns []string, batches iter.Seq2[*ColumnBatch, error]) (int64, error) {
	const op = "load"
	cols, err := s.loadColumns(ctx, op, rel, columns)
	if err != nil {
		return 0, err
	}
	types := make([]Type, len(cols))
	for i, c := range cols {
		if !ColumnForm(c.Type) {
			return 0, &Error{Op: op, Relation: rel, Kind: ErrUnsupported, Err: fmt.Errorf("column %q of type %s has no column form", c.Name, c.Type)}
		}
		types[i] = c.Type
	}
	var n int64
	err = s.atomic(ctx, func(t *session) error {
		return t.raw(ctx, func(raw any) error {
			var lerr error
			if cl, ok := t.eng.(ColumnLoader); ok {
				n, lerr = cl.LoadColumns(ctx, raw, rel, cols, batches)
			} else {
				n, lerr = t.eng.Load(ctx, raw, rel, cols, BatchRows(types, batches))
			}
			return lerr
		})
	})
	if err != nil {
		return n, wrap(op, rel, err, s.eng.Classify)
	}
	s.log.DebugContext(ctx, "loaded", "relation", rel.String(), "rows", n)
	return n, nil
}

// BatchRows turns column batches of columns of the given types into rows
// of portable values (int64, float64, bool, string, json.RawMessage,
// []byte, time.Time), for engines that load rows. The row slice is reused.
func BatchRows(types []Type, batches iter.Seq2[*ColumnBatch, error]) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		row := make([]any, len(types))
		for b, err := range batches {
			if err != nil {
				yield(nil, err)
				return
			}
			if len(b.Cols) != len(types) {
				yield(nil, fmt.Errorf("column batch has %d columns, want %d", len(b.Cols), len(types)))
				return
			}
			for r := range b.Len {
				for i, t := range types {
					c := &b.Cols[i]
					if c.Null != nil && c.Null[r] {
						row[i] = nil
						continue
					}
					row[i] = columnValue(t, c, r)
				}
				if !yield(row, nil) {
					return
				}
			}
		}
	}
}

// columnValue returns row r of c, a column of type t, as a portable value.
func columnValue(t Type, c *ColumnData, r int) any {
	switch t.Kind {
	case KindInteger:
		return c.Int[r]
	case KindFloat:
		return c.Float[r]
	case KindBoolean:
		return c.Bool[r]
	case KindString:
		return string(c.Bytes[r])
	case KindJSON:
		return json.RawMessage(c.Bytes[r])
	case KindBinary:
		return c.Bytes[r]
	case KindTimestamp, KindTimestampTZ:
		return time.UnixMicro(c.Int[r]).UTC()
	case KindDate:
		return time.Unix(c.Int[r]*86400, 0).UTC()
	}
	return nil
}
