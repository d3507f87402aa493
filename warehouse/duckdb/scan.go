package duckdb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/dataopskit/dataops/warehouse"
)

// scanCol is how one result column of a column scan is read from DuckDB's
// vectors: in place (64-bit integers, timestamps, doubles, booleans) or
// widened into a buffer of the scan's own.
type scanCol struct {
	t     bindings.Type
	wide  []int64   // narrower integers and DATE, widened
	wideF []float64 // FLOAT, widened
	null  []bool
}

// scanType maps a result column's DuckDB type to its portable type, or ok
// false when the column scan does not carry it.
func scanType(t bindings.Type) (warehouse.Type, bool) {
	switch t {
	case bindings.TypeBigInt:
		return warehouse.Type{Kind: warehouse.KindInteger, Bits: 64, Native: "BIGINT"}, true
	case bindings.TypeInteger:
		return warehouse.Type{Kind: warehouse.KindInteger, Bits: 32, Native: "INTEGER"}, true
	case bindings.TypeSmallInt:
		return warehouse.Type{Kind: warehouse.KindInteger, Bits: 16, Native: "SMALLINT"}, true
	case bindings.TypeTinyInt:
		return warehouse.Type{Kind: warehouse.KindInteger, Bits: 16, Native: "TINYINT"}, true
	case bindings.TypeUInteger:
		return warehouse.Type{Kind: warehouse.KindInteger, Bits: 64, Native: "UINTEGER"}, true
	case bindings.TypeUSmallInt:
		return warehouse.Type{Kind: warehouse.KindInteger, Bits: 32, Native: "USMALLINT"}, true
	case bindings.TypeUTinyInt:
		return warehouse.Type{Kind: warehouse.KindInteger, Bits: 16, Native: "UTINYINT"}, true
	case bindings.TypeDouble:
		return warehouse.Type{Kind: warehouse.KindFloat, Bits: 64, Native: "DOUBLE"}, true
	case bindings.TypeFloat:
		return warehouse.Type{Kind: warehouse.KindFloat, Bits: 32, Native: "FLOAT"}, true
	case bindings.TypeBoolean:
		return warehouse.Type{Kind: warehouse.KindBoolean, Native: "BOOLEAN"}, true
	case bindings.TypeTimestamp:
		return warehouse.Type{Kind: warehouse.KindTimestamp, Native: "TIMESTAMP"}, true
	case bindings.TypeTimestampTZ:
		return warehouse.Type{Kind: warehouse.KindTimestampTZ, Native: "TIMESTAMP WITH TIME ZONE"}, true
	case bindings.TypeDate:
		return warehouse.Type{Kind: warehouse.KindDate, Native: "DATE"}, true
	}
	return warehouse.Type{}, false
}

// ScanColumns implements warehouse.ColumnScanner: the query's result is
// streamed chunk by chunk, and each batch's slices are the chunk's vectors
// themselves where Go's types match DuckDB's (BIGINT, TIMESTAMP,
// TIMESTAMPTZ, DOUBLE, BOOLEAN), widened into buffers of the scan's
// otherwise. Results with another type (strings among them), and queries
// with arguments, are ErrUnsupported: the warehouse takes the row path.
func (e *Engine) ScanColumns(ctx context.Context, raw any, query string, args []any, fn func(cols []warehouse.Column, b *warehouse.ColumnBatch) error) error {
	conn, ok := raw.(*duckdb.Conn)
	if !ok {
		return fmt.Errorf("duckdb: scan: connection is %T, not a DuckDB connection", raw)
	}
	if len(args) > 0 || !rawLayoutOK {
		return fmt.Errorf("duckdb: scan: %w", warehouse.ErrUnsupported)
	}
	rc := rawConnOf(conn)
	ps, err := prepareRaw(rc, query)
	if err != nil {
		return err
	}
	defer mapping.DestroyPrepare(&ps)
	n := int(mapping.PreparedStatementColumnCount(ps))
	cols := make([]warehouse.Column, n)
	scan := make([]scanCol, n)
	for i := range n {
		t := mapping.PreparedStatementColumnType(ps, mapping.IdxT(i))
		pt, ok := scanType(t)
		if !ok {
			return fmt.Errorf("duckdb: scan: column %q: %w", mapping.PreparedStatementColumnName(ps, mapping.IdxT(i)), warehouse.ErrUnsupported)
		}
		cols[i] = warehouse.Column{Name: mapping.PreparedStatementColumnName(ps, mapping.IdxT(i)), Type: pt, Nullable: true}
		scan[i].t = t
	}
	defer widenStreamBuffer(ctx, conn, rc)()
	// DuckDB's allocator caches memory per thread (see execRaw).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer interruptOnCancel(ctx, rc, nil)()
	var res mapping.Result
	if bindings.ExecutePreparedStreaming(ps, &res) == mapping.StateError {
		err := errors.New(mapping.ResultError(&res))
		mapping.DestroyResult(&res)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	defer mapping.DestroyResult(&res)
	b := &warehouse.ColumnBatch{Cols: make([]warehouse.ColumnData, n)}
	for {
		chunk := mapping.FetchChunk(res)
		if chunk.Ptr == nil {
			break
		}
		size := int(mapping.DataChunkGetSize(chunk))
		if size == 0 {
			mapping.DestroyDataChunk(&chunk)
			break
		}
		b.Len = size
		for i := range scan {
			readScanned(&scan[i], &b.Cols[i], mapping.DataChunkGetVector(chunk, mapping.IdxT(i)), size)
		}
		err := fn(cols, b)
		mapping.DestroyDataChunk(&chunk)
		if err != nil {
			return err
		}
	}
	if msg := mapping.ResultError(&res); msg != "" {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return errors.New(msg)
	}
	return ctx.Err()
}

// scanBufferBytes is the streaming buffer a column scan runs with at least
// (DuckDB's streaming_buffer_size; a variable for measurements). DuckDB
// fills a streaming result's buffer on its threads while the consumer reads
// it, and with its default of 976.5 KiB the threads wait on the consumer:
// hash() of 10M rows, streamed out, ran on one thread in 0.57-0.93 s (as
// much CPU as wall); with 8MB in 0.58 s on two (1.0 s CPU), with 16MB in
// 0.34-0.37 s. The buffer is memory too: in a 10M-row key+hash backup at
// memory_limit=128MB (two scans at once) the peak RSS was 245-253 MiB with
// 8MB, 251-276 with 16MB, and the merge step 0.9-1.05 s against 0.7-0.9.
var scanBufferBytes int64 = 8 << 20

// widenStreamBuffer raises the session's streaming_buffer_size to
// scanBufferBytes when it is smaller, and returns the func that sets it
// back. (A setting is not transactional: in a transaction that the scan
// aborted the reset fails, and the session keeps the larger buffer.)
func widenStreamBuffer(ctx context.Context, conn *duckdb.Conn, rc mapping.Connection) func() {
	none := func() {}
	rows, err := conn.QueryContext(ctx, "SELECT current_setting('streaming_buffer_size')::VARCHAR", nil)
	if err != nil {
		return none
	}
	v := make([]driver.Value, 1)
	err = rows.Next(v)
	rows.Close()
	prev, ok := v[0].(string)
	if err != nil || !ok {
		return none
	}
	if n, err := parseMemory(prev); err != nil || n >= scanBufferBytes {
		return none
	}
	if execRaw(ctx, rc, "SET SESSION streaming_buffer_size = '"+strconv.FormatInt(scanBufferBytes>>10, 10)+"KiB'", nil) != nil {
		return none
	}
	return func() {
		_ = execRaw(context.WithoutCancel(ctx), rc, "SET SESSION streaming_buffer_size = '"+strings.ReplaceAll(prev, "'", "''")+"'", nil)
	}
}

// readScanned points c at the first n rows of vec (or at their widened
// copies) and sets its NULLs from the vector's validity mask.
func readScanned(s *scanCol, c *warehouse.ColumnData, vec mapping.Vector, n int) {
	data := mapping.VectorGetData(vec)
	*c = warehouse.ColumnData{}
	switch s.t {
	case bindings.TypeBigInt, bindings.TypeTimestamp, bindings.TypeTimestampTZ:
		c.Int = unsafe.Slice((*int64)(data), n)
	case bindings.TypeDouble:
		c.Float = unsafe.Slice((*float64)(data), n)
	case bindings.TypeBoolean:
		c.Bool = unsafe.Slice((*bool)(data), n)
	case bindings.TypeFloat:
		s.wideF = widen(s.wideF, unsafe.Slice((*float32)(data), n))
		c.Float = s.wideF
	case bindings.TypeInteger, bindings.TypeDate:
		s.wide = widen(s.wide, unsafe.Slice((*int32)(data), n))
		c.Int = s.wide
	case bindings.TypeSmallInt:
		s.wide = widen(s.wide, unsafe.Slice((*int16)(data), n))
		c.Int = s.wide
	case bindings.TypeTinyInt:
		s.wide = widen(s.wide, unsafe.Slice((*int8)(data), n))
		c.Int = s.wide
	case bindings.TypeUInteger:
		s.wide = widen(s.wide, unsafe.Slice((*uint32)(data), n))
		c.Int = s.wide
	case bindings.TypeUSmallInt:
		s.wide = widen(s.wide, unsafe.Slice((*uint16)(data), n))
		c.Int = s.wide
	case bindings.TypeUTinyInt:
		s.wide = widen(s.wide, unsafe.Slice((*uint8)(data), n))
		c.Int = s.wide
	}
	mask := mapping.VectorGetValidity(vec)
	if mask == nil {
		return // no NULLs
	}
	words := unsafe.Slice((*uint64)(mask), (n+63)/64)
	s.null = s.null[:0]
	for r := range n {
		s.null = append(s.null, words[r/64]&(1<<(r%64)) == 0)
	}
	c.Null = s.null
}

// widen copies src into dst (reused) as wider numbers.
func widen[D int64 | float64, S int8 | int16 | int32 | uint8 | uint16 | uint32 | float32](dst []D, src []S) []D {
	dst = dst[:0]
	for _, v := range src {
		dst = append(dst, D(v))
	}
	return dst
}
