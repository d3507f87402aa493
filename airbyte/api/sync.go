package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// SyncOptions tunes SyncAndWait and WaitJob. The zero value (or nil) is a
// sync job, polled from every 2 s up to every 30 s, that fails on 409 and
// leaves the job running when the context ends.
type SyncOptions struct {
	// JobType is the job to start (default JobSync).
	JobType JobType
	// AttachIfRunning follows the job that is already running for the
	// connection, instead of failing, when the server answers 409.
	AttachIfRunning bool
	// CancelOnContextDone cancels the job on the server when ctx ends
	// before the job does.
	CancelOnContextDone bool
	// OnProgress, if set, is called with the job each time it is read:
	// once when it is started or attached to, then after every poll. It is
	// called from the goroutine that called SyncAndWait.
	OnProgress func(Job)
	// PollInterval is the first wait between polls (default 2 s); the wait
	// grows by half each poll up to MaxPollInterval (default 30 s) and
	// starts again when the job's status changes.
	PollInterval, MaxPollInterval time.Duration
	// MaxPollErrors is how many polls in a row may fail (after the
	// client's own retries) before waiting is given up (default 5).
	// Unauthorized and not found end the wait at once.
	MaxPollErrors int
}

func (o *SyncOptions) withDefaults() SyncOptions {
	var s SyncOptions
	if o != nil {
		s = *o
	}
	if s.JobType == "" {
		s.JobType = JobSync
	}
	s.PollInterval = orDuration(s.PollInterval, 2*time.Second)
	s.MaxPollInterval = max(orDuration(s.MaxPollInterval, 30*time.Second), s.PollInterval)
	if s.MaxPollErrors <= 0 {
		s.MaxPollErrors = 5
	}
	return s
}

// SyncAndWait starts a sync of the connection (or the job type in opts),
// or attaches to the one already running if opts allow, and waits until it
// ends. It returns the finished job; a job that failed or was cancelled is
// returned with a *JobError (matching ErrJobFailed or ErrJobCancelled). A
// job that is "incomplete" had an attempt fail and is being retried by
// Airbyte, so waiting goes on.
func (c *Client) SyncAndWait(ctx context.Context, connectionID string, opts *SyncOptions) (*Job, error) {
	o := opts.withDefaults()
	job, err := c.CreateJob(ctx, connectionID, o.JobType)
	if err != nil && o.AttachIfRunning && errors.Is(err, ErrConflict) {
		c.log.InfoContext(ctx, "airbyte: a job is already running; attaching to it", "connection", connectionID, "type", o.JobType)
		var aerr error
		job, aerr = c.ActiveJob(ctx, connectionID, o.JobType)
		if aerr != nil {
			return nil, fmt.Errorf("airbyte: attaching to the running %s job of connection %s: %w", o.JobType, connectionID, errors.Join(err, aerr))
		}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return c.wait(ctx, *job, o)
}

// WaitJob polls a job until it ends, as SyncAndWait does after starting
// one. Only the polling, progress and cancellation fields of opts are used.
func (c *Client) WaitJob(ctx context.Context, jobID int64, opts *SyncOptions) (*Job, error) {
	o := opts.withDefaults()
	job, err := c.GetJob(ctx, jobID)
	if err != nil {
		return nil, err
	}
	return c.wait(ctx, *job, o)
}

func (c *Client) wait(ctx context.Context, job Job, o SyncOptions) (*Job, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = o.PollInterval
	b.MaxInterval = o.MaxPollInterval
	b.Multiplier = 1.5
	b.RandomizationFactor = 0.1
	b.MaxElapsedTime = 0 // the context bounds the wait
	b.Reset()
	warned := false
	failures := 0
	for {
		if o.OnProgress != nil {
			o.OnProgress(job)
		}
		if !job.Status.Known() && !warned {
			warned = true
			c.log.WarnContext(ctx, "airbyte: unknown job status; waiting on", "job", job.ID, "status", job.Status)
		}
		switch job.Status {
		case JobSucceeded:
			return &job, nil
		case JobFailed, JobCancelled:
			return &job, &JobError{Job: job}
		}
		if err := c.sleep(ctx, b.NextBackOff()); err != nil {
			return &job, c.abandon(ctx, job, o, err)
		}
		next, err := c.GetJob(ctx, job.ID)
		if err != nil {
			if ctx.Err() != nil {
				return &job, c.abandon(ctx, job, o, errors.Join(ctx.Err(), err))
			}
			failures++
			if failures >= o.MaxPollErrors || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotFound) {
				return &job, fmt.Errorf("airbyte: waiting for job %d of connection %s: %w", job.ID, job.ConnectionID, err)
			}
			c.log.WarnContext(ctx, "airbyte: polling the job failed; polling on", "job", job.ID, "error", err, "failures", failures)
			continue
		}
		failures = 0
		if next.Status != job.Status {
			b.Reset()
		}
		job = *next
	}
}

// abandon ends a wait cut short by the context, cancelling the job first if
// the options ask for it.
func (c *Client) abandon(ctx context.Context, job Job, o SyncOptions, cause error) error {
	err := fmt.Errorf("airbyte: waiting for job %d of connection %s: %w", job.ID, job.ConnectionID, cause)
	if !o.CancelOnContextDone {
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, cerr := c.CancelJob(cctx, job.ID); cerr != nil {
		return errors.Join(err, fmt.Errorf("airbyte: cancelling job %d: %w", job.ID, cerr))
	}
	c.log.InfoContext(ctx, "airbyte: cancelled the job", "job", job.ID)
	return fmt.Errorf("%w; the job was cancelled", err)
}
