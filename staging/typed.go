package staging

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/warehouse"
)

// Typed records (airbyte.RecordValues) skip JSON: their Go values go to the
// columns directly. A value whose Go type does not match its column the
// obvious way (or a field with no column yet) sends the whole record down the
// JSON path instead, so a typed record lands exactly as its JSON form would.

// typedMap maps the fields of a stream's typed records to its columns.
type typedMap struct {
	fields []string // the Fields slice the mapping was made for
	cols   []int    // column of each field
	ok     bool     // every field has a column
	vals   []any    // scratch for AppendValues
}

// typedRow converts a typed record to the stream's column layout; ok is
// false when the record must take the JSON path (nothing was changed then).
func (s *streamLoad) typedRow(rec *airbyte.RecordMessage, ids *rawIDs) (row []any, ok bool, err error) {
	fields := rec.Values.Fields()
	m := &s.typed
	if !s.mapTyped(fields) {
		return nil, false, nil
	}
	m.vals = rec.Values.AppendValues(m.vals[:0])
	if len(m.vals) != len(fields) {
		return nil, false, fmt.Errorf("staging: stream %s: typed record has %d values for %d fields", s.desc, len(m.vals), len(fields))
	}
	row = s.newRow()
	var changes []metaChange
	nulled := 0
	for j, v := range m.vals {
		if v == nil {
			continue
		}
		i := m.cols[j]
		cv, fits, conv := typedValue(s.cols[i].Type, v)
		if !conv {
			clear(row)
			s.rowsUsed -= len(row)
			return nil, false, nil
		}
		if !fits {
			changes = append(changes, metaChange{Field: fields[j], Change: "NULLED", Reason: "DESTINATION_TYPECAST_ERROR"})
			nulled++
			continue
		}
		row[i] = cv
	}
	if s.dedupe && s.keysNull(row) {
		return nil, false, fmt.Errorf("staging: stream %s: record has no value for its primary key %v: %.80s", s.desc, s.keys, rec.DataJSON())
	}
	s.nulled += int64(nulled)
	s.fillMeta(row, rec, changes, ids)
	return row, true, nil
}

// mapTyped maps the fields of a typed record to the stream's columns (once
// per field list) and reports whether every field has a column.
func (s *streamLoad) mapTyped(fields []string) bool {
	m := &s.typed
	if !airbyte.SameFields(m.fields, fields) {
		m.fields, m.cols, m.ok = fields, m.cols[:0], true
		s.visitor.b = nil // the visitor binds the new mapping
		base := len(s.cols) - len(metaColumns)
		for _, f := range fields {
			i, found := s.index[f]
			if !found || i >= base {
				m.ok = false
			}
			m.cols = append(m.cols, i)
		}
	}
	return m.ok
}

// typedValue converts a typed value to the portable value of t. conv is
// false when the pair is not a direct one (the record then takes the JSON
// path); fits is false when the value does not fit t (stored as NULL).
func typedValue(t warehouse.Type, v any) (out any, fits, conv bool) {
	if raw, isRaw := v.(json.RawMessage); isRaw {
		cv, err := convertValue(t, raw)
		return cv, err == nil, true
	}
	switch t.Kind {
	case warehouse.KindString:
		if _, ok := v.(string); ok {
			return v, true, true
		}
	case warehouse.KindInteger:
		if _, ok := v.(int64); ok {
			return v, true, true
		}
	case warehouse.KindFloat:
		switch x := v.(type) {
		case float64:
			return v, true, true
		case int64:
			if f := float64(x); !math.IsInf(f, 0) {
				return f, true, true
			}
		}
	case warehouse.KindBoolean:
		if _, ok := v.(bool); ok {
			return v, true, true
		}
	case warehouse.KindDate:
		if x, ok := v.(time.Time); ok {
			if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
				return v, true, true
			}
			return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC), true, true
		}
	case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		// Typed times are UTC: the wall clock and the instant agree.
		if _, ok := v.(time.Time); ok {
			return v, true, true
		}
	}
	return nil, false, false
}

// newRow returns a row of the stream's width, carved out of a block that
// is reused once the batch it holds has been written.
func (s *streamLoad) newRow() []any {
	n := len(s.cols)
	if len(s.rows)-s.rowsUsed < n {
		s.rows = make([]any, max(n*min(max(s.blockRows, 64), 1<<16), len(s.rows)))
		s.rowsUsed = 0
	}
	row := s.rows[s.rowsUsed : s.rowsUsed+n : s.rowsUsed+n]
	s.rowsUsed += n
	return row
}

// releaseRows lets the next batch reuse the row block.
func (s *streamLoad) releaseRows() {
	clear(s.rows[:s.rowsUsed])
	s.rowsUsed = 0
}

// keysNull reports whether every primary key value of row is NULL.
func (s *streamLoad) keysNull(row []any) bool {
	for _, k := range s.keys {
		if row[s.index[k]] != nil {
			return false
		}
	}
	return true
}

// fillMeta sets the metadata columns of row.
func (s *streamLoad) fillMeta(row []any, rec *airbyte.RecordMessage, changes []metaChange, ids *rawIDs) {
	base := len(s.cols) - len(metaColumns)
	if len(changes) == 0 {
		if s.emptyMeta == nil {
			b, _ := json.Marshal(metaValue{Changes: []metaChange{}, SyncID: s.syncID})
			s.emptyMeta = json.RawMessage(b) // boxed once
		}
		row[base+2] = s.emptyMeta
	} else {
		m, _ := json.Marshal(metaValue{Changes: changes, SyncID: s.syncID})
		row[base+2] = json.RawMessage(m)
	}
	row[base] = ids.next()
	if s.extractedMs != rec.EmittedAt || s.extracted == nil {
		s.extractedMs, s.extracted = rec.EmittedAt, time.UnixMilli(rec.EmittedAt).UTC()
	}
	row[base+1] = s.extracted
	if g := s.cfg.GenerationID; g != nil {
		if s.generation == nil {
			s.generation = *g
		}
		row[base+3] = s.generation
	}
}
