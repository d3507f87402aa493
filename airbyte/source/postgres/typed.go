package postgres

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dataopskit/dataops/airbyte"
)

// Typed records (airbyte.TypedReadStream): the source goroutine only checks
// a row and copies its values, as PostgreSQL sent them, into shared blocks;
// the consumer decodes them into Go values (AppendValues) or JSON
// (AppendJSON) on its own goroutine. A row that has a value without a JSON
// form (NaN, infinite dates, …) is sent as a JSON record instead, with its
// meta change, exactly as without typed records.

// EnableTypedRecords switches the read to typed records for full refresh,
// cursor and xmin reads (CDC sends JSON records); see
// airbyte.TypedReadStream. It must be called before Messages.
func (rs *readStream) EnableTypedRecords() bool {
	return rs.beforeRead(func() { rs.typed = true })
}

// beforeRead runs set and reports true if the read has not started (nor
// been closed) yet.
func (rs *readStream) beforeRead(set func()) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.used || rs.closed {
		return false
	}
	set()
	return true
}

var _ airbyte.TypedReadStream = (*readStream)(nil)

// EnableRecordRelease makes the read carve typed records out of blocks
// that are reused once the consumer has released every record of one
// (airbyte.ReleaseRecord); see airbyte.ReleasingReadStream. It must be
// called before Messages (and after or with EnableTypedRecords).
func (rs *readStream) EnableRecordRelease() bool {
	return rs.beforeRead(func() {
		rs.recycle = true
		rs.blkFree = make(chan *typedBlock, typedFreeBlocks)
	})
}

var _ airbyte.ReleasingReadStream = (*readStream)(nil)

// typedPlan is a stream's typed form: per column, a check the source runs
// and a decoder the consumer runs.
type typedPlan struct {
	sp     *streamPlan
	codes  []checkCode             // each column's check
	checks []func(src []byte) bool // the check of a checkFunc column
	decode []func(t *typedPlan, i int, src []byte) any

	// The consumer's own encoders (encoders keep caches), built on first
	// use; mu serialises consumers that decode records concurrently.
	mu   sync.Mutex
	encs []encoder

	// The visitor functions (VisitValues), built on first use.
	visitOnce sync.Once
	visit     []visitFn
}

// pgEpochMicros is 2000-01-01 (PostgreSQL's epoch) in Unix microseconds.
const pgEpochMicros = 946684800000000

var (
	minTimeMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxTimeMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

func newTypedPlan(sp *streamPlan) *typedPlan {
	n := len(sp.cols)
	tp := &typedPlan{sp: sp, checks: make([]func([]byte) bool, n), codes: make([]checkCode, n), decode: make([]func(*typedPlan, int, []byte) any, n)}
	for i := range sp.cols {
		c := &sp.cols[i]
		tp.decode[i] = decodeJSON
		if c.array {
			tp.codes[i], tp.checks[i] = checkFunc, encodes(c.text)
			continue
		}
		if c.format == 1 {
			switch c.kind {
			case kInt16, kInt32, kInt64:
				tp.decode[i], tp.codes[i] = decodeInt, checkInt
			case kFloat32:
				tp.decode[i], tp.codes[i] = decodeFloat32, checkFloat32
			case kFloat64:
				tp.decode[i], tp.codes[i] = decodeFloat64, checkFloat64
			case kBool:
				tp.decode[i] = func(_ *typedPlan, _ int, src []byte) any { return src[0] != 0 }
				tp.codes[i] = checkBool
			case kDate:
				tp.decode[i], tp.codes[i] = decodeDate, checkDate
			case kTimestamp, kTimestampTZ:
				tp.decode[i], tp.codes[i] = decodeTimestamp, checkTimestamp
			case kUUID:
				tp.decode[i], tp.codes[i] = decodeUUID, checkUUID
			default:
				tp.codes[i], tp.checks[i] = checkFunc, encodes(c.enc)
			}
			continue
		}
		switch c.kind {
		case kString:
			tp.decode[i] = decodeString
		case kNumeric, kMoney: // numeric text (money is selected as numeric)
			tp.decode[i] = func(_ *typedPlan, _ int, src []byte) any { return json.RawMessage(src) }
			tp.codes[i], tp.checks[i] = checkFunc, numberTextOK
		default:
			tp.codes[i], tp.checks[i] = checkFunc, encodes(c.enc)
		}
	}
	return tp
}

// checkCode is a column's check of a value as PostgreSQL sent it (does it
// have a JSON form?), run inline by ok: the checks of the fixed-size
// binary types, which make most of a row, are codes; other columns'
// (checkFunc) are functions.
type checkCode uint8

const (
	checkNone      checkCode = iota // every value has a JSON form
	checkFunc                       // run the column's check function
	checkInt                        // int2, int4 or int8
	checkFloat32                    // a finite float4
	checkFloat64                    // a finite float8
	checkBool                       // one byte
	checkDate                       // a date, not ±infinity
	checkTimestamp                  // a timestamp, not ±infinity
	checkUUID                       // 16 bytes
)

// encodes returns a check that runs a column's encoder (with a scratch
// buffer of its own: checks run on the source's goroutine only).
func encodes(enc encoder) func([]byte) bool {
	var scratch []byte
	return func(src []byte) bool {
		var ok bool
		scratch, ok = enc(scratch[:0], src)
		return ok
	}
}

// ok reports whether every value of a row has a JSON form, and the size
// of its values.
func (tp *typedPlan) ok(vals [][]byte) (size int, ok bool) {
	codes := tp.codes[:len(vals)]
	for i, v := range vals {
		if v == nil {
			continue
		}
		size += len(v)
		switch codes[i] {
		case checkNone:
		case checkInt:
			if n := len(v); n != 2 && n != 4 && n != 8 {
				return 0, false
			}
		case checkFloat32:
			if len(v) != 4 {
				return 0, false
			}
			// NaN or ±Inf: every exponent bit set.
			if binary.BigEndian.Uint32(v)&0x7f800000 == 0x7f800000 {
				return 0, false
			}
		case checkFloat64:
			if len(v) != 8 {
				return 0, false
			}
			if binary.BigEndian.Uint64(v)&0x7ff0000000000000 == 0x7ff0000000000000 {
				return 0, false
			}
		case checkBool:
			if len(v) != 1 {
				return 0, false
			}
		case checkDate:
			if len(v) != 4 {
				return 0, false
			}
			if d := int32(binary.BigEndian.Uint32(v)); d == math.MaxInt32 || d == math.MinInt32 {
				return 0, false
			}
		case checkTimestamp:
			if len(v) != 8 {
				return 0, false
			}
			if us := int64(binary.BigEndian.Uint64(v)); us == math.MaxInt64 || us == math.MinInt64 {
				return 0, false
			}
		case checkUUID:
			if len(v) != 16 {
				return 0, false
			}
		default:
			if !tp.checks[i](v) {
				return 0, false
			}
		}
	}
	return size, true
}

func decodeInt(_ *typedPlan, _ int, src []byte) any { return intOf(src) }

func decodeFloat32(_ *typedPlan, _ int, src []byte) any { return float32Of(src) }

// float32Of decodes a binary float4 as the float64 a JSON reader gets from
// its JSON form, the shortest text of the float4.
func float32Of(src []byte) float64 {
	f := math.Float32frombits(binary.BigEndian.Uint32(src))
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

func decodeFloat64(_ *typedPlan, _ int, src []byte) any {
	return math.Float64frombits(binary.BigEndian.Uint64(src))
}

func decodeDate(tp *typedPlan, i int, src []byte) any {
	us := int64(int32(binary.BigEndian.Uint32(src)))*86400000000 + pgEpochMicros
	if us < minTimeMicros || us > maxTimeMicros {
		return decodeJSON(tp, i, src) // BC or beyond 9999: the source's text
	}
	return time.UnixMicro(us).UTC()
}

func decodeTimestamp(tp *typedPlan, i int, src []byte) any {
	us := int64(binary.BigEndian.Uint64(src))
	if us > maxTimeMicros-pgEpochMicros || us < minTimeMicros-pgEpochMicros {
		return decodeJSON(tp, i, src)
	}
	return time.UnixMicro(us + pgEpochMicros).UTC()
}

func decodeUUID(_ *typedPlan, _ int, src []byte) any {
	var b [36]byte
	return string(appendUUID(b[:0], src))
}

// appendUUID writes 16 bytes as a UUID's canonical text.
func appendUUID(dst, src []byte) []byte {
	const digits = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, c := range src[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = digits[c>>4], digits[c&15]
		j += 2
	}
	return append(dst, b[:]...)
}

func decodeString(tp *typedPlan, i int, src []byte) any {
	if !utf8.Valid(src) {
		return decodeJSON(tp, i, src) // the JSON form replaces bad bytes
	}
	return unsafeString(src) // src is the record's own copy, never rewritten
}

// decodeJSON returns the value's JSON form, through the consumer's encoder.
func decodeJSON(tp *typedPlan, i int, src []byte) any {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	v, _ := tp.encoders()[i](nil, src)
	return json.RawMessage(v)
}

// encoders returns the consumer's encoders; tp.mu must be held.
func (tp *typedPlan) encoders() []encoder {
	if tp.encs == nil {
		for _, c := range tp.sp.t.Columns {
			enc, _ := snapshotEncoder(c)
			tp.encs = append(tp.encs, enc)
		}
	}
	return tp.encs
}

// pgValues is one typed record: its row as PostgreSQL sent it, the values
// back to back in data (lens holds each one's length, -1 for NULL). Both
// are carved out of shared blocks without pointers, which the garbage
// collector does not scan.
type pgValues struct {
	tp   *typedPlan
	data []byte
	lens []int32
	blk  *typedBlock // the recycled block the record belongs to, or nil
}

// Release hands the record back to its block (see
// airbyte.ReleasableValues); it does nothing to a record that is not
// carved out of a recycled block.
func (v *pgValues) Release() {
	blk := v.blk
	if blk == nil {
		return
	}
	v.blk = nil
	blk.done(-1)
}

var _ airbyte.ReleasableValues = (*pgValues)(nil)

// typedBlock holds up to typedBlockRows typed records — messages and
// values — for a read whose consumer releases them
// (airbyte.ReleasingReadStream). The source fills a block, then retires it
// and takes a free one; once every record of a retired block is released
// the block goes back on the free list, so a steady read allocates no
// message or row memory at all.
type typedBlock struct {
	boxes [typedBlockRows]typedBox
	n     int     // boxes handed out
	slab  []byte  // the records' values
	lens  []int32 // their lengths
	// refs is the number of records handed out and not released, once the
	// block is retired: releases count down from 0 and the retirement adds
	// n, so whichever brings it back to 0 — the last release or the
	// retirement of a block whose records are all released — frees the
	// block.
	refs atomic.Int64
	free chan *typedBlock
}

// done adds d to the block's references and frees the block when they
// drop to zero.
func (b *typedBlock) done(d int64) {
	if b.refs.Add(d) != 0 {
		return
	}
	select {
	case b.free <- b:
	default: // enough free blocks: the collector takes this one
	}
}

// Recycled blocks: records per block, the initial sizes of a block's
// values and lengths, and how many free blocks a read keeps.
const (
	typedBlockRows  = 256
	typedBlockSlab  = 64 << 10
	typedBlockLens  = 4 << 10
	typedFreeBlocks = 32
)

// recycledBox returns a box of a recycled block for a row of size bytes
// and nvals values, with the block, whose slab and lens have room for the
// row.
func (rs *readStream) recycledBox(sp *streamPlan, size, nvals int) (*typedBlock, *typedBox) {
	blk := rs.blk
	if blk == nil || blk.n == typedBlockRows || cap(blk.slab)-len(blk.slab) < size || cap(blk.lens)-len(blk.lens) < nvals {
		if blk != nil {
			blk.done(int64(blk.n))
		}
		select {
		case blk = <-rs.blkFree:
			blk.n, blk.slab, blk.lens = 0, blk.slab[:0], blk.lens[:0]
		default:
			blk = &typedBlock{free: rs.blkFree}
			if rs.blkMade++; rs.blkMade == ballastAfterBlocks {
				// The consumer keeps its records: they are garbage
				// to collect, as without release (gc.go).
				rs.holdBallast()
			}
		}
		if cap(blk.slab) < size || cap(blk.slab) > 4*typedBlockSlab {
			blk.slab = make([]byte, 0, max(typedBlockSlab, size))
		}
		if cap(blk.lens) < nvals || cap(blk.lens) > 4*typedBlockLens {
			blk.lens = make([]int32, 0, max(typedBlockLens, nvals))
		}
		rs.blk = blk
	}
	b := &blk.boxes[blk.n]
	blk.n++
	*b = typedBox{}
	rs.initBox(sp, &b.recordBox)
	return blk, b
}

var _ airbyte.RecordValues = (*pgValues)(nil)

// Fields names the columns; see airbyte.RecordValues.
func (v *pgValues) Fields() []string { return v.tp.sp.fields }

// Size is the row's size as PostgreSQL sent it.
func (v *pgValues) Size() int { return len(v.data) }

// each calls fn with each value (nil for NULL).
func (v *pgValues) each(fn func(i int, src []byte)) {
	off := int32(0)
	for i, l := range v.lens {
		if l < 0 {
			fn(i, nil)
			continue
		}
		fn(i, v.data[off:off+l:off+l])
		off += l
	}
}

// AppendValues decodes the row; see airbyte.RecordValues.
func (v *pgValues) AppendValues(dst []any) []any {
	off := int32(0)
	for i, l := range v.lens {
		if l < 0 {
			dst = append(dst, nil)
			continue
		}
		dst = append(dst, v.tp.decode[i](v.tp, i, v.data[off:off+l:off+l]))
		off += l
	}
	return dst
}

// AppendJSON encodes the row as the JSON record would hold it.
func (v *pgValues) AppendJSON(dst []byte) []byte {
	tp := v.tp
	tp.mu.Lock()
	defer tp.mu.Unlock()
	encs := tp.encoders()
	dst = append(dst, '{')
	v.each(func(i int, src []byte) {
		dst = append(dst, tp.sp.cols[i].key...)
		if src == nil {
			dst = append(dst, "null"...)
			return
		}
		var ok bool
		if dst, ok = encs[i](dst, src); !ok {
			dst = append(dst, "null"...) // not reached: such rows are sent as JSON
		}
	})
	return append(dst, '}')
}

// Rows of typed records are copied into blocks of these sizes.
const (
	typedSlabSize = 256 << 10
	typedLensSize = 8 << 10
)

// emitTyped sends a row as a typed record; it reports false when the row
// must go as JSON.
func (rs *readStream) emitTyped(sp *streamPlan, vals [][]byte, emit func(*airbyte.Message) bool) (sent bool, err error) {
	if sp.typed == nil {
		sp.typed = newTypedPlan(sp)
	}
	tp := sp.typed
	size, ok := tp.ok(vals)
	if !ok || size > math.MaxInt32 {
		return false, nil
	}
	var b *typedBox
	var blk *typedBlock
	slab, lens := &rs.tslab, &rs.tlens
	if rs.recycle {
		blk, b = rs.recycledBox(sp, size, len(vals))
		slab, lens = &blk.slab, &blk.lens
	} else {
		if cap(rs.tslab)-len(rs.tslab) < size {
			rs.tslab = make([]byte, 0, max(typedSlabSize, size))
		}
		if cap(rs.tlens)-len(rs.tlens) < len(vals) {
			rs.tlens = make([]int32, 0, max(typedLensSize, len(vals)))
		}
		b = rs.nextTypedBox(sp)
	}
	// Both have room for the row (above): copied by index, not appended.
	at, lat := len(*slab), len(*lens)
	data, ls := (*slab)[at:at+size:at+size], (*lens)[lat:lat+len(vals):lat+len(vals)]
	off := 0
	for j, v := range vals {
		if v == nil {
			ls[j] = -1
			continue
		}
		off += copy(data[off:], v)
		ls[j] = int32(len(v))
	}
	*slab, *lens = (*slab)[:at+size], (*lens)[:lat+len(vals)]
	b.v = pgValues{tp: tp, data: data, lens: ls, blk: blk}
	b.r.Values = &b.v
	if !emit(&b.m) {
		return true, errStopped
	}
	return true, nil
}

// visitFn hands one non-NULL value to a visitor, unboxed.
type visitFn func(tp *typedPlan, i int, src []byte, v airbyte.ValueVisitor)

// visitFor returns the visitor function of a column: the same values as
// its decoder (newTypedPlan), without an interface per value.
func visitFor(c *colPlan) visitFn {
	if c.array {
		return visitJSON
	}
	if c.format == 1 {
		switch c.kind {
		case kInt16, kInt32, kInt64:
			return func(_ *typedPlan, i int, src []byte, v airbyte.ValueVisitor) { v.Int(i, intOf(src)) }
		case kFloat32:
			return func(_ *typedPlan, i int, src []byte, v airbyte.ValueVisitor) { v.Float(i, float32Of(src)) }
		case kFloat64:
			return func(_ *typedPlan, i int, src []byte, v airbyte.ValueVisitor) {
				v.Float(i, math.Float64frombits(binary.BigEndian.Uint64(src)))
			}
		case kBool:
			return func(_ *typedPlan, i int, src []byte, v airbyte.ValueVisitor) { v.Bool(i, src[0] != 0) }
		case kDate:
			return func(tp *typedPlan, i int, src []byte, v airbyte.ValueVisitor) {
				us := int64(int32(binary.BigEndian.Uint32(src)))*86400000000 + pgEpochMicros
				if us < minTimeMicros || us > maxTimeMicros {
					visitJSON(tp, i, src, v)
					return
				}
				v.Time(i, us)
			}
		case kTimestamp, kTimestampTZ:
			return func(tp *typedPlan, i int, src []byte, v airbyte.ValueVisitor) {
				us := int64(binary.BigEndian.Uint64(src))
				if us > maxTimeMicros-pgEpochMicros || us < minTimeMicros-pgEpochMicros {
					visitJSON(tp, i, src, v)
					return
				}
				v.Time(i, us+pgEpochMicros)
			}
		case kUUID:
			return func(_ *typedPlan, i int, src []byte, v airbyte.ValueVisitor) {
				var b [36]byte
				v.String(i, appendUUID(b[:0], src))
			}
		}
		return visitJSON
	}
	switch c.kind {
	case kString:
		return func(tp *typedPlan, i int, src []byte, v airbyte.ValueVisitor) {
			if !utf8.Valid(src) {
				visitJSON(tp, i, src, v) // the JSON form replaces bad bytes
				return
			}
			v.String(i, src)
		}
	case kNumeric, kMoney:
		return func(_ *typedPlan, i int, src []byte, v airbyte.ValueVisitor) { v.JSON(i, src) }
	}
	return visitJSON
}

// intOf decodes a binary int2, int4 or int8.
func intOf(src []byte) int64 {
	switch len(src) {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(src)))
	case 4:
		return int64(int32(binary.BigEndian.Uint32(src)))
	}
	return int64(binary.BigEndian.Uint64(src))
}

// visitJSON hands the value's JSON form to v.
func visitJSON(tp *typedPlan, i int, src []byte, v airbyte.ValueVisitor) {
	v.JSON(i, decodeJSON(tp, i, src).(json.RawMessage))
}

var _ airbyte.VisitableValues = (*pgValues)(nil)

// VisitValues hands the row's values to vis; see airbyte.VisitableValues.
func (v *pgValues) VisitValues(vis airbyte.ValueVisitor) {
	tp := v.tp
	tp.visitOnce.Do(func() {
		tp.visit = make([]visitFn, len(tp.sp.cols))
		for i := range tp.sp.cols {
			tp.visit[i] = visitFor(&tp.sp.cols[i])
		}
	})
	off := int32(0)
	for i, l := range v.lens {
		if l < 0 {
			vis.Null(i)
			continue
		}
		tp.visit[i](tp, i, v.data[off:off+l:off+l], vis)
		off += l
	}
}
