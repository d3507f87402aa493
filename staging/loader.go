package staging

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/warehouse"
)

// Layout chooses the tables streams land in.
type Layout string

// Layouts.
const (
	// LayoutDirect (the default) lands each stream in one typed table.
	LayoutDirect Layout = "direct"
	// LayoutAirbyte also keeps Airbyte destinations v2's raw table per
	// stream: RawSchema."<schema>_raw__stream_<stream>" with the record as
	// _airbyte_data JSON, next to the same typed (final) table, so that dbt
	// projects written against either run unchanged.
	LayoutAirbyte Layout = "airbyte"
)

// Options configure a Loader. The zero value is usable.
type Options struct {
	// Layout is LayoutDirect (default) or LayoutAirbyte.
	Layout Layout
	// RawSchema holds the raw tables of LayoutAirbyte; default
	// "airbyte_internal".
	RawSchema string
	// Schema is where streams land; default: the stream's namespace, else
	// "staging".
	Schema string
	// Connection names this pipeline's states, so that several sources can
	// keep state in one warehouse; default "default".
	Connection string
	// StateSchema holds the state table "sync_state"; default "_dataops".
	StateSchema string
	// BatchRows, BatchBytes and FlushInterval bound what is buffered per
	// stream before it is written (into the open transaction) through the
	// warehouse's bulk path; defaults 10,000 rows, 16 MiB, 5 s.
	BatchRows     int
	BatchBytes    int
	FlushInterval time.Duration
	// CommitRows, CommitBytes and CommitInterval let states that arrive
	// close together share one commit: at a STATE message the loader
	// commits only once at least CommitRows records or CommitBytes bytes of
	// record data have arrived since the last commit, or CommitInterval has
	// passed; until then the state waits, and the commit that follows saves
	// each stream's latest state (or the latest GLOBAL state) with the data
	// it covers and acknowledges it to the source. Exactly-once holds as
	// with a commit per state — a crash loses only uncommitted work, which
	// the next run reads again from the last committed state — while
	// analytic engines get fewer, larger transactions (DuckDB writes whole
	// row groups instead of logging rows). The end of the read always
	// commits. Defaults 250,000 records, 64 MiB, 10 s; CommitRows 1 commits
	// at every state.
	CommitRows     int
	CommitBytes    int
	CommitInterval time.Duration
	// SchemaPolicy says what to do when a stream's schema needs a wider
	// column than its table has: Widen (default) or Fail.
	SchemaPolicy SchemaPolicy
	// KeepDeleted keeps rows that a CDC source deleted in append_dedup
	// streams, flagged by _ab_cdc_deleted_at, instead of removing them.
	KeepDeleted bool
	// OnControl receives CONTROL messages (a CONNECTOR_CONFIG carries a
	// rotated config the caller must persist).
	OnControl func(*airbyte.ControlMessage)
	// OnProgress is called after each commit with the running result (read
	// it, do not keep it): the hook for progress displays.
	OnProgress func(*Result)
	// Logger receives progress and connector logs; default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Connection == "" {
		o.Connection = "default"
	}
	if o.StateSchema == "" {
		o.StateSchema = "_dataops"
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 10_000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 16 << 20
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 5 * time.Second
	}
	if o.CommitRows <= 0 {
		o.CommitRows = 250_000
	}
	if o.CommitBytes <= 0 {
		o.CommitBytes = 64 << 20
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = 10 * time.Second
	}
	if o.Layout == "" {
		o.Layout = LayoutDirect
	}
	if o.RawSchema == "" {
		o.RawSchema = "airbyte_internal"
	}
	if o.SchemaPolicy == "" {
		o.SchemaPolicy = Widen
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Loader lands Airbyte message streams in a warehouse, exactly once: rows are
// written into an open transaction as they come, and a STATE message commits
// that transaction together with the state (or, when states come close
// together, the next one that is due does: see Options.CommitRows), which is
// then acknowledged to the source. A crash at any instant leaves the last
// committed state with exactly the rows it covers; the next Load resumes
// from it (see State).
type Loader struct {
	w     *warehouse.Warehouse
	opts  Options
	state stateStore
	log   *slog.Logger
}

// NewLoader returns a loader that writes to w.
func NewLoader(w *warehouse.Warehouse, opts Options) *Loader {
	opts = opts.withDefaults()
	return &Loader{
		w:     w,
		opts:  opts,
		state: stateStore{rel: warehouse.Rel(opts.StateSchema, "sync_state"), connection: opts.Connection},
		log:   opts.Logger.With("connection", opts.Connection),
	}
}

// State returns the last committed states, to hand to the source's Read so
// that it resumes where the last commit stopped.
func (l *Loader) State(ctx context.Context) ([]airbyte.StateMessage, error) {
	if err := l.state.ensure(ctx, l.w); err != nil {
		return nil, err
	}
	return l.state.load(ctx, l.w)
}

// StreamResult counts what a Load did for one stream.
type StreamResult struct {
	Stream          airbyte.StreamDescriptor
	Table           warehouse.Relation
	Mode            airbyte.DestinationSyncMode
	Records         int64 // records received and staged
	Bytes           int64 // bytes of record data received (JSON, or a typed record's size)
	ValuesNulled    int64 // values that did not fit their column and were stored as NULL
	StatesCommitted int64 // commits that saved states and included rows of this stream
	ColumnsAdded    []string
	ColumnsWidened  []string
}

// Result is what a Load did.
type Result struct {
	Streams []*StreamResult
	// StatesCommitted counts the commits that saved states (one commit may
	// save several states that arrived close together).
	StatesCommitted int64
	Duration        time.Duration
}

// Stream returns the result of one stream, or nil.
func (r *Result) Stream(name string) *StreamResult {
	for _, s := range r.Streams {
		if s.Stream.Name == name {
			return s
		}
	}
	return nil
}

// Load consumes rs until it ends, landing the records of the streams of
// catalog. It returns the per-stream results; on error, everything after the
// last committed state is rolled back, the error names the stream, and rs is
// closed (the source runs in a goroutine of its own, a bounded buffer ahead
// of the loader; Ack is called from Load's goroutine).
func (l *Loader) Load(ctx context.Context, catalog *airbyte.ConfiguredCatalog, rs airbyte.ReadStream) (*Result, error) {
	start := time.Now()
	if catalog == nil || len(catalog.Streams) == 0 {
		return nil, errors.New("staging: load: the configured catalog has no streams")
	}
	if err := l.state.ensure(ctx, l.w); err != nil {
		return nil, err
	}
	committed, err := l.state.load(ctx, l.w)
	if err != nil {
		return nil, err
	}
	run := &loadRun{l: l, ctx: ctx, rs: rs, byKey: map[airbyte.StreamDescriptor]*streamLoad{}, res: &Result{}}
	for _, cs := range catalog.Streams {
		s, err := l.prepare(ctx, cs, committed)
		if err != nil {
			return nil, err
		}
		if _, dup := run.byKey[s.desc]; dup {
			return nil, fmt.Errorf("staging: stream %s appears twice in the configured catalog", s.desc)
		}
		s.blockRows = l.opts.BatchRows
		run.byKey[s.desc] = s
		run.streams = append(run.streams, s)
		run.res.Streams = append(run.res.Streams, s.res)
	}
	// In-process sources that can hand records over as Go values do so.
	airbyte.EnableTypedRecords(rs)
	err = run.consume()
	run.res.Duration = time.Since(start)
	if err != nil {
		run.rollback()
		return run.res, err
	}
	return run.res, nil
}

// loadRun is the state of one Load.
type loadRun struct {
	l         *Loader
	ctx       context.Context
	rs        airbyte.ReadStream
	streams   []*streamLoad
	byKey     map[airbyte.StreamDescriptor]*streamLoad
	tx        *warehouse.Tx
	res       *Result
	w         *writer // the open bulk load, if any
	ids       *rawIDs
	lastFlush time.Time

	// States received but not committed yet (each stream's latest, or the
	// latest GLOBAL/LEGACY one), and what arrived since the last commit.
	pending    []*airbyte.StateMessage
	sinceRows  int
	sinceBytes int
	lastCommit time.Time
}

func (r *loadRun) consume() error {
	r.ids = newRawIDs()
	r.lastFlush = time.Now()
	r.lastCommit = r.lastFlush
	for msg, err := range r.messages() {
		if err != nil {
			return fmt.Errorf("staging: source: %w", err)
		}
		if err := r.ctx.Err(); err != nil {
			return err
		}
		switch msg.Type {
		case airbyte.TypeRecord:
			if msg.Record == nil {
				return errors.New("staging: RECORD message without a record")
			}
			if err := r.record(msg.Record); err != nil {
				return err
			}
		case airbyte.TypeState:
			if msg.State == nil {
				return errors.New("staging: STATE message without a state")
			}
			r.hold(msg.State)
			if r.dueCommit() {
				if err := r.commit(false); err != nil {
					return err
				}
			}
		case airbyte.TypeTrace:
			r.trace(msg.Trace)
		case airbyte.TypeLog:
			if msg.Log != nil {
				r.l.log.Log(r.ctx, logLevel(msg.Log.Level), msg.Log.Message, "source", true)
			}
		case airbyte.TypeControl:
			if msg.Control != nil && r.l.opts.OnControl != nil {
				r.l.opts.OnControl(msg.Control)
			}
		}
	}
	// The source ended cleanly: every stream is complete.
	for _, s := range r.streams {
		s.complete = true
	}
	return r.commit(true)
}

// hold keeps a state for the next commit, replacing the pending states it
// supersedes: a STREAM state replaces its stream's, a GLOBAL or LEGACY state
// replaces all.
func (r *loadRun) hold(st *airbyte.StateMessage) {
	if st.Type == airbyte.StateStream && st.Stream != nil {
		d := st.Stream.StreamDescriptor
		r.pending = slices.DeleteFunc(r.pending, func(p *airbyte.StateMessage) bool {
			return p.Type == airbyte.StateStream && p.Stream != nil && p.Stream.StreamDescriptor == d
		})
	} else {
		clear(r.pending)
		r.pending = r.pending[:0]
	}
	r.pending = append(r.pending, st)
}

// dueCommit reports whether enough has arrived since the last commit to
// commit the pending states now.
func (r *loadRun) dueCommit() bool {
	o := &r.l.opts
	return r.sinceRows >= o.CommitRows || r.sinceBytes >= o.CommitBytes || time.Since(r.lastCommit) >= o.CommitInterval
}

// messages runs the source in a goroutine of its own, a bounded buffer ahead
// of the loader, so that producing messages (querying, encoding, decoding a
// connector's output) overlaps converting and writing them. Order is kept;
// commits and acknowledgements stay on the loader's goroutine. When the
// loader stops early, the source is closed so that its goroutine ends.
func (r *loadRun) messages() func(func(*airbyte.Message, error) bool) {
	return func(yield func(*airbyte.Message, error) bool) {
		type item struct {
			msg *airbyte.Message
			err error
		}
		ch := make(chan item, 256)
		stop := make(chan struct{})
		go func() {
			defer close(ch)
			for msg, err := range r.rs.Messages() {
				select {
				case ch <- item{msg, err}:
				case <-stop:
					return
				}
				if err != nil {
					return
				}
			}
		}()
		for it := range ch {
			if !yield(it.msg, it.err) {
				close(stop)
				_ = r.rs.Close()
				return
			}
		}
	}
}

func (r *loadRun) trace(t *airbyte.TraceMessage) {
	if t == nil {
		return
	}
	switch {
	case t.Type == airbyte.TraceStreamStatus && t.StreamStatus != nil:
		if s := r.byKey[t.StreamStatus.StreamDescriptor]; s != nil && t.StreamStatus.Status == airbyte.StreamComplete {
			s.complete = true
		}
	case t.Type == airbyte.TraceError && t.Error != nil:
		r.l.log.ErrorContext(r.ctx, "source reported an error", "message", t.Error.Message, "failure_type", t.Error.FailureType)
	}
}

// record converts one record into a row of its stream's batch.
func (r *loadRun) record(rec *airbyte.RecordMessage) error {
	desc := airbyte.StreamDescriptor{Name: rec.Stream, Namespace: rec.Namespace}
	s := r.byKey[desc]
	if s == nil {
		return fmt.Errorf("staging: record for stream %s, which is not in the configured catalog", desc)
	}
	if s.swapped {
		return fmt.Errorf("staging: record for stream %s after the stream completed", desc)
	}
	if rec.Values != nil && len(rec.Data) == 0 {
		row, ok, err := s.typedRow(rec, r.ids)
		if err != nil {
			return err
		}
		if ok {
			return r.add(s, rec, row, rec.Values.Size())
		}
		rec.Materialize()
	}
	row, unknown, err := s.row(rec, r.ids)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		if err := r.addColumns(s, unknown); err != nil {
			return err
		}
		if row, _, err = s.row(rec, r.ids); err != nil {
			return err
		}
	}
	return r.add(s, rec, row, len(rec.Data))
}

// add appends a converted record to its stream's batch, and writes the
// batch when it is full.
func (r *loadRun) add(s *streamLoad, rec *airbyte.RecordMessage, row []any, size int) error {
	s.batch = append(s.batch, row)
	if s.raw != nil {
		s.raw.batch = append(s.raw.batch, rawRow(row[len(row)-len(metaColumns):], rec.DataJSON()))
	}
	s.batchBytes += size
	s.res.Records++
	s.res.Bytes += int64(size)
	r.sinceRows++
	r.sinceBytes += size
	if len(s.batch) >= r.l.opts.BatchRows || s.batchBytes >= r.l.opts.BatchBytes || time.Since(r.lastFlush) > r.l.opts.FlushInterval {
		return r.flush(s)
	}
	return nil
}

// begin opens the transaction that the next commit closes.
func (r *loadRun) begin() error {
	if r.tx != nil {
		return nil
	}
	tx, err := r.l.w.Begin(r.ctx)
	if err != nil {
		return err
	}
	r.tx = tx
	return nil
}

// flush writes a stream's batch into the open transaction.
func (r *loadRun) flush(s *streamLoad) error {
	r.lastFlush = time.Now()
	if len(s.batch) == 0 {
		return nil
	}
	s.dirty = true
	s.batchBytes = 0
	if s.raw == nil {
		// Handed to the stream's writer, which loads it while the loader
		// converts the next records.
		if err := r.openWriter(s); err != nil {
			return err
		}
		return r.send(s)
	}
	// Two tables per stream: loaded one after the other, here.
	if err := r.closeWriter(); err != nil {
		return err
	}
	if err := r.begin(); err != nil {
		return err
	}
	if _, err := r.tx.Load(r.ctx, s.write, columnNames(s.cols), rowsOf(s.batch)); err != nil {
		return fmt.Errorf("staging: stream %s: %w", s.desc, err)
	}
	clear(s.batch)
	s.batch = s.batch[:0]
	s.releaseRows()
	s.batchBytes = 0
	if s.raw != nil && len(s.raw.batch) > 0 {
		if _, err := r.tx.Load(r.ctx, s.raw.write, columnNames(rawColumns), rowsOf(s.raw.batch)); err != nil {
			return fmt.Errorf("staging: stream %s: raw table: %w", s.desc, err)
		}
		clear(s.raw.batch)
		s.raw.batch = s.raw.batch[:0]
	}
	return nil
}

// commit makes everything received so far durable together with the
// pending states, then acknowledges them to the source.
func (r *loadRun) commit(final bool) error {
	states := r.pending
	if err := r.begin(); err != nil {
		return err
	}
	for _, s := range r.streams {
		if err := r.flush(s); err != nil {
			return err
		}
	}
	if err := r.closeWriter(); err != nil {
		return err
	}
	for _, s := range r.streams {
		if s.dirty {
			if err := s.dedup(r.ctx, r.tx, r.l.w, r.l.opts.KeepDeleted); err != nil {
				return err
			}
		}
	}
	for _, state := range states {
		if err := r.l.state.save(r.ctx, r.tx, r.l.w, state); err != nil {
			return err
		}
	}
	for _, s := range r.streams {
		if s.complete && !s.swapped {
			if err := s.finish(r.ctx, r.tx, r.l.w); err != nil {
				return err
			}
			if s.truncate {
				if err := r.l.state.clear(r.ctx, r.tx, r.l.w, s.desc); err != nil {
					return err
				}
			}
		}
	}
	if err := r.tx.Commit(); err != nil {
		return fmt.Errorf("staging: commit: %w", err)
	}
	r.tx = nil
	r.pending = nil
	r.sinceRows, r.sinceBytes, r.lastCommit = 0, 0, time.Now()
	if len(states) > 0 {
		r.res.StatesCommitted++
	}
	for _, s := range r.streams {
		if s.dirty && len(states) > 0 {
			s.res.StatesCommitted++
		}
		s.dirty = false
	}
	for _, state := range states {
		if err := r.rs.Ack(r.ctx, state); err != nil {
			return fmt.Errorf("staging: acknowledge state: %w", err)
		}
	}
	if r.l.opts.OnProgress != nil {
		r.l.opts.OnProgress(r.res)
	}
	if final {
		for _, s := range r.streams {
			r.l.log.InfoContext(r.ctx, "stream staged", "stream", s.desc.String(), "table", s.target.String(), "records", s.res.Records, "nulled", s.res.ValuesNulled)
		}
	}
	return nil
}

func (r *loadRun) rollback() {
	_ = r.closeWriter()
	if r.tx != nil {
		_ = r.tx.Rollback()
		r.tx = nil
	}
}

// addColumns adds JSON columns for fields the stream's schema did not list,
// so that no data is lost; the stream's buffered rows are written first.
func (r *loadRun) addColumns(s *streamLoad, names []string) error {
	if err := r.flush(s); err != nil {
		return err
	}
	if err := r.closeWriter(); err != nil {
		return err
	}
	if err := r.begin(); err != nil {
		return err
	}
	cols := make([]warehouse.Column, len(names))
	for i, n := range names {
		cols[i] = warehouse.Column{Name: n, Type: warehouse.JSON, Nullable: true}
	}
	for _, rel := range s.tables() {
		if err := r.tx.AddColumns(r.ctx, rel, cols); err != nil {
			return fmt.Errorf("staging: stream %s: add columns %v: %w", s.desc, names, err)
		}
	}
	// New columns go before the metadata columns in the row layout too.
	n := len(s.cols) - len(metaColumns)
	s.cols = slices.Insert(s.cols, n, cols...)
	s.reindex()
	s.res.ColumnsAdded = append(s.res.ColumnsAdded, names...)
	r.l.log.InfoContext(r.ctx, "columns added", "stream", s.desc.String(), "columns", names)
	return nil
}

// rowsOf iterates over a batch.
func rowsOf(batch [][]any) func(func([]any, error) bool) {
	return func(yield func([]any, error) bool) {
		for _, row := range batch {
			if !yield(row, nil) {
				return
			}
		}
	}
}

func logLevel(l airbyte.LogLevel) slog.Level {
	switch l {
	case airbyte.LogFatal, airbyte.LogError:
		return slog.LevelError
	case airbyte.LogWarn:
		return slog.LevelWarn
	case airbyte.LogDebug, airbyte.LogTrace:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// auxName derives the name of a helper table of a stream, fitting the
// engine's identifier limit.
func auxName(d warehouse.Dialect, name, tag string) string {
	suffix := "__dataops_" + tag
	if max := d.MaxIdentifierLength(); max > 0 && len(name)+len(suffix) > max {
		sum := sha256.Sum256([]byte(name))
		h := "_" + hex.EncodeToString(sum[:4])
		cut := max - len(suffix) - len(h)
		for cut > 0 && cut < len(name) && (name[cut]&0xC0) == 0x80 {
			cut--
		}
		name = name[:cut] + h
	}
	return name + suffix
}
