package api_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dataopskit/dataops/airbyte/api/airbytetest"
	"github.com/dataopskit/dataops/internal/testenv"
)

// specPath is Airbyte's OpenAPI spec, kept outside the repository.
var specPath = filepath.Join("..", "..", "..", "shared", "specs", "airbyte", "public-api-v1.yaml")

var (
	specOnce sync.Once
	specVal  *airbytetest.OpenAPI
	specErr  error
)

// loadSpec loads the spec once per test binary. A missing spec skips the
// test outside CI and fails it in CI.
func loadSpec(t testing.TB) *airbytetest.OpenAPI {
	t.Helper()
	specOnce.Do(func() { specVal, specErr = airbytetest.LoadOpenAPI(specPath) })
	if errors.Is(specErr, os.ErrNotExist) {
		msg := fmt.Sprintf("Airbyte OpenAPI spec %s is missing: %v", specPath, specErr)
		if testenv.CI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if specErr != nil {
		t.Fatalf("loading the spec: %v", specErr)
	}
	return specVal
}

// newServer starts the fake Airbyte server with the spec's validators and
// fails the test at cleanup if any request or response broke the spec.
func newServer(t *testing.T, opts *airbytetest.Options) *airbytetest.Server {
	t.Helper()
	sp := loadSpec(t)
	var o airbytetest.Options
	if opts != nil {
		o = *opts
	}
	o.ValidateRequest = sp.ValidateRequest
	o.ValidateResponse = sp.ValidateResponse
	srv := airbytetest.NewServer(&o)
	t.Cleanup(func() {
		srv.Close()
		for _, p := range srv.Problems() {
			t.Errorf("spec violation: %v", p)
		}
	})
	return srv
}
