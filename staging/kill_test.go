package staging_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/internal/testenv"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

// The kill test runs a sync in a child process (this test binary, re-run
// with DATAOPS_KILL_CHILD set), kills it with SIGKILL at random points,
// restarts it until it finishes, and then checks that no row was lost or
// duplicated and that the committed state is the source's final one.

const killRowsDefault = 100_000 // the bench program runs 1M

func killRows() int {
	if n, err := strconv.Atoi(os.Getenv("DATAOPS_KILL_ROWS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return 20_000
	}
	return killRowsDefault
}

// killKeys is the number of distinct keys of the dedup stream.
func killKeys(n int) int { return n / 4 }

// killParallel is the pseudo-mode of the kill test that appends two
// streams whose records interleave, written in parallel.
const killParallel airbyte.DestinationSyncMode = "append+parallel"

func killSource(n int, mode airbyte.DestinationSyncMode, progress func(int)) *genSource {
	if mode == killParallel {
		// Turns of 100 records, a state every 30: the first commit comes
		// when both streams' turns end on a state (at 300 records each;
		// serial until then), later ones per stream, while the other
		// stream's transaction holds rows no state covers yet.
		return &genSource{streams: []genStream{{name: "events", n: n}, {name: "others", n: n / 2}}, stateEvery: 30, interleave: 100,
			hook: func(records int) {
				if records%500 == 0 {
					progress(records)
				}
			}}
	}
	s := genStream{name: "events", n: n}
	if mode == airbyte.AppendDedup {
		k := killKeys(n)
		s.schema = `{"type":"object","properties":{"id":{"type":"integer"},"seq":{"type":"integer"},"v":{"type":"string"}}}`
		s.data = func(i int) string { return fmt.Sprintf(`{"id":%d,"seq":%d,"v":"v%d"}`, i%k, i, i) }
	}
	return &genSource{streams: []genStream{s}, stateEvery: 997, hook: func(records int) {
		if records%500 == 0 {
			progress(records)
		}
	}}
}

// killChild is the child's body, run by TestMain when the test binary is
// started with DATAOPS_KILL_CHILD naming the warehouse: one sync, printing
// its progress, until it ends or the parent kills it.
func killChild(url string) error {
	mode := airbyte.DestinationSyncMode(os.Getenv("DATAOPS_KILL_MODE"))
	schema := os.Getenv("DATAOPS_KILL_SCHEMA")
	ctx := context.Background()
	w, err := warehouse.Open(ctx, url)
	if err != nil {
		return err
	}
	defer w.Close()
	out := bufio.NewWriter(os.Stdout)
	src := killSource(killRows(), mode, func(n int) { fmt.Fprintf(out, "progress %d\n", n); out.Flush() })
	o := staging.Options{Schema: schema, StateSchema: schema + "_state", BatchRows: 2000, CommitRows: 5000, Logger: slog.New(slog.DiscardHandler)}
	if mode == killParallel {
		o.Parallelism, o.CommitRows = 2, 300
	}
	l := staging.NewLoader(w, o)
	state, err := l.State(ctx)
	if err != nil {
		return err
	}
	destMode := mode
	if mode == killParallel {
		destMode = airbyte.Append
	}
	cat := src.catalog(destMode)
	if mode == airbyte.AppendDedup {
		cat.Streams[0].CursorField = []string{"seq"}
	}
	rs, _ := src.Read(ctx, nil, cat, state)
	if _, err := l.Load(ctx, cat, rs); err != nil {
		return err
	}
	fmt.Fprintln(out, "done")
	return out.Flush()
}

func TestKillAtRandomPoints(t *testing.T) {
	const kills = 20
	targets := map[string]func(t *testing.T) (url, schema string){
		"duckdb": func(t *testing.T) (string, string) {
			// loads on several threads (see Loading on several threads in
			// the package doc): the rows of a commit land out of order
			return "duckdb:" + filepath.Join(t.TempDir(), "kill.duckdb") + "?threads=4&memory_limit=256MB&preserve_insertion_order=false", "raw"
		},
		"postgres": func(t *testing.T) (string, string) {
			url := testenv.PostgresURL(t)
			schema := "kill_" + strconv.FormatInt(rand.Int64(), 36)
			t.Cleanup(func() {
				w, err := warehouse.Open(context.Background(), url)
				if err == nil {
					_ = w.DropSchema(context.Background(), schema, true)
					_ = w.DropSchema(context.Background(), schema+"_state", true)
					w.Close()
				}
			})
			return url, schema
		},
	}
	for _, engine := range []string{"duckdb", "postgres"} {
		for _, mode := range []airbyte.DestinationSyncMode{airbyte.Append, airbyte.AppendDedup, airbyte.Overwrite, killParallel} {
			t.Run(engine+"/"+strings.ReplaceAll(string(mode), "+", "_"), func(t *testing.T) {
				url, schema := targets[engine](t)
				n := killRows()
				rng := rand.New(rand.NewPCG(uint64(len(engine)), uint64(len(mode))))
				killed := 0
				for run := 0; ; run++ {
					if run > kills+20 {
						t.Fatalf("the sync did not finish after %d runs", run)
					}
					// Kill at a random point of what is left, while kills remain.
					// Each run reads a random share of the rows (at most 1/25) before
					// the kill, so that all kills land before the end.
					killAt := -1
					if killed < kills {
						killAt = rng.IntN(n / (kills + 5))
					}
					finished, err := runChild(t, url, schema, mode, killAt)
					if err != nil {
						t.Fatal(err)
					}
					if finished {
						break
					}
					killed++
				}
				if killed < kills {
					t.Fatalf("only %d kills landed before the sync finished; want %d", killed, kills)
				}
				checkKilledSync(t, url, schema, mode, n)
			})
		}
	}
}

// runChild runs one child; with killAt >= 0 it kills the child with SIGKILL
// once the child reports having read killAt more records than at its first
// report. It reports whether the child finished the sync.
func runChild(t *testing.T, url, schema string, mode airbyte.DestinationSyncMode, killAt int) (bool, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DATAOPS_KILL_CHILD="+url, "DATAOPS_KILL_MODE="+string(mode), "DATAOPS_KILL_SCHEMA="+schema,
		"DATAOPS_KILL_ROWS="+strconv.Itoa(killRows()))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return false, err
	}
	if err := cmd.Start(); err != nil {
		return false, err
	}
	sc := bufio.NewScanner(stdout)
	done, killedIt := false, false
	first := -1
	for sc.Scan() {
		line := sc.Text()
		if line == "done" {
			done = true
			continue
		}
		var got int
		if _, err := fmt.Sscanf(line, "progress %d", &got); err != nil || killAt < 0 || killedIt {
			continue
		}
		if first < 0 {
			first = got
		}
		if got-first >= killAt {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killedIt = true
		}
	}
	err = cmd.Wait()
	if killedIt && !done {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("child failed: %v\n%s", err, stderr.String())
	}
	return done, nil
}

func checkKilledSync(t *testing.T, url, schema string, mode airbyte.DestinationSyncMode, n int) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if mode == killParallel {
		checkStreamOnce(t, w, schema, "events", n)
		checkStreamOnce(t, w, schema, "others", n/2)
		checkStates(t, w, staging.Options{Schema: schema, StateSchema: schema + "_state"}, map[string]int{"events": n, "others": n / 2})
		return
	}
	d := w.Dialect()
	rel := d.QuoteRelation(warehouse.Rel(schema, "events"))
	var rows, ids, raw int64
	if err := w.Get(ctx, &rows, "SELECT count(*) FROM "+rel); err != nil {
		t.Fatal(err)
	}
	if err := w.Get(ctx, &ids, "SELECT count(DISTINCT "+d.QuoteIdentifier("id")+") FROM "+rel); err != nil {
		t.Fatal(err)
	}
	if err := w.Get(ctx, &raw, "SELECT count(DISTINCT "+d.QuoteIdentifier("_airbyte_raw_id")+") FROM "+rel); err != nil {
		t.Fatal(err)
	}
	want := int64(n)
	if mode == airbyte.AppendDedup {
		want = int64(killKeys(n))
		// Every key holds its last event.
		var stale int64
		k := killKeys(n)
		q := w.DB().Rebind("SELECT count(*) FROM " + rel + " WHERE " + d.QuoteIdentifier("seq") + " < " + d.QuoteIdentifier("id") + " + ?")
		if err := w.Get(ctx, &stale, q, n-k); err != nil {
			t.Fatal(err)
		}
		if stale != 0 {
			t.Fatalf("%d keys do not hold their latest event", stale)
		}
	}
	if rows != want || ids != want || raw != want {
		t.Fatalf("%s after kills: %d rows, %d distinct ids, %d distinct raw ids; want %d of each", mode, rows, ids, raw, want)
	}
	st, err := staging.NewLoader(w, staging.Options{Schema: schema, StateSchema: schema + "_state"}).State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mode == airbyte.Overwrite {
		if len(st) != 0 {
			t.Fatalf("a completed overwrite left state %+v", st)
		}
		return
	}
	if len(st) != 1 || strings.ReplaceAll(string(st[0].Stream.StreamState), " ", "") != `{"offset":`+strconv.Itoa(n)+`}` {
		t.Fatalf("final state %+v, want offset %d", st, n)
	}
}
