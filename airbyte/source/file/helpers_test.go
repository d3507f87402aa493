package file

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// base is a fixed modification time tests give their files.
var base = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// writeFile writes content to dir/name with modification time mtime.
func writeFile(t testing.TB, dir, name string, content []byte, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

// config renders a config with one stream reading globs from dir.
func config(t testing.TB, dir string, stream map[string]any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"base_dir": dir, "streams": []any{stream}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// result is everything a read produced.
type result struct {
	records []map[string]any
	metas   []*airbyte.RecordMeta
	states  []airbyte.StateMessage
	counts  []float64 // sourceStats.recordCount of each state
	status  []airbyte.StreamStatus
	err     error
}

// lastState returns the final state of a read, to start the next one from.
func (r *result) lastState(t testing.TB) []airbyte.StateMessage {
	t.Helper()
	if len(r.states) == 0 {
		t.Fatal("the read emitted no state")
	}
	return []airbyte.StateMessage{r.states[len(r.states)-1]}
}

// history decodes the final state's files.
func (r *result) history(t testing.TB) map[string]fileRecord {
	t.Helper()
	var st streamState
	if err := json.Unmarshal(r.lastState(t)[0].Stream.StreamState, &st); err != nil {
		t.Fatal(err)
	}
	return st.History
}

// urls lists the _ab_source_file_url of every record, in order, once per run of equal values.
func (r *result) files() []string {
	var out []string
	for _, rec := range r.records {
		u, _ := rec[ColumnFileURL].(string)
		if len(out) == 0 || out[len(out)-1] != u {
			out = append(out, u)
		}
	}
	return out
}

func decodeData(t testing.TB, data json.RawMessage) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("record data is not a JSON object: %v: %s", err, data)
	}
	return m
}

// discover runs Discover and configures every stream with mode.
func discover(t testing.TB, src *Source, cfg json.RawMessage, mode airbyte.SyncMode) *airbyte.ConfiguredCatalog {
	t.Helper()
	cat, err := src.Discover(context.Background(), cfg)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	cc := &airbyte.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		cc.Streams = append(cc.Streams, airbyte.ConfiguredStream{Stream: s, SyncMode: mode, DestinationSyncMode: airbyte.Append})
	}
	return cc
}

// read runs a read to the end and gathers its messages.
func read(t testing.TB, src *Source, cfg json.RawMessage, cc *airbyte.ConfiguredCatalog, state []airbyte.StateMessage) *result {
	t.Helper()
	rs, err := src.Read(context.Background(), cfg, cc, state)
	if err != nil {
		return &result{err: err}
	}
	defer rs.Close()
	res := &result{}
	for m, err := range rs.Messages() {
		if err != nil {
			res.err = err
			break
		}
		switch m.Type {
		case airbyte.TypeRecord:
			res.records = append(res.records, decodeData(t, m.Record.Data))
			res.metas = append(res.metas, m.Record.Meta)
			if m.Record.Stream == "" || m.Record.EmittedAt == 0 {
				t.Errorf("record without stream or emitted_at: %+v", m.Record)
			}
		case airbyte.TypeState:
			res.states = append(res.states, *m.State)
			res.counts = append(res.counts, *m.State.SourceStats.RecordCount)
		case airbyte.TypeTrace:
			res.status = append(res.status, m.Trace.StreamStatus.Status)
		}
	}
	return res
}

// schemaProps decodes a stream schema's properties.
func schemaProps(t testing.TB, s airbyte.Stream) map[string]map[string]any {
	t.Helper()
	var sch struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(s.JSONSchema, &sch); err != nil {
		t.Fatalf("stream %s: schema is not JSON: %v: %s", s.Name, err, s.JSONSchema)
	}
	return sch.Properties
}

// typeOf renders a property as "type[/format][/airbyte_type]" with null left out.
func typeOf(p map[string]any) string {
	if p == nil {
		return "<missing>"
	}
	t := ""
	switch v := p["type"].(type) {
	case string:
		t = v
	case []any:
		for _, x := range v {
			if x != "null" {
				t = x.(string)
			}
		}
	case nil:
		t = "any"
	}
	if f, ok := p["format"].(string); ok {
		t += "/" + f
	}
	if a, ok := p["airbyte_type"].(string); ok {
		t += "/" + a
	}
	return t
}
