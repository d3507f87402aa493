package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

const (
	lockShared    = "shared"
	lockExclusive = "exclusive"

	lockRefresh = 5 * time.Minute
	lockStale   = 30 * time.Minute
)

// lockFile is a locks/<lock-id> file (FORMAT.md §9).
type lockFile struct {
	Kind      string    `json:"kind"`
	Op        string    `json:"op"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Time      time.Time `json:"time"`
	Refreshed time.Time `json:"refreshed"`
}

// heldLock is a lock this process holds.
type heldLock struct {
	r    *repo
	mu   sync.Mutex
	name string
	lf   lockFile
	stop chan struct{}
	once sync.Once
}

// ErrLockTimeout-like conditions are reported as this error.
type lockConflictError struct {
	kind, op, other string
}

func (e *lockConflictError) Error() string {
	return fmt.Sprintf("repository is locked: cannot take a %s lock for %s, held %s", e.kind, e.op, e.other)
}

func (r *repo) acquire(ctx context.Context, kind, op string) (*heldLock, error) {
	wait := r.opts.LockWait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	deadline := time.Now().Add(wait)
	backoff := 10 * time.Millisecond
	for {
		now := r.now().UTC()
		lf := lockFile{Kind: kind, Op: op, Host: r.hostname(), PID: os.Getpid(), Time: now, Refreshed: now}
		b, _ := json.Marshal(lf)
		name, err := r.writeHashed(ctx, "locks/", kindLock, b)
		if err != nil {
			return nil, fmt.Errorf("take %s lock: %w", kind, err)
		}
		conflict, err := r.lockConflict(ctx, name, kind)
		if err != nil {
			r.b.Delete(context.WithoutCancel(ctx), r.key(name))
			return nil, err
		}
		if conflict == "" {
			h := &heldLock{r: r, name: name, lf: lf, stop: make(chan struct{})}
			go h.refresher()
			return h, nil
		}
		if err := r.b.Delete(context.WithoutCancel(ctx), r.key(name)); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("remove own lock %s: %w", name, err)
		}
		if time.Now().After(deadline) {
			return nil, &lockConflictError{kind: kind, op: op, other: conflict}
		}
		d := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
		if backoff < time.Second {
			backoff *= 2
		}
	}
}

// lockConflict lists locks/ and describes a lock that conflicts with ours ("" if none).
func (r *repo) lockConflict(ctx context.Context, mine, kind string) (string, error) {
	names, err := r.listNames(ctx, "locks/")
	if err != nil {
		return "", err
	}
	now := r.now()
	for _, n := range names {
		if n == mine {
			continue
		}
		plain, err := r.readHashed(ctx, n, kindLock)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		var lf lockFile
		if err != nil || json.Unmarshal(plain, &lf) != nil {
			// An unreadable lock counts until it is stale by its modification time.
			if attrs, aerr := r.b.Attributes(ctx, r.key(n)); aerr == nil && now.Sub(attrs.ModTime) > lockStale {
				continue
			}
			return "unreadable lock " + n, nil
		}
		if now.Sub(lf.Refreshed) > lockStale {
			continue
		}
		if kind == lockExclusive || lf.Kind == lockExclusive {
			return fmt.Sprintf("%s lock for %s by %s pid %d since %s", lf.Kind, lf.Op, lf.Host, lf.PID, lf.Time.Format(time.RFC3339)), nil
		}
	}
	return "", nil
}

func (h *heldLock) refresher() {
	t := time.NewTicker(lockRefresh)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.refresh()
		}
	}
}

func (h *heldLock) refresh() {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx := context.Background()
	lf := h.lf
	lf.Refreshed = h.r.now().UTC()
	b, _ := json.Marshal(lf)
	name, err := h.r.writeHashed(ctx, "locks/", kindLock, b)
	if err != nil {
		h.r.log.Warn("backup repository: lock refresh failed", "err", err)
		return
	}
	if name != h.name { // same content (a frozen clock) gives the same name
		h.r.b.Delete(ctx, h.r.key(h.name))
	}
	h.name, h.lf = name, lf
}

func (h *heldLock) release() {
	h.once.Do(func() {
		close(h.stop)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := h.r.b.Delete(context.Background(), h.r.key(h.name)); err != nil && !isNotFound(err) {
			h.r.log.Warn("backup repository: could not remove lock", "lock", h.name, "err", err)
		}
	})
}
