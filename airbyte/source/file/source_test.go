package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

func TestSpecAndConfigErrors(t *testing.T) {
	src := New()
	spec, err := src.Spec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !spec.SupportsIncremental || !json.Valid(spec.ConnectionSpecification) {
		t.Errorf("spec: incremental %v, schema valid %v", spec.SupportsIncremental, json.Valid(spec.ConnectionSpecification))
	}

	cases := []struct {
		name   string
		config string
		paths  []string // every failing path the error must list
	}{
		{"empty", ``, []string{"$.streams"}},
		{"schema violations", `{"streams":[{"globs":[],"format":{"filetype":"xml"}},{"name":"b","globs":["*"],"format":{"filetype":"csv","encoding":"ebcdic"},"extra":1}]}`,
			[]string{"$.streams[0].name", "$.streams[0].globs", "$.streams[0].format.filetype", "$.streams[1].format.encoding", "$.streams[1]"}},
		{"rules beyond the schema", `{"streams":[{"name":"a","globs":["[x"],"format":{"filetype":"csv","delimiter":";;","quote_char":"é"}},{"name":"a","globs":["*"],"format":{"filetype":"csv","column_names":["x","x"],"quote_char":","}}]}`,
			[]string{"$.streams[0].globs[0]", "$.streams[0].format.delimiter", "$.streams[0].format.quote_char", "$.streams[1].name", "$.streams[1].format.quote_char", "$.streams[1].format.column_names[1]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for what, call := range map[string]func() error{
				"check":    func() error { _, err := src.Check(context.Background(), json.RawMessage(c.config)); return err },
				"discover": func() error { _, err := src.Discover(context.Background(), json.RawMessage(c.config)); return err },
				"read": func() error {
					_, err := src.Read(context.Background(), json.RawMessage(c.config), &airbyte.ConfiguredCatalog{}, nil)
					return err
				},
			} {
				err := call()
				var ce *airbyte.ConfigError
				if !errors.As(err, &ce) || !errors.Is(err, airbyte.ErrInvalidConfig) {
					t.Fatalf("%s: error %v, want an *airbyte.ConfigError", what, err)
				}
				got := map[string]bool{}
				for _, p := range ce.Problems {
					got[p.Path] = true
				}
				for _, p := range c.paths {
					if !got[p] {
						t.Errorf("%s: error does not list %s: %v", what, p, err)
					}
				}
			}
		})
	}
}

func TestNoFilesAndUnknownStream(t *testing.T) {
	dir := t.TempDir()
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"missing/**/*.csv", "nope.csv"}, "format": map[string]any{"filetype": "csv"}})

	_, err := src.Discover(context.Background(), cfg)
	if !errors.Is(err, ErrNoFiles) || !strings.Contains(err.Error(), `"missing/**/*.csv"`) || !strings.Contains(err.Error(), `"nope.csv"`) {
		t.Errorf("discover: %v", err)
	}
	st, err := src.Check(context.Background(), cfg)
	if err != nil || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, "missing/**/*.csv") {
		t.Errorf("check: %+v, %v", st, err)
	}
	cc := &airbyte.ConfiguredCatalog{Streams: []airbyte.ConfiguredStream{{Stream: airbyte.Stream{Name: "s"}, SyncMode: airbyte.Incremental}}}
	res := read(t, src, cfg, cc, nil)
	if !errors.Is(res.err, ErrNoFiles) || !strings.Contains(res.err.Error(), "nope.csv") {
		t.Errorf("read: %v", res.err)
	}

	cc.Streams[0].Stream.Name = "other"
	_, err = src.Read(context.Background(), cfg, cc, nil)
	if !errors.Is(err, ErrUnknownStream) || !strings.Contains(err.Error(), `"other"`) {
		t.Errorf("unknown stream: %v", err)
	}

	writeFile(t, dir, "nope.csv", []byte("a\n1\n"), base)
	st, err = src.Check(context.Background(), cfg)
	if err != nil || st.Status != airbyte.StatusSucceeded {
		t.Errorf("check with a file: %+v, %v", st, err)
	}
	writeFile(t, dir, "nope.csv", []byte("a,b\n1\n"), base)
	st, err = src.Check(context.Background(), cfg)
	if err != nil || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, "nope.csv:2") {
		t.Errorf("check with a bad file: %+v, %v", st, err)
	}
}

func TestGlobs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"top.csv", "a/one.csv", "a/b/two.csv", "a/b/c/three.csv", "a/b/skip.txt", "x/four.csv", ".hidden/five.csv", "a/b/six.CSV"} {
		writeFile(t, dir, name, []byte("a\n1\n"), base)
	}
	cases := []struct {
		globs []string
		want  []string
	}{
		{[]string{"*.csv"}, []string{"top.csv"}},
		{[]string{"**/*.csv"}, []string{".hidden/five.csv", "a/b/c/three.csv", "a/b/two.csv", "a/one.csv", "top.csv", "x/four.csv"}},
		{[]string{"a/**/*.csv"}, []string{"a/b/c/three.csv", "a/b/two.csv", "a/one.csv"}},
		{[]string{"a/**"}, []string{"a/b/c/three.csv", "a/b/six.CSV", "a/b/skip.txt", "a/b/two.csv", "a/one.csv"}},
		{[]string{"a/*/*.csv"}, []string{"a/b/two.csv"}},
		{[]string{"a/b/*.[cC][sS][vV]"}, []string{"a/b/six.CSV", "a/b/two.csv"}},
		{[]string{"a/b/t?o.csv", "top.csv", "a/b/two.csv"}, []string{"a/b/two.csv", "top.csv"}},
		{[]string{"a/b"}, nil}, // a directory is not a file
		{[]string{"nothere/**/*.csv"}, nil},
	}
	for _, c := range cases {
		files, err := listFiles(context.Background(), dir, c.globs)
		if err != nil {
			t.Fatalf("%v: %v", c.globs, err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.url)
			if f.osPath != filepath.Join(dir, filepath.FromSlash(f.url)) {
				t.Errorf("%s: os path %s", f.url, f.osPath)
			}
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.globs, got, c.want)
		}
	}

	// An absolute glob gives absolute URLs.
	abs := filepath.ToSlash(dir) + "/a/*.csv"
	files, err := listFiles(context.Background(), "", []string{abs})
	if err != nil || len(files) != 1 || files[0].url != filepath.ToSlash(filepath.Join(dir, "a", "one.csv")) {
		t.Errorf("absolute glob: %+v, %v", files, err)
	}
}

func TestMatchSegs(t *testing.T) {
	cases := []struct {
		pat, path string
		partial   bool
		want      bool
	}{
		{"**/*.csv", "x.csv", false, true},
		{"**/*.csv", "a/b/x.csv", false, true},
		{"**/*.csv", "a/b", true, true},
		{"a/*/c", "a/b/c", false, true},
		{"a/*/c", "a/b/c/d", false, false},
		{"a/*/c", "x", true, false},
		{"a/*/c", "a", true, true},
		{"a/**/c/*.csv", "a/x/y/c/z.csv", false, true},
		{"a/**/c/*.csv", "a/x/y/d/z.csv", false, false},
		{"a/**", "a/x/y", false, true},
		{"*.csv", "dir", true, false},
	}
	for _, c := range cases {
		if got := matchSegs(strings.Split(c.pat, "/"), strings.Split(c.path, "/"), c.partial); got != c.want {
			t.Errorf("matchSegs(%q, %q, partial %v) = %v", c.pat, c.path, c.partial, got)
		}
	}
}

func TestIncremental(t *testing.T) {
	dir := t.TempDir()
	t1, t2, t3 := base, base.Add(time.Hour), base.Add(2*time.Hour)
	writeFile(t, dir, "in/a.csv", []byte("id,v\n1,a\n2,a\n"), t1)
	writeFile(t, dir, "in/b.csv", []byte("id,v\n3,b\n"), t2)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"in/*.csv"}, "format": map[string]any{"filetype": "csv"}})
	cc := discover(t, src, cfg, airbyte.Incremental)

	first := read(t, src, cfg, cc, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if got := first.files(); !reflect.DeepEqual(got, []string{"in/a.csv", "in/b.csv"}) || len(first.records) != 3 {
		t.Fatalf("first read: files %v, %d records", got, len(first.records))
	}
	if len(first.states) != 2 || !reflect.DeepEqual(first.counts, []float64{2, 1}) {
		t.Errorf("first read: %d states with counts %v, want a state after each file", len(first.states), first.counts)
	}
	h := first.history(t)
	if len(h) != 2 || h["in/a.csv"].LastModified != t1.Format(time.RFC3339Nano) || h["in/b.csv"].Size != int64(len("id,v\n3,b\n")) {
		t.Errorf("history %+v", h)
	}
	var st streamState
	_ = json.Unmarshal(first.states[1].Stream.StreamState, &st)
	if st.Cursor != "2026-01-02T04:04:05.123456Z_in/b.csv" {
		t.Errorf("cursor %q", st.Cursor)
	}
	if d := first.states[0].Stream.StreamDescriptor; d.Name != "s" {
		t.Errorf("state descriptor %+v", d)
	}

	// Nothing changed: nothing is read, one state is emitted.
	same := read(t, src, cfg, cc, first.lastState(t))
	if same.err != nil || len(same.records) != 0 || len(same.states) != 1 || len(same.history(t)) != 2 {
		t.Fatalf("unchanged re-read: err %v, %d records, %d states", same.err, len(same.records), len(same.states))
	}

	// Add a file, touch one (same content, new time), change one's size
	// keeping its time: exactly those are read again.
	writeFile(t, dir, "in/c.csv", []byte("id,v\n4,c\n"), t3)
	if err := os.Chtimes(filepath.Join(dir, "in", "a.csv"), t3.Add(time.Minute), t3.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "in/b.csv", []byte("id,v\n3,b\n5,b\n"), t2)
	next := read(t, src, cfg, cc, same.lastState(t))
	if next.err != nil {
		t.Fatal(next.err)
	}
	if got := next.files(); !reflect.DeepEqual(got, []string{"in/b.csv", "in/c.csv", "in/a.csv"}) {
		t.Errorf("re-read files %v, want the changed and new ones, oldest first", got)
	}
	if len(next.records) != 5 || len(next.states) != 3 {
		t.Errorf("re-read: %d records, %d states", len(next.records), len(next.states))
	}
	h = next.history(t)
	if len(h) != 3 || h["in/a.csv"].LastModified != t3.Add(time.Minute).Format(time.RFC3339Nano) {
		t.Errorf("history after re-read %+v", h)
	}

	// A removed file drops out of the state.
	if err := os.Remove(filepath.Join(dir, "in", "c.csv")); err != nil {
		t.Fatal(err)
	}
	after := read(t, src, cfg, cc, next.lastState(t))
	if after.err != nil || len(after.records) != 0 {
		t.Fatalf("after removal: %v, %d records", after.err, len(after.records))
	}
	if h := after.history(t); len(h) != 2 || h["in/c.csv"] != (fileRecord{}) {
		t.Errorf("history after removal %+v", h)
	}

	// Full refresh ignores the state.
	for i := range cc.Streams {
		cc.Streams[i].SyncMode = airbyte.FullRefresh
	}
	full := read(t, src, cfg, cc, next.lastState(t))
	if full.err != nil || len(full.records) != 4 { // a.csv and b.csv, c.csv is gone
		t.Errorf("full refresh: %v, %d records", full.err, len(full.records))
	}
}

func TestIncrementalFromAirbyteState(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "old.jsonl", []byte(`{"a":1}`+"\n"), base)
	writeFile(t, dir, "new.jsonl", []byte(`{"a":2}`+"\n"), base.Add(time.Hour))
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"*.jsonl"}, "format": map[string]any{"filetype": "jsonl"}})
	cc := discover(t, src, cfg, airbyte.Incremental)
	// Airbyte's own form: microsecond timestamps, no sizes.
	state := []airbyte.StateMessage{{Type: airbyte.StateStream, Stream: &airbyte.StreamState{
		StreamDescriptor: airbyte.StreamDescriptor{Name: "s"},
		StreamState: json.RawMessage(`{"history":{"old.jsonl":"2026-01-02T03:04:05.123456Z","new.jsonl":"2026-01-02T03:04:05.000000Z"},` +
			`"_ab_source_file_last_modified":"2026-01-02T03:04:05.123456Z_old.jsonl"}`),
	}}}
	res := read(t, src, cfg, cc, state)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := res.files(); !reflect.DeepEqual(got, []string{"new.jsonl"}) {
		t.Errorf("files read %v, want only the newer one", got)
	}
}

func TestCancelAndClose(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("n\n")
	for i := 0; i < 5000; i++ {
		b.WriteString("1\n")
	}
	writeFile(t, dir, "a.csv", []byte(b.String()), base)
	writeFile(t, dir, "b.csv", []byte(b.String()), base.Add(time.Second))
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"*.csv"}, "format": map[string]any{"filetype": "csv"}})
	cc := discover(t, src, cfg, airbyte.FullRefresh)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs, err := src.Read(ctx, cfg, cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last error
	for m, err := range rs.Messages() {
		if err != nil {
			last = err
			break
		}
		if m.Type == airbyte.TypeRecord {
			n++
			if n == 1000 {
				cancel()
			}
		}
	}
	if !errors.Is(last, context.Canceled) || n >= 5000 {
		t.Errorf("after cancel: %d records, error %v", n, last)
	}
	if !strings.Contains(last.Error(), "a.csv") {
		t.Errorf("cancel error does not name the file: %v", last)
	}

	// Close from the consumer stops the read too.
	rs, err = src.Read(context.Background(), cfg, cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, last = 0, nil
	for m, err := range rs.Messages() {
		if err != nil {
			last = err
			break
		}
		if m.Type == airbyte.TypeRecord {
			if n++; n == 10 {
				_ = rs.Close()
			}
		}
	}
	if !errors.Is(last, errClosed) || n > 300 {
		t.Errorf("after Close: %d records, error %v", n, last)
	}
	if err := rs.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// Breaking out of the loop stops the source; a second Messages fails.
	rs, _ = src.Read(context.Background(), cfg, cc, nil)
	for range rs.Messages() {
		break
	}
	for _, err := range rs.Messages() {
		if err == nil {
			t.Error("a second Messages yielded a message")
		}
		break
	}
	_ = rs.Close()
}

func TestRegistered(t *testing.T) {
	src, err := airbyte.NewSource("file")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*Source); !ok {
		t.Errorf("airbyte.NewSource(\"file\") gave %T", src)
	}
}

// TestCloseFromAnotherGoroutine closes a read while another goroutine is
// consuming it.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("n\n")
	for i := 0; i < 10000; i++ {
		b.WriteString("7\n")
	}
	writeFile(t, dir, "a.csv", []byte(b.String()), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"a.csv"}, "format": map[string]any{"filetype": "csv"}})
	rs, err := src.Read(context.Background(), cfg, discover(t, src, cfg, airbyte.FullRefresh), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen, closed := make(chan struct{}), make(chan struct{})
	type outcome struct {
		n   int
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		n := 0
		for m, err := range rs.Messages() {
			if err != nil {
				done <- outcome{n, err}
				return
			}
			if m.Type == airbyte.TypeRecord {
				if n++; n == 100 {
					close(seen)
					<-closed
				}
			}
		}
		done <- outcome{n, nil}
	}()
	<-seen
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	close(closed)
	o := <-done
	if !errors.Is(o.err, errClosed) || o.n >= 10000 {
		t.Errorf("consumer saw %d records and error %v; want the read stopped by Close", o.n, o.err)
	}
}

// TestRecordDataIsIndependent keeps every record's raw data until the read
// has ended: records share memory blocks but never each other's bytes, and
// appending to one cannot change another.
func TestRecordDataIsIndependent(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,text\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "%d,%s\n", i, strings.Repeat("z", i%3000)) // small and large records
	}
	writeFile(t, dir, "a.csv", []byte(b.String()), base)
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"a.csv"}, "format": map[string]any{"filetype": "csv"}})
	rs, err := src.Read(context.Background(), cfg, discover(t, src, cfg, airbyte.FullRefresh), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kept []json.RawMessage
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == airbyte.TypeRecord {
			kept = append(kept, m.Record.Data)
		}
	}
	rs.Close()
	if len(kept) != 3000 {
		t.Fatalf("%d records", len(kept))
	}
	_ = append(kept[10], "garbage"...)
	for i, data := range kept {
		rec := decodeData(t, data)
		if rec["id"] != json.Number(fmt.Sprint(i)) || rec["text"] != nil && len(rec["text"].(string)) != i%3000 {
			t.Fatalf("record %d changed after the read: %.80s", i, data)
		}
	}
}

// TestHistoryLimit bounds the state: past maxHistory files the oldest
// entries give way to a horizon, and re-reads still pick up exactly the
// new and changed files.
func TestHistoryLimit(t *testing.T) {
	old := maxHistory
	maxHistory = 5
	t.Cleanup(func() { maxHistory = old })

	dir := t.TempDir()
	for i := range 8 {
		writeFile(t, dir, fmt.Sprintf("f%d.csv", i), []byte(fmt.Sprintf("n\n%d\n", i)), base.Add(time.Duration(i)*time.Minute))
	}
	src := New()
	cfg := config(t, dir, map[string]any{"name": "s", "globs": []string{"*.csv"}, "format": map[string]any{"filetype": "csv"}})
	cc := discover(t, src, cfg, airbyte.Incremental)
	first := read(t, src, cfg, cc, nil)
	if first.err != nil || len(first.records) != 8 {
		t.Fatalf("first read: %v, %d records", first.err, len(first.records))
	}
	var st streamState
	if err := json.Unmarshal(first.lastState(t)[0].Stream.StreamState, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.History) > 5 || st.Horizon == "" {
		t.Fatalf("state keeps %d files, horizon %q", len(st.History), st.Horizon)
	}
	horizon, _ := st.horizon()
	for url, rec := range st.History {
		if tm, _ := time.Parse(time.RFC3339Nano, rec.LastModified); !tm.After(horizon) {
			t.Errorf("%s (%s) is kept but not newer than the horizon %s", url, rec.LastModified, st.Horizon)
		}
	}

	again := read(t, src, cfg, cc, first.lastState(t))
	if again.err != nil || len(again.records) != 0 {
		t.Fatalf("re-read: %v, %d records (%v)", again.err, len(again.records), again.files())
	}

	// A new file, and an evicted file touched: exactly those two.
	writeFile(t, dir, "f8.csv", []byte("n\n8\n"), base.Add(time.Hour))
	if err := os.Chtimes(filepath.Join(dir, "f0.csv"), base.Add(2*time.Hour), base.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	next := read(t, src, cfg, cc, again.lastState(t))
	if next.err != nil || !reflect.DeepEqual(next.files(), []string{"f8.csv", "f0.csv"}) {
		t.Errorf("after adding and touching: %v, files %v", next.err, next.files())
	}
}
