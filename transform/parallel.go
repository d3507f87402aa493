package transform

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// forEach calls fn for every index in [0, n) on GOMAXPROCS long-lived
// workers. A goroutine per item would start each on a small stack and
// grow it again for every deep render or parse; workers grow theirs once.
// After the first error no new item starts; forEach returns the error of
// the lowest index that failed, so the error reported does not depend on
// scheduling more than necessary. fn's context is cancelled on error.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errIdx = n
		first  error
		wg     sync.WaitGroup
	)
	work := func() {
		defer wg.Done()
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if i < errIdx {
					errIdx, first = i, err
				}
				mu.Unlock()
				failed.Store(true)
				cancel()
			}
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work()
	wg.Wait()
	return first
}
