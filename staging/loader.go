package staging

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
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
	// warehouse's bulk path; defaults 10,000 rows, 16 MiB, 5 s (the time is
	// looked at every 64 records).
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
	// commits. Defaults 500,000 records, 64 MiB, 10 s; CommitRows 1 commits
	// at every state.
	//
	// Why 500,000 rows: each DuckDB commit leaves its last row group
	// partly filled (a row group holds 122,880 rows), and DuckDB's
	// checkpoint vacuum rewrites a run of two to four adjacent row groups
	// whose rows fit in one group fewer. Commits of 250,000 rows (two full
	// groups and a partial one) made every partial, the two full groups
	// after it and the next partial such a run, so the closing checkpoint
	// rewrote about the whole table: 0.5 CPU-s per 1M rows staged (10M
	// rows: 5.1 CPU-s). Commits of more than three groups' worth (368,640
	// rows) leave no such run but around the last, smaller commit: the
	// closing checkpoint then takes 0.01-0.03 CPU-s at 1M and 10M rows, and
	// the load itself costs no more (benchpipeline, 10M rows: pipeline CPU
	// 17.9-18.2 s and peak RSS 178-179 MiB, against 18.0-19.5 s and 185-186
	// MiB with 250,000, whose close took 5.1-5.2 CPU-s). Larger is not
	// better: commits of 1,000,000 rows ran DuckDB out of memory under the
	// 32MB memory_limit policy (see Memory in the package doc) at 10M rows.
	CommitRows     int
	CommitBytes    int
	CommitInterval time.Duration
	// Parallelism bounds how many transactions write streams at once. A
	// source that checkpoints each stream with STREAM states (which a Load
	// learns from the committed states, or from the first commit) has its
	// streams dealt into up to Parallelism groups; each group converts,
	// writes and commits on a goroutine and a warehouse connection of its
	// own, and its streams' rows commit together with those streams'
	// states — exactly once per stream, as in serial mode. GLOBAL states
	// (CDC) and LEGACY states cover every stream at once, so such a source
	// is loaded in one transaction at a time: a GLOBAL state commits with
	// the rows of all streams up to it. Groups are also fewer than the
	// warehouse's connection pool holds. Default: the number of CPUs, at
	// most 4; 1 loads serially.
	Parallelism int
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
	// it, do not keep it): the hook for progress displays. With parallel
	// streams it is called from the goroutine of the group that committed;
	// calls never overlap.
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
		o.CommitRows = 500_000
	}
	if o.CommitBytes <= 0 {
		o.CommitBytes = 64 << 20
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = 10 * time.Second
	}
	if o.Parallelism <= 0 {
		o.Parallelism = min(runtime.GOMAXPROCS(0), 4)
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
//
// Streams are written by up to Options.Parallelism transactions at once once
// the source is known to send STREAM states; see Options.Parallelism.
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
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	run := &loadRun{l: l, ctx: ctx, cancel: cancel, rs: rs, byKey: map[airbyte.StreamDescriptor]*streamLoad{}, res: &Result{}, ackReady: make(chan struct{}, 1)}
	for _, cs := range catalog.Streams {
		s, err := l.prepare(ctx, cs, committed)
		if err != nil {
			return nil, err
		}
		if _, dup := run.byKey[s.desc]; dup {
			return nil, fmt.Errorf("staging: stream %s appears twice in the configured catalog", s.desc)
		}
		s.blockRows = l.opts.BatchRows
		s.useColumns(l.w)
		run.byKey[s.desc] = s
		run.streams = append(run.streams, s)
		run.res.Streams = append(run.res.Streams, s.res)
	}
	// In-process sources that can hand records over as Go values do so,
	// and reuse the memory of those the columnar path has copied out: it
	// releases each one it stored (airbyte.ReleasingReadStream; records that
	// take another path are never released, so never reused).
	if airbyte.EnableTypedRecords(rs) {
		airbyte.EnableRecordRelease(rs)
	}
	// Each of the load's goroutines carries a pprof label "staging" naming
	// its part (route, source, group, writer), so that CPU profiles show
	// where a load's time goes.
	pprof.Do(ctx, pprof.Labels("staging", "route"), func(context.Context) {
		err = run.consume(onlyStreamStates(committed))
	})
	run.res.Duration = time.Since(start)
	if err != nil {
		run.stop()
		_ = run.ackCommitted()
		run.publish()
		return run.res, err
	}
	return run.res, nil
}

// onlyStreamStates reports whether states holds STREAM states and nothing
// else: the source checkpoints each stream on its own.
func onlyStreamStates(states []airbyte.StateMessage) bool {
	for _, st := range states {
		if st.Type != airbyte.StateStream {
			return false
		}
	}
	return len(states) > 0
}

// loadRun is the state of one Load. Load's goroutine reads the source's
// messages and routes them: in serial mode to the one group, which it runs
// itself; in parallel mode to the groups' worker goroutines.
type loadRun struct {
	l       *Loader
	ctx     context.Context // cancelled with the first failure as cause
	cancel  context.CancelCauseFunc
	rs      airbyte.ReadStream
	streams []*streamLoad
	byKey   map[airbyte.StreamDescriptor]*streamLoad
	last    lastStream // route's last stream of a record
	serial  *group     // serial mode: the group of every stream, run by Load's goroutine
	groups  []*group   // parallel mode: groups of streams, each with a worker goroutine
	ended   bool       // the source ended cleanly: workers commit what is left

	mu       sync.Mutex // guards res, acks, the streams' results and OnProgress calls
	res      *Result
	acks     []*airbyte.StateMessage // committed, to acknowledge from Load's goroutine
	hasAcks  atomic.Bool
	ackReady chan struct{} // signalled when a worker queues acks
}

// lastStream remembers the stream of the last record looked up: records
// come in runs of one stream, and a run's names are compared, not hashed.
type lastStream struct {
	name, ns string
	s        *streamLoad
}

// of returns the stream of rec in byKey, or nil.
func (l *lastStream) of(byKey map[airbyte.StreamDescriptor]*streamLoad, rec *airbyte.RecordMessage) *streamLoad {
	if l.s != nil && rec.Stream == l.name && rec.Namespace == l.ns {
		return l.s
	}
	s := byKey[airbyte.StreamDescriptor{Name: rec.Stream, Namespace: rec.Namespace}]
	if s != nil {
		l.name, l.ns, l.s = rec.Stream, rec.Namespace, s
	}
	return s
}

// A group is a set of streams that share one transaction: rows of its
// streams and their states commit together. A Load starts with one group of
// every stream (serial mode); once the source has shown that it sends
// STREAM states, the streams are split into up to Options.Parallelism groups
// that write and commit independently (parallel mode).
type group struct {
	r         *loadRun
	streams   []*streamLoad
	tx        *warehouse.Tx
	w         *writer // the open bulk load, if any
	ids       *rawIDs
	last      lastStream // handle's last stream of a record
	lastFlush time.Time

	// States received but not committed yet (each stream's latest, or the
	// latest GLOBAL/LEGACY one), and what arrived since the last commit.
	pending    []*airbyte.StateMessage
	sinceRows  int
	sinceBytes int
	lastCommit time.Time

	// Parallel mode: the worker's input, closed by Load's goroutine, and
	// closed by the worker when it has ended.
	in     chan *airbyte.Message
	done   chan struct{}
	closed bool // in is closed (touched by Load's goroutine only)
}

func (r *loadRun) newGroup(streams []*streamLoad) *group {
	now := time.Now()
	g := &group{r: r, streams: streams, ids: newRawIDs(), lastFlush: now, lastCommit: now}
	for _, s := range streams {
		s.group = g
	}
	return g
}

func (r *loadRun) consume(parallel bool) error {
	r.serial = r.newGroup(r.streams)
	if parallel {
		r.goParallel()
	}
	msgs, done, stop := r.messages()
	defer stop()
	for more := true; more; {
		select {
		case batch, ok := <-msgs:
			if !ok {
				more = false
				break
			}
			for _, it := range batch {
				if it.err != nil {
					return fmt.Errorf("staging: source: %w", it.err)
				}
				if err := r.ctx.Err(); err != nil {
					return context.Cause(r.ctx)
				}
				if err := r.route(it.msg); err != nil {
					return err
				}
				if r.hasAcks.Load() {
					if err := r.ackCommitted(); err != nil {
						return err
					}
				}
			}
			done(batch)
			continue
		case <-r.ackReady:
			// A worker committed while the source is quiet.
		case <-r.ctx.Done():
			// A worker failed (or the caller cancelled) while the source
			// is quiet.
			return context.Cause(r.ctx)
		}
		if err := r.ackCommitted(); err != nil {
			return err
		}
	}
	// The source ended cleanly: every stream is complete.
	if g := r.serial; g != nil {
		for _, s := range r.streams {
			s.complete = true
		}
		if err := g.commit(true); err != nil {
			return err
		}
	} else {
		r.ended = true
		r.closeGroups()
		if err := r.ctx.Err(); err != nil {
			return context.Cause(r.ctx)
		}
	}
	if err := r.ackCommitted(); err != nil {
		return err
	}
	r.logStaged()
	return nil
}

// route handles one message on Load's goroutine.
func (r *loadRun) route(msg *airbyte.Message) error {
	switch msg.Type {
	case airbyte.TypeRecord:
		rec := msg.Record
		if rec == nil {
			return errors.New("staging: RECORD message without a record")
		}
		s := r.last.of(r.byKey, rec)
		if s == nil {
			return fmt.Errorf("staging: record for stream %s, which is not in the configured catalog", airbyte.StreamDescriptor{Name: rec.Stream, Namespace: rec.Namespace})
		}
		if r.serial != nil {
			return r.serial.record(s, rec)
		}
		return r.send(s.group, msg)
	case airbyte.TypeState:
		st := msg.State
		if st == nil {
			return errors.New("staging: STATE message without a state")
		}
		if g := r.serial; g != nil {
			g.hold(st)
			if !g.dueCommit() {
				return nil
			}
			stream := onlyStreamPending(g.pending)
			if err := g.commit(false); err != nil {
				return err
			}
			if stream {
				r.goParallel()
			}
			return nil
		}
		if st.Type != airbyte.StateStream || st.Stream == nil {
			return fmt.Errorf("staging: the source sent a %s state after STREAM states; a source sends one kind of state", st.Type)
		}
		g := r.groups[0] // a state of a stream outside the catalog is kept too
		if s := r.byKey[st.Stream.StreamDescriptor]; s != nil {
			g = s.group
		}
		return r.send(g, msg)
	case airbyte.TypeTrace:
		t := msg.Trace
		if t == nil {
			return nil
		}
		switch {
		case t.Type == airbyte.TraceStreamStatus && t.StreamStatus != nil:
			s := r.byKey[t.StreamStatus.StreamDescriptor]
			if s == nil || t.StreamStatus.Status != airbyte.StreamComplete {
				return nil
			}
			if r.serial != nil {
				s.complete = true
				return nil
			}
			return r.send(s.group, msg)
		case t.Type == airbyte.TraceError && t.Error != nil:
			r.l.log.ErrorContext(r.ctx, "source reported an error", "message", t.Error.Message, "failure_type", t.Error.FailureType)
		}
	case airbyte.TypeLog:
		if msg.Log != nil {
			r.l.log.Log(r.ctx, logLevel(msg.Log.Level), msg.Log.Message, "source", true)
		}
	case airbyte.TypeControl:
		if msg.Control != nil && r.l.opts.OnControl != nil {
			r.l.opts.OnControl(msg.Control)
		}
	}
	return nil
}

// onlyStreamPending reports whether the pending states are STREAM states.
func onlyStreamPending(pending []*airbyte.StateMessage) bool {
	for _, st := range pending {
		if st.Type != airbyte.StateStream {
			return false
		}
	}
	return len(pending) > 0
}

// goParallel ends serial mode, between two commits: the streams are dealt
// into up to Options.Parallelism groups (fewer than the warehouse's
// connection pool holds), each written by a worker of its own. Nothing
// happens with one stream or a parallelism of 1.
func (r *loadRun) goParallel() {
	n := min(r.l.opts.Parallelism, len(r.streams))
	if max := r.l.w.DB().Stats().MaxOpenConnections; max > 0 {
		// Each group holds a connection for as long as its transaction
		// is open; leave one for everything else, so that no group waits
		// for a connection that another group holds until its own state.
		n = min(n, max-1)
	}
	if n <= 1 || r.serial == nil {
		return
	}
	r.serial = nil
	sets := make([][]*streamLoad, n)
	for i, s := range r.streams {
		sets[i%n] = append(sets[i%n], s)
	}
	for _, set := range sets {
		g := r.newGroup(set)
		g.in = make(chan *airbyte.Message, 1024)
		g.done = make(chan struct{})
		r.groups = append(r.groups, g)
		go pprof.Do(r.ctx, pprof.Labels("staging", "group"), func(context.Context) { g.work() })
	}
}

// send hands a message to a group's worker.
func (r *loadRun) send(g *group, msg *airbyte.Message) error {
	select {
	case g.in <- msg:
		return nil
	case <-r.ctx.Done():
		return context.Cause(r.ctx)
	}
}

// work is a group's worker in parallel mode: it converts and writes the
// records it is handed and commits its states, until its input closes. At
// the end of the read it then commits what is left; when the load failed
// elsewhere it still handles what it was handed (committing the states
// that come due, as a serial load would have) and rolls back the rest.
func (g *group) work() {
	defer close(g.done)
	for msg := range g.in {
		if err := g.handle(msg); err != nil {
			g.r.cancel(err)
			g.rollback()
			for range g.in {
			}
			return
		}
	}
	if !g.r.ended || g.r.ctx.Err() != nil {
		g.rollback()
		return
	}
	for _, s := range g.streams {
		s.complete = true
	}
	if err := g.commit(true); err != nil {
		g.r.cancel(err)
		g.rollback()
	}
}

// handle is what a worker does with a message.
func (g *group) handle(msg *airbyte.Message) error {
	switch msg.Type {
	case airbyte.TypeRecord:
		rec := msg.Record
		return g.record(g.last.of(g.r.byKey, rec), rec)
	case airbyte.TypeState:
		g.hold(msg.State)
		if g.dueCommit() {
			return g.commit(false)
		}
	case airbyte.TypeTrace:
		g.r.byKey[msg.Trace.StreamStatus.StreamDescriptor].complete = true
	}
	return nil
}

// stop ends a failed load: workers stop and every open transaction is
// rolled back.
func (r *loadRun) stop() {
	if r.serial != nil {
		r.serial.rollback()
	}
	r.closeGroups()
	r.cancel(errors.New("staging: load failed"))
}

// closeGroups closes the workers' input and waits for them to end.
func (r *loadRun) closeGroups() {
	for _, g := range r.groups {
		if !g.closed {
			g.closed = true
			close(g.in)
		}
	}
	for _, g := range r.groups {
		<-g.done
	}
}

// committed queues states that a commit made durable, for Load's
// goroutine to acknowledge.
func (r *loadRun) committed(states []*airbyte.StateMessage) {
	if len(states) == 0 {
		return
	}
	r.mu.Lock()
	r.acks = append(r.acks, states...)
	r.hasAcks.Store(true)
	r.mu.Unlock()
	select {
	case r.ackReady <- struct{}{}:
	default:
	}
}

// ackCommitted acknowledges the committed states to the source.
func (r *loadRun) ackCommitted() error {
	r.mu.Lock()
	acks := r.acks
	r.acks = nil
	r.hasAcks.Store(false)
	r.mu.Unlock()
	for _, st := range acks {
		if err := r.rs.Ack(r.ctx, st); err != nil {
			return fmt.Errorf("staging: acknowledge state: %w", err)
		}
	}
	return nil
}

// publish copies the streams' counters into the result.
func (r *loadRun) publish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.streams {
		s.publish()
	}
}

func (r *loadRun) logStaged() {
	for _, s := range r.streams {
		r.l.log.InfoContext(r.ctx, "stream staged", "stream", s.desc.String(), "table", s.target.String(), "records", s.res.Records, "nulled", s.res.ValuesNulled)
	}
}

// hold keeps a state for the next commit, replacing the pending states it
// supersedes: a STREAM state replaces its stream's, a GLOBAL or LEGACY state
// replaces all.
func (g *group) hold(st *airbyte.StateMessage) {
	if st.Type == airbyte.StateStream && st.Stream != nil {
		d := st.Stream.StreamDescriptor
		if s := g.r.byKey[d]; s != nil {
			s.uncovered = 0
		}
		g.pending = slices.DeleteFunc(g.pending, func(p *airbyte.StateMessage) bool {
			return p.Type == airbyte.StateStream && p.Stream != nil && p.Stream.StreamDescriptor == d
		})
	} else {
		clear(g.pending)
		g.pending = g.pending[:0]
		for _, s := range g.streams {
			s.uncovered = 0
		}
	}
	g.pending = append(g.pending, st)
}

// dueCommit reports whether the pending states may and should be committed
// now: every stream of the group has had its rows covered by a state since
// its last record (rows that no state covers yet must not commit, or a
// restart would read them again), and enough has arrived since the last
// commit.
func (g *group) dueCommit() bool {
	for _, s := range g.streams {
		if s.uncovered > 0 && !(s.truncate && s.complete) {
			return false
		}
	}
	o := &g.r.l.opts
	return g.sinceRows >= o.CommitRows || g.sinceBytes >= o.CommitBytes || time.Since(g.lastCommit) >= o.CommitInterval
}

// sourceItem is a message of the source, or the error that ended it.
type sourceItem struct {
	msg *airbyte.Message
	err error
}

// messages runs the source in a goroutine of its own, a bounded buffer ahead
// of the loader, so that producing messages (querying, encoding, decoding a
// connector's output) overlaps converting and writing them. Order is kept.
// Messages travel in batches of up to sourceBatch, so that the two
// goroutines meet once per batch rather than per message: a batch goes as
// soon as the loader has room for it, or at once when it holds a STATE (a
// source may wait for a state's acknowledgement before it sends more) or
// is full. The channel closes when the source ends; the loader hands each
// batch back with done once it has routed it; stop, when the loader stops
// early, closes the source so that its goroutine ends.
func (r *loadRun) messages() (<-chan []sourceItem, func([]sourceItem), func()) {
	ch := make(chan []sourceItem, 256/sourceBatch)
	// Batches the loader is done with, for reuse: with a loader that keeps
	// up, batches go one message at a time.
	free := make(chan []sourceItem, 256/sourceBatch+2)
	next := func() []sourceItem {
		select {
		case b := <-free:
			return b
		default:
			return make([]sourceItem, 0, sourceBatch)
		}
	}
	quit := make(chan struct{})
	go pprof.Do(r.ctx, pprof.Labels("staging", "source"), func(context.Context) {
		defer close(ch)
		batch := next()
		send := func() bool {
			select {
			case ch <- batch:
				batch = next()
				return true
			case <-quit:
				return false
			}
		}
		for msg, err := range r.rs.Messages() {
			batch = append(batch, sourceItem{msg, err})
			if err != nil || len(batch) == sourceBatch || msg == nil || msg.Type == airbyte.TypeState {
				if !send() || err != nil {
					return
				}
				continue
			}
			select {
			case ch <- batch:
				batch = next()
			default: // the loader is busy: keep batching
			}
		}
		if len(batch) > 0 {
			send()
		}
	})
	done := func(b []sourceItem) {
		clear(b)
		select {
		case free <- b[:0]:
		default:
		}
	}
	var once sync.Once
	return ch, done, func() {
		once.Do(func() {
			close(quit)
			_ = r.rs.Close()
		})
	}
}

// sourceBatch is the most messages messages hands over at once.
const sourceBatch = 64

// record converts one record into a row of its stream's batch.
func (g *group) record(s *streamLoad, rec *airbyte.RecordMessage) error {
	if s.swapped {
		return fmt.Errorf("staging: record for stream %s after the stream completed", s.desc)
	}
	if rec.Values != nil && len(rec.Data) == 0 {
		if s.colPath {
			ok, err := s.typedColumns(rec, g.ids)
			if err != nil {
				return err
			}
			if ok {
				// The values are copied into the batch: the source may
				// reuse the record (rec must not be used after this).
				size := rec.Values.Size()
				airbyte.ReleaseRecord(rec)
				return g.added(s, size)
			}
		} else {
			row, ok, err := s.typedRow(rec, g.ids)
			if err != nil {
				return err
			}
			if ok {
				return g.add(s, rec, row, rec.Values.Size())
			}
		}
		rec.Materialize()
	}
	row, unknown, err := s.row(rec, g.ids)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		if err := g.addColumns(s, unknown); err != nil {
			return err
		}
		if row, _, err = s.row(rec, g.ids); err != nil {
			return err
		}
	}
	if s.colPath {
		err := s.cb.appendRow(row, s.cols)
		s.releaseRows() // the row's values are copied
		if err != nil {
			return fmt.Errorf("staging: stream %s: %w", s.desc, err)
		}
		return g.added(s, len(rec.Data))
	}
	return g.add(s, rec, row, len(rec.Data))
}

// add appends a converted record to its stream's batch, and writes the
// batch when it is full.
func (g *group) add(s *streamLoad, rec *airbyte.RecordMessage, row []any, size int) error {
	s.batch = append(s.batch, row)
	if s.raw != nil {
		s.raw.batch = append(s.raw.batch, rawRow(row[len(row)-len(metaColumns):], rec.DataJSON()))
	}
	return g.added(s, size)
}

// added counts a record added to its stream's batch, and writes the batch
// when it is full.
func (g *group) added(s *streamLoad, size int) error {
	s.batchBytes += size
	s.records++
	s.bytes += int64(size)
	s.uncovered++
	g.sinceRows++
	g.sinceBytes += size
	o := &g.r.l.opts
	// The clock is read every 64 records of the group, not per record.
	if s.batchLen() >= o.BatchRows || s.batchBytes >= o.BatchBytes || (g.sinceRows&63 == 0 && time.Since(g.lastFlush) > o.FlushInterval) {
		return g.flush(s)
	}
	return nil
}

// begin opens the transaction that the next commit closes.
func (g *group) begin() error {
	if g.tx != nil {
		return nil
	}
	tx, err := g.r.l.w.Begin(g.r.ctx)
	if err != nil {
		return err
	}
	g.tx = tx
	return nil
}

// flush writes a stream's batch into the open transaction.
func (g *group) flush(s *streamLoad) error {
	g.lastFlush = time.Now()
	if s.batchLen() == 0 {
		return nil
	}
	s.dirty = true
	s.batchBytes = 0
	ctx := g.r.ctx
	if s.raw == nil {
		// Handed to the stream's writer, which loads it while the loader
		// converts the next records.
		if err := g.openWriter(s); err != nil {
			return err
		}
		return g.send(s)
	}
	// Two tables per stream: loaded one after the other, here.
	if err := g.closeWriter(); err != nil {
		return err
	}
	if err := g.begin(); err != nil {
		return err
	}
	if _, err := g.tx.Load(ctx, s.write, columnNames(s.cols), rowsOf(s.batch)); err != nil {
		return fmt.Errorf("staging: stream %s: %w", s.desc, err)
	}
	clear(s.batch)
	s.batch = s.batch[:0]
	s.releaseRows()
	s.batchBytes = 0
	if s.raw != nil && len(s.raw.batch) > 0 {
		if _, err := g.tx.Load(ctx, s.raw.write, columnNames(rawColumns), rowsOf(s.raw.batch)); err != nil {
			return fmt.Errorf("staging: stream %s: raw table: %w", s.desc, err)
		}
		clear(s.raw.batch)
		s.raw.batch = s.raw.batch[:0]
	}
	return nil
}

// commit makes everything the group received so far durable together with
// its pending states, then queues them to be acknowledged to the source.
func (g *group) commit(final bool) error {
	r, ctx := g.r, g.r.ctx
	states := g.pending
	if err := g.begin(); err != nil {
		return err
	}
	for _, s := range g.streams {
		if err := g.flush(s); err != nil {
			return err
		}
	}
	if err := g.closeWriter(); err != nil {
		return err
	}
	for _, s := range g.streams {
		if s.dirty {
			if err := s.dedup(ctx, g.tx, r.l.w, r.l.opts.KeepDeleted); err != nil {
				return err
			}
		}
	}
	for _, state := range states {
		if err := r.l.state.save(ctx, g.tx, r.l.w, state); err != nil {
			return err
		}
	}
	for _, s := range g.streams {
		if s.complete && !s.swapped {
			if err := s.finish(ctx, g.tx, r.l.w); err != nil {
				return err
			}
			if s.truncate {
				if err := r.l.state.clear(ctx, g.tx, r.l.w, s.desc); err != nil {
					return err
				}
			}
		}
	}
	if err := g.tx.Commit(); err != nil {
		return fmt.Errorf("staging: commit: %w", err)
	}
	g.tx = nil
	g.pending = nil
	g.sinceRows, g.sinceBytes, g.lastCommit = 0, 0, time.Now()
	r.mu.Lock()
	if len(states) > 0 {
		r.res.StatesCommitted++
	}
	for _, s := range g.streams {
		if s.dirty && len(states) > 0 {
			s.res.StatesCommitted++
		}
		s.dirty = false
		s.publish()
	}
	if r.l.opts.OnProgress != nil {
		r.l.opts.OnProgress(r.res)
	}
	r.mu.Unlock()
	r.committed(states)
	return nil
}

func (g *group) rollback() {
	_ = g.closeWriter()
	if g.tx != nil {
		_ = g.tx.Rollback()
		g.tx = nil
	}
}

// addColumns adds JSON columns for fields the stream's schema did not list,
// so that no data is lost; the stream's buffered rows are written first.
func (g *group) addColumns(s *streamLoad, names []string) error {
	if err := g.flush(s); err != nil {
		return err
	}
	if err := g.closeWriter(); err != nil {
		return err
	}
	if err := g.begin(); err != nil {
		return err
	}
	cols := make([]warehouse.Column, len(names))
	for i, n := range names {
		cols[i] = warehouse.Column{Name: n, Type: warehouse.JSON, Nullable: true}
	}
	for _, rel := range s.tables() {
		if err := g.tx.AddColumns(g.r.ctx, rel, cols); err != nil {
			return fmt.Errorf("staging: stream %s: add columns %v: %w", s.desc, names, err)
		}
	}
	// New columns go before the metadata columns in the row layout too.
	n := len(s.cols) - len(metaColumns)
	s.cols = slices.Insert(s.cols, n, cols...)
	s.reindex()
	s.useColumns(g.r.l.w) // the batch is empty: flushed above
	g.r.mu.Lock()
	s.res.ColumnsAdded = append(s.res.ColumnsAdded, names...)
	g.r.mu.Unlock()
	g.r.l.log.InfoContext(g.r.ctx, "columns added", "stream", s.desc.String(), "columns", names)
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
