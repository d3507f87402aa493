package api_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte/api"
	"github.com/dataopskit/dataops/airbyte/api/airbytetest"
)

func statuses(jobs []api.Job) []api.JobStatus {
	var out []api.JobStatus
	for _, j := range jobs {
		out = append(out, j.Status)
	}
	return out
}

func TestSyncAndWaitThroughIncomplete(t *testing.T) {
	srv, c, clk, _ := setup(t, &airbytetest.Options{JobStatuses: []api.JobStatus{
		api.JobPending, api.JobQueued, api.JobRunning, api.JobIncomplete, api.JobRunning, api.JobSucceeded,
	}})
	conn := srv.AddConnection("orders")
	var seen []api.Job
	job, err := c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{
		OnProgress:   func(j api.Job) { seen = append(seen, j) },
		PollInterval: 10 * time.Second, MaxPollInterval: 20 * time.Second,
	})
	if err != nil {
		t.Fatalf("SyncAndWait: %v", err)
	}
	want := []api.JobStatus{api.JobPending, api.JobQueued, api.JobRunning, api.JobIncomplete, api.JobRunning, api.JobSucceeded}
	if got := statuses(seen); !slices.Equal(got, want) {
		t.Errorf("progress = %v, want %v", got, want)
	}
	if job.Status != api.JobSucceeded || job.Type != api.JobSync || job.ConnectionID != conn.ID || job.RowsSynced != 500 {
		t.Errorf("job = %+v", job)
	}
	if n := srv.Count("POST", "/jobs"); n != 1 {
		t.Errorf("POST /jobs = %d, want 1", n)
	}
	for _, d := range clk.Sleeps() {
		if d < 9*time.Second || d > 22*time.Second {
			t.Errorf("poll wait %v outside [10 s, 20 s] ± jitter", d)
		}
	}
}

func TestSyncAndWaitFailedAndCancelled(t *testing.T) {
	for _, tc := range []struct {
		end  api.JobStatus
		want error
	}{{api.JobFailed, api.ErrJobFailed}, {api.JobCancelled, api.ErrJobCancelled}} {
		srv, c, _, _ := setup(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning, tc.end}})
		conn := srv.AddConnection("orders")
		job, err := c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{JobType: api.JobRefresh})
		var je *api.JobError
		if !errors.Is(err, tc.want) || !errors.As(err, &je) || je.Job.Status != tc.end {
			t.Errorf("%s: err = %v", tc.end, err)
		}
		if job == nil || job.Status != tc.end || job.Type != api.JobRefresh {
			t.Errorf("%s: job = %+v", tc.end, job)
		}
		if err != nil && !strings.Contains(err.Error(), conn.ID) {
			t.Errorf("error does not name the connection: %v", err)
		}
	}
}

// TestUnknownStatusDecodes: a status this package has never heard of
// neither breaks decoding nor ends the wait.
func TestUnknownStatusDecodes(t *testing.T) {
	// This server is newer than the spec, so its answers are not checked
	// against it.
	srv := airbytetest.NewServer(&airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning, "paused_for_upgrade", api.JobSucceeded}})
	defer srv.Close()
	var logs bytes.Buffer
	c, err := api.New(srv.URL, api.WithClientCredentials(srv.ClientID(), srv.ClientSecret()),
		api.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	api.SetClock(c, nil, newClock().Sleep)
	conn := srv.AddConnection("orders")
	var seen []api.Job
	job, err := c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{OnProgress: func(j api.Job) { seen = append(seen, j) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(seen); !slices.Equal(got, []api.JobStatus{api.JobRunning, "paused_for_upgrade", api.JobSucceeded}) {
		t.Errorf("progress = %v", got)
	}
	if job.Status != api.JobSucceeded {
		t.Errorf("status = %s", job.Status)
	}
	if api.JobStatus("paused_for_upgrade").Known() || api.JobStatus("paused_for_upgrade").Terminal() {
		t.Error("unknown status reported as known or terminal")
	}
	if !strings.Contains(logs.String(), "unknown job status") {
		t.Errorf("no warning about the unknown status in logs:\n%s", logs.String())
	}
}

// TestTokenExpiresMidPoll: a sync outlives several 180 s tokens; the client
// renews each before it runs out, so the server never answers 401.
func TestTokenExpiresMidPoll(t *testing.T) {
	script := []api.JobStatus{api.JobPending}
	for range 12 {
		script = append(script, api.JobRunning)
	}
	script = append(script, api.JobSucceeded)
	srv, c, _, _ := setup(t, &airbytetest.Options{JobStatuses: script})
	conn := srv.AddConnection("orders")
	job, err := c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{PollInterval: 60 * time.Second, MaxPollInterval: 60 * time.Second})
	if err != nil {
		t.Fatalf("SyncAndWait: %v", err)
	}
	if job.Status != api.JobSucceeded {
		t.Fatalf("job = %+v", job)
	}
	// 13 polls ≈ 13 minutes: at least 4 tokens of 3 minutes each.
	if n := srv.TokensIssued(); n < 4 {
		t.Errorf("tokens issued = %d, want ≥ 4", n)
	}
	if n := srv.Count("GET", "/jobs/*"); n != 13 {
		t.Errorf("polls = %d, want 13 (no request repeated after a 401)", n)
	}
}

func TestTokenRevokedMidPoll(t *testing.T) {
	srv, c, clk, _ := setup(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning, api.JobRunning, api.JobRunning, api.JobSucceeded}})
	conn := srv.AddConnection("orders")
	clk.onSleep = func(time.Duration) { srv.RevokeTokens() }
	job, err := c.SyncAndWait(t.Context(), conn.ID, nil)
	if err != nil || job.Status != api.JobSucceeded {
		t.Fatalf("job = %+v, err = %v", job, err)
	}
	if n := srv.TokensIssued(); n != 4 {
		t.Errorf("tokens = %d, want 4 (one, then one per revocation)", n)
	}
}

func TestConflictFailsOrAttaches(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	running := srv.StartJob(conn.ID, api.JobSync)

	_, err := c.SyncAndWait(t.Context(), conn.ID, nil)
	var apiErr *api.APIError
	if !errors.Is(err, api.ErrConflict) || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict {
		t.Fatalf("err = %v, want a 409 APIError", err)
	}
	if !strings.Contains(apiErr.Problem.Detail, "A sync is already running") {
		t.Errorf("problem = %+v", apiErr.Problem)
	}

	job, err := c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{AttachIfRunning: true})
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	if job.ID != running.ID || job.Status != api.JobSucceeded {
		t.Errorf("attached to %+v, want job %d succeeded", job, running.ID)
	}
	if n := len(srv.Jobs()); n != 1 {
		t.Errorf("jobs on the server = %d, want 1", n)
	}
}

func TestConflictWithOtherJobTypeDoesNotAttach(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	srv.StartJob(conn.ID, api.JobClear)
	_, err := c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{AttachIfRunning: true})
	if !errors.Is(err, api.ErrConflict) || !errors.Is(err, api.ErrNoActiveJob) {
		t.Fatalf("err = %v, want the conflict and no active sync job", err)
	}
}

// TestCreateJobUnknownOutcome: POST /jobs is never blindly repeated. When
// the answer is lost after the job was created, the client finds that job;
// when the request did not take effect, it asks again; either way exactly
// one job runs.
func TestCreateJobUnknownOutcome(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault airbytetest.Fault
		posts int
	}{
		{"504 after creating", airbytetest.Fault{Status: 504, AfterEffect: true}, 1},
		{"502 before creating", airbytetest.Fault{Status: 502}, 2},
		{"503 before creating", airbytetest.Fault{Status: 503, RetryAfter: "3"}, 2},
		{"reset after creating", airbytetest.Fault{Reset: true, AfterEffect: true}, 1},
		{"reset before creating", airbytetest.Fault{Reset: true}, 2},
		{"slow answer after creating", airbytetest.Fault{Hang: true, AfterEffect: true}, 1},
		{"slow answer, not created", airbytetest.Fault{Hang: true}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c, clk, _ := setup(t, nil, api.WithRequestTimeout(500*time.Millisecond))
			conn := srv.AddConnection("orders")
			srv.Inject("POST", "/jobs", 1, tc.fault)
			job, err := c.CreateJob(t.Context(), conn.ID, api.JobSync)
			if err != nil {
				t.Fatalf("CreateJob: %v", err)
			}
			jobs := srv.Jobs()
			if len(jobs) != 1 || jobs[0].ID != job.ID || job.ConnectionID != conn.ID {
				t.Fatalf("server jobs = %+v, returned %+v", jobs, job)
			}
			if n := srv.Count("POST", "/jobs"); n != tc.posts {
				t.Errorf("POST /jobs = %d, want %d", n, tc.posts)
			}
			if n := srv.Count("GET", "/jobs"); n != 1 {
				t.Errorf("lookups of running jobs = %d, want 1", n)
			}
			if tc.fault.RetryAfter != "" {
				if s := clk.Sleeps(); len(s) != 1 || s[0] < 3*time.Second {
					t.Errorf("waits before asking again = %v, want the 3 s Retry-After", s)
				}
			}
		})
	}
}

func TestCreateJob500NotRetried(t *testing.T) {
	srv, c, _, _ := setup(t, nil)
	conn := srv.AddConnection("orders")
	srv.Inject("POST", "/jobs", 1, airbytetest.Fault{Status: 500})
	_, err := c.CreateJob(t.Context(), conn.ID, api.JobSync)
	var apiErr *api.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Count("POST", "/jobs"); n != 1 {
		t.Errorf("POST /jobs = %d, want 1", n)
	}
	if len(srv.Jobs()) != 0 {
		t.Errorf("jobs created: %+v", srv.Jobs())
	}
}

func TestCancelOnContextDone(t *testing.T) {
	for _, cancelJob := range []bool{true, false} {
		srv, c, _, _ := setup(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning}})
		conn := srv.AddConnection("orders")
		ctx, cancel := context.WithCancel(t.Context())
		polls := 0
		job, err := c.SyncAndWait(ctx, conn.ID, &api.SyncOptions{
			CancelOnContextDone: cancelJob,
			OnProgress: func(api.Job) {
				if polls++; polls == 3 {
					cancel()
				}
			},
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancel=%v: err = %v, want context.Canceled", cancelJob, err)
		}
		if job == nil || job.Status != api.JobRunning {
			t.Errorf("cancel=%v: last seen job = %+v", cancelJob, job)
		}
		server := srv.Jobs()[0]
		if cancelJob != strings.Contains(err.Error(), "the job was cancelled") {
			t.Errorf("cancel=%v: error = %v", cancelJob, err)
		}
		if cancelJob && (server.Status != api.JobCancelled || srv.Count("DELETE", "/jobs/*") != 1) {
			t.Errorf("job on the server = %s after cancel, want cancelled", server.Status)
		}
		if !cancelJob && server.Status != api.JobRunning {
			t.Errorf("job on the server = %s, want it left running", server.Status)
		}
	}
}

func TestPollErrorsTolerated(t *testing.T) {
	srv, c, _, _ := setup(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning, api.JobRunning, api.JobSucceeded}})
	conn := srv.AddConnection("orders")
	srv.Inject("GET", "/jobs/*", 2, airbytetest.Fault{Status: 500})
	job, err := c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{MaxPollErrors: 3})
	if err != nil || job.Status != api.JobSucceeded {
		t.Fatalf("job = %+v, err = %v", job, err)
	}
	srv.Inject("GET", "/jobs/*", 3, airbytetest.Fault{Status: 500})
	_, err = c.SyncAndWait(t.Context(), conn.ID, &api.SyncOptions{MaxPollErrors: 3})
	var apiErr *api.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("after 3 failed polls: err = %v", err)
	}
	// A job that disappears ends the wait at once.
	_, err = c.WaitJob(t.Context(), 999, nil)
	if !errors.Is(err, api.ErrNotFound) {
		t.Errorf("WaitJob(999): %v", err)
	}
}

func TestJobsPaginationAndFilters(t *testing.T) {
	srv, c, _, _ := setup(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobSucceeded}})
	a := srv.AddConnection("a")
	b := srv.AddConnection("b")
	for i := range 45 {
		srv.StartJob(a.ID, api.JobSync)
		if i%3 == 0 {
			srv.StartJob(b.ID, api.JobClear)
		}
	}
	var ids []int64
	for j, err := range c.Jobs(t.Context(), api.JobFilter{ConnectionID: a.ID, Type: api.JobSync, Status: api.JobSucceeded, PageSize: 20}) {
		if err != nil {
			t.Fatal(err)
		}
		if j.ConnectionID != a.ID {
			t.Fatalf("job of another connection: %+v", j)
		}
		ids = append(ids, j.ID)
	}
	if len(ids) != 45 || !slices.IsSorted(ids) {
		t.Errorf("listed %d jobs (%v), want 45 in order", len(ids), ids)
	}
	if n := srv.Count("GET", "/jobs"); n != 3 {
		t.Errorf("pages fetched = %d, want 3", n)
	}
	// Stopping early fetches no more pages.
	before := srv.Count("GET", "/jobs")
	n := 0
	for _, err := range c.Jobs(t.Context(), api.JobFilter{PageSize: 5, OrderBy: "createdAt|DESC"}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 7 {
			break
		}
	}
	if got := srv.Count("GET", "/jobs") - before; got != 2 {
		t.Errorf("pages fetched for 7 jobs of 5 a page = %d, want 2", got)
	}
	// An error ends the iteration and is yielded.
	srv.Inject("GET", "/jobs", 1, airbytetest.Fault{Status: 403})
	var gotErr error
	for _, err := range c.Jobs(t.Context(), api.JobFilter{}) {
		gotErr = err
	}
	if !errors.Is(gotErr, api.ErrUnauthorized) {
		t.Errorf("iteration error = %v", gotErr)
	}
}

func TestCancelJob(t *testing.T) {
	srv, c, _, _ := setup(t, &airbytetest.Options{JobStatuses: []api.JobStatus{api.JobRunning}})
	conn := srv.AddConnection("orders")
	j := srv.StartJob(conn.ID, api.JobSync)
	got, err := c.CancelJob(t.Context(), j.ID)
	if err != nil || got.Status != api.JobCancelled {
		t.Fatalf("CancelJob = %+v, %v", got, err)
	}
	active, err := c.ActiveJob(t.Context(), conn.ID, "")
	if !errors.Is(err, api.ErrNoActiveJob) {
		t.Errorf("ActiveJob after cancel = %+v, %v", active, err)
	}
}
