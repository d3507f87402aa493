package duckdb

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/big"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dataopskit/dataops/warehouse"
)

// cancelEvery is how many rows Query reads between looks at its context
// (Load looks once per batch of batchRows).
const cancelEvery = 2048

// Load appends rows to rel on raw, the *duckdb.Conn of the connection
// (inside the caller's transaction, if any). When every column has a
// carrier (see chunkload.go) it runs one INSERT … SELECT from the
// dataops_load table function, which DuckDB feeds with whole typed column
// batches; otherwise it goes through DuckDB's appender. Either way it
// streams: the caller's goroutine converts rows into small batches that a
// second thread writes into DuckDB, so producing and writing overlap, and no
// more than a few batches are ever held. Byte slices are copied, so a producer may
// reuse its row slice and its buffers after each yield. cols name the columns
// each row holds, in order; the table's other columns get their defaults. An
// error names the row (counting from 1) and, for a bad value, the column.
// A cancelled ctx stops the load within one batch.
func (e *Engine) Load(ctx context.Context, raw any, rel warehouse.Relation, cols []warehouse.Column, rows iter.Seq2[[]any, error]) (int64, error) {
	conn, ok := raw.(*duckdb.Conn)
	if !ok {
		return 0, fmt.Errorf("duckdb: load: connection is %T, not a DuckDB connection", raw)
	}
	if len(cols) == 0 {
		return 0, errors.New("duckdb: load: no columns")
	}
	if !e.noChunks && introspected(cols) {
		// The columns come from the table (Warehouse.Load looks them up):
		// the chunk path needs nothing more.
		if plan, ok := chunkPlan(cols); ok {
			names := make([]string, len(cols))
			for i, c := range cols {
				names[i] = c.Name
			}
			return e.loadChunks(ctx, conn, rel, names, plan, rows)
		}
	}
	table, err := tableColumns(ctx, conn, rel)
	if err != nil {
		return 0, err
	}
	if len(table) == 0 {
		return 0, fmt.Errorf("duckdb: load: table %s: %w", rel, warehouse.ErrNotFound)
	}
	// Match the columns to the table's, by DuckDB's case-insensitive rule,
	// taking the table's spelling and type.
	names := make([]string, len(cols))
	convs := make([]converter, len(cols))
	whole := len(cols) == len(table)
	for i, c := range cols {
		j := -1
		for k := range table {
			if table[k].Name == c.Name || strings.EqualFold(table[k].Name, c.Name) {
				j = k
				break
			}
		}
		if j < 0 {
			return 0, fmt.Errorf("duckdb: load: column %q: %w", c.Name, warehouse.ErrNotFound)
		}
		if j != i {
			whole = false
		}
		for _, prev := range names[:i] {
			if prev == table[j].Name {
				return 0, fmt.Errorf("duckdb: load: column %q listed twice", c.Name)
			}
		}
		names[i] = table[j].Name
		convs[i], err = loadConverter(table[j].Type)
		if err != nil {
			return 0, fmt.Errorf("duckdb: load: column %q: %w", c.Name, err)
		}
	}
	if !e.noChunks {
		if plan, ok := chunkPlan(tableCols(table, names)); ok {
			return e.loadChunks(ctx, conn, rel, names, plan, rows)
		}
	}
	var app *duckdb.Appender
	if whole {
		app, err = duckdb.NewAppender(conn, rel.Database, rel.Schema, rel.Name)
	} else {
		app, err = duckdb.NewAppenderWithColumns(conn, rel.Database, rel.Schema, rel.Name, names)
	}
	if err != nil {
		return 0, fmt.Errorf("duckdb: load: %w", err)
	}
	pipe := newAppendPipe(app, len(cols))
	closed := false
	defer func() {
		if closed {
			return
		}
		// Failed, or the producer panicked: stop the appender goroutine and
		// drop what is buffered; the caller's transaction undoes what was
		// flushed.
		pipe.abort()
		_ = app.Clear()
		_ = app.Close()
	}()
	fail := func(err error) error {
		if perr := pipe.abort(); perr != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			// The appender failed on an earlier row.
			err = fmt.Errorf("duckdb: load: %w", perr)
		}
		return err
	}
	ncol := len(cols)
	var n int64
	for row, err := range rows {
		if err != nil {
			return n, fail(fmt.Errorf("duckdb: load: after row %d: %w", n, err))
		}
		if len(row) != ncol {
			return n, fail(fmt.Errorf("duckdb: load: row %d has %d values, want %d (%s)", n+1, len(row), ncol, strings.Join(names, ", ")))
		}
		vals := pipe.next()
		for i, v := range row {
			if v == nil {
				vals[i] = nil
				continue
			}
			cv, err := convs[i](v)
			if err != nil {
				return n, fail(fmt.Errorf("duckdb: load: row %d, column %q: %w", n+1, names[i], err))
			}
			vals[i] = cv
		}
		n++
		if pipe.full() {
			if err := ctx.Err(); err != nil {
				return n, fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
			}
			if !pipe.send() {
				return n, fail(errors.New("duckdb: load: appender failed"))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return n, fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
	}
	if err := pipe.finish(); err != nil {
		return n, fmt.Errorf("duckdb: load: %w", err)
	}
	closed = true // CloseWithCancel releases the appender even when it fails
	if err := app.CloseWithCancel(ctx); err != nil {
		return n, fmt.Errorf("duckdb: load: %w", err)
	}
	return n, nil
}

// batchRows is the number of rows Load hands to the appender goroutine at a
// time; pipeBatches is the number of batches in flight.
const (
	batchRows   = 2048
	pipeBatches = 4
)

// appendPipe runs the appender on a goroutine of its own, so that producing
// and converting rows (the caller's goroutine) overlaps with DuckDB's
// appending. Rows travel in batches of converted values; the caller fills
// one batch while the appender drains another. Values that could change
// after the producer yields them (byte slices) are copied by the converters.
type appendPipe struct {
	app     *duckdb.Appender
	ncol    int
	cur     *rowBatch
	first   int64 // row number (from 0) of cur's first row
	queue   chan *rowBatch
	free    chan *rowBatch
	done    chan struct{}
	failed  atomic.Bool // set by the goroutine when AppendRow fails
	aborted atomic.Bool // set by abort: the goroutine skips queued rows
	err     error       // the goroutine's error; read after done closes
	closed  bool
}

type rowBatch struct {
	first int64
	n     int
	vals  []driver.Value // n rows of ncol values
}

func newAppendPipe(app *duckdb.Appender, ncol int) *appendPipe {
	p := &appendPipe{
		app:   app,
		ncol:  ncol,
		queue: make(chan *rowBatch, pipeBatches),
		free:  make(chan *rowBatch, pipeBatches),
		done:  make(chan struct{}),
	}
	for range pipeBatches {
		p.free <- &rowBatch{vals: make([]driver.Value, batchRows*ncol)}
	}
	p.cur = <-p.free
	go p.run()
	return p
}

func (p *appendPipe) run() {
	defer close(p.done)
	for b := range p.queue {
		if !p.failed.Load() && !p.aborted.Load() {
			for r := range b.n {
				if err := p.app.AppendRow(b.vals[r*p.ncol : (r+1)*p.ncol]...); err != nil {
					p.err = fmt.Errorf("row %d: %w", b.first+int64(r)+1, err)
					p.failed.Store(true)
					break
				}
			}
		}
		clear(b.vals[:b.n*p.ncol]) // let the values go
		b.n = 0
		p.free <- b
	}
}

// next returns the slots of the next row in the current batch.
func (p *appendPipe) next() []driver.Value {
	i := p.cur.n * p.ncol
	p.cur.n++
	return p.cur.vals[i : i+p.ncol : i+p.ncol]
}

// full reports whether the current batch is full.
func (p *appendPipe) full() bool { return p.cur.n == batchRows }

// send queues the current batch and takes a free one; false means the
// appender has failed.
func (p *appendPipe) send() bool {
	p.cur.first = p.first
	p.first += int64(p.cur.n)
	p.queue <- p.cur
	p.cur = <-p.free
	return !p.failed.Load()
}

// finish queues the last rows and waits for the appender goroutine; it
// returns its error.
func (p *appendPipe) finish() error {
	if p.closed {
		return p.err
	}
	if p.cur.n > 0 {
		p.cur.first = p.first
		p.queue <- p.cur
	}
	p.closed = true
	close(p.queue)
	<-p.done
	return p.err
}

// abort stops the goroutine without appending queued rows and returns its
// error, if it had one.
func (p *appendPipe) abort() error {
	if p.closed {
		return p.err
	}
	p.aborted.Store(true)
	p.closed = true
	close(p.queue)
	<-p.done
	return p.err
}

// introspected reports whether every column carries its native type, as
// the columns Engine.Columns returns do, and no name is listed twice.
func introspected(cols []warehouse.Column) bool {
	for i, c := range cols {
		if c.Type.Native == "" || c.Name == "" {
			return false
		}
		for _, prev := range cols[:i] {
			if strings.EqualFold(prev.Name, c.Name) {
				return false
			}
		}
	}
	return true
}

// tableCols returns the table's columns named names, in that order.
func tableCols(table []warehouse.Column, names []string) []warehouse.Column {
	out := make([]warehouse.Column, len(names))
	for i, n := range names {
		for _, c := range table {
			if c.Name == n {
				out[i] = c
				break
			}
		}
	}
	return out
}

// tableColumns lists the columns of a table, in order, on a raw connection.
func tableColumns(ctx context.Context, conn *duckdb.Conn, rel warehouse.Relation) ([]warehouse.Column, error) {
	rows, err := conn.QueryContext(ctx, columnsQuery, []driver.NamedValue{
		{Ordinal: 1, Value: rel.Database}, {Ordinal: 2, Value: rel.Schema}, {Ordinal: 3, Value: rel.Name},
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb: load: columns of %s: %w", rel, err)
	}
	defer rows.Close()
	var out []warehouse.Column
	vals := make([]driver.Value, 3)
	for {
		err := rows.Next(vals)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("duckdb: load: columns of %s: %w", rel, err)
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		null, _ := vals[2].(bool)
		out = append(out, warehouse.Column{Name: name, Type: Dialect{}.ParseType(typ), Nullable: null})
	}
}

// A converter turns a non-nil portable input value into the value DuckDB's
// appender takes for one column. Converters return their input unchanged
// whenever the appender takes it as it is, so that the common cases do not
// allocate.
type converter func(v any) (any, error)

// nativeBase returns the upper-case DuckDB type name of t without arguments:
// "DECIMAL", "UTINYINT", "UUID", ….
func nativeBase(t warehouse.Type) string {
	n := t.Native
	if n == "" {
		n, _ = Dialect{}.TypeSQL(t)
	}
	n = strings.ToUpper(strings.TrimSpace(n))
	if i := strings.IndexByte(n, '('); i >= 0 {
		n = n[:i]
	}
	return strings.Join(strings.Fields(n), " ")
}

// loadConverter returns the converter for a column of type t.
func loadConverter(t warehouse.Type) (converter, error) {
	base := nativeBase(t)
	switch t.Kind {
	case warehouse.KindString:
		if base == "UUID" {
			return convUUID, nil
		}
		return convString, nil
	case warehouse.KindInteger:
		lo, hi := intRange(base, t.Bits)
		return func(v any) (any, error) { return convInteger(v, lo, hi) }, nil
	case warehouse.KindDecimal:
		return decimalConverter(t, base), nil
	case warehouse.KindFloat:
		return convFloat, nil
	case warehouse.KindBoolean:
		return convBool, nil
	case warehouse.KindDate:
		return convDate, nil
	case warehouse.KindTime:
		return convTime, nil
	case warehouse.KindTimestamp:
		return convTimestamp, nil
	case warehouse.KindTimestampTZ:
		return convTimestampTZ, nil
	case warehouse.KindJSON:
		return convJSON, nil
	case warehouse.KindBinary:
		return convBinary, nil
	case warehouse.KindArray:
		if t.Elem == nil {
			return nil, errors.New("array type without an element type")
		}
		elem, err := loadConverter(*t.Elem)
		if err != nil {
			return nil, err
		}
		return arrayConverter(elem), nil
	}
	// No portable kind: the driver's own conversion.
	return convNative, nil
}

func typeErr(v any, want string) error {
	return fmt.Errorf("cannot use %T as %s", v, want)
}

func convString(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return nil, errors.New("string is not valid UTF-8")
		}
		return v, nil
	case []byte:
		if !utf8.Valid(x) {
			return nil, errors.New("string is not valid UTF-8")
		}
		return string(x), nil // a copy: the producer may reuse x
	}
	return nil, typeErr(v, "a string")
}

func convUUID(v any) (any, error) {
	switch x := v.(type) {
	case string:
		var u duckdb.UUID
		if err := u.Scan(x); err != nil {
			return nil, fmt.Errorf("invalid UUID %.40q: %w", x, err)
		}
		return u, nil
	case []byte:
		var u duckdb.UUID
		if err := u.Scan(x); err != nil {
			return nil, fmt.Errorf("invalid UUID: %w", err)
		}
		return u, nil
	case [16]byte:
		return duckdb.UUID(x), nil
	case duckdb.UUID, *duckdb.UUID:
		return v, nil
	}
	return nil, typeErr(v, "a UUID")
}

// intRange is the range of values a DuckDB integer column holds.
func intRange(base string, bits int) (lo, hi int64) {
	switch base {
	case "TINYINT", "INT1":
		return math.MinInt8, math.MaxInt8
	case "UTINYINT", "UINT8":
		return 0, math.MaxUint8
	case "SMALLINT", "INT2", "INT16", "SHORT":
		return math.MinInt16, math.MaxInt16
	case "USMALLINT", "UINT16":
		return 0, math.MaxUint16
	case "INTEGER", "INT", "INT4", "INT32", "SIGNED":
		return math.MinInt32, math.MaxInt32
	case "UINTEGER", "UINT32":
		return 0, math.MaxUint32
	}
	switch bits {
	case 16:
		return math.MinInt16, math.MaxInt16
	case 32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func convInteger(v any, lo, hi int64) (any, error) {
	if _, ok := v.(int64); ok && lo == math.MinInt64 && hi == math.MaxInt64 {
		return v, nil
	}
	i, ok := warehouse.ToInt64(v)
	if !ok {
		if _, isUint := v.(uint64); isUint {
			return nil, fmt.Errorf("%v is out of range %d..%d", v, lo, hi)
		}
		if _, isUint := v.(uint); isUint {
			return nil, fmt.Errorf("%v is out of range %d..%d", v, lo, hi)
		}
		return nil, typeErr(v, "an integer")
	}
	if i < lo || i > hi {
		return nil, fmt.Errorf("%d is out of range %d..%d", i, lo, hi)
	}
	// The appender converts every Go integer type itself.
	return v, nil
}

func convFloat(v any) (any, error) {
	switch v.(type) {
	case float64, float32, int64, int, int32, int16, int8, uint64, uint, uint32, uint16, uint8:
		return v, nil
	}
	return nil, typeErr(v, "a float")
}

func convBool(v any) (any, error) {
	if _, ok := v.(bool); ok {
		return v, nil
	}
	return nil, typeErr(v, "a boolean")
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case *time.Time:
		if x != nil {
			return *x, true
		}
	}
	return time.Time{}, false
}

// convDate takes the calendar date of the value's wall clock.
func convDate(v any) (any, error) {
	t, ok := asTime(v)
	if !ok {
		return nil, typeErr(v, "a date (time.Time)")
	}
	y, m, d := t.Date()
	if _, isT := v.(time.Time); isT && t.Location() == time.UTC {
		if h, mi, s := t.Clock(); h == 0 && mi == 0 && s == 0 && t.Nanosecond() == 0 {
			return v, nil
		}
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// convTime keeps the value's clock; the appender reads it in the value's
// own location.
func convTime(v any) (any, error) { return timeValue(v, "a time of day (time.Time)") }

// timeValue passes a time.Time (or a non-nil *time.Time) through unchanged.
func timeValue(v any, want string) (any, error) {
	if _, isT := v.(time.Time); isT {
		return v, nil // already boxed: no new allocation
	}
	if t, ok := asTime(v); ok {
		return t, nil
	}
	return nil, typeErr(v, want)
}

// convTimestamp stores the value's wall clock: the appender stores the
// instant, so a value outside UTC is moved to the UTC instant of the same
// wall clock.
func convTimestamp(v any) (any, error) {
	t, ok := asTime(v)
	if !ok {
		return nil, typeErr(v, "a timestamp (time.Time)")
	}
	if t.Location() == time.UTC {
		if _, isT := v.(time.Time); isT {
			return v, nil
		}
		return t, nil
	}
	return warehouse.WallClockUTC(t), nil
}

func convTimestampTZ(v any) (any, error) {
	return timeValue(v, "a timestamp with time zone (time.Time)")
}

func convJSON(v any) (any, error) {
	raw, err := warehouse.ToJSON(v)
	if err != nil {
		return nil, err
	}
	switch v.(type) {
	case []byte, json.RawMessage:
		raw = bytes.Clone(raw) // the producer may reuse its buffer
	}
	// duckdb-go marshals what a JSON column gets; a RawMessage goes in as is.
	return raw, nil
}

func convBinary(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		return bytes.Clone(x), nil // the producer may reuse x
	case string:
		return v, nil
	}
	return nil, typeErr(v, "bytes")
}

// convNative passes a value for a column without portable kind to
// duckdb-go as it is, copying byte slices.
func convNative(v any) (any, error) {
	if b, ok := v.([]byte); ok {
		return bytes.Clone(b), nil
	}
	return v, nil
}

// arrayConverter converts a []any (or any other slice) element by element
// into a new []any.
func arrayConverter(elem converter) converter {
	conv := func(i int, e any) (any, error) {
		if e == nil {
			return nil, nil
		}
		c, err := elem(e)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		return c, nil
	}
	return func(v any) (any, error) {
		var out []any
		if s, ok := v.([]any); ok {
			out = make([]any, 0, len(s))
			for i, e := range s {
				c, err := conv(i, e)
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
		} else {
			rv := reflect.ValueOf(v)
			if k := rv.Kind(); k != reflect.Slice && k != reflect.Array {
				return nil, typeErr(v, "an array ([]any)")
			}
			for i := range rv.Len() {
				ev := rv.Index(i)
				var e any
				if k := ev.Kind(); (k != reflect.Pointer && k != reflect.Interface && k != reflect.Slice && k != reflect.Map) || !ev.IsNil() {
					e = ev.Interface()
				}
				c, err := conv(i, e)
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
}

// decimalConverter converts to the unscaled integer that the appender stores
// for a DECIMAL(p,s) column (an int64 up to 18 digits, else an int64 or a
// *big.Int), and to uint64 for UBIGINT and *big.Int for HUGEINT columns.
// Values with more fractional digits than the scale are rounded half away
// from zero, as DuckDB's casts do; values with too many digits fail.
func decimalConverter(t warehouse.Type, base string) converter {
	prec, scale := t.Precision, t.Scale
	if prec < 1 || prec > 38 {
		prec = 38
	}
	unsigned := base == "UBIGINT" || base == "UINT64" || base == "UHUGEINT" || base == "UINT128"
	small := prec <= 18 && base != "UBIGINT" && base != "UINT64"
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec)), nil) // exclusive
	if base == "UBIGINT" || base == "UINT64" {
		limit = new(big.Int).Lsh(big.NewInt(1), 64)
	}
	var limit64 int64 = math.MaxInt64
	if prec <= 18 {
		limit64 = limit.Int64()
	}
	return func(v any) (any, error) {
		// Fast path: an integer into a column of scale 0.
		if scale == 0 {
			if i, ok := v.(int64); ok && (!unsigned || i >= 0) && i > -limit64 && i < limit64 {
				if base == "UBIGINT" || base == "UINT64" {
					return uint64(i), nil
				}
				return v, nil
			}
		}
		d, err := warehouse.ToDecimal(v)
		if err != nil {
			return nil, err
		}
		u := d.Unscaled
		if u == nil {
			u = new(big.Int)
		}
		switch {
		case d.Scale < scale:
			u = new(big.Int).Mul(u, pow10(scale-d.Scale))
		case d.Scale > scale:
			u = roundDiv(u, pow10(d.Scale-scale))
		}
		if unsigned && u.Sign() < 0 {
			return nil, fmt.Errorf("%s is negative; the column is unsigned", d)
		}
		if new(big.Int).Abs(u).Cmp(limit) >= 0 {
			return nil, fmt.Errorf("%s does not fit decimal(%d,%d)", d, prec, scale)
		}
		switch {
		case base == "UBIGINT" || base == "UINT64":
			return u.Uint64(), nil
		case small || u.IsInt64():
			return u.Int64(), nil
		case u == d.Unscaled:
			return new(big.Int).Set(u), nil // the producer may change d
		}
		return u, nil
	}
}

var pow10s [39]*big.Int

func init() {
	p := big.NewInt(1)
	for i := range pow10s {
		pow10s[i] = new(big.Int).Set(p)
		p.Mul(p, big.NewInt(10))
	}
}

func pow10(n int) *big.Int {
	if n < len(pow10s) {
		return pow10s[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// roundDiv returns u / d rounded half away from zero.
func roundDiv(u, d *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(u, d, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(d) >= 0 {
		if u.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// marshalJSON encodes v without escaping HTML characters.
func marshalJSON(v any) (json.RawMessage, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(strings.TrimSuffix(b.String(), "\n")), nil
}
