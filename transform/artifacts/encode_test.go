package artifacts_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/artifacts/artifactstest"
)

// TestEncodeManifestMatchesEncodingJSON checks that Encode's parallel,
// streamed manifest writer gives the bytes encoding/json gives (without
// HTML escaping), across batch boundaries, with keys and values that need
// escaping, nil entries and nil maps.
func TestEncodeManifestMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 1300} {
		m := sampleManifest()
		for i := range n {
			id := fmt.Sprintf("model.shop.m%05d", i)
			if i%97 == 5 {
				id += "_\"<é>\\\u2028\x01"
			}
			m.Nodes[id] = &artifacts.Node{Name: fmt.Sprintf("m%d", i), ResourceType: "model", UniqueID: id,
				RawCode:  "select '<a & b>' as x -- é \u2028 \"q\"\n",
				Config:   map[string]any{"materialized": "view", "tags": []string{"a<b"}},
				Columns:  map[string]*artifacts.Column{"id": {Name: "id"}},
				Compiled: i%2 == 0, CompiledCode: artifacts.Str(fmt.Sprintf("select %d", i)),
				DependsOn: artifacts.DependsOn{Nodes: []string{"model.shop.a<b>&c", "model.shop.customers"}}}
			m.Macros[fmt.Sprintf("macro.shop.x%04d", i)] = &artifacts.Macro{Name: "x", MacroSQL: "{% macro x() %}<>{% endmacro %}"}
			if i%3 == 0 {
				m.Sources[fmt.Sprintf("source.shop.raw.t%04d", i)] = &artifacts.Source{Name: "t", Identifier: "t&"}
			}
		}
		m.BuildMaps()
		if n == 257 {
			m.Nodes["model.shop.nil"] = nil
			m.Sources["source.shop.nil"] = nil
			m.Docs = nil
		}
		if n == 1 {
			m.Macros = nil
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := artifacts.Encode(&got, m); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, fmt.Sprintf("%d nodes", n), got.Bytes(), want.Bytes())
	}
}

// TestWriteFileManifest writes a manifest through the streamed path and
// reads it back; a failing encode leaves the previous file and no
// temporary file behind.
func TestWriteFileManifest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target", "manifest.json")
	m := sampleManifest()
	if err := artifacts.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	artifactstest.ValidateFile(t, artifactstest.Manifest, path)
	back, err := artifacts.ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Nodes) != len(m.Nodes) || back.Nodes["model.shop.customers"].Name != "customers" {
		t.Fatalf("read back %d nodes, want %d", len(back.Nodes), len(m.Nodes))
	}
	before, _ := os.ReadFile(path)
	m.Selectors["bad"] = func() {} // encoding/json cannot encode a func
	if err := artifacts.WriteFile(path, m); err == nil {
		t.Fatal("WriteFile of an unencodable manifest succeeded")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a failed write changed the manifest")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("target holds %d files after a failed write, want 1", len(entries))
	}
}

// sameBytes fails the test where Encode's bytes (got) first differ from
// encoding/json's (want).
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < min(len(got), len(want)) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: Encode differs from encoding/json at byte %d of %d/%d:\n got …%.80s\nwant …%.80s", what, i, len(got), len(want), got[i:], want[i:])
}

// TestEncodeRunResultsMatchesEncodingJSON checks that Encode's run results
// writer (each result appended in place, not compacted again) gives the
// bytes encoding/json gives without HTML escaping: results with strings to
// escape, nil fields, adapter responses and batch results, over the 64 KiB
// flush, with and without args, and nil results.
func TestEncodeRunResultsMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 700} {
		r := artifacts.NewRunResults(artifacts.NewMetadata("", "inv"))
		r.ElapsedTime = 1.25e-7
		if n < 0 {
			r.Results, r.Args = nil, nil
		}
		for i := range max(n, 0) {
			failures, compiled := i, i%2 == 0
			res := artifacts.RunResult{Status: artifacts.StatusSuccess, ThreadID: "Thread-1 <&>",
				Timing:        []artifacts.Timing{{Name: "compile", StartedAt: artifacts.Str("2026-01-01T00:00:00.000000Z")}},
				ExecutionTime: float64(i) / 3, UniqueID: fmt.Sprintf("model.shop.m%05d_\"é\u2028\x01", i),
				Compiled: &compiled, CompiledCode: artifacts.Str(fmt.Sprintf("select '<%d>' & \"x\"\n\t", i))}
			if i%3 == 0 {
				res.Failures, res.Message = &failures, artifacts.Str("OK <b>")
				res.AdapterResponse = map[string]any{"_message": "OK & <done>", "rows_affected": int64(i)}
				res.BatchResults = map[string]any{"successful": []any{}, "failed": []string{"a<b"}}
			}
			r.Results = append(r.Results, res)
		}
		if n == 1 {
			r.Args = map[string]any{"which": "compile", "select": []string{"a&b"}, "threads": 4}
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := artifacts.Encode(&got, r); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, fmt.Sprintf("%d results", n), got.Bytes(), want.Bytes())
	}
	// A result that cannot be encoded fails the encode, as with encoding/json.
	r := artifacts.NewRunResults(artifacts.NewMetadata("", "inv"))
	r.Results = append(r.Results, artifacts.RunResult{BatchResults: func() {}})
	if err := artifacts.Encode(io.Discard, r); err == nil {
		t.Error("Encode of an unencodable result succeeded")
	}
}
