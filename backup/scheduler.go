package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// Scheduler runs backups, native snapshots and any other job on cron
// schedules inside a service that embeds it. A job never overlaps itself:
// a run that comes due while the previous one is still going is skipped
// (and reported as an event). Every run emits start, finish or error events.
type Scheduler struct {
	opts SchedulerOptions
	cron *cron.Cron

	mu      sync.Mutex
	jobs    map[string]*job
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Location for the schedules; nil means UTC.
	Location *time.Location
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Events receives the jobs' events (Op "schedule.<job name>").
	Events func(Event)
}

type job struct {
	name string
	fn   func(ctx context.Context) error
	busy atomic.Bool
	id   cron.EntryID
}

// ErrJobRunning: a job was asked to run while its previous run goes on.
var ErrJobRunning = errors.New("job is still running")

// NewScheduler returns a scheduler; add jobs, then Start it.
func NewScheduler(opts SchedulerOptions) *Scheduler {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return &Scheduler{
		opts: opts,
		cron: cron.New(cron.WithLocation(loc), cron.WithParser(cron.NewParser(
			cron.SecondOptional|cron.Minute|cron.Hour|cron.Dom|cron.Month|cron.Dow|cron.Descriptor))),
		jobs: map[string]*job{},
	}
}

// Add schedules fn under a unique name with a cron spec ("0 2 * * *",
// "@hourly", "@every 15m"; an optional leading seconds field is allowed).
func (s *Scheduler) Add(name, spec string, fn func(ctx context.Context) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jobs[name]; ok {
		return fmt.Errorf("backup: scheduler: job %q exists", name)
	}
	j := &job{name: name, fn: fn}
	id, err := s.cron.AddFunc(spec, func() { s.run(j) })
	if err != nil {
		return fmt.Errorf("backup: scheduler: job %q: schedule %q: %w", name, spec, err)
	}
	j.id = id
	s.jobs[name] = j
	return nil
}

// AddBackup schedules Backup of w into repo with opts (set Incremental for
// incremental runs).
func (s *Scheduler) AddBackup(name, spec string, repo *repository.Repository, w *warehouse.Warehouse, opts Options) error {
	return s.Add(name, spec, func(ctx context.Context) error {
		_, err := Backup(ctx, repo, w, opts)
		return err
	})
}

// AddNative schedules a native snapshot of w, named after the job and the
// run's time (name_20261125t200000).
func (s *Scheduler) AddNative(name, spec string, w *warehouse.Warehouse, opts NativeOptions) error {
	return s.Add(name, spec, func(ctx context.Context) error {
		_, err := CreateNative(ctx, w, fmt.Sprintf("%s_%s", name, time.Now().UTC().Format("20060102t150405")), opts)
		return err
	})
}

// Start runs the schedules until ctx ends or Stop is called.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.mu.Unlock()
	s.cron.Start()
	go func() {
		<-s.ctx.Done()
		s.cron.Stop()
	}()
}

// Stop stops the schedules, cancels running jobs and waits for them to end
// or for ctx to be done.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	<-s.cron.Stop().Done()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RunNow runs a job at once and waits for it; ErrJobRunning if it is busy.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	s.mu.Lock()
	j, ok := s.jobs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("backup: scheduler: no job %q", name)
	}
	return s.runCtx(ctx, j)
}

// Next reports when a job runs next (zero before Start).
func (s *Scheduler) Next(name string) time.Time {
	s.mu.Lock()
	j, ok := s.jobs[name]
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	return s.cron.Entry(j.id).Next
}

func (s *Scheduler) run(j *job) {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	s.runCtx(ctx, j)
}

func (s *Scheduler) runCtx(ctx context.Context, j *job) error {
	em := newEmitter(s.opts.Events, s.opts.Logger, "schedule."+j.name)
	if !j.busy.CompareAndSwap(false, true) {
		em.emit(Event{Phase: repository.PhaseError, Subject: j.name, Err: ErrJobRunning, Message: "run skipped: the previous run is still going"})
		return fmt.Errorf("backup: job %q: %w", j.name, ErrJobRunning)
	}
	s.running.Add(1)
	defer func() {
		j.busy.Store(false)
		s.running.Done()
	}()
	em.startEv(j.name, "job started")
	if err := j.fn(ctx); err != nil {
		return em.fail(j.name, fmt.Errorf("backup: job %q: %w", j.name, err))
	}
	em.finish(j.name, 0, 0, "job finished")
	return nil
}
