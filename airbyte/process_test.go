package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeConnector is the path of the test connector built by TestMain.
var fakeConnector string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "airbyte-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakeConnector = filepath.Join(dir, "fakeconnector")
	build := exec.Command("go", "build", "-o", fakeConnector, "./testdata/fakeconnector")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test connector: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logBuffer collects what a slog.Logger writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func fakeSource(opts ...ProcessOption) *ProcessSource {
	return NewProcessSource(Command{Path: fakeConnector}, opts...)
}

func catalogOf(names ...string) *ConfiguredCatalog {
	c := &ConfiguredCatalog{}
	for _, n := range names {
		c.Streams = append(c.Streams, ConfiguredStream{
			Stream:   Stream{Name: n, JSONSchema: json.RawMessage(`{"type":"object"}`), SupportedSyncModes: []SyncMode{FullRefresh}},
			SyncMode: FullRefresh, DestinationSyncMode: Append,
		})
	}
	return c
}

func TestProcessSpecCheckDiscover(t *testing.T) {
	ctx := context.Background()
	src := fakeSource()
	spec, err := src.Spec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(spec.ConnectionSpecification, []byte(`"airbyte_secret":true`)) || spec.ProtocolVersion != "0.5.2" {
		t.Errorf("spec: %s", spec.ConnectionSpecification)
	}
	st, err := src.Check(ctx, json.RawMessage(`{"api_key":"good"}`))
	if err != nil || st.Status != StatusSucceeded {
		t.Errorf("check: %+v %v", st, err)
	}
	st, err = src.Check(ctx, json.RawMessage(`{"api_key":"bad"}`))
	if err != nil || st.Status != StatusFailed {
		t.Errorf("check with a bad key: %+v %v, want FAILED and no error", st, err)
	}
	var rotated []string
	withHandler := fakeSource(WithControlHandler(func(_ context.Context, m *ControlMessage) {
		rotated = append(rotated, string(m.ConnectorConfig.Config))
	}))
	if st, err := withHandler.Check(ctx, json.RawMessage(`{"api_key":"good","control":true}`)); err != nil || st.Status != StatusSucceeded {
		t.Errorf("check with a control message: %+v %v", st, err)
	}
	if len(rotated) != 1 || !strings.Contains(rotated[0], "rotated-key") {
		t.Errorf("control handler got %q during check", rotated)
	}
	cat, err := src.Discover(ctx, json.RawMessage(`{"api_key":"good"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Streams) != 2 || cat.Streams[0].Name != "users" || cat.Streams[0].SourceDefinedPrimaryKey[0][0] != "id" {
		t.Errorf("catalog: %+v", cat)
	}
}

func TestProcessValidatesConfigBeforeRunning(t *testing.T) {
	ctx := context.Background()
	src := fakeSource()
	for _, run := range []func(json.RawMessage) error{
		func(c json.RawMessage) error { _, err := src.Check(ctx, c); return err },
		func(c json.RawMessage) error { _, err := src.Discover(ctx, c); return err },
		func(c json.RawMessage) error { _, err := src.Read(ctx, c, catalogOf("users"), nil); return err },
	} {
		err := run(json.RawMessage(`{"api_key":"zq","records":"many"}`))
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want *ConfigError", err)
		}
		if len(ce.Problems) != 2 || ce.Problems[0].Path != "$.api_key" || ce.Problems[1].Path != "$.records" {
			t.Errorf("problems: %+v", ce.Problems)
		}
		if strings.Contains(err.Error(), "zq") || !strings.Contains(err.Error(), fakeConnector) {
			t.Errorf("error leaks the secret or does not name the connector: %v", err)
		}
	}
}

func TestProcessReadEverything(t *testing.T) {
	ctx := context.Background()
	var logs logBuffer
	var controls []*ControlMessage
	src := fakeSource(WithLogger(logs.logger()), WithControlHandler(func(_ context.Context, m *ControlMessage) {
		controls = append(controls, m)
	}))
	config := json.RawMessage(`{"api_key":"good","records":3,"big":[70000,17825792],"malformed":true,"stderr_lines":50,"control":true,"report_files":true}`)
	state := []StateMessage{{Type: StateStream, Stream: &StreamState{StreamDescriptor: StreamDescriptor{Name: "users"}, StreamState: json.RawMessage(`{"last_id":1}`)}}}
	rs, err := src.Read(ctx, config, catalogOf("users", "orders"), state)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	records := map[string]int{}
	bigSizes := map[int]bool{}
	var logLines, files []string
	var yieldedControl, states int
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case TypeRecord:
			records[m.Record.Stream]++
			var d struct {
				ID   int    `json:"id"`
				Blob string `json:"blob"`
			}
			if err := m.Record.DecodeData(&d); err != nil {
				t.Fatal(err)
			}
			if d.ID < 0 {
				if len(d.Blob) != -d.ID {
					t.Errorf("big record of %d bytes arrived with %d", -d.ID, len(d.Blob))
				}
				bigSizes[-d.ID] = true
			}
		case TypeLog:
			logLines = append(logLines, m.Log.Message)
			if f, ok := strings.CutPrefix(m.Log.Message, "file "); ok {
				files = append(files, f)
			}
		case TypeControl:
			yieldedControl++
			if !bytes.Contains(m.Control.ConnectorConfig.Config, []byte("rotated-key")) {
				t.Errorf("control config: %s", m.Control.ConnectorConfig.Config)
			}
		case TypeState:
			states++
		}
	}
	if records["users"] != 5 || records["orders"] != 5 || !bigSizes[70000] || !bigSizes[17825792] {
		t.Errorf("records %v, big %v", records, bigSizes)
	}
	if states != 2 {
		t.Errorf("%d states, want 2", states)
	}
	if yieldedControl != 1 || len(controls) != 1 {
		t.Errorf("control: %d yielded, %d to the handler; want 1 and 1", yieldedControl, len(controls))
	}
	all := strings.Join(logLines, "\n")
	for _, want := range []string{"this line is not JSON", `{"looks":"like json but is not a message"}`, `{"type":"RECORD","record":{"stream":"users","data":{"broken":`, `"stream_state":{"last_id":1}`} {
		if !strings.Contains(all, want) {
			t.Errorf("LOG messages lack %q:\n%s", want, all)
		}
	}
	// The files were 0600 while the connector ran, and are gone now.
	if len(files) != 3 {
		t.Fatalf("connector reported files %v, want config, catalog and state", files)
	}
	for _, f := range files {
		path, mode, _ := strings.Cut(f, " ")
		if mode != "-rw-------" {
			t.Errorf("%s had mode %s, want -rw-------", path, mode)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after the read: %v", path, err)
		}
	}
	if _, err := os.Stat(filepath.Dir(strings.Fields(files[0])[0])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir still exists: %v", err)
	}
	if n := strings.Count(logs.String(), "noise line"); n != 50 {
		t.Errorf("%d stderr lines logged, want 50", n)
	}
}

func TestProcessTraceErrorIsTyped(t *testing.T) {
	src := fakeSource(WithStderrTail(5))
	rs, err := src.Read(context.Background(), json.RawMessage(`{"api_key":"good","records":1,"stderr_lines":40,"trace_error":"config_error"}`), catalogOf("users"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var last error
	n := 0
	for m, err := range rs.Messages() {
		if err != nil {
			last = err
			break
		}
		if m.Type == TypeRecord {
			n++
		}
	}
	var ce *ConnectorError
	if !errors.As(last, &ce) {
		t.Fatalf("stream ended with %v, want *ConnectorError", last)
	}
	if n != 1 || ce.FailureType != FailureConfig || ce.ExitCode != 1 || ce.Message != "the fake connector was told to fail" || ce.InternalMessage != "fakeconnector internal" || ce.Verb != "read" {
		t.Errorf("records %d, error %+v", n, ce)
	}
	if len(ce.Stderr) != 5 || ce.Stderr[4] != "fatal: the fake connector was told to fail" || ce.Stderr[3] != "noise line 40" {
		t.Errorf("stderr tail: %q", ce.Stderr)
	}
	if !strings.Contains(ce.Error(), "config_error") || !strings.Contains(ce.Error(), "noise line 40") {
		t.Errorf("error text: %s", ce.Error())
	}
}

func TestProcessTraceErrorWithExitZeroStillFails(t *testing.T) {
	src := fakeSource()
	rs, err := src.Read(context.Background(), json.RawMessage(`{"api_key":"good","records":1,"trace_error":"transient_error","trace_exit_code":0}`), catalogOf("users"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var last error
	for _, err := range rs.Messages() {
		last = err
	}
	var ce *ConnectorError
	if !errors.As(last, &ce) || ce.FailureType != FailureTransient || ce.ExitCode != 0 {
		t.Fatalf("stream ended with %v, want a transient ConnectorError with exit code 0", last)
	}
}

func TestProcessDiesMidStream(t *testing.T) {
	src := fakeSource()
	rs, err := src.Read(context.Background(), json.RawMessage(`{"api_key":"good","records":10,"die_after":4}`), catalogOf("users"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	var last error
	for m, err := range rs.Messages() {
		if err != nil {
			last = err
			break
		}
		if m.Type == TypeRecord {
			n++
		}
	}
	var ce *ConnectorError
	if !errors.As(last, &ce) || ce.ExitCode != 3 || ce.FailureType != FailureSystem || n != 4 {
		t.Fatalf("after %d records: %v", n, last)
	}
	if !strings.Contains(strings.Join(ce.Stderr, "\n"), "dying mid-stream") {
		t.Errorf("stderr tail: %q", ce.Stderr)
	}
}

func TestProcessVerbCrash(t *testing.T) {
	src := fakeSource(WithoutConfigValidation())
	_, err := src.Check(context.Background(), json.RawMessage(`{"api_key":"good","verb_fail":"check"}`))
	var ce *ConnectorError
	if !errors.As(err, &ce) || ce.ExitCode != 2 || ce.Verb != "check" || !strings.Contains(strings.Join(ce.Stderr, "\n"), "check exploded") {
		t.Fatalf("err = %v", err)
	}
	_, err = NewProcessSource(Command{Path: fakeConnector}, WithEnv("FAKE_SPEC_FAIL=1")).Discover(context.Background(), json.RawMessage(`{"api_key":"good"}`))
	if !errors.As(err, &ce) || ce.Verb != "spec" || ce.ExitCode != 2 {
		t.Fatalf("discover with a failing spec: %v", err)
	}
	_, err = NewProcessSource(Command{Path: filepath.Join(t.TempDir(), "missing")}).Spec(context.Background())
	if !errors.As(err, &ce) || ce.ExitCode != -1 {
		t.Fatalf("missing executable: %v", err)
	}
}

// alive reports whether pid runs (a zombie counts as dead).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, timeout time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}

func TestProcessCancelKillsProcessGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := fakeSource()
	rs, err := src.Read(ctx, json.RawMessage(`{"api_key":"good","records":2,"grandchild":true,"block":true,"report_files":true}`), catalogOf("users"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	grandchild := 0
	var configPath string
	var last error
	records := 0
	for m, err := range rs.Messages() {
		if err != nil {
			last = err
			break
		}
		if m.Type == TypeLog {
			if p, ok := strings.CutPrefix(m.Log.Message, "grandchild "); ok {
				grandchild, _ = strconv.Atoi(p)
				if !alive(grandchild) {
					t.Fatalf("grandchild %d is not running", grandchild)
				}
			}
			if f, ok := strings.CutPrefix(m.Log.Message, "file "); ok && configPath == "" {
				configPath, _, _ = strings.Cut(f, " ")
			}
		}
		if m.Type == TypeRecord {
			records++
		}
		if m.Type == TypeState {
			cancel() // the connector now blocks forever; only cancellation ends it
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("stream ended with %v, want context.Canceled", last)
	}
	if grandchild == 0 || records != 2 {
		t.Fatalf("grandchild %d, records %d", grandchild, records)
	}
	if !waitUntil(t, 10*time.Second, func() bool { return !alive(grandchild) }) {
		t.Errorf("grandchild %d survived the cancellation", grandchild)
	}
	if _, err := os.Stat(configPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config file %s not removed: %v", configPath, err)
	}
}

func TestProcessBreakStopsConnector(t *testing.T) {
	src := fakeSource()
	rs, err := src.Read(context.Background(), json.RawMessage(`{"api_key":"good","records":1,"block":true,"report_files":true}`), catalogOf("users"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var configPath string
	for m, err := range rs.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == TypeLog {
			if f, ok := strings.CutPrefix(m.Log.Message, "file "); ok && configPath == "" {
				configPath, _, _ = strings.Cut(f, " ")
			}
		}
		if m.Type == TypeRecord {
			break // the connector blocks after its records: only the break ends it
		}
	}
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	if configPath == "" {
		t.Fatal("connector did not report its config file")
	}
	if _, err := os.Stat(configPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config file %s not removed: %v", configPath, err)
	}
	for _, err := range rs.Messages() {
		if err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("second range: %v", err)
		}
	}
}

func TestDockerCommandLine(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	docker := filepath.Join(dir, "docker")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$ARGS_FILE\"\necho 'docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2\nexit 125\n"
	if err := os.WriteFile(docker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	src := NewDockerSource("airbyte/source-faker:6.2.0", WithDocker(docker, "--network", "host"), WithEnv("ARGS_FILE="+argsFile), WithoutConfigValidation())
	argv := func() (string, string) {
		t.Helper()
		raw, err := os.ReadFile(argsFile)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(strings.Split(strings.TrimSpace(string(raw)), "\n"), " ")
		re := regexp.MustCompile(`^run --rm -i --init --log-driver none --name dataops-[0-9a-f]{16} -v (/\S+):/config:ro -w /config -e ARGS_FILE --network host airbyte/source-faker:6\.2\.0 (.*)$`)
		m := re.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("docker argv:\n%s\ndoes not match\n%s", got, re)
		}
		if _, err := os.Stat(m[1]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("mounted dir %s not removed: %v", m[1], err)
		}
		return m[1], m[2]
	}

	rs, err := src.Read(context.Background(), json.RawMessage(`{"count":1}`), catalogOf("users"), []StateMessage{{Type: StateLegacy, Data: json.RawMessage(`{"c":1}`)}})
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range rs.Messages() {
		last = err
	}
	var ce *ConnectorError
	if !errors.As(last, &ce) || ce.ExitCode != 125 || !strings.Contains(ce.Message, "Docker engine") || !strings.Contains(strings.Join(ce.Stderr, ""), "Cannot connect") {
		t.Fatalf("read ended with %v", last)
	}
	if _, verb := argv(); verb != "read --config /config/config.json --catalog /config/catalog.json --state /config/state.json" {
		t.Errorf("read verb and flags: %s", verb)
	}

	_, err = src.Check(context.Background(), json.RawMessage(`{"count":1}`))
	if !errors.As(err, &ce) || ce.ExitCode != 125 || ce.Verb != "check" {
		t.Fatalf("check: %v", err)
	}
	if _, verb := argv(); verb != "check --config /config/config.json" {
		t.Errorf("check verb and flags: %s", verb)
	}

	// The whole command line, built without running.
	got := src.argv("read", "/tmp/x", "dataops-1", map[string][]byte{"config": nil, "catalog": nil, "state": nil})
	want := []string{docker, "run", "--rm", "-i", "--init", "--log-driver", "none", "--name", "dataops-1", "-v", "/tmp/x:/config:ro", "-w", "/config",
		"-e", "ARGS_FILE", "--network", "host", "airbyte/source-faker:6.2.0", "read", "--config", "/config/config.json", "--catalog", "/config/catalog.json", "--state", "/config/state.json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("read argv\n%q\nwant\n%q", got, want)
	}
}

func TestDockerMissing(t *testing.T) {
	src := NewDockerSource("airbyte/source-faker:6.2.0", WithDocker(filepath.Join(t.TempDir(), "no-docker")))
	_, err := src.Spec(context.Background())
	if !errors.Is(err, ErrDockerNotFound) || !strings.Contains(err.Error(), "airbyte/source-faker:6.2.0") {
		t.Fatalf("err = %v, want ErrDockerNotFound naming the image", err)
	}
}

func TestStateFile(t *testing.T) {
	legacy, err := encodeStateFile([]StateMessage{{Type: StateLegacy, Data: json.RawMessage(`{"a":1}`)}, {Data: json.RawMessage(`{"a":2}`)}})
	if err != nil || string(legacy) != `{"a":2}` {
		t.Errorf("legacy: %s %v", legacy, err)
	}
	per, err := encodeStateFile([]StateMessage{{Type: StateStream, Stream: &StreamState{StreamDescriptor: StreamDescriptor{Name: "s"}}}})
	if err != nil || string(per) != `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"}}}]` {
		t.Errorf("per stream: %s %v", per, err)
	}
}
