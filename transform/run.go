package transform

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dataopskit/dataops/transform/selector"

	"github.com/dataopskit/dataops/warehouse"
)

// Command is the dbt verb a Run performs.
type Command string

// Commands. Each runs the resource types dbt's verb of the same name runs.
const (
	CommandRun      Command = "run"      // models
	CommandTest     Command = "test"     // data tests
	CommandBuild    Command = "build"    // seeds, models, snapshots and their tests, in DAG order
	CommandSeed     Command = "seed"     // seeds
	CommandSnapshot Command = "snapshot" // snapshots
	CommandCompile  Command = "compile"  // compile models, snapshots, tests, analyses; execute nothing
)

// Status is a node's outcome, spelled as run_results.json spells it.
type Status string

// Statuses.
const (
	StatusSuccess Status = "success" // a model, seed or snapshot was built
	StatusError   Status = "error"   // it failed (or a test could not run)
	StatusSkipped Status = "skipped" // an upstream node failed, or fail-fast stopped the run
	StatusPass    Status = "pass"    // a test found no failures
	StatusFail    Status = "fail"    // a test failed at severity error
	StatusWarn    Status = "warn"    // a test failed at severity warn
)

// RunOptions configures Project.Run.
type RunOptions struct {
	// Command picks what runs (CommandRun when empty).
	Command Command
	// Nodes, when non-nil, is the exact set of unique ids to run (as a
	// selector computed it); nodes of kinds the command does not run are
	// left out.
	Nodes []string
	// Select and Exclude are dbt's --select and --exclude values (one
	// element per flag), Selector its --selector (a selectors.yml entry);
	// see package selector for the syntax.
	Select, Exclude []string
	Selector        string
	// Indirect is dbt's --indirect-selection ("" is eager).
	Indirect selector.IndirectSelection
	// State is a previous run's artifacts, for state: and result:
	// selection (dbt's --state).
	State *selector.State
	// Threads bounds parallel nodes (the profile's threads when 0).
	Threads int
	// FullRefresh rebuilds incremental models and seeds from scratch.
	FullRefresh bool
	// FailFast stops at the first failure; the rest is skipped.
	FailFast bool
	// TargetPath overrides the project's target-path for compiled and run
	// SQL ("-" writes none).
	TargetPath string
	// NoArtifacts leaves manifest.json and run_results.json unwritten, for
	// a caller that writes its own (the CLI adds its invocation's flags);
	// compiled and run SQL are still written under the target path.
	NoArtifacts bool
	// OnEvent, when set, receives progress events (from several
	// goroutines, one at a time).
	OnEvent func(Event)
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventRunStart  EventKind = "run_start"  // the run begins (Total set)
	EventHook      EventKind = "hook"       // an on-run-start/end hook ran (Description holds it)
	EventNodeStart EventKind = "node_start" // a node starts ("1 of 5 START sql table model main.x")
	EventNodeDone  EventKind = "node_done"  // a node finished (Result set; skipped nodes too)
	EventRunEnd    EventKind = "run_end"    // the run ends
)

// Event is one progress event of a Run, for consoles and logs.
type Event struct {
	Kind EventKind
	// Index is the node's 1-based position among Total nodes.
	Index, Total int
	// Node is the node concerned (nil for run and hook events).
	Node *Node
	// Description is dbt's wording of what runs: "sql table model
	// main.customers", "seed file main.raw_orders", "test not_null_x".
	Description string
	// Result is set on EventNodeDone.
	Result *NodeResult
	// Time is when the event happened.
	Time time.Time
}

// Timing is one phase of a node's execution (compile, execute).
type Timing struct {
	Name        string
	StartedAt   time.Time
	CompletedAt time.Time
}

// NodeResult is the outcome of one node, as in run_results.json.
type NodeResult struct {
	UniqueID string
	Node     *Node
	Status   Status
	// Message is dbt's short message ("OK", "CREATE TABLE (100 rows)",
	// "Got 3 results, configured to fail if != 0") or the error text.
	Message string
	// Err is the error for StatusError (nil otherwise).
	Err           error
	Timing        []Timing
	ExecutionTime time.Duration
	// RowsAffected is the adapter's rows count (-1 when unknown).
	RowsAffected int64
	// Failures is a test's failing row count (nil for non-tests).
	Failures *int64
	// CompiledCode is the SQL that ran (compiled, CTEs injected).
	CompiledCode string
	// RelationName is the quoted relation the node built, if any.
	RelationName string
	// ThreadID names the worker ("Thread-1").
	ThreadID string
}

// RunResults is what a Run produced, as data.
type RunResults struct {
	InvocationID string
	Command      Command
	StartedAt    time.Time
	Elapsed      time.Duration
	Results      []NodeResult
}

// Counts tallies results by status.
func (r *RunResults) Counts() map[Status]int {
	m := map[Status]int{}
	for _, x := range r.Results {
		m[x.Status]++
	}
	return m
}

// Failed reports whether any node errored or a test failed (dbt's exit
// code 1).
func (r *RunResults) Failed() bool {
	for _, x := range r.Results {
		if x.Status == StatusError || x.Status == StatusFail {
			return true
		}
	}
	return false
}

// kinds a command runs.
func (c Command) kinds() []ResourceType {
	switch c {
	case CommandTest:
		return []ResourceType{ResourceTest, ResourceUnitTest}
	case CommandBuild:
		return []ResourceType{ResourceSeed, ResourceModel, ResourceSnapshot, ResourceTest, ResourceUnitTest}
	case CommandSeed:
		return []ResourceType{ResourceSeed}
	case CommandSnapshot:
		return []ResourceType{ResourceSnapshot}
	case CommandCompile:
		return []ResourceType{ResourceModel, ResourceSnapshot, ResourceTest, ResourceAnalysis}
	}
	return []ResourceType{ResourceModel}
}

// SelectNodes returns the unique ids a command would run with these
// options, sorted.
func (p *Project) SelectNodes(opts RunOptions) ([]string, error) {
	cmd := opts.Command
	if cmd == "" {
		cmd = CommandRun
	}
	kinds := cmd.kinds()
	var cands map[string]bool
	if opts.Nodes != nil {
		cands = map[string]bool{}
		for _, id := range opts.Nodes {
			cands[id] = true
		}
	} else {
		var err error
		if cands, err = p.selectIDs(opts, kinds); err != nil {
			return nil, err
		}
	}
	var out []string
	for id := range cands {
		n, ok := p.Nodes[id]
		if !ok || !containsType(kinds, n.ResourceType) {
			continue
		}
		if n.ResourceType == ResourceModel && n.Config.Materialized == "ephemeral" && cmd != CommandCompile {
			continue
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

// Run executes a command over the selected nodes on w: seeds load, models
// and snapshots build, tests run — in DAG order, Threads at a time. A node
// whose upstream failed is skipped; with FailFast the first failure stops
// the run. The project's on-run-start hooks run first and on-run-end last.
// Results come back as data; the returned error is for failures of the run
// itself (cancellation, a failing on-run-start hook), not of nodes.
func (p *Project) Run(ctx context.Context, w *warehouse.Warehouse, opts RunOptions) (*RunResults, error) {
	if opts.Command == "" {
		opts.Command = CommandRun
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = p.Target.Threads
	}
	if threads <= 0 {
		threads = 1
	}
	start := time.Now()
	res := &RunResults{InvocationID: p.state.invocation, Command: opts.Command, StartedAt: start.UTC()}
	ids, err := p.SelectNodes(opts)
	if err != nil {
		return res, err
	}
	c := p.newCompiler(w, opts.TargetPath, opts.FullRefresh)
	c.which = string(opts.Command)
	var emitMu sync.Mutex
	emit := func(e Event) {
		if opts.OnEvent != nil {
			emitMu.Lock()
			defer emitMu.Unlock()
			e.Time = time.Now()
			opts.OnEvent(e)
		}
	}
	emit(Event{Kind: EventRunStart, Total: len(ids)})
	if opts.Command != CommandCompile && w != nil {
		// Schemas first, as dbt creates them before on-run-start.
		if err := p.createSchemas(ctx, w, ids); err != nil {
			return res, err
		}
		if err := c.runHooks(ctx, "on-run-start", p.OnRunStart, emit); err != nil {
			return res, err
		}
	}
	r := &runner{p: p, c: c, w: w, opts: opts, emit: emit, total: len(ids), schemas: map[string]bool{}}
	results, err := r.schedule(ctx, ids, threads)
	res.Results = results
	if err == nil && opts.Command != CommandCompile {
		err = c.runHooks(ctx, "on-run-end", p.OnRunEnd, emit)
	}
	res.Elapsed = time.Since(start)
	if c.dir != "" && !opts.NoArtifacts {
		if werr := p.writeArtifacts(c.dir, res); werr != nil && err == nil {
			err = werr
		}
	}
	emit(Event{Kind: EventRunEnd, Total: len(ids)})
	return res, err
}

func (c *compiler) runHooks(ctx context.Context, name string, hooks []string, emit func(Event)) error {
	if c.w == nil {
		return nil
	}
	for i, h := range hooks {
		sql, err := c.renderSQL(ctx, nil, fmt.Sprintf("dbt_project.yml %s hook %d", name, i+1), h)
		if err != nil {
			return err
		}
		if strings.TrimSpace(sql) == "" {
			continue
		}
		if _, err := c.w.Exec(ctx, sql); err != nil {
			return fmt.Errorf("dbt_project.yml %s hook %d: %w", name, i+1, err)
		}
		emit(Event{Kind: EventHook, Index: i + 1, Total: len(hooks), Description: name + " hook " + strconv.Itoa(i+1)})
	}
	return nil
}

type runner struct {
	p     *Project
	c     *compiler
	w     *warehouse.Warehouse
	opts  RunOptions
	emit  func(Event)
	total int

	mu      sync.Mutex
	index   int
	schemas map[string]bool
}

// schedule runs ids along the DAG.
func (r *runner) schedule(ctx context.Context, ids []string, threads int) ([]NodeResult, error) {
	p := r.p
	// The maps over the run's nodes are made at their size: a 10,000-model
	// compile runs 30,000 nodes, and growing them rehashed every key.
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	// Edges within the run: a node waits for its selected parents, and
	// (build) for the tests of those parents that do not test it too.
	waits := make(map[string]map[string]bool, len(ids))
	testsOf := map[string][]string{}
	for _, id := range ids {
		n := p.Nodes[id]
		if n.ResourceType == ResourceTest {
			for _, d := range n.DependsOn {
				testsOf[d] = append(testsOf[d], id)
			}
		}
	}
	unitsOf := map[string][]string{}
	for _, id := range ids {
		if n := p.Nodes[id]; n.ResourceType == ResourceUnitTest && len(n.DependsOn) == 1 {
			unitsOf[n.DependsOn[0]] = append(unitsOf[n.DependsOn[0]], id)
		}
	}
	for _, id := range ids {
		n := p.Nodes[id]
		w := make(map[string]bool, len(n.DependsOn))
		if n.ResourceType == ResourceUnitTest {
			// A unit test runs once its model's inputs are built, before
			// the model (which waits for it).
			if m, ok := p.Nodes[n.DependsOn[0]]; ok {
				for _, d := range r.upstream(m, in) {
					w[d] = true
				}
			}
			waits[id] = w
			continue
		}
		for _, u := range unitsOf[id] {
			w[u] = true
		}
		for _, d := range r.upstream(n, in) {
			w[d] = true
			// Only build waits for the tests of a node's parents (dbt adds
			// test edges to the graph for build alone): a test command runs
			// no models, and a compile's tests fail nothing.
			if n.ResourceType == ResourceTest || r.opts.Command != CommandBuild {
				continue
			}
			for _, t := range testsOf[d] {
				if !containsStr(p.Nodes[t].DependsOn, id) && !r.reaches(id, t, in) {
					w[t] = true
				}
			}
		}
		waits[id] = w
	}
	dependants := make(map[string][]string, len(waits))
	pending := make(map[string]int, len(waits))
	for id, w := range waits {
		pending[id] = len(w)
		for d := range w {
			dependants[d] = append(dependants[d], id)
		}
	}
	for _, d := range dependants {
		sort.Strings(d)
	}
	results := make([]NodeResult, 0, len(ids))
	bad := map[string]string{} // id → why dependants skip
	done := make(chan NodeResult, len(ids))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// threads long-lived workers (Thread-1 …) run the nodes: a goroutine
	// per node would grow a new stack for every render.
	work := make(chan *Node)
	var workers sync.WaitGroup
	for tid := 1; tid <= threads; tid++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for n := range work {
				done <- r.runNode(runCtx, n, tid)
			}
		}()
	}
	defer func() { close(work); workers.Wait() }()
	var ready []string
	for _, id := range ids {
		if pending[id] == 0 {
			ready = append(ready, id)
		}
	}
	stopped := false
	remaining := len(ids)
	running := 0
	finish := func(nr NodeResult) {
		results = append(results, nr)
		remaining--
		failed := nr.Status == StatusError || nr.Status == StatusFail || nr.Status == StatusSkipped
		if failed {
			why := nr.UniqueID
			if nr.Status == StatusSkipped {
				why = bad[nr.UniqueID]
			}
			if why == "" {
				why = nr.UniqueID
			}
			for _, d := range dependants[nr.UniqueID] {
				if _, ok := bad[d]; !ok {
					bad[d] = why
				}
			}
			if r.opts.FailFast && (nr.Status == StatusError || nr.Status == StatusFail) && !stopped {
				stopped = true
				cancel()
			}
		}
		for _, d := range dependants[nr.UniqueID] {
			pending[d]--
			if pending[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	for remaining > 0 {
		sort.Strings(ready)
		for len(ready) > 0 {
			id := ready[0]
			ready = ready[1:]
			n := p.Nodes[id]
			if why, ok := bad[id]; ok || stopped || ctx.Err() != nil {
				msg := "skipped: upstream " + why + " failed"
				if !ok {
					msg = "skipped: the run was stopped"
					if ctx.Err() != nil {
						msg = "skipped: " + ctx.Err().Error()
					}
				}
				nr := NodeResult{UniqueID: id, Node: n, Status: StatusSkipped, Message: msg, RowsAffected: -1}
				r.emit(Event{Kind: EventNodeDone, Index: r.next(), Total: r.total, Node: n, Description: describe(n), Result: &nr})
				finish(nr)
				continue
			}
			running++
			work <- n
		}
		if remaining == 0 {
			break
		}
		if running == 0 {
			// Nothing runs and nothing is ready: only a cycle within the
			// run could cause it; Load rejects cycles, so report it.
			return results, fmt.Errorf("%w: %d nodes could not be scheduled", ErrCycle, remaining)
		}
		nr := <-done
		running--
		finish(nr)
	}
	sort.SliceStable(results, func(i, j int) bool { return false })
	if ctx.Err() != nil {
		return results, ctx.Err()
	}
	return results, nil
}

// upstream returns the run's nodes n depends on, looking through nodes
// outside the run (ephemeral models, unselected nodes) transitively only
// for ephemeral models.
func (r *runner) upstream(n *Node, in map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(ids []string)
	visit = func(ids []string) {
		for _, d := range ids {
			if seen[d] {
				continue
			}
			seen[d] = true
			if in[d] {
				out = append(out, d)
				continue
			}
			if dn, ok := r.p.Nodes[d]; ok && dn.Config.Materialized == "ephemeral" {
				visit(dn.DependsOn)
			}
		}
	}
	visit(n.DependsOn)
	return out
}

// reaches reports whether test t depends (transitively, within the run)
// on id — waiting for t from id would deadlock.
func (r *runner) reaches(id, t string, in map[string]bool) bool {
	seen := map[string]bool{}
	var visit func(x string) bool
	visit = func(x string) bool {
		if x == id {
			return true
		}
		if seen[x] {
			return false
		}
		seen[x] = true
		n, ok := r.p.Nodes[x]
		if !ok {
			return false
		}
		for _, d := range n.DependsOn {
			if visit(d) {
				return true
			}
		}
		return false
	}
	n := r.p.Nodes[t]
	for _, d := range n.DependsOn {
		if d != id && visit(d) {
			return true
		}
	}
	return false
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (r *runner) next() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.index++
	return r.index
}

// describe words a node as dbt's console does.
func describe(n *Node) string {
	rel := n.Schema + "." + n.Alias
	switch n.ResourceType {
	case ResourceSeed:
		return "seed file " + rel
	case ResourceSnapshot:
		return "snapshot " + rel
	case ResourceTest:
		return "test " + n.Name
	case ResourceAnalysis:
		return "analysis " + n.Name
	case ResourceUnitTest:
		if n.Unit != nil {
			return "unit_test " + n.Unit.Model + "::" + n.Name
		}
	}
	return "sql " + n.Config.Materialized + " model " + rel
}

// runNode compiles and executes one node.
func (r *runner) runNode(ctx context.Context, n *Node, tid int) (nr NodeResult) {
	idx := r.next()
	r.emit(Event{Kind: EventNodeStart, Index: idx, Total: r.total, Node: n, Description: describe(n)})
	nr = NodeResult{UniqueID: n.UniqueID, Node: n, RowsAffected: -1, ThreadID: "Thread-" + strconv.Itoa(tid)}
	start := time.Now()
	defer func() {
		if rec := recover(); rec != nil {
			nr.Status, nr.Err = StatusError, fmt.Errorf("%s: internal error: %v", n.UniqueID, rec)
			nr.Message = nr.Err.Error()
		}
		if nr.Status == StatusError && ctx.Err() != nil {
			// The run was stopped (fail fast, or the caller cancelled)
			// while this node ran: its error is the interruption, however
			// the driver words it, so it is skipped, as dbt reports it.
			nr.Status, nr.Err, nr.Message = StatusSkipped, nil, "skipped: the run was stopped"
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				nr.Message = "skipped: " + cause.Error()
			}
		}
		nr.ExecutionTime = time.Since(start)
		r.emit(Event{Kind: EventNodeDone, Index: idx, Total: r.total, Node: n, Description: describe(n), Result: &nr})
	}()
	cstart := time.Now()
	var sql string
	if n.ResourceType == ResourceUnitTest {
		err := r.runUnitTest(ctx, n, &nr)
		if err != nil {
			nr.Status, nr.Err = StatusError, fmt.Errorf("unit test %s (%s): %w", n.Name, n.OriginalFilePath, err)
			nr.Message = nr.Err.Error()
		}
		return nr
	}
	if n.ResourceType != ResourceSeed {
		var err error
		sql, err = r.c.compile(ctx, n)
		if err != nil {
			nr.Status, nr.Err, nr.Message = StatusError, fmt.Errorf("%s (%s): %w", n.Name, n.OriginalFilePath, err), ""
			nr.Message = nr.Err.Error()
			return nr
		}
	}
	nr.CompiledCode = sql
	nr.Timing = append(nr.Timing, Timing{Name: "compile", StartedAt: cstart.UTC(), CompletedAt: time.Now().UTC()})
	if r.opts.Command == CommandCompile || n.ResourceType == ResourceAnalysis {
		nr.Status, nr.Message = StatusSuccess, "compiled"
		return nr
	}
	estart := time.Now()
	err := r.execute(ctx, n, sql, &nr)
	nr.Timing = append(nr.Timing, Timing{Name: "execute", StartedAt: estart.UTC(), CompletedAt: time.Now().UTC()})
	if err != nil {
		nr.Status = StatusError
		where := ""
		if n.ResourceType != ResourceSeed && r.c.dir != "" {
			where = " (compiled SQL: " + r.c.filePath("compiled", n) + ")"
		}
		nr.Err = fmt.Errorf("%s %s%s: %w", n.ResourceType, n.Name, where, err)
		nr.Message = nr.Err.Error()
		if errors.Is(err, context.Canceled) {
			nr.Status, nr.Err, nr.Message = StatusSkipped, nil, "skipped: "+err.Error()
		}
	}
	return nr
}

// createSchemas creates the schemas the selected nodes build in.
func (p *Project) createSchemas(ctx context.Context, w *warehouse.Warehouse, ids []string) error {
	seen := map[string]bool{}
	for _, id := range ids {
		n := p.Nodes[id]
		if n.ResourceType == ResourceTest && (n.Config.StoreFailures == nil || !*n.Config.StoreFailures) {
			continue
		}
		if n.Schema == "" || seen[n.Schema] {
			continue
		}
		seen[n.Schema] = true
		if err := w.CreateSchema(ctx, n.Schema); err != nil {
			return fmt.Errorf("create schema %s: %w", n.Schema, err)
		}
	}
	return nil
}
