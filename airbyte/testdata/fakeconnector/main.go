// Command fakeconnector is an Airbyte source connector for tests. It speaks
// the Airbyte CLI (spec, check --config, discover --config, read --config
// --catalog [--state]) and misbehaves on request, as its config says:
//
//	api_key        required secret; "bad" makes check report FAILED
//	records        records to emit per configured stream (default 3)
//	big            sizes in bytes of extra records with one huge string field
//	malformed      emit lines that are not protocol messages
//	stderr_lines   lines of noise to write to stderr
//	control        emit a CONTROL CONNECTOR_CONFIG message with a new api_key
//	trace_error    emit a TRACE ERROR with this failure_type, then exit 1
//	die_after      exit with code 3 after this many records, no goodbye
//	exit_code      exit with this code at the end
//	report_files   log the paths and modes of the files it was given
//	grandchild     start a child process, log its pid, then block forever
//	block          after the records, block until killed
//	verb_fail      the verb ("spec", "check", "discover") that exits 2 at once
//	trace_exit_code exit code after trace_error (default 1)
//
// It also has a hidden verb, "sleep", that the grandchild runs.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

type config struct {
	APIKey      string `json:"api_key"`
	Records     *int   `json:"records"`
	Big         []int  `json:"big"`
	Malformed   bool   `json:"malformed"`
	StderrLines int    `json:"stderr_lines"`
	Control     bool   `json:"control"`
	TraceError  string `json:"trace_error"`
	DieAfter    *int   `json:"die_after"`
	ExitCode    int    `json:"exit_code"`
	ReportFiles bool   `json:"report_files"`
	Grandchild  bool   `json:"grandchild"`
	Block       bool   `json:"block"`
	VerbFail    string `json:"verb_fail"`
	TraceExit   *int   `json:"trace_exit_code"`
}

// traceExit is the exit code after a TRACE ERROR (default 1).
var traceExit = 1

var out = bufio.NewWriterSize(os.Stdout, 64<<10)

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out.Write(b)
	out.WriteByte('\n')
}

func logf(format string, args ...any) {
	emit(map[string]any{"type": "LOG", "log": map[string]any{"level": "INFO", "message": fmt.Sprintf(format, args...)}})
}

func now() int64 { return time.Now().UnixMilli() }

const spec = `{"type":"SPEC","spec":{"documentationUrl":"https://example.com/fake","connectionSpecification":{
 "$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["api_key"],
 "properties":{"api_key":{"type":"string","airbyte_secret":true,"minLength":3},
  "records":{"type":"integer","minimum":0},"big":{"type":"array","items":{"type":"integer"}},
  "malformed":{"type":"boolean"},"stderr_lines":{"type":"integer"},"control":{"type":"boolean"},
  "trace_error":{"type":"string"},"die_after":{"type":"integer"},"exit_code":{"type":"integer"},
  "report_files":{"type":"boolean"},"grandchild":{"type":"boolean"},"block":{"type":"boolean"},
  "verb_fail":{"type":"string"},"trace_exit_code":{"type":"integer"}}},
 "supported_destination_sync_modes":["append","overwrite"],"protocol_version":"0.5.2"}}`

func main() {
	defer out.Flush()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fakeconnector spec|check|discover|read")
		os.Exit(2)
	}
	verb := os.Args[1]
	if verb == "sleep" {
		time.Sleep(time.Hour)
		return
	}
	fs := flag.NewFlagSet(verb, flag.ExitOnError)
	configPath := fs.String("config", "", "config file")
	catalogPath := fs.String("catalog", "", "catalog file")
	statePath := fs.String("state", "", "state file")
	fs.Parse(os.Args[2:])

	fmt.Fprintln(os.Stderr, "fakeconnector starting", verb)
	if verb == "spec" {
		if os.Getenv("FAKE_SPEC_FAIL") != "" {
			fmt.Fprintln(os.Stderr, "spec exploded")
			os.Exit(2)
		}
		out.WriteString(strings.ReplaceAll(spec, "\n", "") + "\n")
		return
	}
	var cfg config
	raw, err := os.ReadFile(*configPath)
	if err != nil {
		fail("config_error", "cannot read config: "+err.Error())
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		fail("config_error", "config is not JSON: "+err.Error())
	}
	if cfg.TraceExit != nil {
		traceExit = *cfg.TraceExit
	}
	if cfg.ReportFiles {
		for _, p := range []string{*configPath, *catalogPath, *statePath} {
			if p == "" {
				continue
			}
			st, err := os.Stat(p)
			if err != nil {
				logf("file %s: %v", p, err)
				continue
			}
			logf("file %s %s", p, st.Mode().Perm())
		}
	}
	if *statePath != "" {
		st, _ := os.ReadFile(*statePath)
		logf("state %s", st)
	}
	for i := range cfg.StderrLines {
		fmt.Fprintf(os.Stderr, "noise line %d\n", i+1)
	}
	if cfg.VerbFail == verb {
		fmt.Fprintln(os.Stderr, verb+" exploded")
		os.Exit(2)
	}
	if cfg.Control {
		emit(map[string]any{"type": "CONTROL", "control": map[string]any{"type": "CONNECTOR_CONFIG", "emitted_at": now(),
			"connectorConfig": map[string]any{"config": map[string]any{"api_key": "rotated-key"}}}})
	}
	switch verb {
	case "check":
		status := "SUCCEEDED"
		if cfg.APIKey == "bad" {
			status = "FAILED"
		}
		emit(map[string]any{"type": "CONNECTION_STATUS", "connectionStatus": map[string]any{"status": status, "message": "checked"}})
	case "discover":
		emit(map[string]any{"type": "CATALOG", "catalog": map[string]any{"streams": []any{
			map[string]any{"name": "users", "json_schema": map[string]any{"type": "object"}, "supported_sync_modes": []string{"full_refresh", "incremental"}, "source_defined_primary_key": [][]string{{"id"}}},
			map[string]any{"name": "orders", "json_schema": map[string]any{"type": "object"}, "supported_sync_modes": []string{"full_refresh"}},
		}}})
	case "read":
		read(cfg, *catalogPath)
	default:
		fmt.Fprintln(os.Stderr, "unknown verb", verb)
		os.Exit(2)
	}
	if cfg.TraceError != "" {
		fail(cfg.TraceError, "the fake connector was told to fail")
	}
	out.Flush()
	os.Exit(cfg.ExitCode)
}

func read(cfg config, catalogPath string) {
	var catalog struct {
		Streams []struct {
			Stream struct {
				Name string `json:"name"`
			} `json:"stream"`
		} `json:"streams"`
	}
	raw, err := os.ReadFile(catalogPath)
	if err != nil {
		fail("system_error", "cannot read catalog: "+err.Error())
	}
	if err := json.Unmarshal(raw, &catalog); err != nil {
		fail("config_error", "catalog is not JSON")
	}
	n := 3
	if cfg.Records != nil {
		n = *cfg.Records
	}
	if cfg.Grandchild {
		child := exec.Command(os.Args[0], "sleep")
		if err := child.Start(); err != nil {
			fail("system_error", err.Error())
		}
		logf("grandchild %d", child.Process.Pid)
		out.Flush()
	}
	if cfg.Malformed {
		out.WriteString("this line is not JSON\n")
		out.WriteString("{\"looks\":\"like json but is not a message\"}\n")
		out.WriteString("{\"type\":\"RECORD\",\"record\":{\"stream\":\"users\",\"data\":{\"broken\":\n")
	}
	sent := 0
	for _, s := range catalog.Streams {
		name := s.Stream.Name
		emit(map[string]any{"type": "TRACE", "trace": map[string]any{"type": "STREAM_STATUS", "emitted_at": now(),
			"stream_status": map[string]any{"stream_descriptor": map[string]any{"name": name}, "status": "STARTED"}}})
		for i := range n {
			if cfg.DieAfter != nil && sent == *cfg.DieAfter {
				out.Flush()
				fmt.Fprintln(os.Stderr, "dying mid-stream")
				os.Exit(3)
			}
			emit(map[string]any{"type": "RECORD", "record": map[string]any{"stream": name, "emitted_at": now(),
				"data": map[string]any{"id": i + 1, "name": fmt.Sprintf("%s-%d", name, i+1)}}})
			sent++
		}
		for _, size := range cfg.Big {
			emit(map[string]any{"type": "RECORD", "record": map[string]any{"stream": name, "emitted_at": now(),
				"data": map[string]any{"id": -size, "blob": strings.Repeat("b", size)}}})
		}
		emit(map[string]any{"type": "STATE", "state": map[string]any{"type": "STREAM", "stream": map[string]any{
			"stream_descriptor": map[string]any{"name": name}, "stream_state": map[string]any{"last_id": n}},
			"sourceStats": map[string]any{"recordCount": float64(n)}}})
	}
	out.Flush()
	if cfg.Block {
		select {}
	}
}

func fail(failureType, msg string) {
	emit(map[string]any{"type": "TRACE", "trace": map[string]any{"type": "ERROR", "emitted_at": now(),
		"error": map[string]any{"message": msg, "internal_message": "fakeconnector internal", "failure_type": failureType}}})
	out.Flush()
	fmt.Fprintln(os.Stderr, "fatal:", msg)
	os.Exit(traceExit)
}
