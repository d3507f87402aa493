package backup

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

func TestNativeSnapshots(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			w, schema := e.open(t)
			orders := makeTable(t, w, schema, "orders", orderCols, []string{"id"}, 40, orderRow)
			before := tableFingerprint(t, w, orders)
			opts := NativeOptions{Dir: t.TempDir(), Schemas: []string{schema}}
			name := "nightly_" + map[bool]string{true: "pg", false: "duck"}[e.name == "postgres"]
			s, err := CreateNative(ctx, w, name, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { DropNative(context.Background(), w, name, opts) })
			if !slices.Contains(s.Tables, schema+".orders") {
				t.Fatalf("snapshot tables %v", s.Tables)
			}
			if _, err := CreateNative(ctx, w, name, opts); !errors.Is(err, warehouse.ErrAlreadyExists) {
				t.Fatalf("second snapshot of the same name: %v", err)
			}
			if _, err := CreateNative(ctx, w, "Bad-Name", opts); err == nil {
				t.Fatal("a bad name is accepted")
			}
			mustExec(t, w, "DELETE FROM "+w.Dialect().QuoteRelation(orders)+" WHERE id < 20")
			list, err := ListNative(ctx, w, opts)
			if err != nil || len(list) < 1 || list[len(list)-1].Time.IsZero() {
				t.Fatalf("list %+v %v", list, err)
			}
			// side by side, then over the original
			rt, err := RestoreNative(ctx, w, name, NativeRestoreOptions{NativeOptions: opts, Tables: []string{schema + ".orders"}, Schema: schema + "_restored"})
			if err != nil {
				t.Fatal(err)
			}
			if len(rt) != 1 || rt[0].Fingerprint != before {
				t.Fatalf("restored %+v, want %v", rt, before)
			}
			if _, err := RestoreNative(ctx, w, name, NativeRestoreOptions{NativeOptions: opts, Tables: []string{schema + ".orders"}, Schema: schema + "_restored"}); !errors.Is(err, ErrTargetExists) {
				t.Fatalf("restore onto an existing table: %v", err)
			}
			if _, err := RestoreNative(ctx, w, name, NativeRestoreOptions{NativeOptions: opts, Tables: []string{schema}}); err != nil {
				t.Fatal(err)
			}
			if got := tableFingerprint(t, w, orders); got != before {
				t.Fatalf("orders after native restore %v, want %v", got, before)
			}
			if err := DropNative(ctx, w, name, opts); err != nil {
				t.Fatal(err)
			}
			if _, err := RestoreNative(ctx, w, name, NativeRestoreOptions{NativeOptions: opts}); !errors.Is(err, ErrNativeNotFound) {
				t.Fatalf("restore of a dropped snapshot: %v", err)
			}
		})
	}
}

func TestSchedulerRunsWithoutOverlap(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var events []Event
	skips := make(chan struct{}, 16) // a tick of "slow" skipped
	s := NewScheduler(SchedulerOptions{Events: func(e Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		if e.Op == "schedule.slow" && errors.Is(e.Err, ErrJobRunning) {
			select {
			case skips <- struct{}{}:
			default:
			}
		}
	}})
	release := make(chan struct{})
	started := make(chan struct{}, 16)
	var runs atomic.Int32
	if err := s.Add("slow", "@every 1s", func(ctx context.Context) error {
		runs.Add(1)
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("bad", "not a spec", func(context.Context) error { return nil }); err == nil {
		t.Fatal("a bad spec is accepted")
	}
	// a real backup job on DuckDB
	w := openDuck(t, "duckdb:")
	makeTable(t, w, "raw", "orders", orderCols, []string{"id"}, 10, orderRow)
	repo := initRepo(t, "mem://", "")
	if err := s.AddBackup("backup", "0 3 * * *", repo, w, Options{Incremental: true}); err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the @every 1s job did not start within 5s")
	}
	if err := s.RunNow(ctx, "slow"); !errors.Is(err, ErrJobRunning) {
		t.Fatalf("overlapping run: %v", err)
	}
	for len(skips) > 0 { // what RunNow reported
		<-skips
	}
	select { // the next tick comes while the job still runs, and is skipped
	case <-skips:
	case <-time.After(5 * time.Second):
		t.Fatal("no tick of the running job was reported as skipped within 5s")
	}
	if runs.Load() != 1 {
		t.Fatalf("the job overlapped itself: %d runs", runs.Load())
	}
	close(release)
	if err := s.RunNow(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	if next := s.Next("backup"); next.Hour() != 3 {
		t.Fatalf("next backup at %v", next)
	}
	list, _ := repo.List(ctx)
	if len(list) != 1 {
		t.Fatalf("%d snapshots after the scheduled backup", len(list))
	}
	stop, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Stop(stop); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var skipped, finished bool
	for _, e := range events {
		skipped = skipped || (e.Op == "schedule.slow" && e.Phase == repository.PhaseError && errors.Is(e.Err, ErrJobRunning))
		finished = finished || (e.Op == "schedule.backup" && e.Phase == repository.PhaseFinish)
	}
	if !skipped || !finished {
		t.Fatalf("events lack a skipped run or a finished backup: %+v", events)
	}
}
