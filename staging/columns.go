package staging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/warehouse"
)

// The columnar path. When the warehouse loads column batches itself
// (warehouse.ColumnLoader: DuckDB) and every column of a stream has a
// column form, the stream's batch is held column by column
// (warehouse.ColumnBatch) and written with Tx.LoadColumns: no value is
// boxed in an interface on the way. Typed records that can hand their
// values over unboxed (airbyte.VisitableValues: the PostgreSQL source's)
// are written straight into the columns; every other record is converted
// to a row of portable values, as on the row path, and the row is then
// stored in the columns. Either way a record lands exactly as on the row
// path: a typed value of another kind than its column sends the record
// down the JSON path, and a value that does not fit its column is NULL with
// a meta change.

// colBatch is a stream's batch on the columnar path. Its slices are kept
// at their full length (rows the batch has room for), every row past Len
// NULL: a record's row is ready without touching its columns (start), and
// its values are stored by index. A ColumnBatch's reader takes the first
// Len rows only.
type colBatch struct {
	warehouse.ColumnBatch
	kinds []warehouse.Kind
	arena []byte // the bytes of the batch's string values
}

// newColBatch returns an empty batch for cols, with room for rows rows.
func newColBatch(cols []warehouse.Column, rows int) *colBatch {
	b := &colBatch{kinds: make([]warehouse.Kind, len(cols))}
	b.Cols = make([]warehouse.ColumnData, len(cols))
	for i, c := range cols {
		b.kinds[i] = c.Type.Kind
	}
	b.grow(max(rows, 1))
	return b
}

// grow gives the batch room for rows rows (at least its current room):
// the new rows are NULL.
func (b *colBatch) grow(rows int) {
	for i := range b.Cols {
		d := &b.Cols[i]
		n := len(d.Null)
		if rows <= n {
			continue
		}
		d.Null = append(d.Null, make([]bool, rows-n)...)
		setNull(d.Null[n:])
		switch b.kinds[i] {
		case warehouse.KindInteger, warehouse.KindDate, warehouse.KindTimestamp, warehouse.KindTimestampTZ:
			d.Int = append(d.Int, make([]int64, rows-n)...)
		case warehouse.KindFloat:
			d.Float = append(d.Float, make([]float64, rows-n)...)
		case warehouse.KindBoolean:
			d.Bool = append(d.Bool, make([]bool, rows-n)...)
		default:
			d.Bytes = append(d.Bytes, make([][]byte, rows-n)...)
		}
	}
}

// nullFlags is a run of NULL flags for setNull to copy.
var nullFlags = func() (f [4096]bool) {
	for i := range f {
		f[i] = true
	}
	return f
}()

// setNull marks every row of null NULL (copies, not a store a row).
func setNull(null []bool) {
	for len(null) > 0 {
		null = null[copy(null, nullFlags[:]):]
	}
}

// reset empties the batch for reuse: its rows are NULL again.
func (b *colBatch) reset() {
	for i := range b.Cols {
		d := &b.Cols[i]
		setNull(d.Null[:b.Len])
		if d.Bytes != nil {
			clear(d.Bytes[:b.Len])
		}
	}
	b.Len = 0
	if cap(b.arena) > 4<<20 {
		b.arena = nil // a batch of huge values: do not keep it
	}
	b.arena = b.arena[:0]
}

// start returns the index of the next row, NULL in every column (the
// batch grows when it is full); b.Len++ adds it, drop clears it.
func (b *colBatch) start() int {
	r := b.Len
	if len(b.Cols) > 0 && r == len(b.Cols[0].Null) {
		b.grow(2 * r)
	}
	return r
}

// drop makes the row start returned NULL again (it was not added).
func (b *colBatch) drop() {
	r := b.Len
	for i := range b.Cols {
		d := &b.Cols[i]
		d.Null[r] = true
		if d.Bytes != nil {
			d.Bytes[r] = nil
		}
	}
}

// setBytes stores a copy of v as row r of column c.
func (b *colBatch) setBytes(c, r int, v []byte) {
	start := len(b.arena)
	b.arena = append(b.arena, v...)
	// Earlier values keep the array they were appended to if append moved
	// the arena: they stay valid.
	b.Cols[c].Bytes[r] = b.arena[start:len(b.arena):len(b.arena)]
	b.Cols[c].Null[r] = false
}

func (b *colBatch) setString(c, r int, v string) {
	start := len(b.arena)
	b.arena = append(b.arena, v...)
	b.Cols[c].Bytes[r] = b.arena[start:len(b.arena):len(b.arena)]
	b.Cols[c].Null[r] = false
}

func (b *colBatch) setInt(c, r int, v int64) {
	b.Cols[c].Int[r], b.Cols[c].Null[r] = v, false
}

// setValue stores the portable value v (not nil) of the row path as row r
// of column c.
func (b *colBatch) setValue(c, r int, v any) error {
	d := &b.Cols[c]
	switch b.kinds[c] {
	case warehouse.KindInteger:
		if x, ok := v.(int64); ok {
			b.setInt(c, r, x)
			return nil
		}
	case warehouse.KindFloat:
		if x, ok := v.(float64); ok {
			d.Float[r], d.Null[r] = x, false
			return nil
		}
	case warehouse.KindBoolean:
		if x, ok := v.(bool); ok {
			d.Bool[r], d.Null[r] = x, false
			return nil
		}
	case warehouse.KindString, warehouse.KindJSON, warehouse.KindBinary:
		switch x := v.(type) {
		case string:
			b.setString(c, r, x)
			return nil
		case json.RawMessage:
			b.setBytes(c, r, x)
			return nil
		case []byte:
			b.setBytes(c, r, x)
			return nil
		}
	case warehouse.KindDate:
		if t, ok := v.(time.Time); ok {
			y, m, day := t.Date()
			b.setInt(c, r, time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Unix()/86400)
			return nil
		}
	case warehouse.KindTimestamp:
		if t, ok := v.(time.Time); ok {
			us := t.UnixMicro()
			if t.Location() != time.UTC {
				_, off := t.Zone() // the wall clock
				us += int64(off) * 1_000_000
			}
			b.setInt(c, r, us)
			return nil
		}
	case warehouse.KindTimestampTZ:
		if t, ok := v.(time.Time); ok {
			b.setInt(c, r, t.UnixMicro())
			return nil
		}
	}
	return fmt.Errorf("a %T value for a %s column", v, b.kinds[c])
}

// appendRow stores a row of the row path.
func (b *colBatch) appendRow(row []any, cols []warehouse.Column) error {
	r := b.start()
	for c, v := range row {
		if v == nil {
			continue
		}
		if err := b.setValue(c, r, v); err != nil {
			b.drop()
			return fmt.Errorf("column %q: %w", cols[c].Name, err)
		}
	}
	b.Len++
	return nil
}

// columnar reports whether s's batches go column by column: w loads
// column batches itself and every column of s has a column form.
func (s *streamLoad) columnar(w *warehouse.Warehouse) bool {
	if s.raw != nil {
		return false
	}
	if _, ok := w.Engine().(warehouse.ColumnLoader); !ok {
		return false
	}
	for _, c := range s.cols {
		if !warehouse.ColumnForm(c.Type) {
			return false
		}
	}
	return true
}

// useColumns sets s on the columnar path, or the row path, for its current
// columns; its batch must be empty.
func (s *streamLoad) useColumns(w *warehouse.Warehouse) {
	s.cb, s.cfree, s.cbatches = nil, nil, 0
	s.colPath = s.columnar(w)
	s.rawIDBytes = false
	if s.colPath {
		s.cb = newColBatch(s.cols, s.blockRows)
		id := s.cols[len(s.cols)-len(metaColumns)]
		s.rawIDBytes = id.Name == ColRawID && strings.EqualFold(strings.TrimSpace(id.Type.Native), "UUID")
	}
}

// colVisitor writes a typed record's values into row r of a stream's
// column batch (see airbyte.ValueVisitor). A value whose kind does not
// match its column directly sets bad: the record takes the JSON path.
type colVisitor struct {
	s       *streamLoad
	b       *colBatch
	r       int
	fields  []string
	bad     bool
	changes []metaChange
	// dst is each field's column of b and its kind, bound once per batch
	// and field list (bind), so that a value costs no lookups.
	dst []fieldDst
}

// fieldDst is where a typed record's field goes.
type fieldDst struct {
	d    *warehouse.ColumnData
	kind warehouse.Kind
	col  int
}

// bind points v at batch b and s's current mapping of typed fields.
func (v *colVisitor) bind(s *streamLoad, b *colBatch) {
	v.s, v.b, v.fields = s, b, s.typed.fields
	v.dst = v.dst[:0]
	for _, c := range s.typed.cols {
		v.dst = append(v.dst, fieldDst{d: &b.Cols[c], kind: b.kinds[c], col: c})
	}
}

func (v *colVisitor) col(i int) int { return v.dst[i].col }

// Null implements airbyte.ValueVisitor: the row starts NULL.
func (v *colVisitor) Null(int) {}

// Int implements airbyte.ValueVisitor.
func (v *colVisitor) Int(i int, x int64) {
	f := &v.dst[i]
	switch f.kind {
	case warehouse.KindInteger:
		f.d.Int[v.r], f.d.Null[v.r] = x, false
	case warehouse.KindFloat:
		f.d.Float[v.r], f.d.Null[v.r] = float64(x), false
	default:
		v.bad = true
	}
}

// Float implements airbyte.ValueVisitor.
func (v *colVisitor) Float(i int, x float64) {
	f := &v.dst[i]
	if f.kind != warehouse.KindFloat {
		v.bad = true
		return
	}
	f.d.Float[v.r], f.d.Null[v.r] = x, false
}

// Bool implements airbyte.ValueVisitor.
func (v *colVisitor) Bool(i int, x bool) {
	f := &v.dst[i]
	if f.kind != warehouse.KindBoolean {
		v.bad = true
		return
	}
	f.d.Bool[v.r], f.d.Null[v.r] = x, false
}

// String implements airbyte.ValueVisitor.
func (v *colVisitor) String(i int, x []byte) {
	f := &v.dst[i]
	if f.kind != warehouse.KindString {
		v.bad = true
		return
	}
	b := v.b
	start := len(b.arena)
	b.arena = append(b.arena, x...)
	f.d.Bytes[v.r], f.d.Null[v.r] = b.arena[start:len(b.arena):len(b.arena)], false
}

// Time implements airbyte.ValueVisitor: typed times are UTC, so the wall
// clock and the instant agree.
func (v *colVisitor) Time(i int, us int64) {
	f := &v.dst[i]
	switch f.kind {
	case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		f.d.Int[v.r], f.d.Null[v.r] = us, false
	case warehouse.KindDate:
		const day = 86_400_000_000
		d := us / day
		if us%day < 0 {
			d--
		}
		f.d.Int[v.r], f.d.Null[v.r] = d, false
	default:
		v.bad = true
	}
}

// JSON implements airbyte.ValueVisitor: the value is converted as the JSON
// path converts it; one that does not fit is NULL, with a change.
func (v *colVisitor) JSON(i int, raw []byte) {
	c := v.col(i)
	if v.b.kinds[c] == warehouse.KindFloat && len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		// A plain number (a PostgreSQL numeric's text): what convertValue
		// makes of it, without boxing the float.
		f, ok := plainDecimal(raw)
		if !ok {
			var err error
			f, err = strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
			ok = err == nil && !math.IsInf(f, 0)
		}
		if ok {
			v.b.Cols[c].Float[v.r], v.b.Cols[c].Null[v.r] = f, false
			return
		}
	}
	cv, err := convertValue(v.s.cols[c].Type, raw)
	if err != nil {
		v.changes = append(v.changes, metaChange{Field: v.fields[i], Change: "NULLED", Reason: "DESTINATION_TYPECAST_ERROR"})
		return
	}
	if cv == nil {
		return
	}
	if err := v.b.setValue(c, v.r, cv); err != nil {
		v.bad = true
	}
}

var _ airbyte.ValueVisitor = (*colVisitor)(nil)

// plainDecimal parses b when it is [-]digits[.digits] with at most 15
// digits, not counting zeros that end the fraction, as strconv.ParseFloat
// would: such a value is an integer below 2⁵³ over a power of ten of at most
// 10¹⁵, both exact in a float64, so one division rounds it correctly.
// (PostgreSQL writes a numeric of no declared scale, such as a division's,
// with 16 or more fraction digits, most of them trailing zeros.)
func plainDecimal(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if dot := bytes.IndexByte(b, '.'); dot >= 0 {
		for len(b) > dot+2 && b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	var m int64
	digits, frac, dot := 0, 0, false
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + int64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot && i > 0 && i < len(b)-1:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(m) / pow10f[frac]
	if neg {
		f = -f
	}
	return f, true
}

// pow10f[n] is 10ⁿ, exact.
var pow10f = [16]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// typedColumns stores a typed record in s's column batch; ok is false when
// the record must take the JSON path (nothing was stored then).
func (s *streamLoad) typedColumns(rec *airbyte.RecordMessage, ids *rawIDs) (ok bool, err error) {
	vv, visitable := rec.Values.(airbyte.VisitableValues)
	if !visitable || !s.mapTyped(rec.Values.Fields()) {
		return false, nil
	}
	b := s.cb
	v := &s.visitor
	if v.b != b || !airbyte.SameFields(v.fields, s.typed.fields) {
		v.bind(s, b)
	}
	v.r, v.bad, v.changes = b.start(), false, v.changes[:0]
	vv.VisitValues(v)
	if v.bad {
		b.drop()
		return false, nil
	}
	if s.dedupe && s.keysNullAt(b, v.r) {
		b.drop()
		return false, fmt.Errorf("staging: stream %s: record has no value for its primary key %v: %.80s", s.desc, s.keys, rec.DataJSON())
	}
	s.nulled += int64(len(v.changes))
	s.metaColumns(b, v.r, rec, v.changes, ids)
	b.Len++
	return true, nil
}

// keysNullAt reports whether every primary key value of row r is NULL.
func (s *streamLoad) keysNullAt(b *colBatch, r int) bool {
	for _, k := range s.keys {
		if !b.Cols[s.index[k]].Null[r] {
			return false
		}
	}
	return true
}

// metaColumns sets the metadata columns of row r, as fillMeta does.
func (s *streamLoad) metaColumns(b *colBatch, r int, rec *airbyte.RecordMessage, changes []metaChange, ids *rawIDs) {
	base := len(s.cols) - len(metaColumns)
	start := len(b.arena)
	if s.rawIDBytes {
		b.arena = ids.appendNextBytes(b.arena)
	} else {
		b.arena = ids.appendNext(b.arena)
	}
	b.Cols[base].Bytes[r], b.Cols[base].Null[r] = b.arena[start:len(b.arena):len(b.arena)], false
	b.setInt(base+1, r, rec.EmittedAt*1000)
	meta := &b.Cols[base+2]
	if len(changes) == 0 {
		if s.emptyMetaJSON == nil {
			s.emptyMetaJSON, _ = json.Marshal(metaValue{Changes: []metaChange{}, SyncID: s.syncID})
		}
		meta.Bytes[r], meta.Null[r] = s.emptyMetaJSON, false // shared, never written
	} else {
		m, _ := json.Marshal(metaValue{Changes: changes, SyncID: s.syncID})
		b.setBytes(base+2, r, m)
	}
	if g := s.cfg.GenerationID; g != nil {
		b.setInt(base+3, r, *g)
	}
}
