package api

import (
	"context"
	"time"
)

// SetClock replaces the client's clock for tests: now tells the time (for
// token expiry) and sleep waits (for retries and polls).
func SetClock(c *Client, now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) {
	if now != nil {
		c.now = now
	}
	if sleep != nil {
		c.sleep = sleep
	}
}

// ParseProblem and ParseRetryAfter expose the response parsers to fuzzing.
var (
	ParseProblem    = parseProblem
	ParseRetryAfter = parseRetryAfter
)
