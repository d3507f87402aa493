package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// The JSONL connector path: this program, run as "benchpipeline connector",
// is an Airbyte source connector process emitting 10-column records; the
// bench stages its output through airbyte.ProcessSource into DuckDB and
// reports records/s (goal ≥ 150,000), with the connector's output drained
// to nothing as the baseline of the same run.

const jsonlRowsEnv = "BENCHPIPELINE_CONNECTOR_ROWS"

const jsonlSchema = `{"type":"object","properties":{"id":{"type":"integer"},"customer_id":{"type":"integer"},"status":{"type":"string"},"amount":{"type":"number"},"quantity":{"type":"integer"},"created_at":{"type":"string","format":"date-time"},"updated_at":{"type":"string","format":"date-time"},"note":{"type":["null","string"]},"flag":{"type":"boolean"},"tags":{"type":"array"}}}`

// connector is the connector process's body.
func connector(verb string) error {
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	switch verb {
	case "spec":
		fmt.Fprintln(out, `{"type":"SPEC","spec":{"connectionSpecification":{"type":"object"}}}`)
	case "check":
		fmt.Fprintln(out, `{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}`)
	case "discover":
		fmt.Fprintln(out, `{"type":"CATALOG","catalog":{"streams":[{"name":"orders","json_schema":`+jsonlSchema+`,"supported_sync_modes":["full_refresh"]}]}}`)
	case "read":
		n, err := strconv.Atoi(os.Getenv(jsonlRowsEnv))
		if err != nil {
			return fmt.Errorf("%s: %w", jsonlRowsEnv, err)
		}
		now := time.Now().UnixMilli()
		var line []byte
		for i := range n {
			line = line[:0]
			line = append(line, `{"type":"RECORD","record":{"stream":"orders","emitted_at":`...)
			line = strconv.AppendInt(line, now, 10)
			line = append(line, `,"data":{"id":`...)
			line = strconv.AppendInt(line, int64(i), 10)
			line = append(line, `,"customer_id":`...)
			line = strconv.AppendInt(line, int64(i%997), 10)
			line = append(line, `,"status":"shipped","amount":`...)
			line = strconv.AppendInt(line, int64(i%1000), 10)
			line = append(line, `.25,"quantity":`...)
			line = strconv.AppendInt(line, int64(i%7), 10)
			line = append(line, `,"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-05-06T07:08:09.123456Z","note":"note `...)
			line = strconv.AppendInt(line, int64(i), 10)
			line = append(line, `","flag":true,"tags":["a","b"]}}}`+"\n"...)
			out.Write(line)
			if (i+1)%10_000 == 0 || i == n-1 {
				fmt.Fprintf(out, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"orders"},"stream_state":{"offset":%d}}}}`+"\n", i+1)
			}
		}
	default:
		return fmt.Errorf("unknown verb %q", verb)
	}
	return nil
}

// runJSONL times the connector alone, then the connector staged into DuckDB.
func runJSONL(ctx context.Context, rows int, dir, memLimit string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := jsonlRowsEnv + "=" + strconv.Itoa(rows)

	// Baseline: the connector's output read to nothing.
	cmd := exec.CommandContext(ctx, self, "connector", "read")
	cmd.Env = append(os.Environ(), env)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, stdout); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return err
	}
	alone := time.Since(start)

	w, err := warehouse.Open(ctx, "duckdb:"+filepath.Join(dir, "jsonl.duckdb")+"?memory_limit="+memLimit+allocatorOpts)
	if err != nil {
		return err
	}
	defer w.Close()
	src := airbyte.NewProcessSource(airbyte.Command{Path: self, Args: []string{"connector"}, Env: []string{env}},
		airbyte.WithLogger(slog.New(slog.DiscardHandler)))
	heap := sampleHeap()
	cpu0 := cpuTime()
	start = time.Now()
	res, err := staging.Sync(ctx, src, w, staging.SyncOptions{
		Config: json.RawMessage(`{}`),
		Options: staging.Options{Schema: "raw", BatchRows: batchRows, CommitRows: commitRows, Logger: slog.New(slog.DiscardHandler),
			OnProgress: heapProfileAt(int64(rows / 2))},
	})
	if err != nil {
		return err
	}
	staged := time.Since(start)
	stagedCPU := cpuTime() - cpu0
	goHeap := heap()
	fmt.Printf("records              %d (staged %d)\n", rows, res.Streams[0].Records)
	fmt.Printf("connector alone      %8.2fs  %10.0f records/s\n", alone.Seconds(), float64(rows)/alone.Seconds())
	fmt.Printf("connector → DuckDB   %8.2fs  %10.0f records/s (goal ≥ 150000)\n", staged.Seconds(), float64(rows)/staged.Seconds())
	fmt.Printf("staging CPU          %8.2fs  (user+sys of this process; the connector's own CPU not counted)\n", stagedCPU.Seconds())
	fmt.Printf("peak RSS             %d MiB (Go heap in use at most %d MiB)\n", peakRSS()>>20, goHeap>>20)
	if res.Streams[0].Records != int64(rows) {
		return fmt.Errorf("staged %d records, want %d", res.Streams[0].Records, rows)
	}
	return nil
}
