package artifacts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The dbt_schema_version of each artifact this package writes.
const (
	ManifestV12   = "https://schemas.getdbt.com/dbt/manifest/v12.json"
	RunResultsV6  = "https://schemas.getdbt.com/dbt/run-results/v6.json"
	CatalogV1     = "https://schemas.getdbt.com/dbt/catalog/v1.json"
	SourcesV3     = "https://schemas.getdbt.com/dbt/sources/v3.json"
	DBTVersionTag = "1.11.6" // the dbt-core version whose artifacts these are
)

// ErrSchemaVersion is wrapped when an artifact read has a dbt_schema_version
// of another kind of artifact (a run_results.json read as a manifest).
var ErrSchemaVersion = errors.New("unexpected dbt_schema_version")

// Metadata is the metadata block every artifact starts with.
type Metadata struct {
	DBTSchemaVersion    string            `json:"dbt_schema_version"`
	DBTVersion          string            `json:"dbt_version"`
	GeneratedAt         string            `json:"generated_at"`
	InvocationID        *string           `json:"invocation_id"`
	InvocationStartedAt *string           `json:"invocation_started_at,omitempty"`
	Env                 map[string]string `json:"env"`
}

// NewMetadata returns metadata for an artifact of the given schema version
// generated now, with the DBT_ENV_CUSTOM_ENV_ variables dbt records.
func NewMetadata(schemaVersion, invocationID string) Metadata {
	md := Metadata{
		DBTSchemaVersion: schemaVersion,
		DBTVersion:       DBTVersionTag,
		GeneratedAt:      Timestamp(time.Now()),
		Env:              map[string]string{},
	}
	if invocationID != "" {
		md.InvocationID = &invocationID
	}
	for _, kv := range os.Environ() {
		const prefix = "DBT_ENV_CUSTOM_ENV_"
		if len(kv) > len(prefix) && kv[:len(prefix)] == prefix {
			for i := len(prefix); i < len(kv); i++ {
				if kv[i] == '=' {
					md.Env[kv[len(prefix):i]] = kv[i+1:]
					break
				}
			}
		}
	}
	return md
}

// Timestamp formats a time as dbt does in artifacts (UTC, microseconds, Z).
func Timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// Str returns a pointer to s, for the nullable string fields.
func Str(s string) *string { return &s }

// Timing is one phase (compile, execute) of a node's run.
type Timing struct {
	Name        string  `json:"name"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
}

// NewTiming returns the timing of a phase from its start and end.
func NewTiming(name string, start, end time.Time) Timing {
	return Timing{Name: name, StartedAt: Str(Timestamp(start)), CompletedAt: Str(Timestamp(end))}
}

// Encode writes v as compact JSON on one line, as dbt writes its artifacts
// (indenting a 10,000-model manifest cost a third of its write).
func Encode(w io.Writer, v any) error {
	switch v := v.(type) {
	case *Manifest:
		if v != nil {
			return encodeManifest(w, v)
		}
	case *RunResults:
		if v != nil {
			return encodeRunResults(w, v)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteFile writes an artifact as JSON to path atomically: into a temporary
// file in the same directory, then renamed over path, so a reader never
// sees half an artifact and a failed write leaves the old one in place.
func WriteFile(path string, v any) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	tmp := f.Name()
	// Streamed: a manifest's tens of megabytes are never held whole.
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = Encode(bw, v); err != nil {
		err = fmt.Errorf("artifacts: encoding %s: %w", path, err)
	} else if err = bw.Flush(); err != nil {
		err = fmt.Errorf("artifacts: writing %s: %w", path, err)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("artifacts: writing %s: %w", path, cerr)
	}
	if err == nil {
		if rerr := os.Rename(tmp, path); rerr != nil {
			err = fmt.Errorf("artifacts: writing %s: %w", path, rerr)
		}
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readFile decodes the artifact at path into v and checks that its
// dbt_schema_version is of the wanted kind (any version of it).
func readFile(path string, v any, kind string, version func() string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	return decode(path, data, v, kind, version)
}

// decode is readFile on bytes already read; path names them in errors.
func decode(path string, data []byte, v any, kind string, version func() string) error {
	if err := json.Unmarshal(data, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return fmt.Errorf("artifacts: %s:%d: %w", path, line, err)
		}
		return fmt.Errorf("artifacts: %s: %w", path, err)
	}
	got := version()
	want := "https://schemas.getdbt.com/dbt/" + kind + "/v"
	if len(got) < len(want) || got[:len(want)] != want {
		return fmt.Errorf("artifacts: %s: %w %q, want a %s artifact", path, ErrSchemaVersion, got, kind)
	}
	return nil
}
