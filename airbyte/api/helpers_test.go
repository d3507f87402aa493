package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte/api"
	"github.com/dataopskit/dataops/airbyte/api/airbytetest"
)

// clock is a fake clock: sleeping advances it at once.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
	// onSleep, if set, runs after each sleep (outside the lock).
	onSleep func(d time.Duration)
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	f := c.onSleep
	c.mu.Unlock()
	if f != nil {
		f(d)
	}
	return ctx.Err()
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// setup starts a spec-validating fake server on the fake clock and a client
// with client credentials for it.
func setup(t *testing.T, sopts *airbytetest.Options, copts ...api.Option) (*airbytetest.Server, *api.Client, *clock, *bytes.Buffer) {
	t.Helper()
	clk := newClock()
	var o airbytetest.Options
	if sopts != nil {
		o = *sopts
	}
	o.Now = clk.Now
	srv := newServer(t, &o)
	var logs bytes.Buffer
	opts := append([]api.Option{
		api.WithClientCredentials(srv.ClientID(), srv.ClientSecret()),
		api.WithLogger(slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}, copts...)
	c, err := api.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	api.SetClock(c, clk.Now, clk.Sleep)
	return srv, c, clk, &logs
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
