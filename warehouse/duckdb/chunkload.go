package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dataopskit/dataops/warehouse"
)

// The chunk load path.
//
// DuckDB's appender, as duckdb-go drives it, costs a type switch per value
// and a call per row; most of a bulk load's CPU went there. Load instead
// runs one INSERT INTO t SELECT … FROM dataops_load(id) per load:
// dataops_load is a table function (registered once per database) whose
// DuckDB threads (one, or several: chunkthreads.go) take whole batches of
// typed Go columns that Load's goroutine converted from the rows, as they
// are ready, and write them into DuckDB's 2048-row data chunks column by
// column, straight into the vectors' memory (chunkraw.go). TIMESTAMP values travel as microseconds
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
// A UUID column takes a UUID's text (or its 16 bytes) and gets DuckDB's
// 16-byte value, so that a table of unique ids costs no string storage.
// Tables with a column the chunk path has no carrier for (arrays,
// ENUM, TIME, UBIGINT, HUGEINT, the TIMESTAMP_S/_MS/_NS variants, DuckDB-only
// types) go through the appender.

// loadFuncName is the name of the table function behind the chunk path.
const loadFuncName = "dataops_load"

var (
	// chunkLoads maps the id a dataops_load call is bound with to its load.
	chunkLoads   sync.Map // int64 → *chunkLoad
	chunkLoadSeq atomic.Int64
	// lastLoadThreads is the threads of the last chunk load (for tests).
	lastLoadThreads atomic.Int32
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
	jsonTypeOnce.Do(func() { jsonType = typeInfoOf(ctx, c, "SELECT CAST(NULL AS JSON)") })
	err = duckdb.RegisterTableUDF(c, loadFuncName, duckdb.ParallelChunkTableFunction{
		Config:        duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{bigint}},
		BindArguments: bindChunkLoad,
	})
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "already exists") {
		return nil
	}
	return err
}

// jsonType is DuckDB's JSON type (VARCHAR with the alias JSON), the type
// dataops_load gives JSON columns, so that the INSERT takes their text as
// it is: a VARCHAR column would be cast, and the cast parses every value
// again (with yyjson), when the chunk path has checked it already. nil if
// it could not be had: JSON columns travel as VARCHAR then.
var (
	jsonType     duckdb.TypeInfo
	jsonTypeOnce sync.Once
)

// typeInfoOf returns the type of the only column of query, or nil.
func typeInfoOf(ctx context.Context, c *sql.Conn, query string) duckdb.TypeInfo {
	var info duckdb.TypeInfo
	_ = c.Raw(func(dc any) error {
		conn, ok := dc.(*duckdb.Conn)
		if !ok {
			return nil
		}
		st, err := conn.PrepareContext(ctx, query)
		if err != nil {
			return nil
		}
		defer st.Close()
		if ds, ok := st.(*duckdb.Stmt); ok {
			info, _ = ds.ColumnTypeInfo(0)
		}
		return nil
	})
	return info
}

// bindChunkLoad binds dataops_load(id) to the load registered under id.
func bindChunkLoad(_ map[string]any, args ...any) (duckdb.ParallelChunkTableSource, error) {
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
	carUUID                   // a UUID's text (or its 16 bytes), into UUID as DuckDB's 128-bit value
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
			switch base {
			case "UUID":
				p.car, t = carUUID, duckdb.TYPE_UUID
			case "ENUM":
				return nil, false
			default:
				p.car, t = carString, duckdb.TYPE_VARCHAR
			}
		case warehouse.KindJSON:
			p.car, t, p.isJSON = carString, duckdb.TYPE_VARCHAR, true
			if jsonType != nil {
				p.info = jsonType
				continue
			}
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
	bs      [][]byte  // carString, carBlob: slices of arena
	u128    []uuid128 // carUUID
	a       []any
	// arena holds the bytes of the batch's strings: one copy per value
	// (the producer may reuse its buffers) without an allocation each.
	arena []byte
}

type colBatch struct {
	n    int
	cols []colBuf
	// isView: the columns are slices of a warehouse.ColumnBatch (but for
	// JSON columns, whose compacted text the batch holds in its own arena).
	isView bool
}

// sameBytes reports whether a and b are the same bytes in memory (not
// just equal ones).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// newViewBatch returns a batch for views of column batches (see view).
func newViewBatch(plan []chunkCol) *colBatch {
	b := &colBatch{cols: make([]colBuf, len(plan)), isView: true}
	for i, p := range plan {
		c := &b.cols[i]
		switch {
		case p.isJSON:
			c.bs, c.null, c.arena = make([][]byte, batchRows), make([]bool, batchRows), []byte{}
		case p.car == carUUID:
			c.u128 = make([]uuid128, batchRows)
		}
	}
	return b
}

// view points v at rows off..off+n-1 of b, a batch of the columns of plan
// (n ≤ batchRows). JSON text is checked and made compact into v's own
// arena, as put does; strings are checked to be UTF-8.
func (v *colBatch) view(plan []chunkCol, b *warehouse.ColumnBatch, off, n int) error {
	v.n = n
	end := off + n
	for i := range plan {
		p, c, cb := &plan[i], &b.Cols[i], &v.cols[i]
		var null []bool
		if c.Null != nil {
			if len(c.Null) < end {
				return fmt.Errorf("column %q: %d NULL flags for %d rows", p.name, len(c.Null), b.Len)
			}
			null = c.Null[off:end]
		}
		short := func(have int) error {
			if have < end {
				return fmt.Errorf("column %q: %d values for %d rows", p.name, have, b.Len)
			}
			return nil
		}
		if p.isJSON {
			if err := short(len(c.Bytes)); err != nil {
				return err
			}
			cb.arena = cb.arena[:0]
			var prev []byte // the last value checked
			prevRow := -1
			for r := range n {
				if null != nil && null[r] {
					cb.null[r], cb.hasNull = true, true
					continue
				}
				cb.null[r] = false
				v := c.Bytes[off+r]
				if prevRow >= 0 && sameBytes(v, prev) {
					// The producer's same value again (a staging
					// load's shared _airbyte_meta): checked already.
					cb.bs[r] = cb.bs[prevRow]
					continue
				}
				if err := cb.putJSON(json.RawMessage(v), r); err != nil {
					return fmt.Errorf("row %d, column %q: %w", off+r+1, p.name, err)
				}
				prev, prevRow = v, r
			}
			continue
		}
		cb.null, cb.hasNull = null, slices.Contains(null, true)
		var err error
		switch p.car {
		case carInt, carDays, carMicros, carInstant:
			if err = short(len(c.Int)); err == nil {
				cb.i64 = c.Int[off:end]
			}
		case carFloat:
			if err = short(len(c.Float)); err == nil && !p.f32 {
				cb.f64 = c.Float[off:end]
			}
		case carBool:
			if err = short(len(c.Bool)); err == nil {
				cb.b = c.Bool[off:end]
			}
		case carString, carBlob:
			if err = short(len(c.Bytes)); err == nil {
				cb.bs = c.Bytes[off:end]
			}
		case carUUID:
			if err = short(len(c.Bytes)); err != nil {
				break
			}
			for r := range n {
				if null != nil && null[r] {
					continue
				}
				if cb.u128[r], err = parseUUID(c.Bytes[off+r]); err != nil {
					err = fmt.Errorf("row %d, column %q: %w", off+r+1, p.name, err)
					break
				}
			}
		}
		if err != nil {
			return err
		}
		switch {
		case p.car == carString:
			for r, s := range cb.bs {
				if (null == nil || !null[r]) && !utf8.Valid(s) {
					return fmt.Errorf("row %d, column %q: string is not valid UTF-8", off+r+1, p.name)
				}
			}
		case p.car == carDec || p.car == carBigDec || (p.car == carFloat && p.f32) || (p.car == carInt && (p.lo != math.MinInt64 || p.hi != math.MaxInt64)):
			return fmt.Errorf("column %q has no column form", p.name)
		}
	}
	return nil
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
		case carUUID:
			c.u128 = make([]uuid128, batchRows)
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
		if b.isView && c.arena == nil {
			// A view of the producer's batch: let go of its slices (but
			// for the UUIDs parsed into the view's own buffer).
			*c = colBuf{u128: c.u128}
			continue
		}
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

	threads int          // the INSERT's threads at most (loadThreads)
	fillers atomic.Int32 // the threads that took part (for tests)
}

// loadBatches is the number of converted batches that may wait for DuckDB
// (a row load makes loadBatches more than the INSERT's threads: one for each
// thread writing, one being filled); maxLoadBatches bounds the batches of
// one load (LoadColumns' views).
const (
	loadBatches    = 2
	maxLoadBatches = 8
)

// ColumnInfos implements duckdb.ChunkTableSource.
func (l *chunkLoad) ColumnInfos() []duckdb.ColumnInfo { return l.infos }

// Cardinality implements duckdb.ChunkTableSource: unknown.
func (l *chunkLoad) Cardinality() *duckdb.CardinalityInfo { return nil }

// Init implements duckdb.ParallelChunkTableSource: the INSERT runs on up
// to l.threads threads.
func (l *chunkLoad) Init() duckdb.ParallelTableSourceInfo {
	return duckdb.ParallelTableSourceInfo{MaxThreads: l.threads}
}

// NewLocalState implements duckdb.ParallelChunkTableSource: it counts the
// threads that take batches; a thread keeps no state of its own.
func (l *chunkLoad) NewLocalState() any {
	l.fillers.Add(1)
	return nil
}

// FillChunk implements duckdb.ParallelChunkTableSource: it writes the next
// batch into chunk, or ends the table once the producer is done. Each of
// the INSERT's threads calls it; the batches go to whichever asks first.
func (l *chunkLoad) FillChunk(_ any, chunk duckdb.DataChunk) error {
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
	case carUUID:
		var err error
		switch x := v.(type) {
		case string:
			cb.u128[r], err = parseUUID(x)
		case []byte:
			cb.u128[r], err = parseUUID(x)
		case [16]byte:
			cb.u128[r] = uuidOf(x)
		case duckdb.UUID:
			cb.u128[r] = uuidOf(x)
		case *duckdb.UUID:
			cb.u128[r] = uuidOf(*x)
		default:
			return typeErr(v, "a UUID")
		}
		return err
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

// chunkRun is the INSERT of one chunk load, running on a goroutine of its
// own while the producer hands it batches (send) and takes back written
// ones (take).
type chunkRun struct {
	ctx     context.Context
	l       *chunkLoad
	made    int // batches made (take)
	done    chan struct{}
	execErr error // set before done closes
	stop    sync.Once
}

// startChunks prepares the INSERT of a chunk load of names (planned by
// plan) into rel and starts it on conn.
func startChunks(ctx context.Context, conn *duckdb.Conn, rel warehouse.Relation, names []string, plan []chunkCol) *chunkRun {
	threads := 1
	if s, err := readLoadSettings(ctx, conn); err == nil {
		threads = loadThreads(s, plan)
	}
	// free holds every batch a load can make (a row load's loadBatches+
	// threads, LoadColumns' maxLoadBatches): FillChunk never waits to hand
	// one back, which at the end of a load nobody would take.
	l := &chunkLoad{plan: plan, infos: make([]duckdb.ColumnInfo, len(plan)),
		ready: make(chan *colBatch, loadBatches), free: make(chan *colBatch, max(maxLoadBatches, loadBatches+threads)), stop: make(chan struct{}), threads: threads}
	for i, p := range plan {
		l.infos[i] = duckdb.ColumnInfo{Name: "c" + strconv.Itoa(i), T: p.info}
	}
	id := chunkLoadSeq.Add(1)
	chunkLoads.Store(id, l)
	d := Dialect{}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = d.QuoteIdentifier(n)
	}
	query := "INSERT INTO " + d.QuoteRelation(rel) + " (" + strings.Join(quoted, ", ") + ") SELECT " +
		selectList(plan) + " FROM " + loadFuncName + "(" + strconv.FormatInt(id, 10) + ")"
	r := &chunkRun{ctx: ctx, l: l, done: make(chan struct{})}
	raw := rawConnOf(conn)
	go func() {
		defer close(r.done)
		defer chunkLoads.Delete(id)
		defer func() { lastLoadThreads.Store(l.fillers.Load()) }()
		if err := execRaw(ctx, raw, query, r.stopFill); err != nil {
			r.execErr = &duckdb.Error{Type: duckdb.ErrorTypeInvalid, Msg: err.Error()}
		}
	}()
	return r
}

// stopFill makes FillChunk end the table: the load failed.
func (r *chunkRun) stopFill() { r.stop.Do(func() { close(r.l.stop) }) }

// halt ends the INSERT early (inserting nothing more) and waits for it.
func (r *chunkRun) halt() {
	r.stopFill()
	<-r.done
}

// fail halts the INSERT and returns err.
func (r *chunkRun) fail(err error) error {
	r.halt()
	return err
}

// failed returns the statement's error once it has ended early.
func (r *chunkRun) failed() error {
	<-r.done
	if r.execErr != nil {
		if cerr := r.ctx.Err(); cerr != nil {
			return fmt.Errorf("duckdb: load: %w", cerr)
		}
		return fmt.Errorf("duckdb: load: %w", r.execErr)
	}
	return errors.New("duckdb: load: the insert ended before its input")
}

// take returns a written batch, or makes one with mk while fewer than max
// exist; else it waits for one.
func (r *chunkRun) take(max int, mk func() *colBatch) (*colBatch, error) {
	select {
	case b := <-r.l.free:
		return b, nil
	default:
	}
	if r.made < max {
		r.made++
		return mk(), nil
	}
	select {
	case b := <-r.l.free:
		return b, nil
	case <-r.done:
		return nil, r.failed()
	}
}

// send hands b to the INSERT.
func (r *chunkRun) send(b *colBatch) error {
	select {
	case r.l.ready <- b:
		return nil
	case <-r.done:
		return r.failed()
	}
}

// finish ends the input and waits for the INSERT.
func (r *chunkRun) finish() error {
	close(r.l.ready)
	<-r.done
	if r.execErr != nil {
		return r.failed()
	}
	return nil
}

// loadChunks runs the chunk load of rows into rel's columns names, planned
// by plan, on conn: the caller's goroutine converts rows into batches, and
// one execution of the INSERT, on a second goroutine, takes them as they
// are ready (FillChunk waits for the next batch).
func (e *Engine) loadChunks(ctx context.Context, conn *duckdb.Conn, rel warehouse.Relation, names []string, plan []chunkCol, rows iter.Seq2[[]any, error]) (int64, error) {
	e.purgeBeforeLoad()
	run := startChunks(ctx, conn, rel, names, plan)
	defer run.halt() // failed, or the producer panicked: insert nothing more
	mk := func() *colBatch { return newColBatch(plan) }
	cur, err := run.take(loadBatches+run.l.threads, mk)
	if err != nil {
		return 0, err
	}
	ncol := len(plan)
	var n int64
	for row, err := range rows {
		if err != nil {
			return n, run.fail(fmt.Errorf("duckdb: load: after row %d: %w", n, err))
		}
		if len(row) != ncol {
			return n, run.fail(fmt.Errorf("duckdb: load: row %d has %d values, want %d (%s)", n+1, len(row), ncol, strings.Join(names, ", ")))
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
				return n, run.fail(fmt.Errorf("duckdb: load: row %d, column %q: %w", n+1, names[i], err))
			}
		}
		cur.n++
		n++
		if cur.n == batchRows {
			if err := ctx.Err(); err != nil {
				return n, run.fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
			}
			if err := run.send(cur); err != nil {
				return n, err
			}
			if cur, err = run.take(loadBatches+run.l.threads, mk); err != nil {
				return n, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return n, run.fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
	}
	if cur.n > 0 {
		if err := run.send(cur); err != nil {
			return n, err
		}
	}
	return n, run.finish()
}

// LoadColumns implements warehouse.ColumnLoader: the batches' columns go to
// DuckDB's vectors as they are (JSON text is checked and made compact, as
// Load does), in views of up to 2048 rows; LoadColumns waits until DuckDB
// has written a batch before it asks for the next. Tables the chunk path
// cannot carry get the batches' rows through Load.
func (e *Engine) LoadColumns(ctx context.Context, raw any, rel warehouse.Relation, cols []warehouse.Column, batches iter.Seq2[*warehouse.ColumnBatch, error]) (int64, error) {
	conn, ok := raw.(*duckdb.Conn)
	if !ok {
		return 0, fmt.Errorf("duckdb: load: connection is %T, not a DuckDB connection", raw)
	}
	types := make([]warehouse.Type, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		types[i], names[i] = c.Type, c.Name
	}
	plan, ok := chunkPlan(cols)
	if e.noChunks || !ok || !introspected(cols) {
		return e.Load(ctx, raw, rel, cols, warehouse.BatchRows(types, batches))
	}
	e.purgeBeforeLoad()
	run := startChunks(ctx, conn, rel, names, plan)
	defer run.halt()
	// Views are made as needed, up to maxLoadBatches; idle ones wait in
	// idle, and out counts those the INSERT has not handed back.
	var idle []*colBatch
	made, out := 0, 0
	view := func() (*colBatch, error) {
		if k := len(idle); k > 0 {
			v := idle[k-1]
			idle = idle[:k-1]
			return v, nil
		}
		if made < maxLoadBatches {
			made++
			return newViewBatch(plan), nil
		}
		select {
		case v := <-run.l.free:
			out--
			return v, nil
		case <-run.done:
			return nil, run.failed()
		}
	}
	var n int64
	for b, err := range batches {
		if err != nil {
			return n, run.fail(fmt.Errorf("duckdb: load: after row %d: %w", n, err))
		}
		if len(b.Cols) != len(plan) {
			return n, run.fail(fmt.Errorf("duckdb: load: column batch has %d columns, want %d (%s)", len(b.Cols), len(plan), strings.Join(names, ", ")))
		}
		if err := ctx.Err(); err != nil {
			return n, run.fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
		}
		for off := 0; off < b.Len; off += batchRows {
			v, err := view()
			if err != nil {
				return n, err
			}
			if err := v.view(plan, b, off, min(batchRows, b.Len-off)); err != nil {
				return n, run.fail(fmt.Errorf("duckdb: load: rows %d..%d: %w", n+int64(off)+1, n+int64(b.Len), err))
			}
			if err := run.send(v); err != nil {
				return n, err
			}
			out++
		}
		// The producer may reuse b once the next one is asked for: wait
		// until DuckDB has written every view of it.
		for out > 0 {
			select {
			case v := <-run.l.free:
				out--
				idle = append(idle, v)
			case <-run.done:
				return n, run.failed()
			}
		}
		n += int64(b.Len)
	}
	if err := ctx.Err(); err != nil {
		return n, run.fail(fmt.Errorf("duckdb: load: stopped after row %d: %w", n, err))
	}
	return n, run.finish()
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
