package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ScanBatchRows is the most rows of a column batch that ScanColumns hands
// over from engines without a column scan of their own.
const ScanBatchRows = 2048

// ColumnScanner is implemented by engines that stream a query's result as
// column batches without a value boxed per row (DuckDB's). ScanColumns runs
// query on raw and calls fn with each batch: cols describe the result's
// columns, and the batch, including its slices, may point into the
// engine's memory and is valid only until fn returns. fn's error stops the
// query and is returned. A result the engine cannot give in column form
// gets an error wrapping ErrUnsupported before fn is first called; the
// caller then takes the row path.
type ColumnScanner interface {
	ScanColumns(ctx context.Context, raw any, query string, args []any, fn func(cols []Column, b *ColumnBatch) error) error
}

// ScanForm reports whether a result column of type t can be scanned into
// a ColumnBatch (ScanColumns): the kinds with a column form, integers of
// any width up to 64 bits (in Int) and floats of either width (in Float).
func ScanForm(t Type) bool {
	switch t.Kind {
	case KindInteger:
		return t.Bits <= 64
	case KindFloat:
		return true
	}
	return ColumnForm(t)
}

// ScanColumns runs a query and streams its result column by column: fn
// gets the result's columns and each batch of rows, in the result's order,
// held as ColumnBatch describes for each column's kind (see ScanForm; a
// result column without a scan form is an error of kind ErrUnsupported).
// The batch and its slices are valid only until fn returns: they may be
// the engine's own memory. Memory stays flat however many rows there are;
// on DuckDB no value is boxed or copied. fn's error stops the query and is
// returned as it is. Inside a Tx the scan holds the transaction's
// connection: do not use the same Tx in fn.
func (s *session) ScanColumns(ctx context.Context, query string, args []any, fn func(cols []Column, b *ColumnBatch) error) error {
	var fnErr error
	call := func(cols []Column, b *ColumnBatch) error {
		if err := fn(cols, b); err != nil {
			fnErr = err
			return err
		}
		return nil
	}
	err := s.raw(ctx, func(raw any) error {
		if cs, ok := s.eng.(ColumnScanner); ok {
			err := cs.ScanColumns(ctx, raw, query, args, call)
			if !errors.Is(err, ErrUnsupported) || fnErr != nil {
				return err
			}
		}
		return scanRows(ctx, s.eng, raw, query, args, call)
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap("query", Relation{}, err, s.eng.Classify)
	}
	return nil
}

// scanRows is ScanColumns through Engine.Query: rows of portable values
// gathered into batches of ScanBatchRows.
func scanRows(ctx context.Context, eng Engine, raw any, query string, args []any, fn func(cols []Column, b *ColumnBatch) error) error {
	var b *ColumnBatch
	var cols []Column
	err := eng.Query(ctx, raw, query, args, func(cs []Column, vals []any) error {
		if b == nil {
			for _, c := range cs {
				if !ScanForm(c.Type) {
					return fmt.Errorf("%w: column %q of type %s has no column form", ErrUnsupported, c.Name, c.Type)
				}
			}
			cols = cs
			b = &ColumnBatch{Cols: make([]ColumnData, len(cs))}
		}
		r := b.Len
		for i, v := range vals {
			if err := putScanned(&b.Cols[i], cols[i].Type, r, v); err != nil {
				return fmt.Errorf("row %d, column %q: %w", r+1, cols[i].Name, err)
			}
		}
		b.Len++
		if b.Len == ScanBatchRows {
			if err := fn(cols, b); err != nil {
				return err
			}
			b.Len = 0
		}
		return nil
	})
	if err != nil {
		return err
	}
	if b != nil && b.Len > 0 {
		return fn(cols, b)
	}
	return nil
}

// putScanned stores v, a portable value of type t, as row r of c (r is at
// most len of c's slices: the batch grows to ScanBatchRows and is reused).
func putScanned(c *ColumnData, t Type, r int, v any) error {
	if c.Null == nil {
		c.Null = make([]bool, 0, ScanBatchRows)
	}
	c.Null = append(c.Null[:r], v == nil)
	switch t.Kind {
	case KindInteger, KindTimestamp, KindTimestampTZ, KindDate:
		var n int64
		switch x := v.(type) {
		case nil:
		case int64:
			n = x
		case time.Time:
			if t.Kind == KindDate {
				n = x.Unix() / 86400
				if x.Unix()%86400 < 0 {
					n--
				}
			} else {
				n = x.UnixMicro()
			}
		default:
			return fmt.Errorf("value of type %T for a %s column", v, t)
		}
		c.Int = append(c.Int[:r], n)
	case KindFloat:
		f, ok := v.(float64)
		if !ok && v != nil {
			return fmt.Errorf("value of type %T for a %s column", v, t)
		}
		c.Float = append(c.Float[:r], f)
	case KindBoolean:
		bv, ok := v.(bool)
		if !ok && v != nil {
			return fmt.Errorf("value of type %T for a %s column", v, t)
		}
		c.Bool = append(c.Bool[:r], bv)
	default: // KindString, KindJSON, KindBinary
		var bs []byte
		switch x := v.(type) {
		case nil:
		case string:
			bs = []byte(x)
		case json.RawMessage:
			bs = append([]byte(nil), x...)
		case []byte:
			bs = append([]byte(nil), x...)
		default:
			return fmt.Errorf("value of type %T for a %s column", v, t)
		}
		c.Bytes = append(c.Bytes[:r], bs)
	}
	return nil
}
