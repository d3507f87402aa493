package backup

import (
	"log/slog"
	"sync"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
)

// Event is what every operation of this package reports — start, progress,
// finish, error, with rows, bytes and duration — the repository's own event
// type, so that one callback monitors both layers.
type Event = repository.Event

// emitter sends an operation's events to a callback and to slog.
// Calls are serialised: a callback need not be safe for concurrent use even
// when tables are processed in parallel.
type emitter struct {
	mu    sync.Mutex
	fn    func(Event)
	log   *slog.Logger
	op    string
	start time.Time
}

func newEmitter(fn func(Event), log *slog.Logger, op string) *emitter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &emitter{fn: fn, log: log, op: op, start: time.Now()}
}

func (e *emitter) emit(ev Event) { e.emitAt(ev, false) }

// emitAt sends ev, logged at the warning level when warn is set.
func (e *emitter) emitAt(ev Event, warn bool) {
	ev.Time = time.Now()
	ev.Op = e.op
	ev.Elapsed = ev.Time.Sub(e.start)
	attrs := []any{"op", ev.Op, "phase", string(ev.Phase), "elapsed", ev.Elapsed}
	if ev.Subject != "" {
		attrs = append(attrs, "subject", ev.Subject)
	}
	if ev.Rows != 0 {
		attrs = append(attrs, "rows", ev.Rows)
	}
	if ev.Bytes != 0 {
		attrs = append(attrs, "bytes", ev.Bytes)
	}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err)
		e.log.Error("backup: "+ev.Message, attrs...)
	} else if warn {
		e.log.Warn("backup: "+ev.Message, attrs...)
	} else if ev.Phase == repository.PhaseProgress {
		e.log.Debug("backup: "+ev.Message, attrs...)
	} else {
		e.log.Info("backup: "+ev.Message, attrs...)
	}
	if e.fn != nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.fn(ev)
	}
}

func (e *emitter) startEv(subject, msg string) {
	e.emit(Event{Phase: repository.PhaseStart, Subject: subject, Message: msg})
}

func (e *emitter) progress(subject string, rows, bytes int64, msg string) {
	e.emit(Event{Phase: repository.PhaseProgress, Subject: subject, Rows: rows, Bytes: bytes, Message: msg})
}

func (e *emitter) finish(subject string, rows, bytes int64, msg string) {
	e.emit(Event{Phase: repository.PhaseFinish, Subject: subject, Rows: rows, Bytes: bytes, Message: msg})
}

// warn reports, as a progress event logged at the warning level, a
// condition that makes the operation take a slower way.
func (e *emitter) warn(subject, msg string) {
	e.emitAt(Event{Phase: repository.PhaseProgress, Subject: subject, Message: msg}, true)
}

// fail reports err and returns it.
func (e *emitter) fail(subject string, err error) error {
	e.emit(Event{Phase: repository.PhaseError, Subject: subject, Err: err, Message: "failed"})
	return err
}
