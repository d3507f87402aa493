package backup

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
	pzstd "github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/dataopskit/dataops/warehouse"
)

// RowHashColumn is the column that every data part carries after the table's
// own columns: the row's hash (FORMAT.md §5, §7) stored as a signed 64-bit
// integer with the same bits. Incremental backups read it from the parent's parts instead of
// rehashing the parent's rows.
const RowHashColumn = "_dataops_row_hash"

// partCodec compresses the pages of parts written in Go: zstd at its
// fastest level, which costs about half the CPU of the default level for
// a few percent more bytes.
var partCodec = &pzstd.Codec{Level: pzstd.SpeedFastest}

// partSchema maps a table's columns to a Parquet schema (FORMAT.md §5).
type partSchema struct {
	cols   []warehouse.Column
	schema *parquet.Schema
	leaf   []parquet.LeafColumn // per column
	hash   parquet.LeafColumn
	nLeaf  int
}

func newPartSchema(cols []warehouse.Column, withHash bool) (*partSchema, error) {
	g := parquet.Group{}
	for _, c := range cols {
		if c.Name == RowHashColumn {
			return nil, fmt.Errorf("column %q: the name is reserved for the row hash", c.Name)
		}
		n, err := parquetNode(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		g[c.Name] = parquet.Optional(n)
	}
	if withHash {
		g[RowHashColumn] = parquet.Int(64)
	}
	s := &partSchema{cols: cols, schema: parquet.NewSchema("table", g)}
	for _, c := range cols {
		path := []string{c.Name}
		if c.Type.Kind == warehouse.KindArray {
			path = append(path, "list", "element")
		}
		l, ok := s.schema.Lookup(path...)
		if !ok {
			return nil, fmt.Errorf("column %q: no Parquet leaf", c.Name)
		}
		s.leaf = append(s.leaf, l)
	}
	if withHash {
		s.hash, _ = s.schema.Lookup(RowHashColumn)
	}
	s.nLeaf = len(s.schema.Columns())
	return s, nil
}

func parquetNode(t warehouse.Type) (parquet.Node, error) {
	switch t.Kind {
	case warehouse.KindInteger:
		switch t.Bits {
		case 16, 32:
			return parquet.Int(t.Bits), nil
		default:
			return parquet.Int(64), nil
		}
	case warehouse.KindDecimal:
		p := t.Precision
		if p <= 0 || p > 38 {
			p = 38
		}
		return parquet.Decimal(t.Scale, p, parquet.FixedLenByteArrayType(16)), nil
	case warehouse.KindFloat:
		if t.Bits == 32 {
			return parquet.Leaf(parquet.FloatType), nil
		}
		return parquet.Leaf(parquet.DoubleType), nil
	case warehouse.KindBoolean:
		return parquet.Leaf(parquet.BooleanType), nil
	case warehouse.KindDate:
		return parquet.Date(), nil
	case warehouse.KindTime:
		return parquet.TimeAdjusted(parquet.Microsecond, false), nil
	case warehouse.KindTimestamp:
		return parquet.TimestampAdjusted(parquet.Microsecond, false), nil
	case warehouse.KindTimestampTZ:
		return parquet.TimestampAdjusted(parquet.Microsecond, true), nil
	case warehouse.KindJSON:
		return parquet.JSON(), nil
	case warehouse.KindBinary:
		return parquet.Leaf(parquet.ByteArrayType), nil
	case warehouse.KindArray:
		if t.Elem == nil {
			return parquet.List(parquet.Optional(parquet.String())), nil
		}
		if t.Elem.Kind == warehouse.KindArray {
			return nil, fmt.Errorf("nested arrays are not supported: %w", warehouse.ErrUnsupported)
		}
		e, err := parquetNode(*t.Elem)
		if err != nil {
			return nil, err
		}
		return parquet.List(parquet.Optional(e)), nil
	default:
		return parquet.String(), nil
	}
}

// scalarValue converts a portable value to a Parquet value of type t.
func scalarValue(t warehouse.Type, v any) (parquet.Value, error) {
	switch t.Kind {
	case warehouse.KindInteger:
		n, ok := warehouse.ToInt64(v)
		if !ok {
			return parquet.Value{}, fmt.Errorf("integer value of Go type %T", v)
		}
		if t.Bits == 16 || t.Bits == 32 {
			return parquet.Int32Value(int32(n)), nil
		}
		return parquet.Int64Value(n), nil
	case warehouse.KindDecimal:
		d, err := warehouse.ToDecimal(v)
		if err != nil {
			return parquet.Value{}, err
		}
		if d.Scale != t.Scale {
			if d, err = d.Rescale(t.Scale); err != nil {
				return parquet.Value{}, err
			}
		}
		u := twosComplement(d.Unscaled)
		if len(u) > 16 {
			return parquet.Value{}, fmt.Errorf("decimal %s does not fit 38 digits", d)
		}
		var b [16]byte
		if d.Unscaled.Sign() < 0 {
			for i := range b {
				b[i] = 0xff
			}
		}
		copy(b[16-len(u):], u)
		return parquet.FixedLenByteArrayValue(b[:]), nil
	case warehouse.KindFloat:
		f, ok := toFloat64(v)
		if !ok {
			return parquet.Value{}, fmt.Errorf("float value of Go type %T", v)
		}
		if t.Bits == 32 {
			return parquet.FloatValue(float32(f)), nil
		}
		return parquet.DoubleValue(f), nil
	case warehouse.KindBoolean:
		b, ok := v.(bool)
		if !ok {
			return parquet.Value{}, fmt.Errorf("boolean value of Go type %T", v)
		}
		return parquet.BooleanValue(b), nil
	case warehouse.KindDate, warehouse.KindTime, warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		tm, ok := v.(time.Time)
		if !ok {
			return parquet.Value{}, fmt.Errorf("%s value of Go type %T", t.Kind, v)
		}
		switch t.Kind {
		case warehouse.KindDate:
			return parquet.Int32Value(int32(floorDiv(wallUnixMicro(tm), 86_400_000_000))), nil
		case warehouse.KindTime:
			us := int64(tm.Hour())*3_600_000_000 + int64(tm.Minute())*60_000_000 + int64(tm.Second())*1_000_000 + int64(tm.Nanosecond()/1000)
			return parquet.Int64Value(us), nil
		case warehouse.KindTimestamp:
			return parquet.Int64Value(wallUnixMicro(tm)), nil
		default:
			return parquet.Int64Value(tm.UnixMicro()), nil
		}
	case warehouse.KindJSON:
		raw, err := warehouse.ToJSON(v)
		if err != nil {
			return parquet.Value{}, err
		}
		return parquet.ByteArrayValue(raw), nil
	default:
		switch x := v.(type) {
		case string:
			return parquet.ByteArrayValue([]byte(x)), nil
		case []byte:
			return parquet.ByteArrayValue(x), nil
		}
		return parquet.ByteArrayValue(fmt.Appendf(nil, "%v", v)), nil
	}
}

// appendRow appends the Parquet values of one row (values follow s.cols) to
// row, ordered by leaf column index as Writer.WriteRows requires.
func (s *partSchema) appendRow(row parquet.Row, buckets [][]parquet.Value, values []any, hash uint64, withHash bool) (parquet.Row, error) {
	for i := range buckets {
		buckets[i] = buckets[i][:0]
	}
	for i, c := range s.cols {
		l := s.leaf[i]
		idx := l.ColumnIndex
		v := values[i]
		if c.Type.Kind != warehouse.KindArray {
			if v == nil {
				buckets[idx] = append(buckets[idx], parquet.NullValue().Level(0, 0, idx))
				continue
			}
			pv, err := scalarValue(c.Type, v)
			if err != nil {
				return row, fmt.Errorf("column %q: %w", c.Name, err)
			}
			buckets[idx] = append(buckets[idx], pv.Level(0, 1, idx))
			continue
		}
		// optional list (def 1) / repeated list (def 2) / optional element (def 3)
		if v == nil {
			buckets[idx] = append(buckets[idx], parquet.NullValue().Level(0, 0, idx))
			continue
		}
		xs, ok := v.([]any)
		if !ok {
			return row, fmt.Errorf("column %q: array value of Go type %T", c.Name, v)
		}
		if len(xs) == 0 {
			buckets[idx] = append(buckets[idx], parquet.NullValue().Level(0, 1, idx))
			continue
		}
		elem := warehouse.String
		if c.Type.Elem != nil {
			elem = *c.Type.Elem
		}
		for j, x := range xs {
			rep := 1
			if j == 0 {
				rep = 0
			}
			if x == nil {
				buckets[idx] = append(buckets[idx], parquet.NullValue().Level(rep, 2, idx))
				continue
			}
			pv, err := scalarValue(elem, x)
			if err != nil {
				return row, fmt.Errorf("column %q element %d: %w", c.Name, j, err)
			}
			buckets[idx] = append(buckets[idx], pv.Level(rep, 3, idx))
		}
	}
	if withHash {
		idx := s.hash.ColumnIndex
		buckets[idx] = append(buckets[idx], parquet.Int64Value(int64(hash)).Level(0, 0, idx))
	}
	for _, b := range buckets {
		row = append(row, b...)
	}
	return row, nil
}

// partFile is one finished Parquet part on local disk.
type partFile struct {
	Path  string
	Rows  int64
	Bytes int64
}

// partWriter writes rows into Parquet parts of at most maxRows rows and about
// maxBytes bytes each, in dir, calling done for each finished part (which
// uploads it and may remove the file).
type partWriter struct {
	s        *partSchema
	dir      string
	maxRows  int64
	maxBytes int64
	withHash bool
	done     func(partFile) error

	f       *os.File
	cw      *countWriter
	bw      *bufio.Writer
	w       *parquet.Writer
	rows    int64
	batch   []parquet.Row
	buckets [][]parquet.Value
	seq     int
}

func newPartWriter(cols []warehouse.Column, dir string, maxRows, maxBytes int64, withHash bool, done func(partFile) error) (*partWriter, error) {
	s, err := newPartSchema(cols, withHash)
	if err != nil {
		return nil, err
	}
	if maxRows <= 0 {
		maxRows = 1_000_000
	}
	if maxBytes <= 0 {
		maxBytes = 128 << 20
	}
	return &partWriter{s: s, dir: dir, maxRows: maxRows, maxBytes: maxBytes, withHash: withHash, done: done,
		buckets: make([][]parquet.Value, s.nLeaf)}, nil
}

type countWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

const writeBatch = 1024

// Write adds one row with its hash.
func (p *partWriter) Write(values []any, hash uint64) error {
	if p.w == nil {
		f, err := os.CreateTemp(p.dir, "part-*.parquet")
		if err != nil {
			return err
		}
		p.f = f
		p.cw = &countWriter{w: f}
		p.bw = bufio.NewWriterSize(p.cw, 1<<20)
		p.w = parquet.NewWriter(p.bw, p.s.schema, parquet.Compression(partCodec),
			parquet.MaxRowsPerRowGroup(min(p.maxRows, 122_880)), parquet.PageBufferSize(256<<10))
		p.rows = 0
	}
	var row parquet.Row
	if n := len(p.batch); n < cap(p.batch) {
		row = p.batch[:n+1][n][:0]
	}
	row, err := p.s.appendRow(row, p.buckets, values, hash, p.withHash)
	if err != nil {
		return err
	}
	p.batch = append(p.batch, row)
	p.rows++
	if p.rows >= p.maxRows {
		return p.finish()
	}
	if len(p.batch) >= writeBatch {
		if err := p.flushBatch(); err != nil {
			return err
		}
		if p.cw.n >= p.maxBytes {
			return p.finish()
		}
	}
	return nil
}

func (p *partWriter) flushBatch() error {
	if len(p.batch) == 0 {
		return nil
	}
	if _, err := p.w.WriteRows(p.batch); err != nil {
		return err
	}
	p.batch = p.batch[:0]
	return nil
}

// finish closes the current part, if any, and hands it to done.
func (p *partWriter) finish() error {
	if p.w == nil {
		return nil
	}
	if err := p.flushBatch(); err != nil {
		return err
	}
	if err := p.w.Close(); err != nil {
		return err
	}
	if err := p.bw.Flush(); err != nil {
		return err
	}
	if err := p.f.Close(); err != nil {
		return err
	}
	pf := partFile{Path: p.f.Name(), Rows: p.rows, Bytes: p.cw.n}
	p.w, p.f = nil, nil
	p.seq++
	return p.done(pf)
}

// Close finishes the last part.
func (p *partWriter) Close() error { return p.finish() }

// Abort removes a part in progress.
func (p *partWriter) Abort() {
	if p.f != nil {
		p.f.Close()
		os.Remove(p.f.Name())
		p.f, p.w = nil, nil
	}
}
