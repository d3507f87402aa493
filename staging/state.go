package staging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/warehouse"
)

// stateColumns is the layout of the state table.
var stateColumns = []warehouse.Column{
	{Name: "connection", Type: warehouse.String},
	{Name: "stream_namespace", Type: warehouse.String},
	{Name: "stream_name", Type: warehouse.String},
	{Name: "state", Type: warehouse.JSON},
	{Name: "updated_at", Type: warehouse.TimestampTZ},
}

// ErrCorruptState means the state table holds something the loader cannot
// read: a foreign table of that name, or a state that is not valid JSON. The
// loader never resets state silently; fix or drop the table (and re-sync
// from scratch) deliberately.
var ErrCorruptState = errors.New("staging: corrupt state table")

// stateStore keeps the committed states of one connection in a table of the
// warehouse, written in the same transaction as the data they cover.
type stateStore struct {
	rel        warehouse.Relation
	connection string
}

// ensure creates the state table or checks that an existing one is ours.
func (s *stateStore) ensure(ctx context.Context, w *warehouse.Warehouse) error {
	if err := w.CreateSchema(ctx, s.rel.Schema); err != nil {
		return err
	}
	if err := w.CreateTable(ctx, s.rel, stateColumns, &warehouse.TableOptions{IfNotExists: true}); err != nil {
		return err
	}
	cols, err := w.Columns(ctx, s.rel)
	if err != nil {
		return err
	}
	if len(cols) != len(stateColumns) {
		return fmt.Errorf("%w: %s has %d columns, want %d (%v)", ErrCorruptState, s.rel, len(cols), len(stateColumns), columnNames(stateColumns))
	}
	for i, c := range stateColumns {
		if cols[i].Name != c.Name || cols[i].Type.Kind != c.Type.Kind {
			return fmt.Errorf("%w: %s column %d is %s %s, want %s %s", ErrCorruptState, s.rel, i+1, cols[i].Name, cols[i].Type, c.Name, c.Type)
		}
	}
	return nil
}

// load returns the committed states of the connection: one GLOBAL or LEGACY
// state, or one STREAM state per stream.
func (s *stateStore) load(ctx context.Context, w *warehouse.Warehouse) ([]airbyte.StateMessage, error) {
	d := w.Dialect()
	q := w.DB().Rebind("SELECT " + d.QuoteIdentifier("stream_namespace") + ", " + d.QuoteIdentifier("stream_name") + ", " + d.QuoteIdentifier("state") +
		" FROM " + d.QuoteRelation(s.rel) + " WHERE " + d.QuoteIdentifier("connection") + " = ? ORDER BY 1, 2")
	var out []airbyte.StateMessage
	for rec, err := range w.Rows(ctx, q, s.connection) {
		if err != nil {
			return nil, fmt.Errorf("staging: read state from %s: %w", s.rel, err)
		}
		ns, _ := rec.Values[0].(string)
		name, _ := rec.Values[1].(string)
		raw, _ := rec.Values[2].(json.RawMessage)
		var st airbyte.StateMessage
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("%w: %s, connection %q, stream %q: %v", ErrCorruptState, s.rel, s.connection, airbyte.StreamDescriptor{Namespace: ns, Name: name}, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// save writes state inside tx, replacing what it supersedes: a GLOBAL or
// LEGACY state replaces every state of the connection; a STREAM state
// replaces that stream's.
func (s *stateStore) save(ctx context.Context, tx *warehouse.Tx, w *warehouse.Warehouse, st *airbyte.StateMessage) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("staging: encode state: %w", err)
	}
	var ns, name string
	d := w.Dialect()
	del := "DELETE FROM " + d.QuoteRelation(s.rel) + " WHERE " + d.QuoteIdentifier("connection") + " = ?"
	args := []any{s.connection}
	if st.Type == airbyte.StateStream && st.Stream != nil {
		ns, name = st.Stream.StreamDescriptor.Namespace, st.Stream.StreamDescriptor.Name
		del += " AND ((" + d.QuoteIdentifier("stream_namespace") + " = ? AND " + d.QuoteIdentifier("stream_name") + " = ?) OR " + d.QuoteIdentifier("stream_name") + " = '')"
		args = append(args, ns, name)
	}
	if _, err := tx.Exec(ctx, w.DB().Rebind(del), args...); err != nil {
		return fmt.Errorf("staging: write state to %s: %w", s.rel, err)
	}
	ins := "INSERT INTO " + d.QuoteRelation(s.rel) + " VALUES (?, ?, ?, ?, ?)"
	if _, err := tx.Exec(ctx, w.DB().Rebind(ins), s.connection, ns, name, json.RawMessage(raw), time.Now().UTC()); err != nil {
		return fmt.Errorf("staging: write state to %s: %w", s.rel, err)
	}
	return nil
}

// clear removes the STREAM state of one stream inside tx (after an
// overwrite completes, the next sync starts a new full refresh).
func (s *stateStore) clear(ctx context.Context, tx *warehouse.Tx, w *warehouse.Warehouse, desc airbyte.StreamDescriptor) error {
	d := w.Dialect()
	q := "DELETE FROM " + d.QuoteRelation(s.rel) + " WHERE " + d.QuoteIdentifier("connection") + " = ? AND " +
		d.QuoteIdentifier("stream_namespace") + " = ? AND " + d.QuoteIdentifier("stream_name") + " = ?"
	if _, err := tx.Exec(ctx, w.DB().Rebind(q), s.connection, desc.Namespace, desc.Name); err != nil {
		return fmt.Errorf("staging: clear state of stream %s in %s: %w", desc, s.rel, err)
	}
	return nil
}

func columnNames(cols []warehouse.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}
