package repository

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"
)

func TestLocksConflictAndGoStale(t *testing.T) {
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	defer b.Close()
	rp, err := initBucket(ctx, b, "", InitOptions{Options: Options{LockWait: 100 * time.Millisecond}}, false)
	if err != nil {
		t.Fatal(err)
	}
	r := rp.r
	s1, err := r.acquire(ctx, lockShared, "backup")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := r.acquire(ctx, lockShared, "backup")
	if err != nil {
		t.Fatalf("two shared locks: %v", err)
	}
	_, err = r.acquire(ctx, lockExclusive, "sweep")
	var ce *lockConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "shared lock for backup") {
		t.Fatalf("exclusive against shared: %v", err)
	}
	s1.release()
	s2.release()
	ex, err := r.acquire(ctx, lockExclusive, "sweep")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.acquire(ctx, lockShared, "backup"); !errors.As(err, &ce) {
		t.Fatalf("shared against exclusive: %v", err)
	}
	if names, _ := r.listNames(ctx, "locks/"); len(names) != 1 {
		t.Fatalf("refused attempts left locks: %v", names)
	}
	// A lock not refreshed for 30 minutes is stale and ignored.
	later := time.Now().Add(31 * time.Minute)
	r.opts.Now = func() time.Time { return later }
	s3, err := r.acquire(ctx, lockShared, "backup")
	if err != nil {
		t.Fatalf("stale exclusive lock still blocks: %v", err)
	}
	// A refresh replaces the lock file with a fresh one.
	before := s3.name
	s3.refresh() // same clock: same file, still there
	if names, _ := r.listNames(ctx, "locks/"); len(names) != 2 || s3.name != before {
		t.Fatalf("refresh at the same instant: %v", names)
	}
	later = later.Add(time.Minute)
	s3.refresh()
	if s3.name == before {
		t.Fatal("refresh kept the old lock file")
	}
	if names, _ := r.listNames(ctx, "locks/"); len(names) != 2 {
		t.Fatalf("after refresh: %v", names)
	}
	s3.release()
	ex.release()
	if names, _ := r.listNames(ctx, "locks/"); len(names) != 0 {
		t.Fatalf("released locks left: %v", names)
	}
	// A cancelled context stops waiting.
	ex, _ = r.acquire(ctx, lockExclusive, "sweep")
	defer ex.release()
	r.opts.LockWait = time.Hour
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := r.acquire(cctx, lockShared, "backup"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled wait: %v", err)
	}
}
