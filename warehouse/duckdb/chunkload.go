package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dataopskit/dataops/warehouse"
)

// The chunk load path.
//
// DuckDB's appender, as duckdb-go drives it, costs a type switch per value
// and a call per row; most of a bulk load's CPU went there. Load instead
// runs one INSERT INTO t SELECT … FROM dataops_load(id) per load:
// dataops_load is a table function (registered once per database) whose
// DuckDB thread takes whole batches of typed Go columns that Load's
// goroutine converted from the rows, as they are ready, and writes them
// into DuckDB's 2048-row data chunks column by column, straight into the
// vectors' memory (chunkraw.go). TIMESTAMP values travel as microseconds
// and DATE values as days, which SQL in the INSERT's projection turns back
// into their types (cheap casts); TIMESTAMPTZ values are microseconds
// since the epoch, DuckDB's own form.
//
// One statement per load, not one per few batches: DuckDB appends a
// statement's rows to the transaction's storage and writes full row groups
// as they fill, while statements of a few thousand rows each cost twice the
// CPU (measured: 250k-row commits of 14 columns, 1.07 s per 1M rows in one
// statement against 2.47 s in 32k-row statements).
//
// Tables with a column the chunk path has no carrier for (arrays, UUID,
// ENUM, TIME, UBIGINT, HUGEINT, the TIMESTAMP_S/_MS/_NS variants, DuckDB-only
// types) go through the appender.

// loadFuncName is the name of the table function behind the chunk path.
const loadFuncName = "dataops_load"

var (
	// chunkLoads maps the id a dataops_load call is bound with to its load.
	chunkLoads   sync.Map // int64 → *chunkLoad
	chunkLoadSeq atomic.Int64
)

// registerLoadFunc registers dataops_load in db's DuckDB instance. Opens of
// the same file share the instance, so a function that already exists is
// the one an earlier Open registered.
func registerLoadFunc(ctx context.Context, db *sql.DB) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	bigint, err := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	if err != nil {
		return err
	}
	err = duckdb.RegisterTableUDF(c, loadFuncName, duckdb.ChunkTableFunction{
		Config:        duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{bigint}},
		BindArguments: bindChunkLoad,
	})
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "already exists") {
		return nil
	}
	return err
}

// bindChunkLoad binds dataops_load(id) to the load registered under id.
func bindChunkLoad(_ map[string]any, args ...any) (duckdb.ChunkTableSource, error) {
	if len(args) != 1 {
		return nil, errors.New("dataops_load takes one argument")
	}
	id, ok := args[0].(int64)
	if !ok {
		return nil, fmt.Errorf("dataops_load: argument is %T, not BIGINT", args[0])
	}
	l, ok := chunkLoads.Load(id)
	if !ok {
		return nil, fmt.Errorf("dataops_load: no load %d in progress", id)
	}
	return l.(*chunkLoad), nil
}

// carrier is how a column's values travel from the producer to DuckDB.
type carrier uint8

const (
	carInt     carrier = iota // int64, into BIGINT (cast by the INSERT)
	carFloat                  // float64, into DOUBLE
	carBool                   // bool, into BOOLEAN
	carString                 // bytes in the batch's arena, into VARCHAR (also JSON text)
	carBlob                   // bytes in the batch's arena, into BLOB
	carDec                    // int64 unscaled, into DECIMAL(p≤18, s)
	carBigDec                 // int64 or *big.Int unscaled, into DECIMAL(p>18, s)
	carDays                   // int64 days since 1970-01-01, into DATE by SQL
	carMicros                 // int64 µs since 1970-01-01 (wall clock), into TIMESTAMP by SQL
	carInstant                // int64 µs since 1970-01-01 UTC, into TIMESTAMPTZ
)

// chunkCol is the plan for one loaded column.
type chunkCol struct {
	car     carrier
	name    string // the table's spelling
	info    duckdb.TypeInfo
	prec    int // carDec, carBigDec
	scale   int
	lo, hi  int64 // carInt
	decConv converter
	isJSON  bool
	f32     bool // carFloat into FLOAT
}

// chunkPlan returns the plan of a chunk load of cols (matched to the table's
// columns, whose types they carry), or ok false when a column has no carrier.
func chunkPlan(cols []warehouse.Column) (plan []chunkCol, ok bool) {
	plan = make([]chunkCol, len(cols))
	for i, c := range cols {
		p := &plan[i]
		p.name = c.Name
		base := nativeBase(c.Type)
		var t duckdb.Type
		switch c.Type.Kind {
		case warehouse.KindString:
			if base == "UUID" || base == "ENUM" {
				return nil, false
			}
			p.car, t = carString, duckdb.TYPE_VARCHAR
		case warehouse.KindJSON:
			p.car, t, p.isJSON = carString, duckdb.TYPE_VARCHAR, true
		case warehouse.KindBinary:
			p.car, t = carBlob, duckdb.TYPE_BLOB
		case warehouse.KindInteger:
			p.car, t = carInt, duckdb.TYPE_BIGINT
			p.lo, p.hi = intRange(base, c.Type.Bits)
		case warehouse.KindFloat:
			p.car, t = carFloat, duckdb.TYPE_DOUBLE
			if base == "FLOAT" || base == "REAL" || base == "FLOAT4" || (base == "" && c.Type.Bits == 32) {
				t = duckdb.TYPE_FLOAT // converted as the appender does
				p.f32 = true
			}
		case warehouse.KindBoolean:
			p.car, t = carBool, duckdb.TYPE_BOOLEAN
		case warehouse.KindDate:
			if base != "DATE" {
				return nil, false
			}
			p.car, t = carDays, duckdb.TYPE_BIGINT
		case warehouse.KindTimestamp:
			if base != "TIMESTAMP" && base != "DATETIME" && base != "TIMESTAMP WITHOUT TIME ZONE" {
				return nil, false
			}
			p.car, t = carMicros, duckdb.TYPE_BIGINT
		case warehouse.KindTimestampTZ:
			if base != "TIMESTAMPTZ" && base != "TIMESTAMP WITH TIME ZONE" {
				return nil, false
			}
			p.car, t = carInstant, duckdb.TYPE_TIMESTAMP_TZ
		case warehouse.KindDecimal:
			if base != "DECIMAL" && base != "NUMERIC" {
				return nil, false
			}
			prec, scale := c.Type.Precision, c.Type.Scale
			if prec < 1 || prec > 38 || scale < 0 || scale > prec {
				return nil, false
			}
			p.prec, p.scale = prec, scale
			p.decConv = decimalConverter(c.Type, base)
			info, err := duckdb.NewDecimalInfo(uint8(prec), uint8(scale))
			if err != nil {
				return nil, false
			}
			p.info = info
			p.car = carDec
			if prec > 18 {
				p.car = carBigDec
			}
			continue
		default:
			return nil, false
		}
		info, err := duckdb.NewTypeInfo(t)
		if err != nil {
			return nil, false
		}
		p.info = info
	}
	return plan, true
}

// selectList renders the INSERT's projection of dataops_load's columns
// c0, c1, … into the table's types.
func selectList(plan []chunkCol) string {
	var b strings.Builder
	for i, p := range plan {
		if i > 0 {
			b.WriteString(", ")
		}
		c := "c" + strconv.Itoa(i)
		switch p.car {
		case carDays:
			b.WriteString("CAST('1970-01-01' AS DATE) + CAST(" + c + " AS INTEGER)")
		case carMicros:
			b.WriteString("make_timestamp(" + c + ")")
		default:
			b.WriteString(c)
		}
	}
	return b.String()
}

// colBuf holds one column of a batch; only the slice of its carrier is used.
type colBuf struct {
	null    []bool
	hasNull bool // some row of the batch is NULL
	i64     []int64
	f64     []float64
	b       []bool
	bs      [][]byte // carString, carBlob: slices of arena
	a       []any
	// arena holds the bytes of the batch's strings: one copy per value
	// (the producer may reuse its buffers) without an allocation each.
	arena []byte
}

type colBatch struct {
	n    int
	cols []colBuf
}

func newColBatch(plan []chunkCol) *colBatch {
	b := &colBatch{cols: make([]colBuf, len(plan))}
	for i, p := range plan {
		c := &b.cols[i]
		c.null = make([]bool, batchRows)
		switch p.car {
		case carInt, carDec, carDays, carMicros, carInstant:
			c.i64 = make([]int64, batchRows)
		case carFloat:
			c.f64 = make([]float64, batchRows)
		case carBool:
			c.b = make([]bool, batchRows)
		case carString, carBlob:
			c.bs = make([][]byte, batchRows)
		case carBigDec:
			c.a = make([]any, batchRows)
		}
	}
	return b
}

// reset empties the batch for reuse.
func (b *colBatch) reset() {
	b.n = 0
	for i := range b.cols {
		c := &b.cols[i]
		c.hasNull = false
		if c.bs != nil {
			clear(c.bs)
			if cap(c.arena) > 1<<20 {
				c.arena = nil // a batch of huge values: do not keep it
			}
			c.arena = c.arena[:0]
		}
	}
}

// chunkLoad is one running chunk load: the table function's source.
//
// One execution of the INSERT takes every batch of the load: FillChunk
// waits for the producer's next batch, and ends the table when the
// producer closes ready (or stop closes: the load failed).
type chunkLoad struct {
	plan  []chunkCol
	infos []duckdb.ColumnInfo

	ready chan *colBatch // batches converted, in order
	free  chan *colBatch // batches written, for reuse
	stop  chan struct{}  // closed when the load fails: end the table
}

// loadBatches is the number of converted batches that may wait for DuckDB.
const loadBatches = 2

// ColumnInfos implements duckdb.ChunkTableSource.
func (l *chunkLoad) ColumnInfos() []duckdb.ColumnInfo { return l.infos }

// Cardinality implements duckdb.ChunkTableSource: unknown.
func (l *chunkLoad) Cardinality() *duckdb.CardinalityInfo { return nil }

// Init implements duckdb.ChunkTableSource.
func (l *chunkLoad) Init() {}

// FillChunk implements duckdb.ChunkTableSource: it writes the next batch
// into chunk, or ends the table once the producer is done.
func (l *chunkLoad) FillChunk(chunk duckdb.DataChunk) error {
	var b *colBatch
	select {
	case b = <-l.ready:
	case <-l.stop:
	}
	if b == nil {
		return chunk.SetSize(0)
	}
	n := b.n
	if err := l.fillRaw(&chunk, b); err != nil {
		return err
	}
	b.reset()
	l.free <- b
	return chunk.SetSize(n)
}

// writeColumn writes one column of a batch through duckdb-go's typed setter.
func writeColumn[T any](chunk duckdb.DataChunk, c int, vals []T, null []bool) error {
	for r, v := range vals {
		var err error
		if null[r] {
			err = duckdb.SetChunkValue[any](chunk, c, r, nil)
		} else {
			err = duckdb.SetChunkValue(chunk, c, r, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// put converts v (not nil) for column p and stores it in row r of cb.
func (p *chunkCol) put(v any, cb *colBuf, r int) error {
	switch p.car {
	case carInt:
		i, ok := v.(int64)
		if !ok {
			var conv bool
			if i, conv = warehouse.ToInt64(v); !conv {
				switch v.(type) {
				case uint64, uint:
					return fmt.Errorf("%v is out of range %d..%d", v, p.lo, p.hi)
				}
				return typeErr(v, "an integer")
			}
		}
		if i < p.lo || i > p.hi {
			return fmt.Errorf("%d is out of range %d..%d", i, p.lo, p.hi)
		}
		cb.i64[r] = i
	case carFloat:
		switch x := v.(type) {
		case float64:
			cb.f64[r] = x
		case float32:
			cb.f64[r] = float64(x)
		default:
			i, ok := warehouse.ToInt64(v)
			if !ok {
				if u, isU := v.(uint64); isU {
					cb.f64[r] = float64(u)
					return nil
				}
				if u, isU := v.(uint); isU {
					cb.f64[r] = float64(u)
					return nil
				}
				return typeErr(v, "a float")
			}
			cb.f64[r] = float64(i)
		}
	case carBool:
		x, ok := v.(bool)
		if !ok {
			return typeErr(v, "a boolean")
		}
		cb.b[r] = x
	case carString:
		if p.isJSON {
			return cb.putJSON(v, r)
		}
		switch x := v.(type) {
		case string:
			if !utf8.ValidString(x) {
				return errors.New("string is not valid UTF-8")
			}
			cb.putBytes(r, x)
		case []byte:
			if !utf8.Valid(x) {
				return errors.New("string is not valid UTF-8")
			}
			cb.putBytes(r, x)
		default:
			return typeErr(v, "a string")
		}
	case carBlob:
		switch x := v.(type) {
		case []byte:
			cb.putBytes(r, x)
		case string:
			cb.putBytes(r, x)
		default:
			return typeErr(v, "bytes")
		}
	case carDec, carBigDec:
		if p.car == carDec {
			if u, ok := p.fastDecimal(v); ok {
				cb.i64[r] = u
				return nil
			}
		}
		u, err := p.decConv(v)
		if err != nil {
			return err
		}
		if p.car == carBigDec {
			cb.a[r] = u
			return nil
		}
		i, ok := u.(int64)
		if !ok {
			return fmt.Errorf("%v does not fit decimal(%d,%d)", v, p.prec, p.scale)
		}
		cb.i64[r] = i
	case carDays:
		t, ok := asTime(v)
		if !ok {
			return typeErr(v, "a date (time.Time)")
		}
		y, m, d := t.Date()
		days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		if days < math.MinInt32 || days > math.MaxInt32 {
			return fmt.Errorf("date %v is out of range", t)
		}
		cb.i64[r] = days
	case carMicros:
		t, ok := asTime(v)
		if !ok {
			return typeErr(v, "a timestamp (time.Time)")
		}
		if y := t.Year(); y < -290307 || y > 294246 {
			return fmt.Errorf("timestamp %v is out of range", t)
		}
		us := t.UnixMicro()
		if t.Location() != time.UTC {
			// The wall clock: shift the instant by the zone's offset.
			_, off := t.Zone()
			us += int64(off) * 1_000_000
		}
		cb.i64[r] = us
	case carInstant:
		t, ok := asTime(v)
		if !ok {
			return typeErr(v, "a timestamp with time zone (time.Time)")
		}
		if y := t.Year(); y < -290307 || y > 294246 {
			return fmt.Errorf("timestamp %v is out of range", t)
		}
		cb.i64[r] = t.UnixMicro()
	}
	return nil
}

// putBytes stores a copy of b (a string or a []byte) as row r's value.
func (cb *colBuf) putBytes(r int, b any) {
	start := len(cb.arena)
	switch x := b.(type) {
	case string:
		cb.arena = append(cb.arena, x...)
	case []byte:
		cb.arena = append(cb.arena, x...)
	}
	// Earlier values keep the array they were appended to if append moved
	// the arena: they stay valid.
	cb.bs[r] = cb.arena[start:len(cb.arena):len(cb.arena)]
}

// putJSON validates v as JSON (marshalling values other than JSON text) and
// stores it as duckdb-go stores JSON: compacted, with <, > and & escaped.
func (cb *colBuf) putJSON(v any, r int) error {
	var raw []byte
	var valid, compact bool
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
		valid, compact = scanJSON(raw)
	case []byte:
		raw = x
		valid, compact = scanJSON(raw)
	case string:
		valid, compact = scanJSON(x)
		if valid && compact {
			cb.putBytes(r, x)
			return nil
		}
		raw = []byte(x)
	default:
		m, err := warehouse.ToJSON(v) // marshalled: compact, HTML escaped
		if err != nil {
			return err
		}
		cb.putBytes(r, []byte(m))
		return nil
	}
	if !valid {
		return fmt.Errorf("value is not valid JSON: %.40q", raw)
	}
	if !compact {
		c, err := json.Marshal(json.RawMessage(raw))
		if err != nil {
			return err
		}
		raw = c
	}
	cb.putBytes(r, raw)
	return nil
}

// loadChunks runs the chunk load of rows into rel's columns names, planned
// by plan, on conn: the caller's goroutine converts rows into batches, and
// one execution of the INSERT, on a second goroutine, takes them as they
// are ready (FillChunk waits for the next batch).
func (e *Engine) loadChunks(ctx context.Context, conn *duckdb.Conn, rel warehouse.Relation, names []string, plan []chunkCol, rows iter.Seq2[[]any, error]) (int64, error) {
	l := &chunkLoad{plan: plan, infos: make([]duckdb.ColumnInfo, len(plan)),
		ready: make(chan *colBatch, loadBatches), free: make(chan *colBatch, loadBatches+1), stop: make(chan struct{})}
	for i, p := range plan {
		l.infos[i] = duckdb.ColumnInfo{Name: "c" + strconv.Itoa(i), T: p.info}
	}
	id := chunkLoadSeq.Add(1)
	chunkLoads.Store(id, l)
	defer chunkLoads.Delete(id)

	d := Dialect{}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = d.QuoteIdentifier(n)
	}
	query := "INSERT INTO " + d.QuoteRelation(rel) + " (" + strings.Join(quoted, ", ") + ") SELECT " +
		selectList(plan) + " FROM " + loadFuncName + "(" + strconv.FormatInt(id, 10) + ")"
	raw := rawConnOf(conn)
	done := make(chan struct{})
	var execErr error
	var stopOnce sync.Once
	stopFill := func() { stopOnce.Do(func() { close(l.stop) }) }
	go func() {
		defer close(done)
		if err := execRaw(ctx, raw, query, stopFill); err != nil {
			execErr = &duckdb.Error{Type: duckdb.ErrorTypeInvalid, Msg: err.Error()}
		}
	}()
	halt := func() {
		stopFill()
		<-done
	}
	defer halt() // failed, or the producer panicked: insert nothing more
	fail := func(err error) error {
		halt()
		return err
	}
	// execFailed returns the statement's error once it has ended early.
	execFailed := func() error {
		<-done
		if execErr != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("duckdb: load: %w", cerr)
			}
			return fmt.Errorf("duckdb: load: %w", execErr)
		}
		return errors.New("duckdb: load: the insert ended before its input")
	}

	ncol := len(plan)
	made := 0
	var cur *colBatch
	take := func() error {
		select {
		case cur = <-l.free:
			return nil
		default:
		}
		if made < loadBatches+1 {
			made++
			cur = newColBatch(plan)
			return nil
		}
		select {
		case cur = <-l.free:
			return nil
		case <-done:
			return execFailed()
		}
	}
	send := func() error {
		select {
		case l.ready <- cur:
			cur = nil
			return nil
		case <-done:
			return execFailed()
		}
	}
	if err := take(); err != nil {
		return 0, err
	}
	var n int64
	for row, err := range rows {
		if err != nil {
			return n, fail(fmt.Errorf("duckdb: load: after row %d: %w", n, err))
		}
		if len(row) != ncol {
			return n, fail(fmt.Errorf("duckdb: load: row %d has %d values, want %d (%s)", n+1, len(row), ncol, strings.Join(names, ", ")))
		}
		r := cur.n
		for i, v := range row {
			cb := &cur.cols[i]
			if v == nil {
				cb.null[r] = true
				cb.hasNull = true
				continue
			}
			cb.null[r] = false
			if err := plan[i].put(v, cb, r); err != nil {
				return n, fail(fmt.Errorf("duckdb: load: row %d, column %q: %w", n+1, names[i], err))
			}
		}
		cur.n++
		n++
		if cur.n == batchRows {
			if err := ctx.Err(); err != nil {
				return n, fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
			}
			if err := send(); err != nil {
				return n, err
			}
			if err := take(); err != nil {
				return n, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return n, fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
	}
	if cur.n > 0 {
		if err := send(); err != nil {
			return n, err
		}
	}
	close(l.ready)
	<-done
	if execErr != nil {
		return n, execFailed()
	}
	return n, nil
}

// fastDecimal returns the unscaled int64 of v in a DECIMAL(p≤18, s) column
// when v is an int64 or a warehouse.Decimal of at most s fractional digits
// whose digits fit an int64; ok false leaves v to the general converter
// (rounding, big values, errors).
func (p *chunkCol) fastDecimal(v any) (u int64, ok bool) {
	var x int64
	var shift int
	switch d := v.(type) {
	case int64:
		x, shift = d, p.scale
	case warehouse.Decimal:
		if d.Unscaled == nil || !d.Unscaled.IsInt64() || d.Scale > p.scale || d.Scale < 0 {
			return 0, false
		}
		x, shift = d.Unscaled.Int64(), p.scale-d.Scale
	default:
		return 0, false
	}
	limit := pow10i64[p.prec] // exclusive bound of the column's values
	if shift >= len(pow10i64) {
		return 0, false
	}
	m := pow10i64[shift]
	if x >= limit || x <= -limit || (x != 0 && (x > (limit-1)/m || x < -(limit-1)/m)) {
		return 0, false
	}
	return x * m, true
}

// pow10i64[n] is 10ⁿ for n ≤ 18.
var pow10i64 = func() (t [19]int64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()
