package api

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// JobFilter selects jobs to list. Zero fields do not filter.
type JobFilter struct {
	ConnectionID string
	WorkspaceIDs []string
	Type         JobType
	Status       JobStatus
	// CreatedAtStart … UpdatedAtEnd bound the job's creation and update
	// times.
	CreatedAtStart, CreatedAtEnd time.Time
	UpdatedAtStart, UpdatedAtEnd time.Time
	// OrderBy is "field|ASC" or "field|DESC", for example "updatedAt|DESC".
	OrderBy string
	// PageSize is the number of jobs fetched per request (1–100, default
	// 20).
	PageSize int
}

func (f JobFilter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("connectionId", f.ConnectionID)
	for _, w := range f.WorkspaceIDs {
		q.Add("workspaceIds", w)
	}
	set("jobType", string(f.Type))
	set("status", string(f.Status))
	for k, t := range map[string]time.Time{
		"createdAtStart": f.CreatedAtStart, "createdAtEnd": f.CreatedAtEnd,
		"updatedAtStart": f.UpdatedAtStart, "updatedAtEnd": f.UpdatedAtEnd,
	} {
		if !t.IsZero() {
			q.Set(k, t.UTC().Format(time.RFC3339))
		}
	}
	set("orderBy", f.OrderBy)
	return q
}

// Jobs iterates over the jobs that match the filter, fetching pages as it
// goes. Iteration stops at the first error, which is yielded.
func (c *Client) Jobs(ctx context.Context, f JobFilter) iter.Seq2[Job, error] {
	return paginate[Job](ctx, c, "/jobs", f.query(), f.PageSize)
}

type jobCreateRequest struct {
	ConnectionID string  `json:"connectionId"`
	JobType      JobType `json:"jobType"`
}

// GetJob returns the job with the given id.
func (c *Client) GetJob(ctx context.Context, jobID int64) (*Job, error) {
	var j Job
	if err := c.do(ctx, request{method: http.MethodGet, path: jobPath(jobID), safe: true}, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// CancelJob asks the server to cancel a job and returns it as the server
// then reports it.
func (c *Client) CancelJob(ctx context.Context, jobID int64) (*Job, error) {
	var j Job
	if err := c.do(ctx, request{method: http.MethodDelete, path: jobPath(jobID), safe: true}, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

func jobPath(id int64) string { return "/jobs/" + strconv.FormatInt(id, 10) }

// CreateJob starts a job of the given type (sync, reset, refresh, clear)
// for a connection. It is careful not to start two: when the outcome of
// the request is unknown (the connection broke, the attempt timed out, a
// gateway answered 502/503/504) it looks for an active job of that
// connection and type and returns it; only when there is none does it ask
// again. If a job is already running the server answers 409, returned as
// an *APIError matching ErrConflict; SyncAndWait can attach to it instead.
func (c *Client) CreateJob(ctx context.Context, connectionID string, jobType JobType) (*Job, error) {
	if connectionID == "" {
		return nil, errors.New("airbyte: create job: empty connection id")
	}
	if jobType == "" {
		jobType = JobSync
	}
	body := jobCreateRequest{ConnectionID: connectionID, JobType: jobType}
	b := c.newBackOff(ctx)
	for {
		var j Job
		err := c.do(ctx, request{method: http.MethodPost, path: "/jobs", body: body}, &j)
		if err == nil {
			return &j, nil
		}
		if !errors.Is(err, ErrOutcomeUnknown) || ctx.Err() != nil {
			return nil, fmt.Errorf("airbyte: %s job of connection %s: %w", jobType, connectionID, err)
		}
		c.log.WarnContext(ctx, "airbyte: outcome of job creation unknown; looking for an active job", "connection", connectionID, "type", jobType, "error", err)
		active, lerr := c.ActiveJob(ctx, connectionID, jobType)
		if lerr == nil {
			c.log.InfoContext(ctx, "airbyte: found the active job", "connection", connectionID, "job", active.ID)
			return active, nil
		}
		if !errors.Is(lerr, ErrNoActiveJob) {
			return nil, fmt.Errorf("airbyte: %s job of connection %s: %w", jobType, connectionID, errors.Join(err, lerr))
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			return nil, fmt.Errorf("airbyte: %s job of connection %s: giving up: %w", jobType, connectionID, err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
			wait = apiErr.RetryAfter
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("airbyte: %s job of connection %s: %w", jobType, connectionID, errors.Join(serr, err))
		}
	}
}

// ActiveJob returns the most recently updated job of the connection that
// has not ended (pending, queued, running, incomplete or a status unknown
// to this package), of the given type unless jobType is empty. It returns
// ErrNoActiveJob when there is none.
func (c *Client) ActiveJob(ctx context.Context, connectionID string, jobType JobType) (*Job, error) {
	f := JobFilter{ConnectionID: connectionID, Type: jobType, OrderBy: "updatedAt|DESC", PageSize: 100}
	seen := 0
	for j, err := range c.Jobs(ctx, f) {
		if err != nil {
			return nil, err
		}
		if !j.Status.Terminal() && (jobType == "" || j.Type == jobType) {
			return &j, nil
		}
		if seen++; seen >= 100 {
			break // active jobs are among the most recently updated
		}
	}
	return nil, fmt.Errorf("%w for connection %s", ErrNoActiveJob, connectionID)
}
