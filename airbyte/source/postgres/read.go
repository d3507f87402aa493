package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// streamState is the per-stream state this source writes: the stream_state
// of a STREAM state, or an entry of a GLOBAL state's stream_states (CDC).
type streamState struct {
	// Load is the progress of an unfinished chunked read (full refresh,
	// or the initial load of an xmin or CDC stream).
	Load *loadState `json:"load,omitempty"`
	// LoadDone says the stream's last full refresh (or initial load)
	// finished. A full refresh stream starts over; CDC streams go on with
	// changes only.
	LoadDone bool `json:"load_done,omitempty"`
	// CursorField, Cursor: cursor incremental. The next read emits rows
	// whose cursor is >= Cursor. CursorRaw is the cursor value exactly as
	// PostgreSQL sent it (format CursorBinary); without it Cursor is bound
	// as text.
	CursorField  []string        `json:"cursor_field,omitempty"`
	Cursor       json.RawMessage `json:"cursor,omitempty"`
	CursorRaw    []byte          `json:"cursor_raw,omitempty"`
	CursorBinary bool            `json:"cursor_raw_binary,omitempty"`
	// Xmin: xmin incremental. The next read emits rows whose xmin is not
	// older than Xmin (modulo 2^32).
	Xmin *uint32 `json:"xmin,omitempty"`
}

// loadState is the progress of a chunked read: the ctid of the last row
// read and the table's relfilenode (tables and materialized views, read in
// physical order), or the last primary key read (partitioned tables with
// a key, read in key order). NextPage is the progress of former versions,
// which read tables without a key in page ranges; it is still honoured.
type loadState struct {
	PK       []json.RawMessage `json:"pk,omitempty"`     // last key read, as emitted (for people)
	PKRaw    [][]byte          `json:"pk_raw,omitempty"` // the same, as PostgreSQL sent it
	NextPage *int64            `json:"next_page,omitempty"`
	Ctid     string            `json:"ctid,omitempty"`     // last row read, "(page,item)"
	Filenode int64             `json:"filenode,omitempty"` // pg_relation_filenode when Ctid was read
}

// Read validates the config and catalog, connects, takes the snapshot and
// returns the running read. See the package doc for what each sync mode
// emits and how state is resumed.
func (s *Source) Read(ctx context.Context, config json.RawMessage, catalog *airbyte.ConfiguredCatalog, state []airbyte.StateMessage) (airbyte.ReadStream, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	if catalog == nil {
		return nil, fmt.Errorf("%w: no configured catalog", ErrInvalidCatalog)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	rs := &readStream{src: s, cfg: cfg, ctx: rctx, cancel: cancel, stopAfter: stop, global: cfg.method() == MethodCDC}
	if err := rs.open(ctx, catalog, state); err != nil {
		rs.Close()
		return nil, err
	}
	return rs, nil
}

type readStream struct {
	src       *Source
	cfg       *Config
	ctx       context.Context
	cancel    context.CancelFunc
	stopAfter func() bool

	ctl   *pgx.Conn // catalog queries, holds the exported snapshot
	rd    *pgx.Conn // reads rows in the snapshot
	plans []*streamPlan
	cdc   *cdcReader

	global       bool            // states are GLOBAL (CDC) rather than STREAM
	sharedState  json.RawMessage // GLOBAL shared_state
	snapshotName string

	mu       sync.Mutex
	running  bool
	used     bool
	closed   bool
	closeErr error

	slab   []byte
	boxes  []recordBox
	tboxes []typedBox
	now    int64
	nowN   int

	typed bool    // send typed records (EnableTypedRecords)
	tslab []byte  // typed records' values
	tlens []int32 // typed records' value lengths

	recycle bool             // typed records come from recycled blocks (EnableRecordRelease)
	blk     *typedBlock      // the block typed records are carved from, when recycle
	blkFree chan *typedBlock // blocks whose records are all released
	blkMade int              // blocks made (not reused), when recycle

	ballast   []byte // the GC ballast, while the read runs (gc.go)
	ballasted bool   // the read has held its ballast
}

// recordBox is a RECORD message; typedBox one with its typed values. Both
// are carved out of shared arrays.
type recordBox struct {
	m airbyte.Message
	r airbyte.RecordMessage
}

type typedBox struct {
	recordBox
	v pgValues
}

var snapshotIDPattern = regexp.MustCompile(`^[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?$`)

func (rs *readStream) open(ctx context.Context, catalog *airbyte.ConfiguredCatalog, state []airbyte.StateMessage) error {
	var err error
	if rs.ctl, err = rs.src.connect(ctx, rs.cfg); err != nil {
		return err
	}
	tables, err := discoverTables(ctx, rs.ctl, rs.cfg.Schemas)
	if err != nil {
		return err
	}
	byName := map[airbyte.StreamDescriptor]*table{}
	for _, t := range tables {
		byName[t.desc()] = t
	}
	for _, cs := range catalog.Streams {
		d := cs.Stream.Descriptor()
		t := byName[d]
		if t == nil && d.Namespace == "" && len(rs.cfg.Schemas) == 1 {
			t = byName[airbyte.StreamDescriptor{Name: d.Name, Namespace: rs.cfg.Schemas[0]}]
		}
		if t == nil {
			return &StreamNotFoundError{Stream: d}
		}
		sp, err := newPlan(cs, t, rs.cfg.method())
		if err != nil {
			return err
		}
		rs.plans = append(rs.plans, sp)
	}
	if err := rs.loadState(state); err != nil {
		return err
	}
	needCDC := false
	for _, sp := range rs.plans {
		if sp.mode == modeCDC {
			needCDC = true
		}
	}
	if needCDC {
		rs.cdc = &cdcReader{rs: rs, rm: rs.cfg.ReplicationMethod}
		if err := rs.cdc.prepare(ctx); err != nil {
			return err
		}
	}
	exported := rs.snapshotName == ""
	if exported {
		if _, err := rs.ctl.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return fmt.Errorf("postgres source: begin snapshot: %w", err)
		}
		if err := rs.ctl.QueryRow(ctx, "SELECT pg_catalog.pg_export_snapshot()").Scan(&rs.snapshotName); err != nil {
			return fmt.Errorf("postgres source: export snapshot: %w", err)
		}
	}
	if !snapshotIDPattern.MatchString(rs.snapshotName) {
		return fmt.Errorf("postgres source: unexpected snapshot id %q", rs.snapshotName)
	}
	if rs.rd, err = rs.src.connect(ctx, rs.cfg); err != nil {
		return err
	}
	if _, err := rs.rd.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return fmt.Errorf("postgres source: begin read: %w", err)
	}
	// SET TRANSACTION SNAPSHOT takes no bind parameter; the id was checked
	// against snapshotIDPattern above and is quoted as a literal.
	if _, err := rs.rd.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+rs.snapshotName+"'"); err != nil {
		return fmt.Errorf("postgres source: import snapshot %s: %w", rs.snapshotName, err)
	}
	// Full refresh checkpoints rely on rows arriving in physical order,
	// which synchronized and parallel sequential scans do not keep.
	for _, set := range []string{"SET LOCAL synchronize_seqscans = off", "SET LOCAL max_parallel_workers_per_gather = 0"} {
		if _, err := rs.rd.Exec(ctx, set); err != nil {
			return fmt.Errorf("postgres source: %s: %w", set, err)
		}
	}
	if exported {
		// The reader holds the snapshot now; the exporter need not.
		if _, err := rs.ctl.Exec(ctx, "COMMIT"); err != nil {
			return fmt.Errorf("postgres source: end snapshot export: %w", err)
		}
	}
	return nil
}

// loadState takes each configured stream's saved state.
func (rs *readStream) loadState(msgs []airbyte.StateMessage) error {
	byDesc := map[airbyte.StreamDescriptor]json.RawMessage{}
	for i, m := range msgs {
		switch m.Type {
		case airbyte.StateStream:
			if m.Stream != nil {
				byDesc[m.Stream.StreamDescriptor] = m.Stream.StreamState
			}
		case airbyte.StateGlobal:
			if m.Global != nil {
				rs.sharedState = m.Global.SharedState
				for _, ss := range m.Global.StreamStates {
					byDesc[ss.StreamDescriptor] = ss.StreamState
				}
			}
		case airbyte.StateLegacy, "":
			return fmt.Errorf("postgres source: state message %d: LEGACY state is not supported; use STREAM or GLOBAL", i)
		}
	}
	for _, sp := range rs.plans {
		raw, ok := byDesc[sp.desc]
		if !ok && sp.cs.Stream.Namespace == "" {
			raw, ok = byDesc[airbyte.StreamDescriptor{Name: sp.desc.Name}]
		}
		if !ok || len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var st streamState
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("postgres source: state of stream %s: %w", sp.desc, err)
		}
		switch sp.mode {
		case modeFullRefresh:
			if st.LoadDone {
				st = streamState{} // a finished full refresh starts over
			}
			st.CursorField, st.Cursor, st.CursorRaw, st.Xmin = nil, nil, nil, nil
		case modeCursor:
			if len(st.CursorField) > 0 && (len(st.CursorField) != 1 || st.CursorField[0] != sp.cs.CursorField[0]) {
				rs.src.log.Warn("cursor field changed; reading the stream from the start",
					"stream", sp.desc.String(), "saved", st.CursorField, "configured", sp.cs.CursorField)
				st = streamState{}
			}
		}
		sp.state = st
	}
	return nil
}

// Messages runs the read; see airbyte.ReadStream.
func (rs *readStream) Messages() iter.Seq2[*airbyte.Message, error] {
	return func(yield func(*airbyte.Message, error) bool) {
		rs.mu.Lock()
		if rs.used || rs.closed {
			rs.mu.Unlock()
			yield(nil, errors.New("postgres source: Messages may be called once, before Close"))
			return
		}
		rs.used, rs.running = true, true
		rs.mu.Unlock()
		defer func() {
			rs.mu.Lock()
			rs.running = false
			closing := rs.closed
			rs.mu.Unlock()
			if closing {
				rs.release()
			}
		}()
		stopped := false
		emit := func(m *airbyte.Message) bool {
			if !yield(m, nil) {
				stopped = true
				return false
			}
			return true
		}
		if !rs.recycle {
			rs.holdBallast()
		}
		err := rs.run(emit)
		runtime.KeepAlive(rs.ballast)
		rs.ballast = nil
		if err != nil && !stopped {
			if rs.ctx.Err() != nil && errors.Is(err, context.Canceled) || pgconn.Timeout(err) && rs.ctx.Err() != nil {
				err = fmt.Errorf("postgres source: read stopped: %w", context.Cause(rs.ctx))
			}
			yield(nil, err)
		}
	}
}

var errStopped = errors.New("consumer stopped")

func (rs *readStream) run(emit func(*airbyte.Message) bool) error {
	for _, sp := range rs.plans {
		if !emit(statusMessage(sp.desc, airbyte.StreamStarted)) {
			return errStopped
		}
		var err error
		switch sp.mode {
		case modeFullRefresh:
			err = rs.readLoad(sp, emit, func() { sp.state.Load = nil; sp.state.LoadDone = true })
		case modeCursor:
			err = rs.readCursor(sp, emit)
		case modeXmin:
			err = rs.readXmin(sp, emit)
		case modeCDC:
			if !sp.state.LoadDone {
				err = rs.readLoad(sp, emit, func() { sp.state.Load = nil; sp.state.LoadDone = true })
			}
		}
		if err != nil {
			return err
		}
		if sp.mode != modeCDC {
			if !emit(statusMessage(sp.desc, airbyte.StreamComplete)) {
				return errStopped
			}
		}
	}
	if _, err := rs.rd.Exec(rs.ctx, "COMMIT"); err != nil {
		return fmt.Errorf("postgres source: end snapshot: %w", err)
	}
	if rs.cdc != nil {
		if err := rs.cdc.stream(emit); err != nil {
			return err
		}
		for _, sp := range rs.plans {
			if sp.mode == modeCDC && !emit(statusMessage(sp.desc, airbyte.StreamComplete)) {
				return errStopped
			}
		}
	}
	return nil
}

func statusMessage(d airbyte.StreamDescriptor, st airbyte.StreamStatus) *airbyte.Message {
	return &airbyte.Message{Type: airbyte.TypeTrace, Trace: &airbyte.TraceMessage{
		Type: airbyte.TraceStreamStatus, EmittedAt: float64(time.Now().UnixMilli()),
		StreamStatus: &airbyte.StreamStatusTrace{StreamDescriptor: d, Status: st},
	}}
}

// stateMessage builds the checkpoint for sp (STREAM), or for every stream
// (GLOBAL, with CDC).
func (rs *readStream) stateMessage(sp *streamPlan) (*airbyte.Message, error) {
	n := float64(0)
	if sp != nil {
		n = float64(sp.records)
		sp.records = 0
	}
	m := &airbyte.Message{Type: airbyte.TypeState, State: &airbyte.StateMessage{SourceStats: &airbyte.StateStats{RecordCount: &n}}}
	if !rs.global {
		raw, err := json.Marshal(&sp.state)
		if err != nil {
			return nil, fmt.Errorf("postgres source: stream %s: encode state: %w", sp.desc, err)
		}
		m.State.Type = airbyte.StateStream
		m.State.Stream = &airbyte.StreamState{StreamDescriptor: sp.desc, StreamState: raw}
		return m, nil
	}
	g := &airbyte.GlobalState{SharedState: rs.sharedState, StreamStates: make([]airbyte.StreamState, 0, len(rs.plans))}
	for _, p := range rs.plans {
		raw, err := json.Marshal(&p.state)
		if err != nil {
			return nil, fmt.Errorf("postgres source: stream %s: encode state: %w", p.desc, err)
		}
		g.StreamStates = append(g.StreamStates, airbyte.StreamState{StreamDescriptor: p.desc, StreamState: raw})
	}
	m.State.Type = airbyte.StateGlobal
	m.State.Global = g
	return m, nil
}

func (rs *readStream) checkpoint(sp *streamPlan, emit func(*airbyte.Message) bool) error {
	m, err := rs.stateMessage(sp)
	if err != nil {
		return err
	}
	if !emit(m) {
		return errStopped
	}
	return nil
}

// Records' data are carved out of shared blocks (encoded in place, no copy)
// and their messages out of shared arrays, so a row costs no allocation of
// its own. A block is never written again once a record points into it.
const (
	slabSize    = 256 << 10
	slabReserve = 4 << 10 // start a new block when less than this is free
)

// beginRecord returns the block to encode the next record's data into.
func (rs *readStream) beginRecord() []byte {
	if cap(rs.slab)-len(rs.slab) < slabReserve {
		rs.slab = make([]byte, 0, slabSize)
	}
	return rs.slab
}

// endRecord wraps slab[len(rs.slab):] (the data just encoded after
// beginRecord) into a RECORD message.
func (rs *readStream) endRecord(sp *streamPlan, slab []byte) *airbyte.Message {
	// If the block grew while encoding (a large row), the row is at the
	// same offset of the new array, which becomes the block.
	start := len(rs.slab)
	rs.slab = slab
	b := rs.nextBox(sp)
	b.r.Data = slab[start:len(slab):len(slab)]
	return &b.m
}

// nextBox returns a RECORD message of sp's stream, without data, carved out
// of a shared array.
func (rs *readStream) nextBox(sp *streamPlan) *recordBox {
	if len(rs.boxes) == 0 {
		rs.boxes = make([]recordBox, 256)
	}
	b := &rs.boxes[0]
	rs.boxes = rs.boxes[1:]
	rs.initBox(sp, b)
	return b
}

// nextTypedBox is nextBox for a typed record.
func (rs *readStream) nextTypedBox(sp *streamPlan) *typedBox {
	if len(rs.tboxes) == 0 {
		rs.tboxes = make([]typedBox, 256)
	}
	b := &rs.tboxes[0]
	rs.tboxes = rs.tboxes[1:]
	rs.initBox(sp, &b.recordBox)
	return b
}

// initBox makes b, fresh from a new array (zero), a record of sp's stream.
func (rs *readStream) initBox(sp *streamPlan, b *recordBox) {
	if rs.nowN == 0 {
		rs.now = time.Now().UnixMilli()
		rs.nowN = 1024
	}
	rs.nowN--
	b.r.Namespace, b.r.Stream, b.r.EmittedAt = sp.desc.Namespace, sp.desc.Name, rs.now
	b.m.Type, b.m.Record = airbyte.TypeRecord, &b.r
	sp.records++
}

// encodeRow writes a row's values as a JSON object; extra (CDC fields,
// starting with a comma) goes before the closing brace. Values that have no
// JSON form become null and are listed in changes.
func (sp *streamPlan) encodeRow(dst []byte, vals [][]byte, text bool, extra []byte, changes *[]airbyte.RecordChange) []byte {
	dst = append(dst, '{')
	for i := range sp.cols {
		c := &sp.cols[i]
		dst = append(dst, c.key...)
		v := vals[i]
		if v == nil {
			dst = append(dst, "null"...)
			continue
		}
		enc := c.enc
		if text {
			enc = c.text
		}
		var ok bool
		if dst, ok = enc(dst, v); !ok {
			dst = append(dst, "null"...)
			*changes = append(*changes, airbyte.RecordChange{Field: c.name, Change: "NULLED", Reason: "SOURCE_SERIALIZATION_ERROR"})
		}
	}
	dst = append(dst, extra...)
	return append(dst, '}')
}

// rowFunc sees each row of a query; returning an error stops it.
type rowFunc func(vals [][]byte) error

// query runs sql in the snapshot transaction and streams its rows.
func (rs *readStream) query(sp *streamPlan, sql string, params [][]byte, oids []uint32, pformats []int16, fn rowFunc) error {
	return rs.queryFormats(sp, sql, params, oids, pformats, sp.formats, fn)
}

// queryFormats is query with the result formats given.
func (rs *readStream) queryFormats(sp *streamPlan, sql string, params [][]byte, oids []uint32, pformats, formats []int16, fn rowFunc) error {
	rr := rs.rd.PgConn().ExecParams(rs.ctx, sql, params, oids, pformats, formats)
	for rr.NextRow() {
		if err := fn(rr.Values()); err != nil {
			if errors.Is(err, errStopped) {
				// Leave the rest unread: Close drops the connection.
				return err
			}
			rr.Close()
			return err
		}
	}
	if _, err := rr.Close(); err != nil {
		return fmt.Errorf("postgres source: stream %s: %w", sp.desc, err)
	}
	return nil
}

// emitRow encodes vals and emits the record.
func (rs *readStream) emitRow(sp *streamPlan, vals [][]byte, extra []byte, emit func(*airbyte.Message) bool) error {
	if rs.typed && extra == nil {
		if sent, err := rs.emitTyped(sp, vals, emit); sent || err != nil {
			return err
		}
	}
	var changes []airbyte.RecordChange
	m := rs.endRecord(sp, sp.encodeRow(rs.beginRecord(), vals, false, extra, &changes))
	if len(changes) > 0 {
		m.Record.Meta = &airbyte.RecordMeta{Changes: changes}
	}
	if !emit(m) {
		return errStopped
	}
	return nil
}

// readLoad reads a table in chunks from sp.state.Load, checkpointing after
// every chunk; done updates the state once the last chunk is read.
func (rs *readStream) readLoad(sp *streamPlan, emit func(*airbyte.Message) bool, done func()) error {
	chunk := rs.src.chunkSize
	var extra []byte
	if sp.mode == modeCDC {
		extra = rs.cdc.snapshotExtra
	}
	resumeKey := sp.state.Load != nil && len(sp.state.Load.PKRaw) == len(sp.pk)
	switch {
	case len(sp.pk) > 0 && (sp.t.RelKind == 'p' || resumeKey):
		// Partitioned tables have no one physical order; a key state is
		// from a former version that read every keyed table in key order.
		return rs.readByKey(sp, chunk, extra, emit, done)
	case sp.t.RelKind == 'r' || sp.t.RelKind == 'm':
		return rs.readByCtid(sp, chunk, extra, emit, done)
	}
	// Views, partitioned parents without a key, foreign tables: one query.
	if err := rs.query(sp, "SELECT "+sp.list+" FROM "+sp.rel, nil, nil, nil, func(vals [][]byte) error {
		return rs.emitRow(sp, vals, extra, emit)
	}); err != nil {
		return err
	}
	done()
	return rs.checkpoint(sp, emit)
}

// readByKey reads the table in primary key order with one query (WHERE
// (k1, k2) > ($1, $2) when resuming) that streams without pause, and
// checkpoints every chunk rows with the last key read.
func (rs *readStream) readByKey(sp *streamPlan, chunk int, extra []byte, emit func(*airbyte.Message) bool, done func()) error {
	var order, params string
	for i, k := range sp.pk {
		if i > 0 {
			order += ", "
			params += ", "
		}
		order += sp.cols[k].expr
		params += "$" + strconv.Itoa(i+1)
	}
	sql := "SELECT " + sp.list + " FROM " + sp.rel + " ORDER BY " + order
	var args [][]byte
	var oids []uint32
	var pformats []int16
	if sp.state.Load != nil && len(sp.state.Load.PKRaw) == len(sp.pk) {
		sql = "SELECT " + sp.list + " FROM " + sp.rel + " WHERE (" + order + ") > (" + params + ") ORDER BY " + order
		args = sp.state.Load.PKRaw
		oids = make([]uint32, len(sp.pk))
		pformats = make([]int16, len(sp.pk))
		for i, k := range sp.pk {
			if sp.cols[k].format == 1 {
				oids[i], pformats[i] = sp.cols[k].oid, 1
			}
		}
	}
	n := 0
	err := rs.query(sp, sql, args, oids, pformats, func(vals [][]byte) error {
		if err := rs.emitRow(sp, vals, extra, emit); err != nil {
			return err
		}
		n++
		if n%chunk != 0 {
			return nil
		}
		ls := &loadState{PKRaw: make([][]byte, len(sp.pk)), PK: make([]json.RawMessage, len(sp.pk))}
		for i, k := range sp.pk {
			ls.PKRaw[i] = append([]byte(nil), vals[k]...)
			if v, ok := sp.cols[k].enc(nil, vals[k]); ok {
				ls.PK[i] = v
			} else {
				ls.PK[i] = json.RawMessage("null")
			}
		}
		sp.state.Load = ls
		return rs.checkpoint(sp, emit)
	})
	if err != nil {
		return err
	}
	done()
	return rs.checkpoint(sp, emit)
}

// readCursor emits the rows whose cursor is >= the saved cursor, in cursor
// order, checkpointing every chunk rows with the cursor of the last row
// emitted.
func (rs *readStream) readCursor(sp *streamPlan, emit func(*airbyte.Message) bool) error {
	c := &sp.cols[sp.cursor]
	sql := "SELECT " + sp.list + " FROM " + sp.rel
	var params [][]byte
	var oids []uint32
	var pformats []int16
	st := &sp.state
	switch {
	case len(st.CursorRaw) > 0:
		sql += " WHERE " + c.expr + " >= $1"
		params = [][]byte{st.CursorRaw}
		if st.CursorBinary {
			oids, pformats = []uint32{c.oid}, []int16{1}
		} else {
			oids, pformats = []uint32{0}, []int16{0}
		}
	case len(st.Cursor) > 0 && string(st.Cursor) != "null":
		// A hand-written state: bind the JSON value as text.
		var s string
		if json.Unmarshal(st.Cursor, &s) != nil {
			s = string(st.Cursor)
		}
		sql += " WHERE " + c.expr + " >= $1"
		params, oids, pformats = [][]byte{[]byte(s)}, []uint32{0}, []int16{0}
	}
	sql += " ORDER BY " + c.expr + " NULLS FIRST"
	chunk := rs.src.chunkSize
	n := 0
	var cur []byte
	haveCur := false
	save := func() error {
		if !haveCur {
			return nil
		}
		st.CursorField = []string{c.name}
		st.CursorRaw = append([]byte(nil), cur...)
		st.CursorBinary = c.format == 1
		if v, ok := c.enc(nil, cur); ok {
			st.Cursor = v
		}
		return rs.checkpoint(sp, emit)
	}
	err := rs.query(sp, sql, params, oids, pformats, func(vals [][]byte) error {
		if v := vals[sp.cursor]; v != nil {
			cur = append(cur[:0], v...)
			haveCur = true
		}
		if err := rs.emitRow(sp, vals, nil, emit); err != nil {
			return err
		}
		n++
		if n%chunk == 0 {
			return save()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !haveCur && len(st.CursorField) == 0 {
		st.CursorField = []string{c.name}
	}
	if !haveCur {
		return rs.checkpoint(sp, emit)
	}
	return save()
}

// readXmin: the first read loads the table in chunks and remembers the
// snapshot's xmin; later reads emit rows whose xmin is not older than the
// saved one (modulo 2^32), and save the new snapshot's xmin.
func (rs *readStream) readXmin(sp *streamPlan, emit func(*airbyte.Message) bool) error {
	var snapXmin int64
	if err := rs.rd.QueryRow(rs.ctx, "SELECT (pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint % 4294967296)").Scan(&snapXmin); err != nil {
		return fmt.Errorf("postgres source: stream %s: snapshot xmin: %w", sp.desc, err)
	}
	st := &sp.state
	if st.Xmin == nil || st.Load != nil {
		if st.Xmin == nil {
			x := uint32(snapXmin)
			st.Xmin = &x
		}
		return rs.readLoad(sp, emit, func() { st.Load = nil; st.LoadDone = false })
	}
	sql := "SELECT " + sp.list + " FROM " + sp.rel +
		" WHERE xmin::text::bigint >= 3 AND ((xmin::text::bigint - $1::bigint + 4294967296) % 4294967296) < 2147483648"
	if err := rs.query(sp, sql, [][]byte{[]byte(strconv.FormatUint(uint64(*st.Xmin), 10))}, []uint32{0}, []int16{0}, func(vals [][]byte) error {
		return rs.emitRow(sp, vals, nil, emit)
	}); err != nil {
		return err
	}
	x := uint32(snapXmin)
	st.Xmin = &x
	return rs.checkpoint(sp, emit)
}

// Ack confirms a state the consumer has committed. With CDC, the state's
// LSN is confirmed to PostgreSQL (the slot's confirmed_flush_lsn moves) only
// now; other reads hold nothing and ignore it.
func (rs *readStream) Ack(ctx context.Context, state *airbyte.StateMessage) error {
	if rs.cdc == nil || state == nil || state.Type != airbyte.StateGlobal || state.Global == nil {
		return nil
	}
	return rs.cdc.ack(ctx, state.Global.SharedState)
}

// Close stops the read and closes its connections. It is safe to call more
// than once, from the loop over Messages, or from another goroutine.
func (rs *readStream) Close() error {
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		return rs.closeErr
	}
	rs.closed = true
	running := rs.running
	rs.mu.Unlock()
	rs.cancel()
	if running {
		// The loop releases the connections when it returns.
		return nil
	}
	rs.release()
	return rs.closeErr
}

func (rs *readStream) release() {
	rs.stopAfter()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rs.cdc != nil {
		rs.cdc.close(ctx)
	}
	for _, c := range []*pgx.Conn{rs.rd, rs.ctl} {
		if c != nil {
			_ = c.Close(ctx)
		}
	}
}
