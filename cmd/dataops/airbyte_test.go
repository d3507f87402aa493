package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dataopskit/dataops/airbyte/api"
	"github.com/dataopskit/dataops/airbyte/api/airbytetest"
	"github.com/dataopskit/dataops/internal/testenv"
)

var (
	airbyteSpecOnce sync.Once
	airbyteSpec     *airbytetest.OpenAPI
	airbyteSpecErr  error
)

// airbyteEnv starts an in-process Airbyte server that checks every request
// and response against Airbyte's OpenAPI spec, and puts its credentials in
// the environment, as a user would. A missing spec skips the test outside
// CI and fails it in CI.
func airbyteEnv(t *testing.T, opts *airbytetest.Options) *airbytetest.Server {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "specs", "airbyte", "public-api-v1.yaml")
	airbyteSpecOnce.Do(func() { airbyteSpec, airbyteSpecErr = airbytetest.LoadOpenAPI(path) })
	if errors.Is(airbyteSpecErr, os.ErrNotExist) {
		if testenv.CI() {
			t.Fatalf("Airbyte OpenAPI spec %s is missing: %v", path, airbyteSpecErr)
		}
		t.Skipf("Airbyte OpenAPI spec %s is missing: %v", path, airbyteSpecErr)
	}
	if airbyteSpecErr != nil {
		t.Fatal(airbyteSpecErr)
	}
	var o airbytetest.Options
	if opts != nil {
		o = *opts
	}
	o.ValidateRequest, o.ValidateResponse = airbyteSpec.ValidateRequest, airbyteSpec.ValidateResponse
	srv := airbytetest.NewServer(&o)
	t.Cleanup(func() {
		srv.Close()
		for _, p := range srv.Problems() {
			t.Errorf("spec violation: %v", p)
		}
	})
	t.Setenv(envAirbyteURL, "")
	t.Setenv(envAirbyteClientID, srv.ClientID())
	t.Setenv(envAirbyteClientSecret, srv.ClientSecret())
	t.Setenv(envAirbyteToken, "")
	t.Setenv(envAirbyteUsername, "")
	t.Setenv(envAirbytePassword, "")
	return srv
}

func TestAirbyteSyncWait(t *testing.T) {
	srv := airbyteEnv(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobPending, api.JobRunning, api.JobIncomplete, api.JobRunning, api.JobSucceeded}})
	conn := srv.AddConnection("orders")
	out, err := run(t, "airbyte", "sync", "--url", srv.URL, "--connection", conn.ID, "--wait", "--poll-interval", "1ms", "-v")
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	for _, want := range []string{"job 1: sync pending", "job 1: sync running", "job 1: sync incomplete", "job 1 succeeded: 400 rows"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, srv.ClientSecret()) {
		t.Errorf("output shows the client secret:\n%s", out)
	}
	if jobs := srv.Jobs(); len(jobs) != 1 || jobs[0].Status != api.JobSucceeded {
		t.Errorf("server jobs = %+v", jobs)
	}
	if srv.TokensIssued() != 1 {
		t.Errorf("tokens = %d", srv.TokensIssued())
	}
}

func TestAirbyteSyncNoWaitAndAttach(t *testing.T) {
	srv := airbyteEnv(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning, api.JobSucceeded}})
	conn := srv.AddConnection("orders")
	t.Setenv(envAirbyteURL, srv.URL)
	out, err := run(t, "airbyte", "sync", "--connection", conn.ID, "--type", "refresh")
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	if !strings.Contains(out, "job 1: refresh running of connection "+conn.ID) {
		t.Errorf("output = %q", out)
	}
	// A second refresh conflicts …
	out, err = run(t, "airbyte", "sync", "--connection", conn.ID, "--type", "refresh", "--wait")
	if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second sync: err = %v\n%s", err, out)
	}
	// … unless it attaches.
	out, err = run(t, "airbyte", "sync", "--connection", conn.ID, "--type", "refresh", "--wait", "--attach", "--poll-interval", "1ms")
	if err != nil {
		t.Fatalf("attach: %v\n%s", err, out)
	}
	if !strings.Contains(out, "job 1 succeeded") {
		t.Errorf("output = %q", out)
	}
	if n := srv.Count("POST", "/jobs"); n != 3 {
		t.Errorf("POST /jobs = %d, want 3", n)
	}
	if n := len(srv.Jobs()); n != 1 {
		t.Errorf("jobs = %d, want 1", n)
	}
}

func TestAirbyteSyncFailed(t *testing.T) {
	srv := airbyteEnv(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning, api.JobFailed}})
	conn := srv.AddConnection("orders")
	out, err := run(t, "airbyte", "sync", "--url", srv.URL, "--connection", conn.ID, "--wait", "--poll-interval", "1ms")
	if !errors.Is(err, api.ErrJobFailed) {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if !strings.Contains(out, "job 1: sync failed") {
		t.Errorf("output = %q", out)
	}
}

func TestAirbyteCredentials(t *testing.T) {
	srv := airbyteEnv(t, &airbytetest.Options{BearerToken: "bearer-secret-123", Username: "admin", Password: "basic-secret-456"})
	conn := srv.AddConnection("orders")
	srv.StartJob(conn.ID, api.JobSync)
	list := func(args ...string) (string, error) {
		return run(t, append([]string{"airbyte", "jobs", "list", "--url", srv.URL, "-v"}, args...)...)
	}
	// Flags win over the environment: a wrong secret in a flag fails.
	out, err := list("--client-secret", "flag-secret-789")
	if !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("wrong secret flag: err = %v", err)
	}
	if strings.Contains(out+err.Error(), "flag-secret-789") {
		t.Errorf("secret echoed: %v\n%s", err, out)
	}
	// Only one kind of credentials.
	if _, err := list("--token", "bearer-secret-123"); err == nil || !strings.Contains(err.Error(), "more than one kind") {
		t.Errorf("two kinds of credentials: err = %v", err)
	}
	t.Setenv(envAirbyteClientID, "")
	t.Setenv(envAirbyteClientSecret, "")
	for _, args := range [][]string{
		{"--token", "bearer-secret-123"},
		{"--username", "admin", "--password", "basic-secret-456"},
	} {
		out, err := list(args...)
		if err != nil {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
		if strings.Contains(out, "secret-") {
			t.Errorf("%v: credential echoed:\n%s", args, out)
		}
	}
	t.Setenv(envAirbyteToken, "bearer-secret-123")
	if out, err := list(); err != nil || !strings.Contains(out, conn.ID) {
		t.Errorf("token from env: %v\n%s", err, out)
	}
	t.Setenv(envAirbyteToken, "")
	if _, err := list(); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("no credentials: err = %v", err)
	}
	t.Setenv(envAirbyteClientID, "only-id")
	if _, err := list(); err == nil || !strings.Contains(err.Error(), "both a client id and a client secret") {
		t.Errorf("half client credentials: err = %v", err)
	}
}

func TestAirbyteJobsList(t *testing.T) {
	srv := airbyteEnv(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobSucceeded}})
	a := srv.AddConnection("a")
	b := srv.AddConnection("b")
	for range 30 {
		srv.StartJob(a.ID, api.JobSync)
	}
	srv.StartJob(b.ID, api.JobClear)

	out, err := run(t, "airbyte", "jobs", "list", "--url", srv.URL, "--limit", "25")
	if err != nil {
		t.Fatalf("jobs list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 26 || !strings.HasPrefix(lines[0], "JOB") {
		t.Fatalf("want a header and 25 jobs, got %d lines:\n%s", len(lines), out)
	}
	if f := strings.Fields(lines[1]); f[0] != "31" || f[1] != "clear" || f[2] != "succeeded" || f[3] != b.ID {
		t.Errorf("newest job line = %q", lines[1])
	}

	out, err = run(t, "airbyte", "jobs", "list", "--url", srv.URL, "--connection", b.ID, "--type", "clear", "--json")
	if err != nil {
		t.Fatalf("jobs list --json: %v\n%s", err, out)
	}
	var jobs []api.Job
	if err := json.Unmarshal([]byte(out), &jobs); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(jobs) != 1 || jobs[0].ID != 31 || jobs[0].ConnectionID != b.ID {
		t.Errorf("jobs = %+v", jobs)
	}
	out, err = run(t, "airbyte", "jobs", "list", "--url", srv.URL, "--status", "running", "--json")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("no running jobs: %v %q", err, out)
	}
	if _, err := run(t, "airbyte", "sync", "--url", srv.URL); err == nil || !strings.Contains(err.Error(), "--connection") {
		t.Errorf("sync without --connection: %v", err)
	}
}

// TestAirbyteSyncTimeoutCancels: when the wait is cut short, the job is
// cancelled on the server (the default), or left running on request.
func TestAirbyteSyncTimeoutCancels(t *testing.T) {
	for _, cancel := range []bool{true, false} {
		srv := airbyteEnv(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning}})
		conn := srv.AddConnection("orders")
		out, err := run(t, "airbyte", "sync", "--url", srv.URL, "--connection", conn.ID, "--wait",
			"--poll-interval", "1ms", "--max-poll-interval", "5ms", "--timeout", "500ms",
			"--cancel-on-interrupt="+map[bool]string{true: "true", false: "false"}[cancel])
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v\n%s", err, out)
		}
		want := api.JobRunning
		if cancel {
			want = api.JobCancelled
		}
		jobs := srv.Jobs()
		if len(jobs) != 1 {
			t.Fatalf("jobs on the server: %+v", jobs)
		}
		if got := jobs[0].Status; got != want {
			t.Errorf("cancel=%v: job on the server is %s, want %s", cancel, got, want)
		}
	}
}
