// Package artifactstest validates dbt artifacts in tests against dbt's
// published JSON schemas, which live beside the repository in
// ../shared/specs/dbt/ (manifest-v12.json, run-results-v6.json,
// catalog-v1.json, sources-v3.json).
//
// A missing schema skips the test naming the file, except with CI=true, where
// it fails.
package artifactstest

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The schema files, by artifact.
const (
	Manifest   = "manifest-v12.json"
	RunResults = "run-results-v6.json"
	Catalog    = "catalog-v1.json"
	Sources    = "sources-v3.json"
)

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// SpecDir returns the directory of dbt's schemas: ../shared/specs/dbt from
// the root of the module (the directory holding go.mod above the test's
// working directory).
func SpecDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "specs", "dbt")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("artifactstest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Schema compiles (once per process) the named schema file.
func Schema(t testing.TB, file string) *jsonschema.Schema {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[file]; ok {
		return s
	}
	path := filepath.Join(SpecDir(t), file)
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dbt schema %s is missing: %v", path, err)
		}
		t.Skipf("dbt schema %s is missing (CI=true makes this a failure): %v", path, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	url := "file://" + filepath.ToSlash(path)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	compiled[file] = s
	return s
}

// Validate fails the test if data (an artifact's JSON) does not validate
// against the named schema file.
func Validate(t testing.TB, file string, data []byte) {
	t.Helper()
	s := Schema(t, file)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("artifact for %s is not JSON: %v", file, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("artifact does not validate against %s:\n%v", file, err)
	}
}

// ValidateFile is Validate on the artifact at path.
func ValidateFile(t testing.TB, file, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	Validate(t, file, data)
}
