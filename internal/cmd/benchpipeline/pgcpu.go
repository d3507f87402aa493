package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The PostgreSQL backend's CPU.
//
// The pipeline's floor on this machine is set by the CPU of both ends:
// this process and the PostgreSQL backend that scans and sends the rows
// run on the same cores. The bench reads a backend's user+system time from
// /proc/<pid>/stat (PostgreSQL runs on this machine): for the drain, of the
// draining connection's backend (pgconn's PID) before and after the COPY;
// for the pipeline, of every backend whose application_name is the source's
// (sourceAppName, set in the source's URL), found by polling
// pg_stat_activity from a connection of the bench's own and sampled until
// it exits (its last sample is at most backendSample old: the tail after it
// is not counted, nor are connections shorter than backendPoll).

// sourceAppName is the application_name of the pipeline source's connections.
const sourceAppName = "dataops-benchpipeline-source"

const (
	backendPoll   = 20 * time.Millisecond // pg_stat_activity poll
	backendSample = 10 * time.Millisecond // /proc/<pid>/stat sample
)

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ).
const clockTick = 10 * time.Millisecond

// procCPU returns the user+system CPU time of process pid so far.
func procCPU(pid uint32) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields after it
	// start at the state (field 3); utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	u, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	s, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(u+s) * clockTick, nil
}

// withAppName returns pgURL with application_name set to name.
func withAppName(pgURL, name string) (string, error) {
	u, err := url.Parse(pgURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// backendWatch samples the CPU of the backends of one application_name.
type backendWatch struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	cpu  map[uint32]time.Duration // pid → CPU at its last sample
	err  error
}

// watchBackends starts watching the backends whose application_name is app.
func watchBackends(ctx context.Context, pgURL, app string) (*backendWatch, error) {
	conn, err := pgconn.Connect(ctx, pgURL)
	if err != nil {
		return nil, err
	}
	if _, err := procCPU(conn.PID()); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("PostgreSQL backends not readable in /proc (%w)", err)
	}
	w := &backendWatch{stop: make(chan struct{}), done: make(chan struct{}), cpu: map[uint32]time.Duration{}}
	query := "SELECT pid FROM pg_stat_activity WHERE application_name = '" + app + "'" // app: a constant without quotes
	go func() {
		defer close(w.done)
		defer conn.Close(context.WithoutCancel(ctx))
		tick := time.NewTicker(backendSample)
		defer tick.Stop()
		var live []uint32
		var polled time.Time
		sample := func() {
			kept := live[:0]
			for _, pid := range live {
				c, err := procCPU(pid)
				if err != nil {
					continue // exited: its last sample stands
				}
				w.mu.Lock()
				w.cpu[pid] = c
				w.mu.Unlock()
				kept = append(kept, pid)
			}
			live = kept
		}
		for {
			select {
			case <-w.stop:
				sample()
				return
			case <-tick.C:
			}
			if time.Since(polled) >= backendPoll {
				polled = time.Now()
				res, err := conn.Exec(ctx, query).ReadAll()
				if err != nil {
					w.mu.Lock()
					w.err = err
					w.mu.Unlock()
					return
				}
				for _, r := range res {
					for _, row := range r.Rows {
						pid, err := strconv.ParseUint(string(row[0]), 10, 32)
						if err != nil {
							continue
						}
						w.mu.Lock()
						_, seen := w.cpu[uint32(pid)]
						if !seen {
							w.cpu[uint32(pid)] = 0
						}
						w.mu.Unlock()
						if !seen {
							live = append(live, uint32(pid))
						}
					}
				}
			}
			sample()
		}
	}()
	return w, nil
}

// total stops the watch and returns the CPU of every backend it saw and
// how many there were.
func (w *backendWatch) total() (time.Duration, int, error) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var t time.Duration
	for _, c := range w.cpu {
		t += c
	}
	return t, len(w.cpu), w.err
}
