package staging_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

// genSource is an in-process Airbyte source for the tests: each stream
// yields rows id = offset..n-1 and a STREAM state {"offset": k} every
// stateEvery records; it resumes from the offset in the state it is given.
type genSource struct {
	streams    []genStream
	stateEvery int
	failAfter  int               // fail with errBroken after this many records (0: never)
	hook       func(records int) // called before each record is yielded
	rogue      bool              // emit every stream, configured or not
	// interleave > 0 takes turns between the streams, this many records
	// each (default: one stream after the other).
	interleave int
	// acked, if set, receives each acknowledged state (buffer it amply).
	acked chan airbyte.StateMessage
	// onState, if set, is called after each state is yielded.
	onState func(stream string, offset int)
	mu      sync.Mutex
	acks    []airbyte.StateMessage
}

type genStream struct {
	name   string
	n      int
	schema string // JSON schema; default: id, name, amount, updated_at
	// data builds the record of row i; default: generic columns.
	data func(i int) string
	pk   [][]string
	// stateEvery overrides genSource.stateEvery for this stream.
	stateEvery int
}

var errBroken = errors.New("source broke mid-stream")

const defaultSchema = `{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":["null","string"]},"amount":{"type":"number"},"updated_at":{"type":"string","format":"date-time","airbyte_type":"timestamp_with_timezone"}}}`

func (g *genSource) Spec(context.Context) (*airbyte.ConnectorSpecification, error) {
	return &airbyte.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (g *genSource) Check(context.Context, json.RawMessage) (*airbyte.ConnectionStatus, error) {
	return &airbyte.ConnectionStatus{Status: airbyte.StatusSucceeded}, nil
}

func (g *genSource) Discover(context.Context, json.RawMessage) (*airbyte.Catalog, error) {
	cat := &airbyte.Catalog{}
	for _, s := range g.streams {
		schema := s.schema
		if schema == "" {
			schema = defaultSchema
		}
		pk := s.pk
		if pk == nil {
			pk = [][]string{{"id"}}
		}
		cat.Streams = append(cat.Streams, airbyte.Stream{Name: s.name, JSONSchema: json.RawMessage(schema),
			SupportedSyncModes: []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental}, SourceDefinedPrimaryKey: pk})
	}
	return cat, nil
}

func (g *genSource) catalog(mode airbyte.DestinationSyncMode) *airbyte.ConfiguredCatalog {
	cat, _ := g.Discover(context.Background(), nil)
	cc := &airbyte.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		cc.Streams = append(cc.Streams, airbyte.ConfiguredStream{Stream: s, SyncMode: airbyte.Incremental, DestinationSyncMode: mode, CursorField: []string{"updated_at"}})
	}
	return cc
}

func (g *genSource) Read(ctx context.Context, _ json.RawMessage, catalog *airbyte.ConfiguredCatalog, state []airbyte.StateMessage) (airbyte.ReadStream, error) {
	offsets := map[string]int{}
	for _, st := range state {
		if st.Type != airbyte.StateStream || st.Stream == nil {
			return nil, fmt.Errorf("genSource: unexpected state %+v", st)
		}
		var s struct{ Offset int }
		if err := json.Unmarshal(st.Stream.StreamState, &s); err != nil {
			return nil, err
		}
		offsets[st.Stream.StreamDescriptor.Name] = s.Offset
	}
	selected := map[string]bool{}
	for _, cs := range catalog.Streams {
		selected[cs.Stream.Name] = true
	}
	return &genRead{g: g, ctx: ctx, offsets: offsets, selected: selected}, nil
}

type genRead struct {
	g        *genSource
	ctx      context.Context
	offsets  map[string]int
	selected map[string]bool
}

func (r *genRead) Messages() iter.Seq2[*airbyte.Message, error] {
	return func(yield func(*airbyte.Message, error) bool) {
		emitted := 0
		var streams []genStream
		next := map[string]int{}
		for _, s := range r.g.streams {
			if r.selected[s.name] || r.g.rogue {
				streams = append(streams, s)
				next[s.name] = r.offsets[s.name]
			}
		}
		// emit yields the records of s from next[s.name] up to stop, and the
		// stream's completion when it reaches its end.
		emit := func(s genStream, stop int) bool {
			for i := next[s.name]; i < stop; i++ {
				if r.g.failAfter > 0 && emitted == r.g.failAfter {
					yield(nil, errBroken)
					return false
				}
				if r.g.hook != nil {
					r.g.hook(emitted)
				}
				data := defaultData(i)
				if s.data != nil {
					data = s.data(i)
				}
				msg := &airbyte.Message{Type: airbyte.TypeRecord, Record: &airbyte.RecordMessage{Stream: s.name, Data: json.RawMessage(data), EmittedAt: time.Now().UnixMilli()}}
				if !yield(msg, nil) {
					return false
				}
				emitted++
				next[s.name] = i + 1
				every := r.g.stateEvery
				if s.stateEvery > 0 {
					every = s.stateEvery
				}
				if (i+1)%every == 0 || i == s.n-1 {
					st := &airbyte.StateMessage{Type: airbyte.StateStream, Stream: &airbyte.StreamState{
						StreamDescriptor: airbyte.StreamDescriptor{Name: s.name},
						StreamState:      json.RawMessage(`{"offset":` + strconv.Itoa(i+1) + `}`),
					}}
					if !yield(&airbyte.Message{Type: airbyte.TypeState, State: st}, nil) {
						return false
					}
					if r.g.onState != nil {
						r.g.onState(s.name, i+1)
					}
				}
			}
			if next[s.name] < s.n {
				return true
			}
			status := &airbyte.TraceMessage{Type: airbyte.TraceStreamStatus, StreamStatus: &airbyte.StreamStatusTrace{
				StreamDescriptor: airbyte.StreamDescriptor{Name: s.name}, Status: airbyte.StreamComplete}}
			return yield(&airbyte.Message{Type: airbyte.TypeTrace, Trace: status}, nil)
		}
		if r.g.interleave <= 0 {
			for _, s := range streams {
				if !emit(s, s.n) {
					return
				}
			}
			return
		}
		for left := true; left; {
			left = false
			for _, s := range streams {
				if next[s.name] >= s.n {
					continue
				}
				if !emit(s, min(s.n, next[s.name]+r.g.interleave)) {
					return
				}
				left = left || next[s.name] < s.n
			}
		}
	}
}

func (r *genRead) Ack(_ context.Context, st *airbyte.StateMessage) error {
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	r.g.acks = append(r.g.acks, *st)
	if r.g.acked != nil {
		r.g.acked <- *st
	}
	return nil
}

func (r *genRead) Close() error { return nil }

func defaultData(i int) string {
	return fmt.Sprintf(`{"id":%d,"name":"name-%d","amount":%g,"updated_at":"2024-01-01T00:00:%02dZ"}`, i, i, float64(i)*0.5, i%60)
}

// warehouses runs fn on an in-memory DuckDB and on PostgreSQL (in a schema
// of its own).
func warehouses(t *testing.T, fn func(t *testing.T, w *warehouse.Warehouse, schema string)) {
	t.Run("duckdb", func(t *testing.T) {
		w, err := warehouse.Open(context.Background(), "duckdb:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		fn(t, w, "staging_test")
	})
	t.Run("postgres", func(t *testing.T) {
		w, err := warehouse.Open(context.Background(), testenv.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		schema := "staging_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		t.Cleanup(func() {
			ctx := context.Background()
			_ = w.DropSchema(ctx, schema, true)
			_ = w.DropSchema(ctx, schema+"_state", true)
			w.Close()
		})
		fn(t, w, schema)
	})
}
