package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte/api"
	"github.com/dataopskit/dataops/airbyte/api/airbytetest"
)

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "https://api.airbyte.com/v1"},
		{"https://api.airbyte.com", "https://api.airbyte.com/v1"},
		{"https://api.airbyte.com/v1/", "https://api.airbyte.com/v1"},
		{"http://localhost:8000", "http://localhost:8000/api/public/v1"},
		{"http://localhost:8000/", "http://localhost:8000/api/public/v1"},
		{"http://airbyte.internal/api/public/v1/", "http://airbyte.internal/api/public/v1"},
		{"https://corp.example/tools/airbyte/api/public/v1?x=1#f", "https://corp.example/tools/airbyte/api/public/v1"},
		{"http://admin:s3cret-pw@localhost:8000", "http://localhost:8000/api/public/v1"},
	} {
		c, err := api.New(tc.in)
		if err != nil {
			t.Errorf("New(%q): %v", tc.in, err)
			continue
		}
		if got := c.BaseURL(); got != tc.want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(c.String(), "s3cret") {
			t.Errorf("String() shows the password: %s", c)
		}
	}
	for _, bad := range []string{"ftp://host/x", "localhost:8000", "http://", "http://user:s3cret-pw@host/%zz"} {
		_, err := api.New(bad)
		if err == nil {
			t.Errorf("New(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q) error shows the password: %v", bad, err)
		}
	}
}

// TestTokenURLUnderBasePath is the bug of other SDKs: the token URL must
// keep the base path of a self-hosted server, however deep.
func TestTokenURLUnderBasePath(t *testing.T) {
	for _, prefix := range []string{"/api/public/v1", "/tools/airbyte/api/public/v1", "/v1"} {
		t.Run(prefix, func(t *testing.T) {
			srv := airbytetest.NewServer(&airbytetest.Options{Prefix: prefix})
			defer srv.Close()
			conn := srv.AddConnection("orders")
			c, err := api.New(srv.URL, api.WithClientCredentials(srv.ClientID(), srv.ClientSecret()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.GetConnection(t.Context(), conn.ID)
			if err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			if got.Name != "orders" {
				t.Errorf("connection name = %q", got.Name)
			}
			if n := srv.Count("POST", "/applications/token"); n != 1 {
				t.Errorf("token requests under %s = %d, want 1; requests: %+v", prefix, n, srv.Requests())
			}
			for _, r := range srv.Requests() {
				if r.Path == "/" {
					t.Errorf("a request missed the base path: %+v", r)
				}
			}
		})
	}
}

func TestClientCredentialsRefreshBeforeExpiry(t *testing.T) {
	srv, c, clk, logs := setup(t, nil)
	conn := srv.AddConnection("orders")
	ctx := t.Context()
	get := func() {
		t.Helper()
		if _, err := c.GetConnection(ctx, conn.ID); err != nil {
			t.Fatal(err)
		}
	}
	get()
	get()
	if n := srv.TokensIssued(); n != 1 {
		t.Fatalf("tokens after two calls = %d, want 1", n)
	}
	// 150 s into a 180 s token: less than a fifth of its life is left, so
	// the client fetches a new one before using it.
	_ = clk.Sleep(ctx, 150*time.Second)
	get()
	if n := srv.TokensIssued(); n != 2 {
		t.Fatalf("tokens after 150 s = %d, want 2", n)
	}
	for _, r := range srv.Requests() {
		if r.Path != "/applications/token" && r.Auth != "bearer" {
			t.Errorf("request without a bearer token: %+v", r)
		}
	}
	if n := srv.Count("GET", "/connections/*"); n != 3 {
		t.Errorf("GETs = %d, want 3 (no 401 retries)", n)
	}
	if strings.Contains(logs.String(), srv.ClientSecret()) {
		t.Errorf("logs show the client secret:\n%s", logs)
	}
}

func TestClientCredentialsConcurrent(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetConnection(t.Context(), conn.ID)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := srv.TokensIssued(); n != 1 {
		t.Errorf("16 concurrent calls fetched %d tokens, want 1", n)
	}
}

func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	if _, err := c.GetConnection(t.Context(), conn.ID); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	if _, err := c.GetConnection(t.Context(), conn.ID); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := srv.TokensIssued(); n != 2 {
		t.Errorf("tokens = %d, want 2", n)
	}
}

func TestBadClientSecret(t *testing.T) {
	srv := newServer(t, nil)
	const secret = "wrong-secret-do-not-print"
	c, err := api.New(srv.URL, api.WithClientCredentials(srv.ClientID(), secret))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetJob(t.Context(), 1)
	var apiErr *api.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Path != "/applications/token" {
		t.Fatalf("err = %v, want a 401 APIError from /applications/token", err)
	}
	if !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("err does not match ErrUnauthorized: %v", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(c.String(), secret) {
		t.Errorf("secret leaked: %v / %s", err, c)
	}
	if n := srv.Count("POST", "/applications/token"); n != 1 {
		t.Errorf("token requests = %d, want 1 (a 401 is not retried)", n)
	}
	if n := srv.Count("GET", "/jobs/*"); n != 0 {
		t.Errorf("GET /jobs sent without a token %d times", n)
	}
}

func TestStaticBearerAndBasicAuth(t *testing.T) {
	srv := newServer(t, &airbytetest.Options{BearerToken: "static-token-xyz", Username: "airbyte", Password: "pw-not-shown"})
	conn := srv.AddConnection("orders")
	for name, opt := range map[string]api.Option{
		"bearer": api.WithBearerToken("static-token-xyz"),
		"basic":  api.WithBasicAuth("airbyte", "pw-not-shown"),
	} {
		c, err := api.New(srv.URL, opt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetConnection(t.Context(), conn.ID); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c), fmt.Sprintf("%#v", *c)} {
			if strings.Contains(s, "static-token-xyz") || strings.Contains(s, "pw-not-shown") || strings.Contains(s, "YWlyYnl0ZTpwdy1ub3Qtc2hvd24") {
				t.Errorf("%s: formatting shows the credential: %s", name, s)
			}
		}
	}
	// Basic auth from the URL's user information.
	u := strings.Replace(srv.URL, "http://", "http://airbyte:pw-not-shown@", 1)
	c, err := api.New(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetConnection(t.Context(), conn.ID); err != nil {
		t.Errorf("basic auth from URL: %v", err)
	}
	// A wrong static token is a typed 401, not retried.
	c, _ = api.New(srv.URL, api.WithBearerToken("nope"))
	before := srv.Count("GET", "/connections/*")
	_, err = c.GetConnection(t.Context(), conn.ID)
	if !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("wrong token: err = %v", err)
	}
	if n := srv.Count("GET", "/connections/*") - before; n != 1 {
		t.Errorf("wrong token sent %d times, want 1", n)
	}
	if srv.TokensIssued() != 0 {
		t.Errorf("static auth fetched tokens")
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv, c, clk, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	srv.Inject("GET", "/connections/*", 2, airbytetest.Fault{Status: 429, RetryAfter: "7"})
	got, err := c.GetConnection(t.Context(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != conn.ID {
		t.Errorf("got connection %s", got.ID)
	}
	if n := srv.Count("GET", "/connections/*"); n != 3 {
		t.Errorf("GETs = %d, want 3", n)
	}
	sleeps := clk.Sleeps()
	if len(sleeps) != 2 || sleeps[0] < 7*time.Second || sleeps[1] < 7*time.Second {
		t.Errorf("sleeps = %v, want two of at least the 7 s Retry-After", sleeps)
	}
	// An HTTP date works too.
	srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Status: 429, RetryAfter: clk.Now().Add(42 * time.Second).Format(http.TimeFormat)})
	if _, err := c.GetConnection(t.Context(), conn.ID); err != nil {
		t.Fatal(err)
	}
	if s := clk.Sleeps(); s[len(s)-1] < 41*time.Second {
		t.Errorf("sleep for an HTTP-date Retry-After = %v, want ≈42 s", s[len(s)-1])
	}
}

func TestGatewayErrorsRetried500Not(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	for _, st := range []int{502, 503, 504} {
		srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Status: st})
	}
	srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Reset: true})
	if _, err := c.GetConnection(t.Context(), conn.ID); err != nil {
		t.Fatalf("after 502, 503, 504 and a reset: %v", err)
	}
	if n := srv.Count("GET", "/connections/*"); n != 5 {
		t.Errorf("GETs = %d, want 5", n)
	}

	srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Status: 500, Body: `{"type":"https://reference.airbyte.com/reference/errors","title":"unexpected-problem","status":500,"detail":"An unexpected problem has occurred."}`})
	_, err := c.GetConnection(t.Context(), conn.ID)
	var apiErr *api.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.StatusCode != 500 || apiErr.Problem.Title != "unexpected-problem" || apiErr.Problem.Detail != "An unexpected problem has occurred." || apiErr.Method != "GET" || apiErr.Path != "/connections/"+conn.ID {
		t.Errorf("APIError = %+v", apiErr)
	}
	if !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "An unexpected problem") {
		t.Errorf("message = %q", err)
	}
	if n := srv.Count("GET", "/connections/*"); n != 6 {
		t.Errorf("GETs = %d, want 6 (500 not retried)", n)
	}
	// A body that is not JSON (a proxy's page) lands in Detail.
	srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Status: 404, Body: "<html>nginx: not found</html>"})
	_, err = c.GetConnection(t.Context(), conn.ID)
	if !errors.Is(err, api.ErrNotFound) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Problem.Detail, "nginx") {
		t.Errorf("err = %v", err)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	srv, c, clk, _ := setup(t, nil, api.WithRetry(api.RetryPolicy{InitialInterval: time.Second, MaxAttempts: 4}))
	conn := srv.AddConnection("orders")
	srv.Inject("GET", "/connections/*", 100, airbytetest.Fault{Status: 503})
	_, err := c.GetConnection(t.Context(), conn.ID)
	if err == nil || !strings.Contains(err.Error(), "giving up after 4 attempts") {
		t.Fatalf("err = %v", err)
	}
	var apiErr *api.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("the last APIError is not kept: %v", err)
	}
	if n := srv.Count("GET", "/connections/*"); n != 4 {
		t.Errorf("GETs = %d, want 4", n)
	}
	if s := clk.Sleeps(); len(s) != 3 || s[0] < 500*time.Millisecond || s[2] < s[0] {
		t.Errorf("backoff sleeps = %v, want 3 growing waits", s)
	}

	// The context bounds retries too.
	ctx, cancel := context.WithCancel(t.Context())
	clk.onSleep = func(time.Duration) { cancel() }
	_, err = c.GetConnection(ctx, conn.ID)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestSlowResponseTimesOutAndGETRetries(t *testing.T) {
	srv, c, _, _ := setup(t, nil, api.WithRequestTimeout(500*time.Millisecond))
	conn := srv.AddConnection("orders")
	srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Hang: true})
	if _, err := c.GetConnection(t.Context(), conn.ID); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("GET", "/connections/*"); n != 2 {
		t.Errorf("GETs = %d, want 2", n)
	}
}

// TestCreateNotRetriedBlindly: a create whose outcome is unknown is not
// repeated (it could create a second source).
func TestCreateNotRetriedBlindly(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	ws, _ := c.GetConnection(t.Context(), conn.ID)
	srv.Inject("POST", "/sources", 1, airbytetest.Fault{Status: 502, AfterEffect: true})
	_, err := c.CreateSource(t.Context(), api.SourceCreate{Name: "pg", WorkspaceID: ws.WorkspaceID, Configuration: map[string]any{"sourceType": "postgres"}})
	if !errors.Is(err, api.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if n := srv.Count("POST", "/sources"); n != 1 {
		t.Errorf("POSTs = %d, want 1", n)
	}
	// 429 means not processed: that is retried.
	srv.Inject("POST", "/sources", 1, airbytetest.Fault{Status: 429, RetryAfter: "1"})
	if _, err := c.CreateSource(t.Context(), api.SourceCreate{Name: "pg2", WorkspaceID: ws.WorkspaceID, Configuration: map[string]any{"sourceType": "postgres"}}); err != nil {
		t.Errorf("after 429: %v", err)
	}
}

// TestRetryAfterBeyondBudget: a wait longer than the retry budget is not
// sat out; the error carries what the server asked for.
func TestRetryAfterBeyondBudget(t *testing.T) {
	srv, c, clk, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Status: 429, RetryAfter: "3600"})
	_, err := c.GetConnection(t.Context(), conn.ID)
	var apiErr *api.APIError
	if !errors.Is(err, api.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want a 429 APIError asking for 1h", err)
	}
	if s := clk.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v", s)
	}
	// Within the budget but past the context's deadline: the same.
	srv.Inject("GET", "/connections/*", 1, airbytetest.Fault{Status: 429, RetryAfter: "60"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := c.GetConnection(ctx, conn.ID); !errors.Is(err, api.ErrRateLimited) || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("err = %v", err)
	}
}
