package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"

	"github.com/dataopskit/dataops/warehouse"
)

// The merge path of a large engine-hash delta.
//
// The rows of a DuckDB table keep their relative order: an UPDATE writes
// in place, a DELETE leaves the others where they are, an INSERT appends.
// A full backup's parts hold the rows in nearly that order (DuckDB's
// parallel COPY may write a row group after its successor). So the table's
// (key, hash()) pairs, streamed in table order, and the parent's stored
// (key, hash) pairs, streamed in part order, line up except where rows were
// deleted, appended or swapped. mergeChanged walks both streams once, in
// Go, column batches at a time (warehouse ScanColumns, no value boxed): an
// equal key with an unequal hash is a changed row; where the keys differ,
// the table's key is looked up among the parent rows set aside (a row the
// parent had earlier), or else the parent's row is set aside (deleted, or
// later in the table); table rows after the parent's end that were not set
// aside are new. Rows set aside wait in a queue in parent order, so that a
// swapped row group is taken back from its front as the table reaches it;
// only rows that block the front (deleted, moved) go to a map. Nothing is
// joined and no hash table of the whole table is built: at 10M rows with
// 1% changed, at memory_limit=128MB, the merge step takes 0.8-1.0 s where
// the LEFT JOIN it replaces took 1.5-2.3 s.
//
// A parent that is a chain (a full backup, then deltas) merges the same
// way, without composing its rows: the full's parts are streamed but for
// the keys a delta deleted or upserted, and the latest upserts start out
// set aside (chainParent). At 10M rows with 1% changed twice, at
// memory_limit=128MB, an incremental on an incremental took 1.8-2.2 s and
// 258-265 MiB (before the queue), against 3.2-3.4 s and 451-461 MiB
// composing the parent in the scratch database and joining.
//
// The walk is greedy and always correct: a table whose rows were
// reordered (rewritten, or read in another order) only sets more aside. It
// gives up — and the join runs instead — once more than mergeMaxAside rows
// are set aside, which bounds its memory.

// mergeMaxAside is the most parent rows mergeChanged sets aside before it
// gives up (a variable for tests).
var mergeMaxAside = 1 << 19

// mergeDeltas counts the deltas the merge path found, and mergeMapped the
// parent rows a merge put in its map (for tests).
var mergeDeltas, mergeMapped atomic.Int64

// errMergeGaveUp: too many rows out of order for the merge.
var errMergeGaveUp = errors.New("merge: too many rows out of order")

// mergeBlock is a copy of a scanned batch's key and hash columns.
type mergeBlock struct {
	k, h []int64
}

// mergeableKey reports whether a one-column key of type t can be merged:
// an integer that every value of fits in a BIGINT.
func mergeableKey(t warehouse.Type) bool {
	if t.Kind != warehouse.KindInteger {
		return false
	}
	switch strings.ToUpper(t.Native) {
	case "UBIGINT", "HUGEINT", "UHUGEINT", "UINT64", "INT128", "UINT128":
		return false
	}
	return true
}

// scanPairs streams the (key, hash) pairs of query from w into out, in
// blocks taken from free, passing over the keys in skip: two BIGINT
// columns, or three, the hash in two (hash >> 1, hash & 1) for a UBIGINT
// hash (and no skip).
func scanPairs(ctx context.Context, w scanner, query string, skip *keySet, stop chan struct{}, free, out chan *mergeBlock) error {
	defer close(out)
	return w.ScanColumns(ctx, query, nil, func(cols []warehouse.Column, b *warehouse.ColumnBatch) error {
		if len(b.Cols) < 2 || len(b.Cols) > 3 || slices.ContainsFunc(b.Cols, func(c warehouse.ColumnData) bool { return c.Int == nil }) {
			return fmt.Errorf("merge: %s: want two or three integer columns", query)
		}
		if b.Cols[0].Null != nil && slices.Contains(b.Cols[0].Null[:b.Len], true) {
			return fmt.Errorf("merge: a NULL key in %s", query)
		}
		var blk *mergeBlock
		select {
		case blk = <-free:
		default:
			blk = &mergeBlock{}
		}
		ks, hs := b.Cols[0].Int[:b.Len], b.Cols[1].Int[:b.Len]
		switch {
		case skip.len() > 0:
			blk.k, blk.h = blk.k[:0], blk.h[:0]
			for i, k := range ks {
				if !skip.has(k) {
					blk.k = append(blk.k, k)
					blk.h = append(blk.h, hs[i])
				}
			}
		case len(b.Cols) == 2:
			blk.k = append(blk.k[:0], ks...)
			blk.h = append(blk.h[:0], hs...)
		default:
			// a UBIGINT hash in two halves: its bits as a BIGINT
			blk.k = append(blk.k[:0], ks...)
			blk.h = blk.h[:0]
			for i, hi := range hs {
				blk.h = append(blk.h, int64(uint64(hi)<<1|uint64(b.Cols[2].Int[i])&1))
			}
		}
		select {
		case out <- blk:
			return nil
		case <-stop:
			return errMergeStopped
		}
	})
}

// scanner streams a query's result as column batches (a Warehouse or a Tx).
type scanner interface {
	ScanColumns(context.Context, string, []any, func([]warehouse.Column, *warehouse.ColumnBatch) error) error
}

// errMergeStopped ends a scan of mergeChanged's that is no longer read.
var errMergeStopped = errors.New("merge stopped")

// mergeCursor walks one stream of blocks.
type mergeCursor struct {
	in   chan *mergeBlock
	free chan *mergeBlock
	b    *mergeBlock
	i    int
	done bool
}

// ok reports whether the cursor is at a pair, fetching the next block when
// the current one is used up.
func (c *mergeCursor) ok() bool {
	for !c.done && (c.b == nil || c.i >= len(c.b.k)) {
		if c.b != nil {
			select {
			case c.free <- c.b:
			default:
			}
		}
		b, more := <-c.in
		c.b, c.i, c.done = b, 0, !more
	}
	return !c.done
}

// mergeParent is the parent side of a merge: the parent's (key, stored
// hash) pairs, streamed by query in table order, but for the keys in skip,
// and the parent rows in aside, which are in no order (a chain's upserts).
type mergeParent struct {
	query string
	skip  *keySet
	aside map[int64]int64
}

// mergeChanged writes to changedPath, as Parquet with the columns keyName,
// RowHashColumn and dataops_old, the key and hash() of each current row
// (curQuery: key, hash in table order) that is new since the parent
// (dataops_old NULL) or whose hash changed (dataops_old: the parent's), and
// to deletedPath, with the columns keyName and RowHashColumn, the parent
// rows whose key the table no longer has. It returns the rows of each, or
// errMergeGaveUp (mp.aside is the merge's own then).
func mergeChanged(ctx context.Context, cur, pool scanner, curQuery string, mp *mergeParent, keyName, changedPath, deletedPath string) (changed, deleted int64, err error) {
	// The scans stop when stop closes (a scan that fails closes it too),
	// not through a cancelled context: DuckDB aborts the transaction of a
	// query it interrupts, and the join must still run in it when the merge
	// gives up.
	var wg sync.WaitGroup
	scanErrs := make([]error, 2)
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	c := &mergeCursor{in: make(chan *mergeBlock, 16), free: make(chan *mergeBlock, 32)}
	p := &mergeCursor{in: make(chan *mergeBlock, 16), free: make(chan *mergeBlock, 32)}
	scan := func(i int, w scanner, q string, skip *keySet, cur *mergeCursor) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := scanPairs(ctx, w, q, skip, stop, cur.free, cur.in); err != nil {
				scanErrs[i] = err
				halt()
			}
		}()
	}
	scan(0, cur, curQuery, nil, c)
	scan(1, pool, mp.query, mp.skip, p)
	var n, nd int64
	merr := func() error {
		w, err := newPairWriter(changedPath, keyName, true)
		if err != nil {
			return err
		}
		defer w.abort()
		dw, err := newPairWriter(deletedPath, keyName, false)
		if err != nil {
			return err
		}
		defer dw.abort()
		aside := mp.aside
		if aside == nil {
			aside = map[int64]int64{}
		}
		// Parent rows set aside wait first in a queue, in parent order: a
		// run of rows the table has later (a row group written after its
		// successor) is taken back from its front in order, with no map
		// operation. Rows that block the front (deleted, moved) go to the
		// map when a key of the table finds neither the parent's next row
		// nor the queue's first few.
		var q mergeQueue
		resolve := func(ck, ch, old int64) error {
			c.i++
			if old == ch {
				return nil
			}
			n++
			return w.write(ck, ch, &old)
		}
		stuck := false // the table's current key already missed once
		for c.ok() {
			ck, ch := c.b.k[c.i], c.b.h[c.i]
			more := p.ok()
			if more && p.b.k[p.i] == ck {
				ph := p.b.h[p.i]
				p.i++
				stuck = false
				if err := resolve(ck, ch, ph); err != nil {
					return err
				}
				continue
			}
			if old, ok := q.take(ck, aside); ok {
				stuck = false
				if err := resolve(ck, ch, old); err != nil {
					return err
				}
				continue
			}
			if !stuck {
				// a new key that the queue's front does not hold: what
				// waits there is out of order, into the map, and the key
				// is looked for there (once: while the parent's rows are
				// set aside for it, the map does not change)
				q.drain(aside)
				stuck = true
				if old, moved := aside[ck]; moved {
					delete(aside, ck)
					stuck = false
					if err := resolve(ck, ch, old); err != nil {
						return err
					}
					continue
				}
			}
			if more {
				// deleted, or later in the table: set aside
				if q.len()+len(aside) >= mergeMaxAside {
					return errMergeGaveUp
				}
				q.push(p.b.k[p.i], p.b.h[p.i])
				p.i++
				continue
			}
			if q.len() > 0 {
				// the parent has ended: look again with the queue in the map
				q.drain(aside)
				stuck = false
				continue
			}
			c.i++
			stuck = false
			if err := w.write(ck, ch, nil); err != nil {
				return err
			}
			n++
		}
		// the parent's rows after the table's last, and those set aside
		// that the table did not reach, are deleted
		for p.ok() {
			if err := dw.write(p.b.k[p.i], p.b.h[p.i], nil); err != nil {
				return err
			}
			p.i++
			nd++
		}
		q.drain(aside)
		for k, h := range aside {
			if err := dw.write(k, h, nil); err != nil {
				return err
			}
			nd++
		}
		if err := w.close(); err != nil {
			return err
		}
		return dw.close()
	}()
	if merr != nil {
		// stop the scans, drain what they were sending
		halt()
		for range c.in {
		}
		for range p.in {
		}
	}
	wg.Wait()
	err = merr
	for _, e := range scanErrs {
		if e != nil && !errors.Is(e, errMergeStopped) {
			// a scan failed: what the merge read of it is partial
			err = e
			break
		}
	}
	if err != nil {
		os.Remove(changedPath)
		os.Remove(deletedPath)
		return 0, 0, err
	}
	return n, nd, nil
}

// pairWriter writes mergeChanged's Parquet files: a key and a hash, and
// for the changed rows the parent's hash (NULL for a new row).
type pairWriter struct {
	f          *os.File
	bw         *bufio.Writer
	w          *parquet.Writer
	ki, hi, oi int           // the columns' indexes in the schema (oi -1: none)
	width      int           // columns
	rows       []parquet.Row // buffered, written by the thousand
	n          int
	closed     bool
}

func newPairWriter(path, keyName string, withOld bool) (*pairWriter, error) {
	if keyName == RowHashColumn || keyName == "dataops_old" {
		return nil, fmt.Errorf("merge: key column %q", keyName)
	}
	g := parquet.Group{keyName: parquet.Int(64), RowHashColumn: parquet.Int(64)}
	if withOld {
		g["dataops_old"] = parquet.Optional(parquet.Int(64))
	}
	schema := parquet.NewSchema("pairs", g)
	idx := func(name string) int {
		l, ok := schema.Lookup(name)
		if !ok {
			return -1
		}
		return l.ColumnIndex
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	return &pairWriter{f: f, bw: bw, w: parquet.NewWriter(bw, schema), ki: idx(keyName), hi: idx(RowHashColumn), oi: idx("dataops_old"),
		rows: make([]parquet.Row, 1024), width: len(g)}, nil
}

// write adds a row; old is ignored by a writer without the column.
func (w *pairWriter) write(k, h int64, old *int64) error {
	row := w.rows[w.n]
	if row == nil {
		row = make(parquet.Row, w.width)
		w.rows[w.n] = row
	}
	row[w.ki] = parquet.Int64Value(k).Level(0, 0, w.ki)
	row[w.hi] = parquet.Int64Value(h).Level(0, 0, w.hi)
	switch {
	case w.oi < 0:
	case old == nil:
		row[w.oi] = parquet.NullValue().Level(0, 0, w.oi)
	default:
		row[w.oi] = parquet.Int64Value(*old).Level(0, 1, w.oi)
	}
	w.n++
	if w.n == len(w.rows) {
		return w.flush()
	}
	return nil
}

func (w *pairWriter) flush() error {
	_, err := w.w.WriteRows(w.rows[:w.n])
	w.n = 0
	return err
}

func (w *pairWriter) close() error {
	w.closed = true
	if err := w.flush(); err != nil {
		w.f.Close()
		return err
	}
	if err := w.w.Close(); err != nil {
		w.f.Close()
		return err
	}
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// abort closes the file of a writer that did not finish.
func (w *pairWriter) abort() {
	if !w.closed {
		w.f.Close()
	}
}

// mergeKey returns the quoted key column of a table whose key the merge
// path takes (one integer column), or "".
func mergeKey(d warehouse.Dialect, cols []warehouse.Column, key []string) string {
	if c, ok := keyColumn(cols, key); ok && mergeableKey(c.Type) {
		return d.QuoteIdentifier(c.Name)
	}
	return ""
}

// keyColumn returns the column of a one-column key.
func keyColumn(cols []warehouse.Column, key []string) (warehouse.Column, bool) {
	if len(key) != 1 {
		return warehouse.Column{}, false
	}
	i := slices.IndexFunc(cols, func(c warehouse.Column) bool { return c.Name == key[0] })
	if i < 0 {
		return warehouse.Column{}, false
	}
	return cols[i], true
}

// parentPairs renders the query of a merge's parent side: the key (k, the
// quoted key column) and stored hash of the rows of files, in their order.
func parentPairs(d warehouse.Dialect, k string, files []string) string {
	return "SELECT CAST(" + k + " AS BIGINT), " + d.QuoteIdentifier(RowHashColumn) + " FROM " + readParquet(files)
}

// mergeKeyDelta writes the changed file of a large engine-hash delta
// (engineKeyDelta) and the file of the parent rows deleted (key and stored
// hash) by mergeChanged against mp, and reports whether it did and how many
// rows were deleted; false: the merge gave up, and the join must find them.
func (tb *tableBackup) mergeKeyDelta(ctx context.Context, cols []warehouse.Column, key []string, hx string, mp *mergeParent, changed, deleted string) (bool, int64, error) {
	d := tb.src.Dialect()
	k := mergeKey(d, cols, key)
	if mp == nil || tb.pool == nil || k == "" {
		return false, 0, nil
	}
	_, nd, err := mergeChanged(ctx, tb.src, tb.pool,
		// hash() is a UBIGINT: its two halves are BIGINTs with no
		// overflow check and no HUGEINT (asSigned's costs 6% of a merge)
		"SELECT k, CAST(x >> 1 AS BIGINT), CAST(x & 1 AS BIGINT) FROM (SELECT CAST("+k+" AS BIGINT) AS k, "+hx+" AS x FROM "+d.QuoteRelation(tb.rel)+")",
		mp, key[0], changed, deleted)
	switch {
	case err == nil:
		mergeDeltas.Add(1)
		return true, nd, nil
	case errors.Is(err, errMergeGaveUp), errors.Is(err, warehouse.ErrUnsupported):
		tb.em.progress(tb.rel.String(), tb.stats.written, tb.stats.bytes, "delta: "+err.Error()+"; joining instead")
		return false, 0, nil
	}
	return false, 0, fmt.Errorf("changed keys: %w", err)
}

// errComposeParent: the merge of a chain gave up before anything was
// stored; the parent's rows must be composed for the join.
var errComposeParent = errors.New("compose the parent's rows")

// chainParent prepares the merge path of a chain on a full backup
// (chain[0], then deltas): it fetches the full's parts, whose files it
// returns in order, and reads each delta's deleted keys and upserted
// (key, stored hash) pairs, in chain order, into a mergeParent whose skip
// holds every key a delta deleted or upserted (the full's row of it is
// gone) and whose aside holds the latest upsert of each key still there.
// k is the quoted key column. The returned func releases the local files.
// A nil mergeParent: the chain is not a full and deltas, or more keys
// changed than the merge may set aside.
func (tb *tableBackup) chainParent(ctx context.Context, chain []*Table, k string) (*mergeParent, []string, func(), error) {
	none := func() {}
	if chain[0].Data.Mode != ModeFull || len(chain[0].Data.Parts) == 0 || tb.pool == nil {
		return nil, nil, none, nil
	}
	for _, t := range chain[1:] {
		if t.Data.Mode != ModeDelta && t.Data.Mode != ModeSame {
			return nil, nil, none, nil
		}
	}
	sc := tb.scratch
	var held [][]Part
	release := func() {
		for _, p := range held {
			sc.release(p)
		}
	}
	fetch := func(parts []Part) ([]string, error) {
		files, err := sc.fetch(ctx, parts)
		if err == nil {
			held = append(held, parts)
		}
		return files, err
	}
	base, err := fetch(chain[0].Data.Parts)
	if err != nil {
		return nil, nil, none, err
	}
	mp := &mergeParent{skip: newKeySet(), aside: map[int64]int64{}}
	errTooMany := errors.New("too many keys changed")
	read := func(files []string, withHash bool, fn func(k, h int64)) error {
		if len(files) == 0 {
			return nil
		}
		q := "SELECT CAST(" + k + " AS BIGINT)"
		if withHash {
			q += ", " + tb.src.Dialect().QuoteIdentifier(RowHashColumn)
		}
		return tb.pool.ScanColumns(ctx, q+" FROM "+readParquet(files), nil, func(_ []warehouse.Column, b *warehouse.ColumnBatch) error {
			for r := range b.Len {
				h := int64(0)
				if withHash {
					h = b.Cols[1].Int[r]
				}
				fn(b.Cols[0].Int[r], h)
			}
			if mp.skip.len() > mergeMaxAside {
				return errTooMany
			}
			return nil
		})
	}
	for _, t := range chain[1:] {
		if t.Data.Mode != ModeDelta {
			continue
		}
		dels, err := fetch(t.Data.Deletes)
		if err != nil {
			release()
			return nil, nil, none, err
		}
		ups, err := fetch(t.Data.Upserts)
		if err != nil {
			release()
			return nil, nil, none, err
		}
		// a delta deletes, then upserts (as compose applies it)
		err = read(dels, false, func(k, _ int64) {
			mp.skip.add(k)
			delete(mp.aside, k)
		})
		if err == nil {
			err = read(ups, true, func(k, h int64) {
				mp.skip.add(k)
				mp.aside[k] = h
			})
		}
		if errors.Is(err, errTooMany) {
			release()
			return nil, nil, none, nil
		}
		if err != nil {
			release()
			return nil, nil, none, fmt.Errorf("read delta of %s from %s: %w", t, t.Data.Base, err)
		}
	}
	mp.skip.seal()
	return mp, base, release, nil
}

// mergeQueue is mergeChanged's queue of parent rows set aside, in parent
// order.
type mergeQueue struct {
	k, h []int64
	head int
}

// mergeLookahead is how far into the queue a key is looked for: a few rows
// that block the front (deleted ones) are passed over.
const mergeLookahead = 8

func (q *mergeQueue) len() int { return len(q.k) - q.head }

func (q *mergeQueue) push(k, h int64) {
	if q.head > 0 && q.head >= len(q.k)/2 {
		// compact: what was taken sits before head
		n := copy(q.k, q.k[q.head:])
		copy(q.h, q.h[q.head:])
		q.k, q.h, q.head = q.k[:n], q.h[:n], 0
	}
	q.k = append(q.k, k)
	q.h = append(q.h, h)
}

// take returns the hash of k when k is among the queue's first
// mergeLookahead rows, moving the rows before it into aside.
func (q *mergeQueue) take(k int64, aside map[int64]int64) (int64, bool) {
	end := min(q.head+mergeLookahead, len(q.k))
	for i := q.head; i < end; i++ {
		if q.k[i] != k {
			continue
		}
		for j := q.head; j < i; j++ {
			aside[q.k[j]] = q.h[j]
		}
		mergeMapped.Add(int64(i - q.head))
		h := q.h[i]
		q.head = i + 1
		return h, true
	}
	return 0, false
}

// drain moves every queued row into aside.
func (q *mergeQueue) drain(aside map[int64]int64) {
	for i := q.head; i < len(q.k); i++ {
		aside[q.k[i]] = q.h[i]
	}
	mergeMapped.Add(int64(q.len()))
	q.k, q.h, q.head = q.k[:0], q.h[:0], 0
}

// keySet is a set of keys that the parent's stream of a merge passes over:
// a map while it is filled, then (seal) a bitmap over the keys' range when
// that range is at most keySetBits: each of the parent's rows is looked up,
// and a bit costs a few nanoseconds where the map cost 13% of an
// incremental's CPU.
type keySet struct {
	m    map[int64]struct{} // nil once the bitmap holds the keys
	n    int
	bits []uint64
	lo   int64
}

// keySetBits is the largest key range a keySet holds as a bitmap (16 MiB).
const keySetBits = 1 << 27

func newKeySet() *keySet { return &keySet{m: map[int64]struct{}{}} }

// add adds k; only before seal.
func (s *keySet) add(k int64) {
	s.m[k] = struct{}{}
	s.n = len(s.m)
}

// len is the number of keys; a nil set is empty.
func (s *keySet) len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// seal builds the bitmap when the keys' range allows.
func (s *keySet) seal() {
	if len(s.m) == 0 {
		return
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for k := range s.m {
		lo, hi = min(lo, k), max(hi, k)
	}
	span := uint64(hi) - uint64(lo) // no overflow in unsigned arithmetic
	if span >= keySetBits {
		return
	}
	s.lo, s.bits = lo, make([]uint64, span/64+1)
	for k := range s.m {
		d := uint64(k) - uint64(lo)
		s.bits[d/64] |= 1 << (d % 64)
	}
	s.m = nil
}

func (s *keySet) has(k int64) bool {
	if s.bits != nil {
		d := uint64(k) - uint64(s.lo) // a key below lo wraps past the bitmap
		return d/64 < uint64(len(s.bits)) && s.bits[d/64]&(1<<(d%64)) != 0
	}
	_, ok := s.m[k]
	return ok
}
