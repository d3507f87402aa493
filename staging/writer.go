package staging

import (
	"context"
	"fmt"
	"runtime/pprof"

	"github.com/dataopskit/dataops/warehouse"
)

// A writer keeps one bulk load (warehouse.Tx.Load) open for a stream and
// feeds it the batches the loader's goroutine hands over, so that converting
// records and writing them overlap, and a commit costs one load per stream
// rather than one per batch. Only one writer is open at a time, and nothing
// else uses the transaction while it is: the loader closes it before any
// other statement (commit, schema change, another stream's rows).
type writer struct {
	s    *streamLoad
	in   chan *rowBatch
	done chan struct{}
	err  error // set before done closes
}

// rowBatch is a batch of rows and the block they are carved from, or on
// the columnar path a column batch; batches cycle between the loader and
// the writer (at most maxBatches per stream).
type rowBatch struct {
	rows  [][]any
	block []any
	cols  *colBatch
}

const maxBatches = 3

// openWriter starts a writer for s, closing another stream's.
func (g *group) openWriter(s *streamLoad) error {
	if g.w != nil && g.w.s == s {
		return nil
	}
	if err := g.closeWriter(); err != nil {
		return err
	}
	if err := g.begin(); err != nil {
		return err
	}
	if s.free == nil {
		s.free = make(chan *rowBatch, maxBatches) // before the goroutine reads it
	}
	w := &writer{s: s, in: make(chan *rowBatch, 1), done: make(chan struct{})}
	tx, ctx, names := g.tx, g.r.ctx, columnNames(s.cols)
	if s.colPath && s.cfree == nil {
		s.cfree = make(chan *colBatch, maxBatches)
	}
	go pprof.Do(ctx, pprof.Labels("staging", "writer"), func(context.Context) {
		defer close(w.done)
		var err error
		if s.colPath {
			_, err = tx.LoadColumns(ctx, s.write, names, func(yield func(*warehouse.ColumnBatch, error) bool) {
				for b := range w.in {
					if !yield(&b.cols.ColumnBatch, nil) {
						return
					}
					b.cols.reset()
					s.cfree <- b.cols
				}
			})
		} else {
			_, err = tx.Load(ctx, s.write, names, func(yield func([]any, error) bool) {
				for b := range w.in {
					for _, row := range b.rows {
						if !yield(row, nil) {
							return
						}
					}
					s.recycle(b)
				}
			})
		}
		if err != nil {
			w.err = fmt.Errorf("staging: stream %s: %w", s.desc, err)
		}
	})
	g.w = w
	return nil
}

// send hands s's current batch to the open writer and gives s an empty one.
func (g *group) send(s *streamLoad) error {
	if s.colPath {
		return g.sendColumns(s)
	}
	w := g.w
	b := &rowBatch{rows: s.batch, block: s.rows[:s.rowsUsed]}
	select {
	case w.in <- b:
	case <-w.done:
		return g.writerFailed()
	}
	s.batch, s.rows, s.rowsUsed = nil, nil, 0
	// Take a batch the writer is done with, or make one while fewer than
	// maxBatches exist (counting the one just sent); else wait for one.
	var next *rowBatch
	select {
	case next = <-s.free:
	default:
		if s.batches < maxBatches-1 {
			s.batches++
			next = &rowBatch{}
		} else {
			select {
			case next = <-s.free:
			case <-w.done:
				return g.writerFailed()
			}
		}
	}
	s.batch, s.rows = next.rows, next.block[:cap(next.block)]
	return nil
}

// sendColumns is send on the columnar path.
func (g *group) sendColumns(s *streamLoad) error {
	w := g.w
	select {
	case w.in <- &rowBatch{cols: s.cb}:
	case <-w.done:
		return g.writerFailed()
	}
	s.cb = nil
	select {
	case s.cb = <-s.cfree:
	default:
		if s.cbatches < maxBatches-1 {
			s.cbatches++
			s.cb = newColBatch(s.cols, s.blockRows)
		} else {
			select {
			case s.cb = <-s.cfree:
			case <-w.done:
				return g.writerFailed()
			}
		}
	}
	return nil
}

// batchLen is the number of records in s's batch.
func (s *streamLoad) batchLen() int {
	if s.colPath {
		if s.cb == nil {
			return 0 // the writer failed
		}
		return s.cb.Len
	}
	return len(s.batch)
}

// writerFailed closes the writer, which ended before its input did, and
// returns its error.
func (g *group) writerFailed() error {
	desc := g.w.s.desc
	err := g.closeWriter()
	if err == nil {
		err = fmt.Errorf("staging: stream %s: load ended early", desc)
	}
	return err
}

// closeWriter ends the open writer's load and waits for it; afterwards the
// loader may use the transaction again.
func (g *group) closeWriter() error {
	w := g.w
	if w == nil {
		return nil
	}
	g.w = nil
	close(w.in)
	<-w.done
	// Batches the writer did not take (it failed) are not reused.
	for range w.in {
	}
	return w.err
}

// recycle clears a written batch and returns it to its stream.
func (s *streamLoad) recycle(b *rowBatch) {
	clear(b.block)
	clear(b.rows)
	b.rows, b.block = b.rows[:0], b.block[:0]
	select {
	case s.free <- b:
	default: // not reached: at most maxBatches exist
	}
}
