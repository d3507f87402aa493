package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSpecValidatorRejects proves that the validator the fake server runs
// can fail: requests that break the spec are caught.
func TestSpecValidatorRejects(t *testing.T) {
	sp := loadSpec(t)
	req := func(method, target, body string) *http.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		return r
	}
	good := []struct {
		r    *http.Request
		body string
	}{
		{req("GET", "/jobs?connectionId=abc&limit=100&offset=0&jobType=sync&status=queued&orderBy=updatedAt%7CDESC", ""), ""},
		{req("POST", "/jobs", ""), `{"connectionId":"c","jobType":"refresh"}`},
		{req("GET", "/jobs/42", ""), ""},
		{req("POST", "/applications/token", ""), `{"client_id":"a","client_secret":"b","grant_type":"client_credentials","grant-type":"client_credentials"}`},
		{req("GET", "/sources?workspaceIds=a&workspaceIds=b&includeDeleted=true", ""), ""},
	}
	for _, g := range good {
		g.r.Header.Set("Content-Type", "application/json")
		if err := sp.ValidateRequest(g.r, []byte(g.body)); err != nil {
			t.Errorf("%s %s: valid request rejected: %v", g.r.Method, g.r.URL, err)
		}
	}
	bad := []struct {
		r    *http.Request
		body string
		want string
	}{
		{req("GET", "/jobs?limit=500", ""), "", "limit"},
		{req("GET", "/jobs?jobType=bogus", ""), "", "jobType"},
		{req("GET", "/jobs?color=red", ""), "", "not in the spec"},
		{req("GET", "/jobs/abc", ""), "", "jobId"},
		{req("POST", "/jobs", ""), `{"connectionId":"c"}`, "jobType"},
		{req("POST", "/jobs", ""), `{"connectionId":"c","jobType":"replicate"}`, "jobType"},
		{req("POST", "/applications/token", ""), `{"client_id":"a","client_secret":"b","grant-type":"client_credentials"}`, "grant_type"},
		{req("GET", "/streams", ""), "", "sourceId"},
		{req("PUT", "/jobs/1", ""), "", "not in the spec"},
		{req("GET", "/nowhere", ""), "", "not in the spec"},
	}
	for _, b := range bad {
		if b.body != "" {
			b.r.Header.Set("Content-Type", "application/json")
		}
		err := sp.ValidateRequest(b.r, []byte(b.body))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s %s %s: err = %v, want one mentioning %q", b.r.Method, b.r.URL, b.body, err, b.want)
		}
	}
	// Responses too: a job without its required fields is caught.
	r := req("GET", "/jobs/1", "")
	if err := sp.ValidateResponse(r, 200, []byte(`{"jobId":1,"status":"running"}`)); err == nil {
		t.Error("a job response without jobType, startTime and connectionId passed")
	}
	if err := sp.ValidateResponse(r, 200, []byte(`{"jobId":1,"status":"running","jobType":"sync","startTime":"x","connectionId":"c"}`)); err != nil {
		t.Errorf("valid job response rejected: %v", err)
	}
}
