package airbytetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte/api"
	"github.com/dataopskit/dataops/airbyte/api/airbytetest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// call sends a raw request and returns the status and decoded body.
func call(t *testing.T, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

// TestServerEnforces checks the behaviour clients are tested against:
// tokens expire, faults fire the given number of times, a second job of a
// connection conflicts, and jobs move along their script.
func TestServerEnforces(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := airbytetest.NewServer(&airbytetest.Options{Now: clk.Now, TokenLifetime: time.Minute,
		JobStatuses: []api.JobStatus{api.JobPending, api.JobRunning, api.JobSucceeded}})
	defer srv.Close()
	conn := srv.AddConnection("orders")

	st, tok := call(t, "POST", srv.URL+"/applications/token", "", `{"client_id":"test-client","client_secret":"test-secret","grant-type":"client_credentials"}`)
	if st != 200 || tok["token_type"] != "Bearer" || tok["expires_in"] != 60.0 {
		t.Fatalf("token: %d %v", st, tok)
	}
	bearer := "Bearer " + tok["access_token"].(string)
	if st, _ := call(t, "POST", srv.URL+"/applications/token", "", `{"client_id":"test-client","client_secret":"nope","grant-type":"client_credentials"}`); st != 401 {
		t.Errorf("wrong secret: %d", st)
	}
	if st, _ := call(t, "GET", srv.URL+"/jobs", "", ""); st != 401 {
		t.Errorf("no credentials: %d", st)
	}

	st, job := call(t, "POST", srv.URL+"/jobs", bearer, `{"connectionId":"`+conn.ID+`","jobType":"sync"}`)
	if st != 200 || job["status"] != "pending" {
		t.Fatalf("create job: %d %v", st, job)
	}
	st, p := call(t, "POST", srv.URL+"/jobs", bearer, `{"connectionId":"`+conn.ID+`","jobType":"sync"}`)
	if st != 409 || !strings.Contains(p["detail"].(string), "A sync is already running for: "+conn.ID) {
		t.Errorf("second job: %d %v", st, p)
	}
	for _, want := range []string{"running", "succeeded", "succeeded"} {
		if _, j := call(t, "GET", srv.URL+"/jobs/1", bearer, ""); j["status"] != want {
			t.Errorf("job status = %v, want %s", j["status"], want)
		}
	}

	srv.Inject("GET", "/jobs/*", 2, airbytetest.Fault{Status: 503, RetryAfter: "5"})
	for i, want := range []int{503, 503, 200} {
		if st, _ := call(t, "GET", srv.URL+"/jobs/1", bearer, ""); st != want {
			t.Errorf("request %d after injecting two faults: %d, want %d", i, st, want)
		}
	}
	srv.Inject("POST", "/jobs", 1, airbytetest.Fault{Status: 502, AfterEffect: true})
	if st, _ := call(t, "POST", srv.URL+"/jobs", bearer, `{"connectionId":"`+conn.ID+`","jobType":"clear"}`); st != 502 || len(srv.Jobs()) != 2 {
		t.Errorf("fault after effect: %d, %d jobs", st, len(srv.Jobs()))
	}

	clk.Add(61 * time.Second)
	if st, _ := call(t, "GET", srv.URL+"/jobs/1", bearer, ""); st != 401 {
		t.Errorf("expired token: %d, want 401", st)
	}
	if n := srv.Count("GET", "/jobs/*"); n != 7 {
		t.Errorf("Count = %d, want 7", n)
	}
}
