package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
)

// buildFakeConnector builds the airbyte package's test connector.
func buildFakeConnector(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fakeconnector")
	out, err := exec.Command("go", "build", "-o", path, "../../airbyte/testdata/fakeconnector").CombinedOutput()
	if err != nil {
		t.Fatalf("building the test connector: %v\n%s", err, out)
	}
	return path
}

// runSource runs the CLI in-process with separate stdout and stderr.
func runSource(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// decodeStrict parses CLI output, failing on any line that is not a
// protocol message.
func decodeStrict(t *testing.T, out string) []*airbyte.Message {
	t.Helper()
	var msgs []*airbyte.Message
	for m, err := range airbyte.NewDecoder(strings.NewReader(out), airbyte.Strict(), airbyte.Named("stdout")).Messages() {
		if err != nil {
			t.Fatalf("stdout is not protocol JSONL: %v\n%s", err, out)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const testCatalog = `{"streams":[
 {"stream":{"name":"users","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"},
 {"stream":{"name":"orders","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`

func TestSourceCommandVerbs(t *testing.T) {
	fake := buildFakeConnector(t)
	command := "'" + fake + "'" // quoted, as a path with spaces would be
	good := writeFile(t, "good.json", `{"api_key":"good","records":2,"malformed":true,"big":[70000]}`)
	bad := writeFile(t, "bad.json", `{"api_key":"bad"}`)
	catalog := writeFile(t, "catalog.json", testCatalog)
	state := writeFile(t, "state.json", `{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"last_id":7}}}`)

	out, _, err := runSource(t, "source", "spec", "--command", command)
	if err != nil {
		t.Fatal(err)
	}
	msgs := decodeStrict(t, out)
	if len(msgs) != 1 || msgs[0].Type != airbyte.TypeSpec || !bytes.Contains(msgs[0].Spec.ConnectionSpecification, []byte("api_key")) {
		t.Fatalf("spec output: %s", out)
	}

	out, _, err = runSource(t, "source", "check", "--command", command, "--config", good)
	if msgs := decodeStrict(t, out); err != nil || len(msgs) != 1 || msgs[0].ConnectionStatus.Status != airbyte.StatusSucceeded {
		t.Fatalf("check: %v\n%s", err, out)
	}
	out, _, err = runSource(t, "source", "check", "--command", command, "--config", bad)
	if msgs := decodeStrict(t, out); err == nil || len(msgs) != 1 || msgs[0].ConnectionStatus.Status != airbyte.StatusFailed {
		t.Fatalf("check with a bad key: %v\n%s", err, out)
	}

	out, _, err = runSource(t, "source", "discover", "--command", command, "--config", good)
	if msgs := decodeStrict(t, out); err != nil || len(msgs) != 1 || len(msgs[0].Catalog.Streams) != 2 {
		t.Fatalf("discover: %v\n%s", err, out)
	}

	out, _, err = runSource(t, "source", "read", "--command", command, "--config", good, "--catalog", catalog, "--state", state)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]int{}
	var logs []string
	states := 0
	for _, m := range decodeStrict(t, out) {
		switch m.Type {
		case airbyte.TypeRecord:
			records[m.Record.Stream]++
		case airbyte.TypeLog:
			logs = append(logs, m.Log.Message)
		case airbyte.TypeState:
			states++
		}
	}
	if records["users"] != 3 || records["orders"] != 3 || states != 2 {
		t.Errorf("records %v, states %d", records, states)
	}
	all := strings.Join(logs, "\n")
	for _, want := range []string{"this line is not JSON", `"last_id":7`} {
		if !strings.Contains(all, want) {
			t.Errorf("LOG messages lack %q:\n%s", want, all)
		}
	}
}

func TestSourceCommandBadInput(t *testing.T) {
	fake := buildFakeConnector(t)
	good := writeFile(t, "good.json", `{"api_key":"good"}`)
	invalid := writeFile(t, "invalid.json", `{"api_key":"s3","records":"x"}`)
	notJSON := writeFile(t, "broken.json", "{\n\"api_key\": \"good\",\n}\n")
	catalog := writeFile(t, "catalog.json", testCatalog)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"invalid config", []string{"check", "--command", fake, "--config", invalid}, []string{"$.api_key", "$.records", "invalid config"}},
		{"config not JSON", []string{"check", "--command", fake, "--config", notJSON}, []string{"broken.json:3", "not valid JSON"}},
		{"missing config", []string{"discover", "--command", fake, "--config", filepath.Join(t.TempDir(), "nope.json")}, []string{"nope.json"}},
		{"no source", []string{"spec"}, []string{"exactly one source"}},
		{"two sources", []string{"spec", "--command", fake, "--image", "x"}, []string{"exactly one source"}},
		{"unknown native", []string{"spec", "--source", "no-such-source"}, []string{`"no-such-source"`, "unknown source"}},
		{"bad command", []string{"spec", "--command", `"unterminated`}, []string{"unterminated quote"}},
		{"bad catalog", []string{"read", "--command", fake, "--config", good, "--catalog", notJSON}, []string{"catalog file", "broken.json:3"}},
		{"connector crash", []string{"read", "--command", fake, "--config", writeFile(t, "die.json", `{"api_key":"good","die_after":1}`), "--catalog", catalog}, []string{"exit code 3", "dying mid-stream"}},
		{"no docker", []string{"spec", "--image", "airbyte/source-faker:6.2.0", "--docker", filepath.Join(t.TempDir(), "docker")}, []string{"docker command not found", "airbyte/source-faker"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runSource(t, append([]string{"source"}, tc.args...)...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

// nativeSource is a tiny in-process source, registered by name.
type nativeSource struct{ acks *[]string }

func (n nativeSource) Spec(context.Context) (*airbyte.ConnectorSpecification, error) {
	return &airbyte.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object","required":["rows"],"properties":{"rows":{"type":"integer"}}}`)}, nil
}

func (n nativeSource) Check(context.Context, json.RawMessage) (*airbyte.ConnectionStatus, error) {
	return &airbyte.ConnectionStatus{Status: airbyte.StatusSucceeded}, nil
}

func (n nativeSource) Discover(context.Context, json.RawMessage) (*airbyte.Catalog, error) {
	return &airbyte.Catalog{Streams: []airbyte.Stream{{Name: "n", JSONSchema: json.RawMessage(`{}`), SupportedSyncModes: []airbyte.SyncMode{airbyte.FullRefresh}}}}, nil
}

func (n nativeSource) Read(_ context.Context, config json.RawMessage, _ *airbyte.ConfiguredCatalog, _ []airbyte.StateMessage) (airbyte.ReadStream, error) {
	var c struct{ Rows int }
	if err := json.Unmarshal(config, &c); err != nil {
		return nil, err
	}
	return &nativeStream{rows: c.Rows, acks: n.acks}, nil
}

type nativeStream struct {
	rows int
	acks *[]string
}

func (s *nativeStream) Messages() iter.Seq2[*airbyte.Message, error] {
	return func(yield func(*airbyte.Message, error) bool) {
		for i := range s.rows {
			if !yield(&airbyte.Message{Type: airbyte.TypeRecord, Record: &airbyte.RecordMessage{Stream: "n", Data: json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`)}}, nil) {
				return
			}
			if !yield(&airbyte.Message{Type: airbyte.TypeState, State: &airbyte.StateMessage{Type: airbyte.StateLegacy, Data: json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`)}}, nil) {
				return
			}
		}
	}
}

func (s *nativeStream) Ack(_ context.Context, st *airbyte.StateMessage) error {
	*s.acks = append(*s.acks, string(st.Data))
	return nil
}

func (s *nativeStream) Close() error { return nil }

func TestSourceCommandNativeSource(t *testing.T) {
	var acks []string
	airbyte.RegisterSource("cli-test-native", func() airbyte.Source { return nativeSource{acks: &acks} })
	defer airbyte.RegisterSource("cli-test-native", nil)
	catalog := writeFile(t, "catalog.json", `{"streams":[]}`)

	out, _, err := runSource(t, "source", "read", "--source", "cli-test-native", "--config", writeFile(t, "c.json", `{"rows":3}`), "--catalog", catalog)
	if err != nil {
		t.Fatal(err)
	}
	msgs := decodeStrict(t, out)
	if len(msgs) != 6 || msgs[4].Record == nil || string(msgs[4].Record.Data) != `{"i":2}` {
		t.Fatalf("output:\n%s", out)
	}
	if strings.Join(acks, ",") != `{"i":0},{"i":1},{"i":2}` {
		t.Errorf("acks: %v", acks)
	}
	_, _, err = runSource(t, "source", "discover", "--source", "cli-test-native", "--config", writeFile(t, "c.json", `{"rows":"many"}`))
	if !errors.Is(err, airbyte.ErrInvalidConfig) || !strings.Contains(err.Error(), "$.rows") {
		t.Errorf("invalid native config: %v", err)
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string]string{
		`python -m source_x`:                 `python|-m|source_x`,
		`  "/opt/my conn/bin" --flag  'a b'`: `/opt/my conn/bin|--flag|a b`,
		`a\ b "c\"d" 'e\f'`:                  `a b|c"d|e\f`,
		`x ""`:                               `x|`,
	} {
		got, err := splitCommand(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("%s: %q %v, want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "   ", `'open`, `"open`} {
		if _, err := splitCommand(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseState(t *testing.T) {
	for in, want := range map[string]string{
		`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"}}},{"type":"GLOBAL","global":{"stream_states":[]}}]`: "STREAM,GLOBAL",
		`{"type":"GLOBAL","global":{"shared_state":{"lsn":1},"stream_states":[]}}`:                                        "GLOBAL",
		`{"users":{"cursor":3}}`: "LEGACY",
	} {
		states, err := parseState(json.RawMessage(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var types []string
		for _, s := range states {
			types = append(types, string(s.Type))
		}
		if strings.Join(types, ",") != want {
			t.Errorf("%s: %v, want %s", in, types, want)
		}
	}
	if _, err := parseState(json.RawMessage(`"just a string"`)); err == nil {
		t.Error("a string state was accepted")
	}
}
