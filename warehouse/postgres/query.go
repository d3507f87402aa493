package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dataopskit/dataops/warehouse"
)

// Query runs query on the raw connection's pgx.Conn (not through
// database/sql, whose adapter turns arrays into text) and hands fn each row
// as portable values. Stopping early (fn returns an error) drains the rest of
// the result, so that the connection, and the transaction it may hold, stays
// usable.
func (e *engine) Query(ctx context.Context, raw any, query string, args []any, fn func(cols []warehouse.Column, values []any) error) error {
	conn, err := pgxConn(raw)
	if err != nil {
		return err
	}
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: query: %w", err)
	}
	defer rows.Close()
	m := conn.TypeMap()
	fds := rows.FieldDescriptions()
	cols := make([]warehouse.Column, len(fds))
	decs := make([]decodeFunc, len(fds))
	for i, fd := range fds {
		cols[i] = warehouse.Column{Name: fd.Name, Type: fieldType(m, fd.DataTypeOID, fd.TypeModifier), Nullable: true}
		decs[i] = decoder(m, fd.DataTypeOID, fd.Format, cols[i].Type)
	}
	vals := make([]any, len(fds))
	for rows.Next() {
		for i, b := range rows.RawValues() {
			if b == nil {
				vals[i] = nil
				continue
			}
			v, err := decs[i](b)
			if err != nil {
				return fmt.Errorf("postgres: query: column %q (%s): %w", cols[i].Name, cols[i].Type.Native, err)
			}
			vals[i] = v
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: query: %w", err)
	}
	return nil
}

// scalar describes a built-in type that has a portable kind.
type scalar struct {
	name string // format_type's spelling
	typ  warehouse.Type
}

var scalars = map[uint32]scalar{
	pgtype.BoolOID:        {"boolean", warehouse.Boolean},
	pgtype.ByteaOID:       {"bytea", warehouse.Binary},
	pgtype.QCharOID:       {`"char"`, warehouse.String},
	pgtype.NameOID:        {"name", warehouse.String},
	pgtype.Int8OID:        {"bigint", warehouse.Integer},
	pgtype.Int2OID:        {"smallint", warehouse.Type{Kind: warehouse.KindInteger, Bits: 16}},
	pgtype.Int4OID:        {"integer", warehouse.Type{Kind: warehouse.KindInteger, Bits: 32}},
	pgtype.TextOID:        {"text", warehouse.String},
	pgtype.OIDOID:         {"oid", warehouse.Integer},
	pgtype.JSONOID:        {"json", warehouse.JSON},
	pgtype.Float4OID:      {"real", warehouse.Type{Kind: warehouse.KindFloat, Bits: 32}},
	pgtype.Float8OID:      {"double precision", warehouse.Float},
	pgtype.BPCharOID:      {"character", warehouse.String},
	pgtype.VarcharOID:     {"character varying", warehouse.String},
	pgtype.DateOID:        {"date", warehouse.Date},
	pgtype.TimeOID:        {"time without time zone", warehouse.Time},
	pgtype.TimestampOID:   {"timestamp without time zone", warehouse.Timestamp},
	pgtype.TimestamptzOID: {"timestamp with time zone", warehouse.TimestampTZ},
	pgtype.NumericOID:     {"numeric", warehouse.Type{Kind: warehouse.KindDecimal}},
	pgtype.UUIDOID:        {"uuid", warehouse.String},
	pgtype.JSONBOID:       {"jsonb", warehouse.JSON},
}

var arrays = map[uint32]uint32{
	pgtype.BoolArrayOID:        pgtype.BoolOID,
	pgtype.ByteaArrayOID:       pgtype.ByteaOID,
	pgtype.QCharArrayOID:       pgtype.QCharOID,
	pgtype.NameArrayOID:        pgtype.NameOID,
	pgtype.Int8ArrayOID:        pgtype.Int8OID,
	pgtype.Int2ArrayOID:        pgtype.Int2OID,
	pgtype.Int4ArrayOID:        pgtype.Int4OID,
	pgtype.TextArrayOID:        pgtype.TextOID,
	pgtype.OIDArrayOID:         pgtype.OIDOID,
	pgtype.JSONArrayOID:        pgtype.JSONOID,
	pgtype.Float4ArrayOID:      pgtype.Float4OID,
	pgtype.Float8ArrayOID:      pgtype.Float8OID,
	pgtype.BPCharArrayOID:      pgtype.BPCharOID,
	pgtype.VarcharArrayOID:     pgtype.VarcharOID,
	pgtype.DateArrayOID:        pgtype.DateOID,
	pgtype.TimeArrayOID:        pgtype.TimeOID,
	pgtype.TimestampArrayOID:   pgtype.TimestampOID,
	pgtype.TimestamptzArrayOID: pgtype.TimestamptzOID,
	pgtype.NumericArrayOID:     pgtype.NumericOID,
	pgtype.UUIDArrayOID:        pgtype.UUIDOID,
	pgtype.JSONBArrayOID:       pgtype.JSONBOID,
}

// fieldType maps a result column's type OID and modifier to a portable type
// whose Native is format_type's spelling.
func fieldType(m *pgtype.Map, oid uint32, typmod int32) warehouse.Type {
	if elem, ok := arrays[oid]; ok {
		e := fieldType(m, elem, typmod)
		t := warehouse.ArrayOf(e)
		t.Native = e.Native + "[]"
		return t
	}
	s, ok := scalars[oid]
	if !ok {
		name := "oid " + strconv.FormatUint(uint64(oid), 10)
		if dt, ok := m.TypeForOID(oid); ok {
			name = dt.Name
		}
		return warehouse.Type{Kind: warehouse.KindUnknown, Native: name}
	}
	t := s.typ
	t.Native = s.name
	mod := int(typmod) - 4 // VARHDRSZ
	if typmod >= 4 {
		switch oid {
		case pgtype.VarcharOID, pgtype.BPCharOID:
			t.Length = mod
			t.Native += "(" + strconv.Itoa(mod) + ")"
		case pgtype.NumericOID:
			t.Precision, t.Scale = (mod>>16)&0xffff, mod&0xffff
			t.Native += "(" + strconv.Itoa(t.Precision) + "," + strconv.Itoa(t.Scale) + ")"
		}
	} else if oid == pgtype.BPCharOID {
		t.Native = "bpchar"
	}
	return t
}

// decodeFunc turns a non-NULL column value as received into its portable
// value. The bytes are only valid during the call.
type decodeFunc func(b []byte) (any, error)

// decoder picks the decoder of a result column. Built-in types with a
// portable kind are decoded from the binary format directly; the text format
// (simple protocol) goes through pgx's codecs; types without a portable kind
// become their text representation.
func decoder(m *pgtype.Map, oid uint32, format int16, t warehouse.Type) decodeFunc {
	if elem, ok := arrays[oid]; ok && t.Elem != nil {
		if format == pgtype.BinaryFormatCode {
			ed := binaryDecoder(elem)
			return func(b []byte) (any, error) { return decodeArray(b, elem, ed) }
		}
		ed := decoder(m, elem, format, *t.Elem)
		return func(b []byte) (any, error) { return decodeTextArray(b, ed) }
	}
	if format == pgtype.BinaryFormatCode {
		if d := binaryDecoder(oid); d != nil {
			return d
		}
		return textOf(m, oid, format)
	}
	// Text format.
	switch t.Kind {
	case warehouse.KindUnknown, warehouse.KindString:
		return func(b []byte) (any, error) { return string(b), nil }
	case warehouse.KindJSON:
		return func(b []byte) (any, error) { return json.RawMessage(append([]byte(nil), b...)), nil }
	case warehouse.KindDecimal:
		return func(b []byte) (any, error) { return textDecimal(string(b)) }
	}
	dt, ok := m.TypeForOID(oid)
	if !ok {
		return func(b []byte) (any, error) { return string(b), nil }
	}
	return func(b []byte) (any, error) {
		v, err := dt.Codec.DecodeValue(m, oid, format, b)
		if err != nil {
			return nil, err
		}
		return portable(t, v)
	}
}

// textOf renders values of types without a portable kind as text: pgx
// decodes them and encodes the value again in the text format.
func textOf(m *pgtype.Map, oid uint32, format int16) decodeFunc {
	dt, ok := m.TypeForOID(oid)
	if !ok || format == pgtype.TextFormatCode {
		return func(b []byte) (any, error) { return string(b), nil }
	}
	return func(b []byte) (any, error) {
		v, err := dt.Codec.DecodeValue(m, oid, format, b)
		if err != nil {
			return nil, err
		}
		txt, err := m.Encode(oid, pgtype.TextFormatCode, v, nil)
		if err != nil {
			return v, nil // no text form: keep pgx's value
		}
		return string(txt), nil
	}
}

func binaryDecoder(oid uint32) decodeFunc {
	switch oid {
	case pgtype.BoolOID:
		return decodeBool
	case pgtype.Int2OID:
		return decodeInt2
	case pgtype.Int4OID:
		return decodeInt4
	case pgtype.Int8OID:
		return decodeInt8
	case pgtype.OIDOID:
		return decodeOID
	case pgtype.Float4OID:
		return decodeFloat4
	case pgtype.Float8OID:
		return decodeFloat8
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.QCharOID:
		return decodeText
	case pgtype.ByteaOID:
		return decodeBytea
	case pgtype.JSONOID:
		return decodeJSON
	case pgtype.JSONBOID:
		return decodeJSONB
	case pgtype.UUIDOID:
		return decodeUUID
	case pgtype.NumericOID:
		return decodeNumeric
	case pgtype.DateOID:
		return decodeDate
	case pgtype.TimeOID:
		return decodeTime
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		return decodeTimestamp
	}
	return nil
}

func sizeErr(what string, b []byte) error {
	return fmt.Errorf("invalid %s: %d bytes", what, len(b))
}

func decodeBool(b []byte) (any, error) {
	if len(b) != 1 {
		return nil, sizeErr("boolean", b)
	}
	return b[0] != 0, nil
}

func decodeInt2(b []byte) (any, error) {
	if len(b) != 2 {
		return nil, sizeErr("smallint", b)
	}
	return int64(int16(binary.BigEndian.Uint16(b))), nil
}

func decodeInt4(b []byte) (any, error) {
	if len(b) != 4 {
		return nil, sizeErr("integer", b)
	}
	return int64(int32(binary.BigEndian.Uint32(b))), nil
}

func decodeInt8(b []byte) (any, error) {
	if len(b) != 8 {
		return nil, sizeErr("bigint", b)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func decodeOID(b []byte) (any, error) {
	if len(b) != 4 {
		return nil, sizeErr("oid", b)
	}
	return int64(binary.BigEndian.Uint32(b)), nil
}

func decodeFloat4(b []byte) (any, error) {
	if len(b) != 4 {
		return nil, sizeErr("real", b)
	}
	return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
}

func decodeFloat8(b []byte) (any, error) {
	if len(b) != 8 {
		return nil, sizeErr("double precision", b)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

func decodeText(b []byte) (any, error)  { return string(b), nil }
func decodeBytea(b []byte) (any, error) { return append([]byte{}, b...), nil }
func decodeJSON(b []byte) (any, error)  { return json.RawMessage(append([]byte{}, b...)), nil }

func decodeJSONB(b []byte) (any, error) {
	if len(b) < 1 || b[0] != 1 {
		return nil, errors.New("unknown jsonb binary version")
	}
	return json.RawMessage(append([]byte{}, b[1:]...)), nil
}

func decodeUUID(b []byte) (any, error) {
	if len(b) != 16 {
		return nil, sizeErr("uuid", b)
	}
	return uuidString(b), nil
}

func uuidString(b []byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:16])
	return string(s[:])
}

// pgEpochMicros is 2000-01-01 00:00:00 UTC, PostgreSQL's epoch, in Unix
// microseconds.
const pgEpochMicros = 946_684_800_000_000

func decodeTimestamp(b []byte) (any, error) {
	if len(b) != 8 {
		return nil, sizeErr("timestamp", b)
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return nil, errors.New("an infinite timestamp has no portable value")
	}
	return time.UnixMicro(us + pgEpochMicros).UTC(), nil
}

func decodeDate(b []byte) (any, error) {
	if len(b) != 4 {
		return nil, sizeErr("date", b)
	}
	days := int32(binary.BigEndian.Uint32(b))
	if days == math.MaxInt32 || days == math.MinInt32 {
		return nil, errors.New("an infinite date has no portable value")
	}
	return time.Date(2000, time.January, 1+int(days), 0, 0, 0, 0, time.UTC), nil
}

var timeZero = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)

func decodeTime(b []byte) (any, error) {
	if len(b) != 8 {
		return nil, sizeErr("time", b)
	}
	us := int64(binary.BigEndian.Uint64(b))
	return timeZero.Add(time.Duration(us) * time.Microsecond), nil
}

var (
	bigTen   = big.NewInt(10)
	pow10000 = [5]*big.Int{big.NewInt(1), big.NewInt(1e4), big.NewInt(1e8), big.NewInt(1e12), big.NewInt(1e16)}
)

// decodeNumeric reads the binary numeric format: ndigits, weight, sign and
// display scale (int16 each) and then ndigits base-10000 digits, the first
// of which is worth 10000^weight. The result keeps the display scale, as
// PostgreSQL prints it.
func decodeNumeric(b []byte) (any, error) {
	if len(b) < 8 {
		return nil, sizeErr("numeric", b)
	}
	ndigits := int(binary.BigEndian.Uint16(b[0:]))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	switch sign {
	case 0x0000, 0x4000:
	case 0xC000:
		return nil, errors.New("numeric NaN has no portable value")
	case 0xD000, 0xF000:
		return nil, errors.New("an infinite numeric has no portable value")
	default:
		return nil, fmt.Errorf("invalid numeric sign %#x", sign)
	}
	if len(b) != 8+2*ndigits {
		return nil, sizeErr("numeric", b)
	}
	u := new(big.Int)
	var chunk big.Int
	for i := 0; i < ndigits; i += 4 {
		var c uint64
		k := 0
		for ; k < 4 && i+k < ndigits; k++ {
			c = c*10000 + uint64(binary.BigEndian.Uint16(b[8+2*(i+k):]))
		}
		if i == 0 {
			u.SetUint64(c)
		} else {
			u.Mul(u, pow10000[k])
			u.Add(u, chunk.SetUint64(c))
		}
	}
	// u is the value times 10^accScale.
	accScale := 4 * (ndigits - 1 - weight)
	if ndigits == 0 {
		accScale = dscale
	}
	switch {
	case accScale > dscale:
		u.Quo(u, new(big.Int).Exp(bigTen, big.NewInt(int64(accScale-dscale)), nil))
	case accScale < dscale:
		u.Mul(u, new(big.Int).Exp(bigTen, big.NewInt(int64(dscale-accScale)), nil))
	}
	if sign == 0x4000 {
		u.Neg(u)
	}
	return warehouse.Decimal{Unscaled: u, Scale: dscale}, nil
}

func textDecimal(s string) (any, error) {
	switch s {
	case "NaN":
		return nil, errors.New("numeric NaN has no portable value")
	case "Infinity", "-Infinity":
		return nil, errors.New("an infinite numeric has no portable value")
	}
	return warehouse.ParseDecimal(s)
}

// decodeArray reads the binary array format: ndim, a has-null flag, the
// element OID, (length, lower bound) per dimension, then each element as a
// length (-1 for NULL) and its bytes. A multi-dimensional array becomes
// nested []any.
func decodeArray(b []byte, elemOID uint32, elem decodeFunc) (any, error) {
	if len(b) < 12 {
		return nil, sizeErr("array", b)
	}
	ndim := int(int32(binary.BigEndian.Uint32(b)))
	if ndim < 0 || ndim > 6 || len(b) < 12+8*ndim {
		return nil, errors.New("invalid array header")
	}
	if got := binary.BigEndian.Uint32(b[8:]); got != elemOID {
		return nil, fmt.Errorf("array element type %d, expected %d", got, elemOID)
	}
	if ndim == 0 {
		return []any{}, nil
	}
	dims := make([]int, ndim)
	for i := range dims {
		n := int(int32(binary.BigEndian.Uint32(b[12+8*i:])))
		if n < 0 {
			return nil, errors.New("invalid array dimension")
		}
		dims[i] = n
	}
	rest := b[12+8*ndim:]
	v, _, err := decodeDims(rest, dims, elem)
	return v, err
}

func decodeDims(b []byte, dims []int, elem decodeFunc) ([]any, []byte, error) {
	out := make([]any, dims[0])
	for i := range out {
		if len(dims) > 1 {
			sub, rest, err := decodeDims(b, dims[1:], elem)
			if err != nil {
				return nil, nil, err
			}
			out[i], b = sub, rest
			continue
		}
		if len(b) < 4 {
			return nil, nil, errors.New("array is truncated")
		}
		n := int(int32(binary.BigEndian.Uint32(b)))
		b = b[4:]
		if n < 0 {
			continue // NULL
		}
		if len(b) < n {
			return nil, nil, errors.New("array is truncated")
		}
		v, err := elem(b[:n])
		if err != nil {
			return nil, nil, fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = v
		b = b[n:]
	}
	return out, b, nil
}

// portable converts a value decoded by pgx (text format) to the portable
// value of type t.
func portable(t warehouse.Type, v any) (any, error) {
	if t.Kind == warehouse.KindJSON && v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(b), nil
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Time:
		if t.Kind == warehouse.KindTime {
			return warehouse.TimeOfDay(x), nil
		}
		return x.UTC(), nil
	case pgtype.Time:
		return timeZero.Add(time.Duration(x.Microseconds) * time.Microsecond), nil
	case pgtype.InfinityModifier:
		return nil, fmt.Errorf("an infinite %s has no portable value", t)
	case [16]byte:
		return uuidString(x[:]), nil
	case pgtype.Numeric:
		return numericDecimal(x)
	case []any:
		out := make([]any, len(x))
		var et warehouse.Type
		if t.Elem != nil {
			et = *t.Elem
		}
		for i, e := range x {
			pe, err := portable(et, e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = pe
		}
		return out, nil
	}
	return v, nil
}

func numericDecimal(n pgtype.Numeric) (any, error) {
	switch {
	case n.NaN:
		return nil, errors.New("numeric NaN has no portable value")
	case n.InfinityModifier != pgtype.Finite:
		return nil, errors.New("an infinite numeric has no portable value")
	case !n.Valid:
		return nil, nil
	}
	u := new(big.Int)
	if n.Int != nil {
		u.Set(n.Int)
	}
	if n.Exp > 0 {
		u.Mul(u, new(big.Int).Exp(bigTen, big.NewInt(int64(n.Exp)), nil))
		return warehouse.Decimal{Unscaled: u}, nil
	}
	return warehouse.Decimal{Unscaled: u, Scale: int(-n.Exp)}, nil
}

// decodeTextArray reads the text form of an array: "{a,\"b c\",NULL}",
// nested braces for more dimensions, optionally preceded by bounds such as
// "[0:1]=". Each element's text goes through elem.
func decodeTextArray(b []byte, elem decodeFunc) (any, error) {
	if len(b) > 0 && b[0] == '[' {
		i := bytes.Index(b, []byte("={"))
		if i < 0 {
			return nil, errors.New("invalid array text")
		}
		b = b[i+1:]
	}
	p := textArrayParser{s: b, elem: elem}
	v, err := p.array()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, errors.New("invalid array text: trailing characters")
	}
	return v, nil
}

type textArrayParser struct {
	s    []byte
	i    int
	elem decodeFunc
	buf  []byte
}

func (p *textArrayParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *textArrayParser) array() ([]any, error) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, errors.New("invalid array text: missing {")
	}
	p.i++
	out := []any{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return out, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, errors.New("invalid array text: truncated")
		}
		switch p.s[p.i] {
		case '{':
			sub, err := p.array()
			if err != nil {
				return nil, err
			}
			out = append(out, sub)
		case '"':
			p.i++
			p.buf = p.buf[:0]
			for {
				if p.i >= len(p.s) {
					return nil, errors.New("invalid array text: unterminated quote")
				}
				c := p.s[p.i]
				p.i++
				if c == '"' {
					break
				}
				if c == '\\' && p.i < len(p.s) {
					c = p.s[p.i]
					p.i++
				}
				p.buf = append(p.buf, c)
			}
			v, err := p.elem(p.buf)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", len(out), err)
			}
			out = append(out, v)
		default:
			p.buf = p.buf[:0]
			for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '}' {
				c := p.s[p.i]
				p.i++
				if c == '\\' && p.i < len(p.s) {
					c = p.s[p.i]
					p.i++
				}
				p.buf = append(p.buf, c)
			}
			raw := bytes.TrimRight(p.buf, " \t\n\r")
			if string(raw) == "NULL" || string(raw) == "null" {
				out = append(out, nil)
				break
			}
			v, err := p.elem(raw)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", len(out), err)
			}
			out = append(out, v)
		}
		p.space()
		if p.i >= len(p.s) {
			return nil, errors.New("invalid array text: truncated")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return out, nil
		default:
			return nil, errors.New("invalid array text: expected , or }")
		}
	}
}
