package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors that callers can branch on with errors.Is. An *APIError
// matches the one that fits its HTTP status.
var (
	// ErrNotFound matches an *APIError with status 404.
	ErrNotFound = errors.New("airbyte: not found")
	// ErrConflict matches an *APIError with status 409, which Airbyte returns
	// when a job is requested while one is already running for the connection.
	ErrConflict = errors.New("airbyte: conflict")
	// ErrUnauthorized matches an *APIError with status 401 or 403.
	ErrUnauthorized = errors.New("airbyte: unauthorized")
	// ErrRateLimited matches an *APIError with status 429.
	ErrRateLimited = errors.New("airbyte: rate limited")
	// ErrOutcomeUnknown wraps the failure of a request that changes state
	// (POST) when the server may or may not have carried it out: the
	// connection broke after the request was sent, the attempt timed out, or
	// a gateway answered 502/503/504. Such requests are not retried blindly.
	ErrOutcomeUnknown = errors.New("airbyte: outcome of the request is unknown")
	// ErrNoActiveJob is returned by ActiveJob when the connection has no job
	// that is still pending or running.
	ErrNoActiveJob = errors.New("airbyte: no active job")
	// ErrJobFailed matches a *JobError for a job that ended in failure.
	ErrJobFailed = errors.New("airbyte: job failed")
	// ErrJobCancelled matches a *JobError for a job that was cancelled.
	ErrJobCancelled = errors.New("airbyte: job cancelled")
)

// Problem holds the problem details that Airbyte puts in the body of an
// error response. The public API answers with RFC 7807 problem details
// (type, title, status, detail); older servers and proxies answer with
// {"message", "exceptionClassName"} or plain text. Whatever was sent is kept:
// a body that is not JSON ends up, shortened, in Detail.
type Problem struct {
	Type               string          `json:"type,omitempty"`
	Title              string          `json:"title,omitempty"`
	Status             int             `json:"status,omitempty"`
	Detail             string          `json:"detail,omitempty"`
	Instance           string          `json:"instance,omitempty"`
	DocumentationURL   string          `json:"documentationUrl,omitempty"`
	Message            string          `json:"message,omitempty"`
	ExceptionClassName string          `json:"exceptionClassName,omitempty"`
	Data               json.RawMessage `json:"data,omitempty"`
}

// Text returns the most specific human-readable text of the problem: its
// detail, else its message, else its title.
func (p Problem) Text() string {
	for _, s := range []string{p.Detail, p.Message, p.Title} {
		if s != "" {
			return s
		}
	}
	return ""
}

// APIError is an error response from an Airbyte server.
type APIError struct {
	// Method and Path name the request; Path is relative to the base URL
	// (for example "/jobs/42") and never holds credentials.
	Method, Path string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Problem holds the problem details of the response body.
	Problem Problem
	// RetryAfter is the wait the server asked for in a Retry-After header,
	// or zero.
	RetryAfter time.Duration
}

// Error reports the request, the status and the server's explanation.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "airbyte: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if t := e.Problem.Text(); t != "" {
		b.WriteString(": ")
		b.WriteString(t)
	}
	return b.String()
}

// Is reports whether the error matches one of the status sentinels
// (ErrNotFound, ErrConflict, ErrUnauthorized, ErrRateLimited).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// maxProblemText bounds how much of a non-JSON error body is kept.
const maxProblemText = 512

// parseProblem decodes an error body into problem details.
func parseProblem(body []byte) Problem {
	var p Problem
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return p
	}
	if err := json.Unmarshal(body, &p); err == nil {
		return p
	}
	if len(trimmed) > maxProblemText {
		trimmed = trimmed[:maxProblemText] + "…"
	}
	p.Detail = trimmed
	return p
}

// JobError reports a job that ended without success. It matches ErrJobFailed
// or ErrJobCancelled.
type JobError struct {
	// Job is the job as last seen.
	Job Job
}

// Error names the job, its connection and how it ended.
func (e *JobError) Error() string {
	return fmt.Sprintf("airbyte: %s job %d of connection %s %s", e.Job.Type, e.Job.ID, e.Job.ConnectionID, e.Job.Status)
}

// Is matches ErrJobFailed for a failed job and ErrJobCancelled for a
// cancelled one.
func (e *JobError) Is(target error) bool {
	switch target {
	case ErrJobFailed:
		return e.Job.Status == JobFailed
	case ErrJobCancelled:
		return e.Job.Status == JobCancelled
	}
	return false
}
