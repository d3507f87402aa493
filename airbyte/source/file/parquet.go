package file

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/dataopskit/dataops/airbyte"
)

// conv says how a Parquet leaf value becomes JSON.
type conv uint8

const (
	cvString conv = iota // UTF-8 bytes
	cvBool
	cvInt
	cvUint
	cvFloat
	cvDecimal
	cvDate
	cvTimestamp
	cvTime
	cvInt96
	cvBinary // base64
	cvUUID
	cvFloat16
)

// leaf is how one Parquet leaf type converts.
type leaf struct {
	conv  conv
	scale int32         // decimals
	unit  time.Duration // timestamps and times
	utc   bool          // timestamps and times adjusted to UTC
}

func timeUnit(u format.TimeUnit) time.Duration {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return time.Millisecond
	case *format.NanoSeconds:
		return time.Nanosecond
	}
	return time.Microsecond
}

// leafOf classifies a leaf type.
func leafOf(t parquet.Type) (leaf, colType) {
	kindOf := t.Kind()
	if lt := t.LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.StringType, *format.EnumType, *format.JsonType:
			return leaf{conv: cvString}, colType{kind: kString}
		case *format.UUIDType:
			return leaf{conv: cvUUID}, colType{kind: kString}
		case *format.DecimalType:
			return leaf{conv: cvDecimal, scale: v.Scale}, colType{kind: kNumber}
		case *format.DateType:
			return leaf{conv: cvDate}, colType{kind: kDate}
		case *format.TimestampType:
			k := kTimestampNTZ
			if v.IsAdjustedToUTC {
				k = kTimestampTZ
			}
			return leaf{conv: cvTimestamp, unit: timeUnit(v.Unit), utc: v.IsAdjustedToUTC}, colType{kind: k}
		case *format.TimeType:
			k := kTimeNTZ
			if v.IsAdjustedToUTC {
				k = kTimeTZ
			}
			return leaf{conv: cvTime, unit: timeUnit(v.Unit), utc: v.IsAdjustedToUTC}, colType{kind: k}
		case *format.IntType:
			if !v.IsSigned {
				return leaf{conv: cvUint}, colType{kind: kInteger}
			}
			return leaf{conv: cvInt}, colType{kind: kInteger}
		case *format.Float16Type:
			return leaf{conv: cvFloat16}, colType{kind: kNumber}
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.UTF8, deprecated.Enum, deprecated.Json:
			return leaf{conv: cvString}, colType{kind: kString}
		case deprecated.Date:
			return leaf{conv: cvDate}, colType{kind: kDate}
		case deprecated.TimestampMillis:
			return leaf{conv: cvTimestamp, unit: time.Millisecond, utc: true}, colType{kind: kTimestampTZ}
		case deprecated.TimestampMicros:
			return leaf{conv: cvTimestamp, unit: time.Microsecond, utc: true}, colType{kind: kTimestampTZ}
		case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
			return leaf{conv: cvUint}, colType{kind: kInteger}
		}
	}
	switch kindOf {
	case parquet.Boolean:
		return leaf{conv: cvBool}, colType{kind: kBoolean}
	case parquet.Int32, parquet.Int64:
		return leaf{conv: cvInt}, colType{kind: kInteger}
	case parquet.Float, parquet.Double:
		return leaf{conv: cvFloat}, colType{kind: kNumber}
	case parquet.Int96:
		return leaf{conv: cvInt96}, colType{kind: kTimestampTZ}
	}
	return leaf{conv: cvBinary}, colType{kind: kBinary}
}

// nodeType is the column type of a Parquet node, nested ones included.
func nodeType(n parquet.Node) colType {
	t := nodeTypeNoRepeat(n)
	if n.Repeated() {
		b := append([]byte(`{"type":["null","array"],"items":`), t.appendSchema(nil)...)
		return colType{kind: kArray, schema: append(b, '}')}
	}
	return t
}

func nodeTypeNoRepeat(n parquet.Node) colType {
	if n.Leaf() {
		_, t := leafOf(n.Type())
		return t
	}
	if elem, ok := listElement(n); ok {
		b := append([]byte(`{"type":["null","array"],"items":`), nodeType(elem).appendSchema(nil)...)
		return colType{kind: kArray, schema: append(b, '}')}
	}
	if _, val, ok := mapKeyValue(n); ok {
		b := []byte(`{"type":["null","object"]`)
		if val != nil {
			b = append(b, `,"additionalProperties":`...)
			b = nodeType(val).appendSchema(b)
		}
		return colType{kind: kObject, schema: append(b, '}')}
	}
	b := []byte(`{"type":["null","object"],"properties":{`)
	for i, f := range n.Fields() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.Name())
		b = append(b, ':')
		b = nodeType(f).appendSchema(b)
	}
	return colType{kind: kObject, schema: append(b, "}}"...)}
}

func isLogical[T any](n parquet.Node) bool {
	lt := n.Type().LogicalType()
	if lt == nil {
		return false
	}
	_, ok := lt.Value.(T)
	return ok
}

// listElement returns the element node of a LIST-annotated group.
func listElement(n parquet.Node) (parquet.Node, bool) {
	if !isLogical[*format.ListType](n) {
		if ct := n.Type().ConvertedType(); ct == nil || *ct != deprecated.List {
			return nil, false
		}
	}
	fs := n.Fields()
	if len(fs) != 1 {
		return nil, false
	}
	rep := fs[0]
	if !rep.Leaf() && len(rep.Fields()) == 1 {
		return rep.Fields()[0], true
	}
	return rep, true // legacy two-level list
}

// mapKeyValue returns the key and value nodes of a MAP-annotated group.
func mapKeyValue(n parquet.Node) (key, val parquet.Node, ok bool) {
	if !isLogical[*format.MapType](n) {
		if ct := n.Type().ConvertedType(); ct == nil || (*ct != deprecated.Map && *ct != deprecated.MapKeyValue) {
			return nil, nil, false
		}
	}
	fs := n.Fields()
	if len(fs) != 1 || fs[0].Leaf() {
		return nil, nil, false
	}
	kv := fs[0].Fields()
	switch len(kv) {
	case 1:
		return kv[0], nil, true
	case 2:
		return kv[0], kv[1], true
	}
	return nil, nil, false
}

func countLeaves(n parquet.Node) int {
	if n.Leaf() {
		return 1
	}
	c := 0
	for _, f := range n.Fields() {
		c += countLeaves(f)
	}
	return c
}

// parquetColumns lists the top-level columns of a Parquet file's schema.
func parquetColumns(s *parquet.Schema) []column {
	var cols []column
	for _, f := range s.Fields() {
		cols = append(cols, column{name: f.Name(), typ: nodeType(f)})
	}
	return cols
}

// openParquet opens a Parquet file for reading its metadata and row
// groups; it reads no data page yet.
func openParquet(f *os.File, url string, size int64) (*parquet.File, error) {
	pf, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, &ParseError{File: url, Err: fmt.Errorf("not a readable Parquet file: %w", err)}
	}
	return pf, nil
}

// pqField is a top-level field of the file being read.
type pqField struct {
	name   string
	key    []byte // `"name":`
	node   parquet.Node
	leaf   leaf
	col    int  // leaf column index, for flat fields
	nested bool // read through Reconstruct
}

// parquetRecords turns the rows of one Parquet file into record data, one
// row group at a time and a batch of rows at a time: only the pages being
// decoded are in memory.
type parquetRecords struct {
	url    string
	pf     *parquet.File
	fields []pqField
	nested bool
	suffix []byte

	rg   int
	rows parquet.Rows
	buf  []parquet.Row
	n, i int
	row  int64 // rows returned so far
	cols [][]parquet.Value
	m    map[string]any
}

func newParquetRecords(pf *parquet.File, url string, suffix []byte) *parquetRecords {
	r := &parquetRecords{url: url, pf: pf, suffix: suffix, buf: make([]parquet.Row, 128)}
	col := 0
	for _, f := range pf.Schema().Fields() {
		fld := pqField{name: f.Name(), node: f, col: col}
		fld.key = append(appendJSONString(nil, f.Name()), ':')
		if f.Leaf() && !f.Repeated() {
			fld.leaf, _ = leafOf(f.Type())
		} else {
			fld.nested, r.nested = true, true
		}
		col += countLeaves(f)
		r.fields = append(r.fields, fld)
	}
	r.cols = make([][]parquet.Value, col)
	return r
}

func (r *parquetRecords) close() error {
	if r.rows != nil {
		err := r.rows.Close()
		r.rows = nil
		return err
	}
	return nil
}

// next appends the next row's data to dst, or returns io.EOF.
func (r *parquetRecords) next(dst []byte) (data []byte, changes []airbyte.RecordChange, err error) {
	for r.i >= r.n {
		if r.rows == nil {
			groups := r.pf.RowGroups()
			if r.rg >= len(groups) {
				return nil, nil, io.EOF
			}
			r.rows = groups[r.rg].Rows()
			r.rg++
		}
		n, err := r.rows.ReadRows(r.buf)
		r.n, r.i = n, 0
		if err == io.EOF || (err == nil && n == 0) {
			if cerr := r.close(); cerr != nil {
				return nil, nil, &ParseError{File: r.url, Row: r.row, Err: cerr}
			}
			if n == 0 {
				continue
			}
		} else if err != nil {
			return nil, nil, &ParseError{File: r.url, Row: r.row, Err: fmt.Errorf("reading row group %d: %w", r.rg-1, err)}
		}
	}
	row := r.buf[r.i]
	r.i++
	defer func() { r.row++ }()
	defer func() {
		if p := recover(); p != nil { // the library panics on rows it cannot map
			data, changes, err = nil, nil, &ParseError{File: r.url, Row: r.row, Err: fmt.Errorf("cannot decode row: %v", p)}
		}
	}()
	for i := range r.cols {
		r.cols[i] = nil
	}
	row.Range(func(c int, vs []parquet.Value) bool {
		if c < len(r.cols) {
			r.cols[c] = vs
		}
		return true
	})
	if r.nested {
		clear(r.m)
		if r.m == nil {
			r.m = map[string]any{}
		}
		if err := r.pf.Schema().Reconstruct(&r.m, row); err != nil {
			return nil, nil, &ParseError{File: r.url, Row: r.row, Err: err}
		}
	}
	data = append(dst, '{')
	for _, f := range r.fields {
		data = append(data, f.key...)
		var ok bool
		if f.nested {
			data, ok = appendGo(data, f.node, r.m[f.name])
		} else {
			vs := r.cols[f.col]
			if len(vs) == 0 || vs[0].IsNull() {
				data, ok = append(data, "null"...), true
			} else {
				data, ok = appendLeaf(data, f.leaf, vs[0])
			}
		}
		if !ok {
			changes = append(changes, airbyte.RecordChange{Field: f.name, Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"})
		}
		data = append(data, ',')
	}
	data = append(data, r.suffix...)
	return data, changes, nil
}

// appendLeaf appends one leaf value. A value JSON cannot carry (NaN,
// infinities, strings that are not UTF-8) is written as null and reported
// with ok false.
func appendLeaf(b []byte, l leaf, v parquet.Value) (_ []byte, ok bool) {
	switch l.conv {
	case cvBool:
		return strconv.AppendBool(b, v.Boolean()), true
	case cvInt:
		if v.Kind() == parquet.Int32 {
			return strconv.AppendInt(b, int64(v.Int32()), 10), true
		}
		return strconv.AppendInt(b, v.Int64(), 10), true
	case cvUint:
		if v.Kind() == parquet.Int32 {
			return strconv.AppendUint(b, uint64(uint32(v.Int32())), 10), true
		}
		return strconv.AppendUint(b, uint64(v.Int64()), 10), true
	case cvFloat:
		if v.Kind() == parquet.Float {
			return appendFloat(b, float64(v.Float()), 32)
		}
		return appendFloat(b, v.Double(), 64)
	case cvFloat16:
		raw := v.ByteArray()
		if len(raw) != 2 {
			return append(b, "null"...), false
		}
		return appendFloat(b, float64(float16(binary.LittleEndian.Uint16(raw))), 32)
	case cvDecimal:
		switch v.Kind() {
		case parquet.Int32:
			return appendDecimal(b, big.NewInt(int64(v.Int32())), l.scale), true
		case parquet.Int64:
			return appendDecimal(b, big.NewInt(v.Int64()), l.scale), true
		}
		return appendDecimal(b, twosComplement(v.ByteArray()), l.scale), true
	case cvDate:
		return appendTime(b, time.Unix(int64(v.Int32())*86400, 0).UTC(), "2006-01-02"), true
	case cvTimestamp:
		return appendTimestamp(b, v.Int64(), l), true
	case cvTime:
		n := v.Int64()
		if v.Kind() == parquet.Int32 {
			n = int64(v.Int32())
		}
		layout := "15:04:05.999999999"
		if l.utc {
			layout += "Z07:00"
		}
		return appendTime(b, time.Unix(0, n*int64(l.unit)).UTC(), layout), true
	case cvInt96:
		i := v.Int96()
		nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
		days := int64(i[2]) - 2440588 // Julian day of 1970-01-01
		return appendTime(b, time.Unix(days*86400, nanos).UTC(), time.RFC3339Nano), true
	case cvUUID:
		return appendUUID(b, v.ByteArray()), true
	case cvString:
		s := v.ByteArray()
		if !validUTF8(s) {
			return append(b, "null"...), false
		}
		return appendJSONString(b, s), true
	}
	return appendBase64(b, v.ByteArray()), true
}

func appendFloat(b []byte, f float64, bits int) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...), false
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits), true
}

func appendTime(b []byte, t time.Time, layout string) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, '"')
}

func appendTimestamp(b []byte, n int64, l leaf) []byte {
	per := int64(time.Second / l.unit)
	sec, frac := n/per, n%per
	if frac < 0 {
		sec, frac = sec-1, frac+per
	}
	t := time.Unix(sec, frac*int64(l.unit)).UTC()
	layout := "2006-01-02T15:04:05.999999999"
	if l.utc {
		layout += "Z07:00"
	}
	return appendTime(b, t, layout)
}

func appendUUID(b []byte, u []byte) []byte {
	if len(u) != 16 {
		return appendBase64(b, u)
	}
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	b = append(b, '"')
	b = append(b, s[:]...)
	return append(b, '"')
}

func appendBase64(b []byte, raw []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, '"')
}

// twosComplement reads a big-endian two's complement integer.
func twosComplement(raw []byte) *big.Int {
	n := new(big.Int).SetBytes(raw)
	if len(raw) > 0 && raw[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(raw))*8))
	}
	return n
}

// appendDecimal writes unscaled·10^-scale as a JSON number, digit for
// digit.
func appendDecimal(b []byte, unscaled *big.Int, scale int32) []byte {
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).String()
	if neg {
		b = append(b, '-')
	}
	if scale <= 0 {
		b = append(b, digits...)
		for i := int32(0); i < -scale; i++ {
			b = append(b, '0')
		}
		return b
	}
	for int32(len(digits)) <= scale {
		digits = "0" + digits
	}
	point := len(digits) - int(scale)
	b = append(b, digits[:point]...)
	b = append(b, '.')
	return append(b, digits[point:]...)
}

// float16 decodes an IEEE 754 half-precision number.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 * float32(math.Pow(2, -14))
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// appendGo appends a value that Reconstruct produced for node n.
func appendGo(b []byte, n parquet.Node, v any) (_ []byte, ok bool) {
	if v == nil {
		return append(b, "null"...), true
	}
	if n.Repeated() {
		return appendGoList(b, v, func(b []byte, e any) ([]byte, bool) { return appendGoOne(b, n, e) })
	}
	return appendGoOne(b, n, v)
}

func appendGoList(b []byte, v any, each func([]byte, any) ([]byte, bool)) ([]byte, bool) {
	list, isList := v.([]any)
	if !isList {
		return append(b, "null"...), false
	}
	ok := true
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		var eok bool
		b, eok = each(b, e)
		ok = ok && eok
	}
	return append(b, ']'), ok
}

func appendGoOne(b []byte, n parquet.Node, v any) ([]byte, bool) {
	if v == nil {
		return append(b, "null"...), true
	}
	if n.Leaf() {
		l, _ := leafOf(n.Type())
		return appendGoLeaf(b, l, v)
	}
	if elem, ok := listElement(n); ok {
		return appendGoList(b, v, func(b []byte, e any) ([]byte, bool) { return appendGo(b, elem, e) })
	}
	if _, val, ok := mapKeyValue(n); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			return append(b, "null"...), false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		ok := true
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var eok bool
			if val == nil {
				b, eok = append(b, "null"...), true
			} else {
				b, eok = appendGo(b, val, m[k])
			}
			ok = ok && eok
		}
		return append(b, '}'), ok
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return append(b, "null"...), false
	}
	ok := true
	b = append(b, '{')
	for i, f := range n.Fields() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.Name())
		b = append(b, ':')
		var eok bool
		b, eok = appendGo(b, f, m[f.Name()])
		ok = ok && eok
	}
	return append(b, '}'), ok
}

// appendGoLeaf converts the Go value Reconstruct gives a leaf. Decimals
// arrive as float64 there: nested decimals are as precise as a float64.
func appendGoLeaf(b []byte, l leaf, v any) ([]byte, bool) {
	var i64 int64
	isInt := true
	switch x := v.(type) {
	case int32:
		i64 = int64(x)
	case int64:
		i64 = x
	case int:
		i64 = int64(x)
	case int8:
		i64 = int64(x)
	case int16:
		i64 = int64(x)
	case uint8:
		i64 = int64(x)
	case uint16:
		i64 = int64(x)
	case uint32:
		i64 = int64(x)
	case uint64:
		if l.conv == cvUint || l.conv == cvInt {
			return strconv.AppendUint(b, x, 10), true
		}
		i64 = int64(x)
	default:
		isInt = false
	}
	if isInt {
		switch l.conv {
		case cvUint:
			if i64 < 0 {
				return strconv.AppendUint(b, uint64(uint32(i64)), 10), true
			}
			return strconv.AppendInt(b, i64, 10), true
		case cvDecimal:
			return appendDecimal(b, big.NewInt(i64), l.scale), true
		case cvDate:
			return appendTime(b, time.Unix(i64*86400, 0).UTC(), "2006-01-02"), true
		case cvTimestamp:
			return appendTimestamp(b, i64, l), true
		case cvTime:
			layout := "15:04:05.999999999"
			if l.utc {
				layout += "Z07:00"
			}
			return appendTime(b, time.Unix(0, i64*int64(l.unit)).UTC(), layout), true
		}
		return strconv.AppendInt(b, i64, 10), true
	}
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(b, x), true
	case float32:
		return appendFloat(b, float64(x), 32)
	case float64:
		return appendFloat(b, x, 64)
	case string:
		return appendGoBytes(b, l, []byte(x))
	case []byte:
		return appendGoBytes(b, l, x)
	case [16]byte:
		return appendGoBytes(b, l, x[:])
	case time.Time:
		return appendTime(b, x.UTC(), time.RFC3339Nano), true
	case deprecated.Int96:
		nanos := int64(uint64(x[1])<<32 | uint64(x[0]))
		days := int64(x[2]) - 2440588
		return appendTime(b, time.Unix(days*86400, nanos).UTC(), time.RFC3339Nano), true
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...), false
	}
	return append(b, raw...), true
}

func appendGoBytes(b []byte, l leaf, x []byte) ([]byte, bool) {
	switch l.conv {
	case cvString:
		if !validUTF8(x) {
			return append(b, "null"...), false
		}
		return appendJSONString(b, x), true
	case cvUUID:
		return appendUUID(b, x), true
	case cvDecimal:
		return appendDecimal(b, twosComplement(x), l.scale), true
	case cvFloat16:
		if len(x) == 2 {
			return appendFloat(b, float64(float16(binary.LittleEndian.Uint16(x))), 32)
		}
	}
	return appendBase64(b, x), true
}
