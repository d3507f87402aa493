package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
)

// sharedState is the GLOBAL shared_state of a CDC read.
type sharedState struct {
	LSN         string `json:"lsn"` // resume point: changes committed after it are read next
	Slot        string `json:"slot,omitempty"`
	Publication string `json:"publication,omitempty"`
}

// cdcWake bounds how long the replication loop blocks before it looks at
// acknowledgements, status updates and whether it has caught up.
const cdcWake = 250 * time.Millisecond

// statusInterval is how often the loop tells the server it is alive.
const statusInterval = 10 * time.Second

// cdcReader reads changes through a logical replication slot.
type cdcReader struct {
	rs *readStream
	rm *ReplicationMethod

	repl   *pgconn.PgConn
	replMu sync.Mutex // the loop and Ack take turns on repl
	closed bool       // under replMu

	startLSN      pglogrepl.LSN
	acked         pglogrepl.LSN // under replMu: the last LSN confirmed by Ack
	received      pglogrepl.LSN // how far the stream has been read (loop only)
	snapshotExtra []byte

	rels  map[uint32]*relation
	plans map[string]*streamPlan // "schema\x00table" -> plan of a CDC stream
}

// relation maps a pgoutput relation's columns onto a stream plan's columns.
type relation struct {
	sp  *streamPlan
	idx []int // per relation column: index in sp.cols, or -1
}

func (c *cdcReader) slotName() string { return c.rm.ReplicationSlot }

// prepare makes sure the publication and the slot exist, checks the saved
// LSN against the slot, and (for a new slot) sets the snapshot the initial
// load must read in.
func (c *cdcReader) prepare(ctx context.Context) error {
	rs := c.rs
	c.plans = map[string]*streamPlan{}
	var tables []string
	for _, sp := range rs.plans {
		if sp.mode == modeCDC {
			c.plans[sp.t.Schema+"\x00"+sp.t.Name] = sp
			tables = append(tables, sp.rel)
		}
	}
	var saved sharedState
	if len(rs.sharedState) > 0 && string(rs.sharedState) != "null" {
		if err := json.Unmarshal(rs.sharedState, &saved); err != nil {
			return fmt.Errorf("postgres source: GLOBAL shared_state: %w", err)
		}
	}
	if err := c.ensurePublication(ctx, tables); err != nil {
		return err
	}
	cc, err := rs.cfg.pgxConfig()
	if err != nil {
		return err
	}
	pc := cc.Config.Copy()
	pc.RuntimeParams["replication"] = "database"
	pc.BuildContextWatcherHandler = func(p *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: p.Conn()}
	}
	if c.repl, err = pgconn.ConnectConfig(ctx, pc); err != nil {
		return fmt.Errorf("postgres source: replication connection to %s:%d: %w", pc.Host, pc.Port, err)
	}

	var exists bool
	var confirmed, walStatus *string
	err = rs.ctl.QueryRow(ctx,
		`SELECT true, confirmed_flush_lsn::text, wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
		c.slotName()).Scan(&exists, &confirmed, &walStatus)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres source: replication slot %q: %w", c.slotName(), err)
	}
	if saved.LSN != "" {
		lsn, err := pglogrepl.ParseLSN(saved.LSN)
		if err != nil {
			return fmt.Errorf("postgres source: GLOBAL shared_state lsn %q: %w", saved.LSN, err)
		}
		switch {
		case !exists:
			return &SlotLostError{Slot: c.slotName(), Reason: "missing"}
		case walStatus != nil && *walStatus == "lost":
			return &SlotLostError{Slot: c.slotName(), Reason: "invalidated"}
		case confirmed != nil:
			if cf, err := pglogrepl.ParseLSN(*confirmed); err == nil && lsn < cf {
				return &LSNBehindSlotError{Slot: c.slotName(), StateLSN: lsn.String(), ConfirmedFlush: cf.String()}
			}
		}
		c.startLSN = lsn
	} else {
		// No saved position: every CDC stream starts with a new snapshot.
		for _, sp := range c.plans {
			sp.state = streamState{}
		}
		if exists {
			if walStatus != nil && *walStatus == "lost" {
				return &SlotLostError{Slot: c.slotName(), Reason: "invalidated"}
			}
			// Reuse: the snapshot is taken after reading the slot's
			// position, so changes in between arrive twice, never not at all.
			if confirmed == nil {
				return fmt.Errorf("postgres source: replication slot %q has no confirmed_flush_lsn (is it a physical slot?)", c.slotName())
			}
			if c.startLSN, err = pglogrepl.ParseLSN(*confirmed); err != nil {
				return fmt.Errorf("postgres source: replication slot %q: %w", c.slotName(), err)
			}
		} else {
			res, err := pglogrepl.CreateReplicationSlot(ctx, c.repl, c.slotName(), "pgoutput",
				pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
			if err != nil {
				return fmt.Errorf("postgres source: create replication slot %q: %w", c.slotName(), err)
			}
			if c.startLSN, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
				return fmt.Errorf("postgres source: replication slot %q: consistent point: %w", c.slotName(), err)
			}
			rs.snapshotName = res.SnapshotName
			c.rs.src.log.Info("created replication slot", "slot", c.slotName(), "lsn", c.startLSN.String())
		}
	}
	c.acked = c.startLSN
	c.received = c.startLSN
	c.setShared(c.startLSN)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	c.snapshotExtra = []byte(`,"` + ColCDCLSN + `":` + strconv.FormatUint(uint64(c.startLSN), 10) +
		`,"` + ColCDCUpdatedAt + `":"` + now + `","` + ColCDCDeletedAt + `":null`)
	return nil
}

func (c *cdcReader) setShared(lsn pglogrepl.LSN) {
	raw, _ := json.Marshal(sharedState{LSN: lsn.String(), Slot: c.slotName(), Publication: c.rm.Publication})
	c.rs.sharedState = raw
}

// ensurePublication creates the publication for the CDC tables when it does
// not exist, and otherwise checks that it covers them.
func (c *cdcReader) ensurePublication(ctx context.Context, tables []string) error {
	rs := c.rs
	pub := c.rm.Publication
	var exists bool
	if err := rs.ctl.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1)`, pub).Scan(&exists); err != nil {
		return fmt.Errorf("postgres source: publication %q: %w", pub, err)
	}
	if !exists {
		sql := "CREATE PUBLICATION " + quoteIdent(pub) + " FOR TABLE " + strings.Join(tables, ", ") + " WITH (publish_via_partition_root = true)"
		if _, err := rs.ctl.Exec(ctx, sql); err != nil {
			return fmt.Errorf("postgres source: create publication %q: %w", pub, err)
		}
		rs.src.log.Info("created publication", "publication", pub, "tables", len(tables))
		return nil
	}
	rows, err := rs.ctl.Query(ctx, `SELECT schemaname::text, tablename::text FROM pg_catalog.pg_publication_tables WHERE pubname = $1`, pub)
	if err != nil {
		return fmt.Errorf("postgres source: publication %q: %w", pub, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var s, t string
		if err := rows.Scan(&s, &t); err != nil {
			rows.Close()
			return fmt.Errorf("postgres source: publication %q: %w", pub, err)
		}
		have[s+"\x00"+t] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres source: publication %q: %w", pub, err)
	}
	var missing []string
	for k, sp := range c.plans {
		if !have[k] {
			missing = append(missing, sp.desc.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: publication %q does not publish %s; add them (ALTER PUBLICATION … ADD TABLE) or read them with full_refresh", ErrInvalidCatalog, pub, strings.Join(missing, ", "))
	}
	return nil
}

// stream reads changes from the slot until it has caught up with the WAL
// flushed when streaming started (or the server has nothing more to
// decode), or until nothing has arrived for initial_waiting_seconds.
func (c *cdcReader) stream(emit func(*airbyte.Message) bool) error {
	rs := c.rs
	ctx := rs.ctx
	sys, err := pglogrepl.IdentifySystem(ctx, c.repl)
	if err != nil {
		return fmt.Errorf("postgres source: identify system: %w", err)
	}
	target := sys.XLogPos
	pubArg := strings.ReplaceAll(quoteIdent(c.rm.Publication), "'", "''")
	err = pglogrepl.StartReplication(ctx, c.repl, c.slotName(), c.startLSN, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + pubArg + "'"},
	})
	if err != nil {
		return c.replError(ctx, fmt.Errorf("postgres source: start replication on slot %q: %w", c.slotName(), err))
	}
	c.rels = map[uint32]*relation{}
	var (
		inTx        bool
		txLSN       pglogrepl.LSN
		txTime      string
		txRecords   int
		lastState   = c.startLSN
		lastStateAt = time.Now()
		pending     int // records since the last checkpoint
		keepPos     pglogrepl.LSN
		quietProbe  int // keepalives in a row with no data and no progress
		lastData    = time.Now()
		nextStatus  = time.Now().Add(statusInterval)
		extra       []byte
		vals        [][]byte
	)
	waitLimit := time.Duration(c.rm.InitialWaitingSeconds) * time.Second
	finish := func() error {
		if !inTx && (c.received > lastState || pending > 0) {
			c.setShared(c.received)
			if err := rs.checkpoint(nil, emit); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.replMu.Lock()
		if time.Now().After(nextStatus) {
			if err := c.sendStatus(ctx, false); err != nil {
				c.replMu.Unlock()
				return err
			}
			nextStatus = time.Now().Add(statusInterval)
		}
		rctx, cancel := context.WithTimeout(ctx, cdcWake)
		msg, err := c.repl.ReceiveMessage(rctx)
		cancel()
		if err != nil && pgconn.Timeout(err) && ctx.Err() == nil {
			// Idle: ask the server where it is (a keepalive answers).
			if !inTx {
				err = c.sendStatus(ctx, true)
			} else {
				err = nil
			}
			c.replMu.Unlock()
			if err != nil {
				return err
			}
			if time.Since(lastData) > waitLimit && !inTx {
				return finish()
			}
			continue
		}
		c.replMu.Unlock()
		if err != nil {
			return c.replError(ctx, fmt.Errorf("postgres source: replication on slot %q: %w", c.slotName(), err))
		}
		var data []byte
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			data = m.Data
		case *pgproto3.ErrorResponse:
			return c.replError(ctx, fmt.Errorf("postgres source: replication on slot %q: %w", c.slotName(), pgconn.ErrorResponseToPgError(m)))
		default:
			continue
		}
		if len(data) == 0 {
			continue
		}
		switch data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
			if err != nil {
				return fmt.Errorf("postgres source: replication keepalive: %w", err)
			}
			if !inTx {
				if ka.ServerWALEnd > c.received {
					c.received = ka.ServerWALEnd
				}
				if ka.ServerWALEnd >= target {
					return finish()
				}
				if ka.ServerWALEnd == keepPos {
					quietProbe++
				} else {
					quietProbe = 0
				}
				keepPos = ka.ServerWALEnd
				// Two answers in a row without progress or data: the
				// server has decoded all the WAL there is.
				if quietProbe >= 2 {
					return finish()
				}
			}
			if ka.ReplyRequested {
				c.replMu.Lock()
				err := c.sendStatus(ctx, false)
				c.replMu.Unlock()
				if err != nil {
					return err
				}
			}
		case pglogrepl.XLogDataByteID:
			xld, err := pglogrepl.ParseXLogData(data[1:])
			if err != nil {
				return fmt.Errorf("postgres source: replication data: %w", err)
			}
			lastData = time.Now()
			quietProbe = 0
			lm, err := pglogrepl.Parse(xld.WALData)
			if err != nil {
				return fmt.Errorf("postgres source: pgoutput message at %s: %w", xld.WALStart, err)
			}
			switch m := lm.(type) {
			case *pglogrepl.RelationMessage:
				c.relation(m)
			case *pglogrepl.BeginMessage:
				inTx, txLSN, txRecords = true, m.FinalLSN, 0
				txTime = m.CommitTime.UTC().Format(time.RFC3339Nano)
			case *pglogrepl.CommitMessage:
				inTx = false
				if m.TransactionEndLSN > c.received {
					c.received = m.TransactionEndLSN
				}
				pending += txRecords
				// Checkpoint after a transaction once chunk records or a
				// second have gone by since the last checkpoint.
				if pending > 0 && (pending >= rs.src.chunkSize || time.Since(lastStateAt) >= time.Second) {
					c.setShared(m.TransactionEndLSN)
					lastState, lastStateAt, pending = m.TransactionEndLSN, time.Now(), 0
					if err := rs.checkpoint(nil, emit); err != nil {
						return err
					}
				}
			case *pglogrepl.InsertMessage:
				extra = c.extra(extra[:0], txLSN, txTime, false)
				if err := c.change(m.RelationID, m.Tuple, extra, &vals, emit, &txRecords); err != nil {
					return err
				}
			case *pglogrepl.UpdateMessage:
				extra = c.extra(extra[:0], txLSN, txTime, false)
				if err := c.change(m.RelationID, m.NewTuple, extra, &vals, emit, &txRecords); err != nil {
					return err
				}
			case *pglogrepl.DeleteMessage:
				extra = c.extra(extra[:0], txLSN, txTime, true)
				if err := c.change(m.RelationID, m.OldTuple, extra, &vals, emit, &txRecords); err != nil {
					return err
				}
			case *pglogrepl.TruncateMessage:
				rs.src.log.Warn("TRUNCATE on a CDC table is not replicated", "relations", len(m.RelationIDs))
			}
		}
	}
}

func (c *cdcReader) extra(dst []byte, lsn pglogrepl.LSN, at string, deleted bool) []byte {
	dst = append(dst, `,"`+ColCDCLSN+`":`...)
	dst = strconv.AppendUint(dst, uint64(lsn), 10)
	dst = append(dst, `,"`+ColCDCUpdatedAt+`":"`...)
	dst = append(dst, at...)
	dst = append(dst, `","`+ColCDCDeletedAt+`":`...)
	if deleted {
		dst = append(dst, '"')
		dst = append(dst, at...)
		return append(dst, '"')
	}
	return append(dst, "null"...)
}

func (c *cdcReader) relation(m *pglogrepl.RelationMessage) {
	sp := c.plans[m.Namespace+"\x00"+m.RelationName]
	if sp == nil {
		c.rels[m.RelationID] = &relation{}
		return
	}
	r := &relation{sp: sp, idx: make([]int, len(m.Columns))}
	for i, col := range m.Columns {
		r.idx[i] = -1
		for j := range sp.cols {
			if sp.cols[j].name == col.Name {
				r.idx[i] = j
			}
		}
	}
	c.rels[m.RelationID] = r
}

// change emits one row change as a record.
func (c *cdcReader) change(relID uint32, tuple *pglogrepl.TupleData, extra []byte, vals *[][]byte, emit func(*airbyte.Message) bool, n *int) error {
	r := c.rels[relID]
	if r == nil {
		return fmt.Errorf("postgres source: replication: change for unknown relation %d", relID)
	}
	if r.sp == nil || tuple == nil {
		return nil
	}
	sp := r.sp
	v := (*vals)[:0]
	for range sp.cols {
		v = append(v, nil)
	}
	*vals = v
	var changes []airbyte.RecordChange
	for i, col := range tuple.Columns {
		if i >= len(r.idx) || r.idx[i] < 0 {
			continue
		}
		switch col.DataType {
		case pglogrepl.TupleDataTypeText, pglogrepl.TupleDataTypeBinary:
			v[r.idx[i]] = col.Data
		case pglogrepl.TupleDataTypeToast:
			changes = append(changes, airbyte.RecordChange{Field: sp.cols[r.idx[i]].name, Change: "NULLED", Reason: "SOURCE_RETRIEVAL_ERROR"})
		}
	}
	rs := c.rs
	m := rs.endRecord(sp, sp.encodeRow(rs.beginRecord(), v, true, extra, &changes))
	if len(changes) > 0 {
		m.Record.Meta = &airbyte.RecordMeta{Changes: changes}
	}
	*n++
	if !emit(m) {
		return errStopped
	}
	return nil
}

// sendStatus reports the read position and the acknowledged (flushed)
// position; the caller holds replMu.
func (c *cdcReader) sendStatus(ctx context.Context, reply bool) error {
	write := max(c.received, c.acked)
	err := pglogrepl.SendStandbyStatusUpdate(ctx, c.repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: write, WALFlushPosition: c.acked, WALApplyPosition: c.acked, ReplyRequested: reply,
	})
	if err != nil {
		return fmt.Errorf("postgres source: replication status update: %w", err)
	}
	return nil
}

// ack confirms the LSN of a committed GLOBAL state to the server.
func (c *cdcReader) ack(ctx context.Context, shared json.RawMessage) error {
	var st sharedState
	if err := json.Unmarshal(shared, &st); err != nil || st.LSN == "" {
		return fmt.Errorf("postgres source: Ack: state has no CDC lsn")
	}
	lsn, err := pglogrepl.ParseLSN(st.LSN)
	if err != nil {
		return fmt.Errorf("postgres source: Ack: lsn %q: %w", st.LSN, err)
	}
	c.replMu.Lock()
	defer c.replMu.Unlock()
	if c.closed || c.repl == nil {
		return errors.New("postgres source: Ack after Close")
	}
	if lsn <= c.acked {
		return nil
	}
	c.acked = lsn
	return c.sendStatus(ctx, false)
}

// replError turns a replication failure into a typed error when the slot is
// gone or invalidated.
func (c *cdcReader) replError(ctx context.Context, err error) error {
	var exists bool
	var walStatus *string
	qerr := c.rs.ctl.QueryRow(context.WithoutCancel(ctx), `SELECT true, wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, c.slotName()).Scan(&exists, &walStatus)
	switch {
	case errors.Is(qerr, pgx.ErrNoRows):
		return fmt.Errorf("%w: %v", &SlotLostError{Slot: c.slotName(), Reason: "missing"}, err)
	case qerr == nil && walStatus != nil && *walStatus == "lost":
		return fmt.Errorf("%w: %v", &SlotLostError{Slot: c.slotName(), Reason: "invalidated"}, err)
	}
	return err
}

func (c *cdcReader) close(ctx context.Context) {
	c.replMu.Lock()
	defer c.replMu.Unlock()
	if c.closed || c.repl == nil {
		c.closed = true
		return
	}
	c.closed = true
	_ = c.repl.Close(ctx)
}
