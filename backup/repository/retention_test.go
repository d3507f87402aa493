package repository_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/backup/repository/repotest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRetentionLocksAndHolds(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	b := memblob.OpenBucket(nil)
	r, err := repository.InitBucket(ctx, b, "", repository.InitOptions{Options: repository.Options{Now: clk.now}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	id, _ := backup(t, r, clk.now(), nil, writeParquet(t, dir, 0, 10))
	until := clk.now().Add(30 * 24 * time.Hour)

	if err := r.Lock(ctx, id[:8], until, repository.Governance, repository.LockOptions{}); err != nil {
		t.Fatal(err)
	}
	err = r.Delete(ctx, id, repository.DeleteOptions{})
	var le *repository.LockedError
	if !errors.Is(err, repository.ErrLocked) || !errors.As(err, &le) || le.Snapshot != id || !le.LockUntil.Equal(until) {
		t.Fatalf("delete locked: %v", err)
	}
	if !strings.Contains(err.Error(), "2026-07-01") {
		t.Fatalf("error does not name the time: %v", err)
	}
	// lock_until only grows; governance can be shortened with override.
	if err := r.Lock(ctx, id, until.Add(-time.Hour), repository.Governance, repository.LockOptions{}); !errors.Is(err, repository.ErrLocked) {
		t.Fatalf("shorten without override: %v", err)
	}
	if err := r.Lock(ctx, id, until.Add(-time.Hour), repository.Governance, repository.LockOptions{Override: true}); err != nil {
		t.Fatalf("shorten governance with override: %v", err)
	}
	eff, _ := r.EffectiveRetention(ctx, id)
	if !eff.LockUntil.Equal(until.Add(-time.Hour)) || eff.Mode != repository.Governance {
		t.Fatalf("after override: %+v", eff)
	}
	// Compliance: nobody shortens it, and it does not go back to governance.
	if err := r.Lock(ctx, id, until, repository.Compliance, repository.LockOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Lock(ctx, id, until.Add(-time.Hour), repository.Compliance, repository.LockOptions{Override: true}); !errors.Is(err, repository.ErrLocked) {
		t.Fatalf("shorten compliance: %v", err)
	}
	if err := r.Lock(ctx, id, until.Add(time.Hour), repository.Governance, repository.LockOptions{}); !errors.Is(err, repository.ErrLocked) {
		t.Fatalf("compliance to governance: %v", err)
	}
	if _, err := r.Forget(ctx, repository.Policy{Last: 1}, repository.ForgetOptions{Override: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, id, repository.DeleteOptions{}); !errors.Is(err, repository.ErrLocked) {
		t.Fatalf("compliance delete: %v", err)
	}
	// The lock expires; a legal hold still protects.
	clk.add(31 * 24 * time.Hour)
	if err := r.Hold(ctx, id, "case-42"); err != nil {
		t.Fatal(err)
	}
	err = r.Delete(ctx, id, repository.DeleteOptions{})
	if !errors.As(err, &le) || !slices.Equal(le.Holds, []string{"case-42"}) || !strings.Contains(err.Error(), "case-42") {
		t.Fatalf("delete held: %v", err)
	}
	if err := r.Release(ctx, id, "nope"); !errors.Is(err, repository.ErrNotFound) {
		t.Fatalf("release unknown hold: %v", err)
	}
	if err := r.Release(ctx, id, "case-42"); err != nil {
		t.Fatal(err)
	}
	snaps, _ := r.List(ctx)
	if snaps[0].Retention.Locked(clk.now()) {
		t.Fatalf("still locked: %+v", snaps[0].Retention)
	}
	if err := r.Delete(ctx, id, repository.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The retention records go with the snapshot (by the next sweep at the latest).
	if _, err := r.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, b, ""); len(keys) != 1 || keys[0] != "config" {
		t.Fatalf("left after forgetting everything: %v", keys)
	}
}

func TestManifestRetentionAndForgetKeepsLocked(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	r, err := repository.InitBucket(ctx, memblob.OpenBucket(nil), "", repository.InitOptions{Options: repository.Options{Now: clk.now}})
	if err != nil {
		t.Fatal(err)
	}
	f := writeParquet(t, t.TempDir(), 0, 3)
	var ids []string
	for i := range 4 {
		s := r.NewSession()
		info, _ := s.PutFile(ctx, f, repository.ObjectMeta{Rows: 3})
		m := &repository.Manifest{Time: clk.now().Add(time.Duration(i) * time.Hour), Tables: tables(info)}
		if i == 0 {
			m.Retention = repository.Retention{LockUntil: clk.now().Add(24 * time.Hour), Mode: repository.Compliance}
		}
		id, err := s.Commit(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	res, err := r.Forget(ctx, repository.Policy{Last: 1}, repository.ForgetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Removed, []string{ids[2], ids[1]}) {
		t.Fatalf("removed %v, want %v", res.Removed, []string{ids[2], ids[1]})
	}
	d := res.Groups[0].Decisions
	if len(d) != 4 || d[3].Snapshot.ID != ids[0] || !d[3].Keep || !strings.HasPrefix(d[3].Reasons[len(d[3].Reasons)-1], "locked until 2026-06-02T12:00:00Z") {
		t.Fatalf("locked decision: %+v", d[3])
	}
	if !d[0].Keep || d[0].Reasons[0] != "last snapshot" {
		t.Fatalf("newest decision: %+v", d[0])
	}
}

func TestProviderObjectLock(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	b, lb := repotest.NewLockingBucket(clk.now)
	r, err := repository.InitBucket(ctx, b, "repo", repository.InitOptions{Options: repository.Options{Passphrase: pass, Now: clk.now}, KDFParams: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f1, f2 := writeParquet(t, dir, 0, 4), writeParquet(t, dir, 4, 4)
	// A snapshot committed locked gets provider retention on its manifest and data.
	s := r.NewSession()
	i1, _ := s.PutFile(ctx, f1, repository.ObjectMeta{Rows: 4})
	until := clk.now().Add(48 * time.Hour).UTC().Truncate(time.Microsecond)
	locked, err := s.Commit(ctx, &repository.Manifest{Tables: tables(i1), Retention: repository.Retention{LockUntil: until, Mode: repository.Compliance}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"repo/snapshots/" + locked, "repo/" + dataKey(i1.ID)} {
		if got, mode := lb.Retention(k); !got.Equal(until) || mode != repository.Compliance {
			t.Fatalf("retention of %s: %v %v", k, got, mode)
		}
	}
	// A later Lock extends provider retention too.
	free, infos := backup(t, r, clk.now(), nil, f2)
	if err := r.Lock(ctx, free, until.Add(time.Hour), repository.Governance, repository.LockOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := lb.Retention("repo/" + dataKey(infos[0].ID)); !got.Equal(until.Add(time.Hour)) {
		t.Fatalf("lock did not set provider retention: %v", got)
	}
	// Both levels refuse deletes: the repository, and the bucket under it.
	if err := r.Delete(ctx, locked, repository.DeleteOptions{}); !errors.Is(err, repository.ErrLocked) {
		t.Fatalf("repository delete: %v", err)
	}
	err = b.Delete(ctx, "repo/"+dataKey(i1.ID))
	if gcerrors.Code(err) != gcerrors.PermissionDenied {
		t.Fatalf("bucket delete of a retained object: %v", err)
	}
	if err := b.WriteAll(ctx, "repo/snapshots/"+locked, []byte("overwrite"), nil); err == nil {
		t.Fatal("bucket overwrite of a retained manifest succeeded")
	}
	// Prune keeps everything referenced; after expiry forget and prune clean up.
	if _, err := r.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.HasObject(ctx, i1.ID); !ok {
		t.Fatal("prune deleted a locked object")
	}
	clk.add(50 * time.Hour)
	if err := r.Delete(ctx, locked, repository.DeleteOptions{}); err != nil {
		t.Fatalf("delete after expiry: %v", err)
	}
	for range 2 {
		if _, err := r.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := r.HasObject(ctx, i1.ID); ok {
		t.Fatal("expired unreferenced object survived prune")
	}
}

func listKeys(t *testing.T, b *blob.Bucket, prefix string) []string {
	t.Helper()
	var out []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o.Key)
	}
}
