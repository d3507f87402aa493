package staging_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// A connector's records are parsed once into typed values (the JSONL path's
// fast path); they must land exactly as their JSON would. The connector is
// this test binary, re-run with DATAOPS_LINES_CONNECTOR naming a file of
// lines to print.

// linesConnector is the connector's body, run by TestMain when the test
// binary is started with DATAOPS_LINES_CONNECTOR set: it prints the file's
// lines for "read".
func linesConnector(path string) int {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch {
	case slices.Contains(os.Args, "spec"):
		fmt.Fprintln(out, `{"type":"SPEC","spec":{"connectionSpecification":{"type":"object"}}}`)
	case slices.Contains(os.Args, "read"):
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out.Write(b)
	}
	return 0
}

const typedJSONSchema = `{"type":"object","properties":{
	"id":{"type":"integer"},
	"n":{"type":["null","number"]},
	"ok":{"type":"boolean"},
	"name":{"type":["null","string"]},
	"at":{"type":"string","format":"date-time"},
	"wall":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},
	"day":{"type":"string","format":"date"},
	"tags":{"type":"array"},
	"u":{"type":["string","integer"]}}}`

// typedJSONLines are records with values of every kind, plain and not.
func typedJSONLines() string {
	data := []string{
		`{"id":1,"n":1.5,"ok":true,"name":"ada","at":"2024-01-02T03:04:05.123456Z","wall":"2024-01-02T03:04:05","day":"2024-02-29","tags":["a",1],"u":"x"}`,
		`{"id":2,"n":"2.5","ok":"true","name":7,"at":"2024-01-02T03:04:05+02:00","wall":"2024-01-02T03:04:05+02:00","day":"2024-02-30","tags":{"k":1},"u":3}`,
		`{"id":3,"n":null,"ok":null,"name":"a\"b\u00e9\\n","at":"2024-01-02 03:04:05","wall":"2024-01-02T03:04:05Z","day":"2024-01-02T10:00:00Z","u":null}`,
		`{"id":4,"n":1e400,"ok":"maybe","at":"not a time","wall":"2024-13-01T00:00:00","day":"2024-01-01"}`,
		`{"name":"first","id":"5","n":7,"at":"2024-01-02T03:04:05.5","extra":{"new":true}}`,
		`{"id":6.0,"ok":false,"at":"2024-06-01T00:00:00.000000001Z","day":"1999-12-31"}`,
		`{"id":7,"n":-0.0,"name":"","tags":[],"at":"2024-01-02T03:04:05.1234567891Z"}`,
	}
	var b strings.Builder
	for i, d := range data {
		fmt.Fprintf(&b, `{"type":"RECORD","record":{"stream":"t","emitted_at":%d,"data":%s}}`+"\n", 1700000000000+int64(i), d)
		if i%2 == 1 {
			fmt.Fprintf(&b, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"t"},"stream_state":{"n":%d}}}}`+"\n", i)
		}
	}
	// Data before the stream's name, as Go encoders sort keys.
	fmt.Fprintf(&b, `{"record":{"data":{"id":8,"at":"2024-01-02T03:04:05Z","n":3},"emitted_at":1700000000100,"stream":"t"},"type":"RECORD"}`+"\n")
	return b.String()
}

// lineStream reads messages from JSONL without typed records.
type lineStream struct{ dec *airbyte.Decoder }

func (s lineStream) Messages() iter.Seq2[*airbyte.Message, error]     { return s.dec.Messages() }
func (s lineStream) Ack(context.Context, *airbyte.StateMessage) error { return nil }
func (s lineStream) Close() error                                     { return nil }

func TestTypedJSONLandsAsJSON(t *testing.T) {
	lines := typedJSONLines()
	path := filepath.Join(t.TempDir(), "lines.jsonl")
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	cat := &airbyte.ConfiguredCatalog{Streams: []airbyte.ConfiguredStream{{
		Stream:   airbyte.Stream{Name: "t", JSONSchema: json.RawMessage(typedJSONSchema), SupportedSyncModes: []airbyte.SyncMode{airbyte.FullRefresh}},
		SyncMode: airbyte.FullRefresh, DestinationSyncMode: airbyte.Append,
	}}}
	warehouses(t, func(t *testing.T, w *warehouse.Warehouse, schema string) {
		ctx := t.Context()
		land := func(suffix string, rs airbyte.ReadStream) [][]string {
			t.Helper()
			s := schema + suffix
			t.Cleanup(func() {
				_ = w.DropSchema(context.Background(), s, true)
				_ = w.DropSchema(context.Background(), s+"_state", true)
			})
			o := staging.Options{Schema: s, StateSchema: s + "_state", BatchRows: 3, Logger: slog.New(slog.DiscardHandler)}
			res, err := staging.NewLoader(w, o).Load(ctx, cat, rs)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Stream("t").Records; got != 8 {
				t.Fatalf("%s: %d records staged, want 8", s, got)
			}
			return tableRows(t, w, warehouse.Rel(s, "t"))
		}
		src := airbyte.NewProcessSource(airbyte.Command{Path: os.Args[0], Args: []string{"-test.run=^$", "-test.count=1"},
			Env: []string{"DATAOPS_LINES_CONNECTOR=" + path}}, airbyte.WithLogger(slog.New(slog.DiscardHandler)))
		rs, err := src.Read(ctx, json.RawMessage(`{}`), cat, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		typed := land("_typed", rs)
		untyped := land("_json", lineStream{airbyte.NewDecoder(strings.NewReader(lines))})
		if fmt.Sprint(typed) != fmt.Sprint(untyped) {
			t.Fatalf("typed records landed as\n%v\nJSON records as\n%v", strings.Join(flat(typed), "\n"), strings.Join(flat(untyped), "\n"))
		}
		// The fast path was taken: the typed load is not the JSON one.
		if len(typed) != 8 || !strings.Contains(fmt.Sprint(typed[0]), "ada") {
			t.Fatalf("rows %v", typed)
		}
	})
}

// tableRows returns a table's rows as text, ordered by id, without the
// columns that differ from load to load.
func tableRows(t *testing.T, w *warehouse.Warehouse, rel warehouse.Relation) [][]string {
	t.Helper()
	cols, err := w.Columns(t.Context(), rel)
	if err != nil {
		t.Fatal(err)
	}
	d := w.Dialect()
	var names []string
	for _, c := range cols {
		if c.Name != staging.ColRawID {
			names = append(names, d.QuoteIdentifier(c.Name))
		}
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + d.QuoteRelation(rel) + " ORDER BY " + d.QuoteIdentifier("id")
	var out [][]string
	for rec, err := range w.Rows(t.Context(), q) {
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(rec.Values))
		for i, v := range rec.Values {
			row[i] = fmt.Sprintf("%s=%v", names[i], v)
			if raw, ok := v.(json.RawMessage); ok {
				row[i] = names[i] + "=" + string(raw)
			}
		}
		out = append(out, row)
	}
	return out
}

func flat(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, " ")
	}
	return out
}
