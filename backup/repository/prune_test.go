package repository_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/dataopskit/dataops/backup/repository"
)

// TestPruneConcurrentWithBackupsNeverLosesData runs backups that reuse and
// add objects while other snapshots are forgotten and prune marks and sweeps
// with no safety window, over and over; afterwards every object of every
// manifest must exist and read back intact.
func TestPruneConcurrentWithBackupsNeverLosesData(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			iterations := 4
			if be.name == "s3" || testing.Short() {
				iterations = 2
			}
			for it := range iterations {
				runPruneRace(t, be.open(t), it)
			}
		})
	}
}

func runPruneRace(t *testing.T, b *blob.Bucket, seed int) {
	ctx := context.Background()
	prefix := fmt.Sprintf("race%d", seed)
	r, err := repository.InitBucket(ctx, b, prefix, repository.InitOptions{Options: repository.Options{LockWait: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	// A pool of small "parts": backups pick some (reuse) and add new ones.
	pool := make([][]byte, 12)
	for i := range pool {
		pool[i] = []byte(fmt.Sprintf("part %d of seed %d", i, seed))
	}
	var committed atomic.Int64
	var wg, backups sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	for w := range 3 {
		wg.Add(1)
		backups.Add(1)
		go func() {
			defer wg.Done()
			defer backups.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			for i := range 8 {
				s := r.NewSession()
				var infos []repository.ObjectInfo
				for range 3 {
					data := pool[rng.IntN(len(pool))]
					if rng.IntN(3) == 0 {
						data = []byte(fmt.Sprintf("fresh %d %d %d", seed, w, i))
					}
					info, err := s.PutBytes(ctx, data, repository.ObjectMeta{Kind: "raw", Rows: 1})
					if err != nil {
						errs <- err
						return
					}
					infos = append(infos, info)
					time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
				}
				if _, err := s.Commit(ctx, &repository.Manifest{Time: time.Now(), Tables: tables(infos...)}); err != nil {
					errs <- fmt.Errorf("commit: %w", err)
					return
				}
				committed.Add(1)
			}
		}()
	}
	// Forget everything but the newest two, and prune, while backups run.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := r.Forget(ctx, repository.Policy{Last: 2}, repository.ForgetOptions{}); err != nil {
				errs <- fmt.Errorf("forget: %w", err)
				return
			}
			if _, err := r.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); err != nil {
				errs <- fmt.Errorf("prune: %w", err)
				return
			}
		}
	}()
	go func() { // prune runs until every backup has ended
		backups.Wait()
		close(stop)
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := committed.Load(); n != 24 {
		t.Fatalf("%d of 24 backups committed", n)
	}
	// A last prune round must not break what is left either.
	for range 2 {
		if _, err := r.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := r.Verify(ctx, repository.VerifyOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("seed %d: data lost: %v", seed, rep.Problems)
	}
	snaps, _ := r.List(ctx)
	for _, s := range snaps {
		m, err := r.LoadManifest(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		refs, _, _ := m.Manifest.References()
		for _, ref := range refs {
			if ok, err := r.HasObject(ctx, ref.Object); err != nil || !ok {
				t.Fatalf("seed %d: snapshot %s references missing object %s", seed, s.ID, ref.Object)
			}
		}
	}
}
