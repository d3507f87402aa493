package duckdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"time"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

// Raw access to DuckDB's C API for the chunk load path.
//
// duckdb-go writes a data chunk one value at a time (a type switch and a
// bounds check per value, a cgo call per string) and executes a statement
// with duckdb_execute_pending, whose loop busy-polls for tasks while a
// worker thread runs the statement's only task. The chunk path instead
// writes whole columns into the vectors' memory, and runs its INSERT with a
// loop of its own that sleeps while DuckDB has no task for it, so that one
// statement can take a whole load while its table function waits for the
// producer, without a spinning core.
//
// duckdb-go does not export the C handles; rawConnOf and rawChunkOf read
// them from the first field of its Conn and DataChunk. rawLayoutOK checks
// that layout when the package loads (a duckdb-go that changes it turns the
// chunk path off, and TestRawHandles fails).

// rawConnLayout mirrors the head of duckdb.Conn.
type rawConnLayout struct {
	conn mapping.Connection
}

// rawChunkLayout mirrors the head of duckdb.DataChunk.
type rawChunkLayout struct {
	chunk mapping.DataChunk
}

// rawLayoutOK reports whether duckdb-go's Conn and DataChunk still begin
// with the C handles rawConnOf and rawChunkOf read; when a version of
// duckdb-go moves them, Opens fall back to the appender.
var rawLayoutOK = func() bool {
	c := reflect.TypeFor[duckdb.Conn]()
	d := reflect.TypeFor[duckdb.DataChunk]()
	return c.NumField() > 0 && c.Field(0).Offset == 0 && c.Field(0).Type == reflect.TypeFor[mapping.Connection]() &&
		d.NumField() > 0 && d.Field(0).Offset == 0 && d.Field(0).Type == reflect.TypeFor[mapping.DataChunk]()
}()

// rawConnOf returns the C connection of c.
func rawConnOf(c *duckdb.Conn) mapping.Connection {
	return (*rawConnLayout)(unsafe.Pointer(c)).conn
}

// rawChunkOf returns the C data chunk of chunk.
func rawChunkOf(chunk *duckdb.DataChunk) mapping.DataChunk {
	return (*rawChunkLayout)(unsafe.Pointer(chunk)).chunk
}

// execRaw prepares and runs query on conn, driving its execution task by
// task; while DuckDB has no task for this thread (a worker runs the only
// one) it sleeps instead of polling. A cancelled ctx interrupts the
// statement; onCancel is called first (to release a waiting table
// function).
func execRaw(ctx context.Context, conn mapping.Connection, query string, onCancel func()) error {
	ps, err := prepareRaw(conn, query)
	if err != nil {
		return err
	}
	defer mapping.DestroyPrepare(&ps)
	// DuckDB's allocator caches memory per thread: keep the tasks this
	// goroutine runs on one thread rather than on whichever it wakes on.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var pending mapping.PendingResult
	if mapping.PendingPrepared(ps, &pending) == mapping.StateError {
		err := errors.New(mapping.PendingError(pending))
		mapping.DestroyPending(&pending)
		return err
	}
	defer mapping.DestroyPending(&pending)
	defer interruptOnCancel(ctx, conn, onCancel)()
	idle := time.Duration(0)
	for {
		st := mapping.PendingExecuteTask(pending)
		switch st {
		case mapping.PendingStateResultReady:
			var res mapping.Result
			state := mapping.ExecutePending(pending, &res)
			var err error
			if state == mapping.StateError {
				err = errors.New(mapping.ResultError(&res))
			}
			mapping.DestroyResult(&res)
			return err
		case mapping.PendingStateError:
			return errors.New(mapping.PendingError(pending))
		case mapping.PendingStateNoTasksAvailable:
			// A worker runs the statement: wait, a little longer each
			// time up to a millisecond.
			idle = min(max(2*idle, 20*time.Microsecond), time.Millisecond)
			time.Sleep(idle)
		default:
			idle = 0
		}
	}
}

// prepareRaw prepares query on conn; the caller destroys the statement.
func prepareRaw(conn mapping.Connection, query string) (mapping.PreparedStatement, error) {
	var ps mapping.PreparedStatement
	if mapping.Prepare(conn, query, &ps) == mapping.StateError {
		err := errors.New(mapping.PrepareError(ps))
		mapping.DestroyPrepare(&ps)
		return ps, err
	}
	return ps, nil
}

// interruptOnCancel interrupts the statement running on conn when ctx is
// cancelled, after calling onCancel (nil: none); the returned func must be
// called when the statement ends. The interrupt must not outlive the
// statement: a cancel that races with its end would otherwise interrupt
// whatever runs next on the connection (the next query of the pool's
// user), so a callback that started is waited for.
func interruptOnCancel(ctx context.Context, conn mapping.Connection, onCancel func()) func() {
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(interrupted)
		if onCancel != nil {
			onCancel()
		}
		mapping.Interrupt(conn)
	})
	return func() {
		if !stop() {
			<-interrupted
		}
	}
}

// duckString is DuckDB's string_t: a length and either 12 inlined bytes
// or a 4-byte prefix and a pointer into the vector's heap.
type duckString struct {
	n    uint32
	data [12]byte
}

// writeValidity sets the validity of rows 0..n-1 of vec: null[r] marks a
// NULL when hasNull (null may be nil otherwise).
func writeValidity(vec mapping.Vector, n int, null []bool, hasNull bool) {
	mask := mapping.VectorGetValidity(vec)
	if mask == nil {
		if !hasNull {
			return
		}
		mapping.VectorEnsureValidityWritable(vec)
		mask = mapping.VectorGetValidity(vec)
	}
	words := unsafe.Slice((*uint64)(mask), (n+63)/64)
	for w := range words {
		var bits uint64 = ^uint64(0)
		if hasNull {
			end := min(n, 64*w+64)
			for r := 64 * w; r < end; r++ {
				if null[r] {
					bits &^= 1 << uint(r-64*w)
				}
			}
		}
		words[w] = bits
	}
}

// writeFixed copies vals into the data of vec, converted to E.
func writeFixed[E, T int16 | int32 | int64 | float32 | float64](vec mapping.Vector, vals []T) {
	dst := unsafe.Slice((*E)(mapping.VectorGetData(vec)), len(vals))
	for i, v := range vals {
		dst[i] = E(v)
	}
}

// writeStrings writes vals (rows that null marks are skipped; null may be
// nil) into the
// VARCHAR or BLOB vector vec: short strings inline, longer ones through
// DuckDB's string heap, once per run of equal values.
func writeStrings(vec mapping.Vector, vals [][]byte, null []bool) {
	dst := unsafe.Slice((*duckString)(mapping.VectorGetData(vec)), len(vals))
	var prev []byte
	prevRow := -1
	for r, v := range vals {
		if null != nil && null[r] {
			continue
		}
		if len(v) <= 12 {
			s := duckString{n: uint32(len(v))}
			copy(s.data[:], v)
			dst[r] = s
			continue
		}
		if prevRow >= 0 && bytes.Equal(v, prev) {
			dst[r] = dst[prevRow] // the same bytes in the vector's heap
			continue
		}
		// Valid UTF-8 already (put checked it): DuckDB need not check again.
		bindings.UnsafeVectorAssignStringElementLen(vec, mapping.IdxT(r), v)
		prev, prevRow = v, r
	}
}

// fillRaw writes batch b into chunk's vectors.
func (l *chunkLoad) fillRaw(chunk *duckdb.DataChunk, b *colBatch) error {
	raw := rawChunkOf(chunk)
	if int(mapping.DataChunkGetColumnCount(raw)) != len(l.plan) {
		return fmt.Errorf("dataops_load: chunk has %d columns, want %d", mapping.DataChunkGetColumnCount(raw), len(l.plan))
	}
	n := b.n
	for c := range l.plan {
		p := &l.plan[c]
		cb := &b.cols[c]
		vec := mapping.DataChunkGetVector(raw, mapping.IdxT(c))
		switch p.car {
		case carInt, carDays, carMicros, carInstant:
			writeFixed[int64](vec, cb.i64[:n])
		case carDec:
			switch {
			case p.prec <= 4:
				writeFixed[int16](vec, cb.i64[:n])
			case p.prec <= 9:
				writeFixed[int32](vec, cb.i64[:n])
			default:
				writeFixed[int64](vec, cb.i64[:n])
			}
		case carFloat:
			if p.f32 {
				writeFixed[float32](vec, cb.f64[:n])
			} else {
				writeFixed[float64](vec, cb.f64[:n])
			}
		case carBool:
			dst := unsafe.Slice((*bool)(mapping.VectorGetData(vec)), n)
			copy(dst, cb.b[:n])
		case carString, carBlob:
			writeStrings(vec, cb.bs[:n], cb.null)
		case carUUID:
			dst := unsafe.Slice((*uuid128)(mapping.VectorGetData(vec)), n)
			copy(dst, cb.u128[:n])
		case carBigDec:
			if err := writeColumn(*chunk, c, cb.a[:n], cb.null[:n]); err != nil {
				return fmt.Errorf("column %q: %w", p.name, err)
			}
			clear(cb.a[:n])
			continue // writeColumn set the validity
		}
		writeValidity(vec, n, cb.null, cb.hasNull)
	}
	return nil
}
