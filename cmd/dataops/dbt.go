package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/internal/version"
	"github.com/dataopskit/dataops/transform"
	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/selector"
	"github.com/dataopskit/dataops/warehouse"
)

// The dbt verbs are top-level commands, as in dbt: dataops run, dataops
// build, dataops ls, …
func init() {
	for _, f := range []func(func(*cobra.Command) *slog.Logger) *cobra.Command{
		dbtRunVerb(transform.CommandRun, "run", "Build the selected models"),
		dbtRunVerb(transform.CommandTest, "test", "Run the selected data tests"),
		dbtRunVerb(transform.CommandBuild, "build", "Seed, run, snapshot and test the selected nodes in DAG order"),
		dbtRunVerb(transform.CommandSeed, "seed", "Load the selected seeds (CSV files) into the warehouse"),
		dbtRunVerb(transform.CommandSnapshot, "snapshot", "Run the selected snapshots"),
		dbtRunVerb(transform.CommandCompile, "compile", "Compile the selected nodes' SQL into the target directory"),
		newDBTListCmd, newDBTParseCmd, newDBTCleanCmd, newDBTDocsCmd, newDBTRetryCmd,
		newDBTShowCmd, newDBTRunOperationCmd, newDBTFreshnessCmd, newDBTDebugCmd,
	} {
		extraCommands = append(extraCommands, f)
	}
	os.Args = dbtArgs(os.Args)
	tuneGCForDBT(os.Args)
}

// dbtArgs maps the spellings of dbt that clash with commands defined in
// files this one does not own (root.go builds the root, version and debug
// commands; source.go the Airbyte `source` group), so that they still work
// from a terminal:
//
//	dataops --version (or -V)         → dataops version
//	dataops source freshness …        → dataops source-freshness …
//	dataops debug --project-dir … (or --profiles-dir, --target, --profile,
//	--vars, --config-dir)             → dataops dbt-debug …
//
// Everything else is left as it is.
func dbtArgs(args []string) []string {
	if len(args) < 2 {
		return args
	}
	rest := args[2:]
	switch args[1] {
	case "--version", "-V":
		if len(args) == 2 {
			return []string{args[0], "version"}
		}
	case "source":
		if len(rest) > 0 && rest[0] == "freshness" {
			return append([]string{args[0], "source-freshness"}, rest[1:]...)
		}
	case "debug":
		for _, a := range rest {
			name, _, _ := strings.Cut(a, "=")
			switch name {
			case "--project-dir", "--profiles-dir", "--target", "-t", "--profile", "--vars", "--config-dir":
				return append([]string{args[0], "dbt-debug"}, rest...)
			}
		}
	}
	return args
}

// Exit codes, as dbt's: 0 when everything passed, 1 when a node failed or
// errored, 2 when the invocation itself failed (a bad project, bad flags, an
// unreachable warehouse).
const (
	exitFailure = 1
	exitError   = 2
)

// dbtExit ends the process with a dbt exit code. Tests replace it.
var dbtExit = func(code int) { os.Exit(code) }

// errNodesFailed is returned (exit code 1) when a run had failures.
var errNodesFailed = errors.New("some nodes failed")

// invocationError marks an error of the invocation itself (exit code 2);
// shown says the console already printed it.
type invocationError struct {
	err   error
	shown bool
}

func (e invocationError) Error() string { return e.err.Error() }
func (e invocationError) Unwrap() error { return e.err }

// dbtFlags are the flags the dbt verbs share.
type dbtFlags struct {
	projectDir, profilesDir, profile, target, vars string
	selects, excludes                              []string
	selectorName, indirect                         string
	threads                                        int
	fullRefresh, failFast                          bool
	state, targetPath, logFormat                   string
	inline                                         string
	cpuProfile, memProfile                         string
}

func (f *dbtFlags) register(cmd *cobra.Command, selection bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.projectDir, "project-dir", "", "directory holding dbt_project.yml (default: the current directory, or $DBT_PROJECT_DIR)")
	fl.StringVar(&f.profilesDir, "profiles-dir", "", "directory holding profiles.yml (default: $DBT_PROFILES_DIR, the project directory, then ~/.dbt)")
	fl.StringVar(&f.profile, "profile", "", "profile to use instead of the one dbt_project.yml names")
	fl.StringVarP(&f.target, "target", "t", "", "profile target to use instead of the profile's default")
	fl.StringVar(&f.vars, "vars", "", "variables as a YAML or JSON mapping, overriding the project's vars")
	fl.StringVar(&f.targetPath, "target-path", "", "directory for artifacts and compiled SQL (default: the project's target-path)")
	fl.StringVar(&f.logFormat, "log-format", "text", "console output: text, or json (one event per line)")
	if selection {
		fl.StringArrayVarP(&f.selects, "select", "s", nil, "nodes to include (dbt's selection syntax; repeat or separate by spaces)")
		fl.StringArrayVar(&f.excludes, "exclude", nil, "nodes to leave out")
		fl.StringVar(&f.selectorName, "selector", "", "a selector named in selectors.yml")
		fl.StringVar(&f.indirect, "indirect-selection", "eager", "how tests are selected through the nodes they test: eager, cautious, buildable, empty")
		fl.StringVar(&f.state, "state", "", "directory with the artifacts of a previous run, for state: and result: selection")
	}
	// Profiles of the verb, for developers (hidden from the help).
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the verb to this file (go tool pprof reads it)")
	fl.StringVar(&f.memProfile, "memprofile", "", "write an allocation profile of the verb to this file when it ends (go tool pprof reads it)")
	_ = fl.MarkHidden("cpuprofile")
	_ = fl.MarkHidden("memprofile")
	// dbt's --models / -m is the legacy name of --select.
	fl.StringArrayVarP(&f.selects, "models", "m", nil, "deprecated alias of --select")
	_ = fl.MarkHidden("models")
}

// project is a loaded project with the console and paths of one invocation.
type project struct {
	*transform.Project
	flags     *dbtFlags
	console   *console
	invocID   string
	started   time.Time
	targetDir string
	// warnings, when set, also receives selection warnings (ls prints
	// nothing else but its list).
	warnings io.Writer
	// parsed is the manifest as loading left the project (uncompiled),
	// made when first needed (parsedManifest).
	parsed *artifacts.Manifest
}

// load reads the project the flags point at.
func (f *dbtFlags) load(cmd *cobra.Command, log *slog.Logger) (*project, error) {
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, invocationError{err: fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
	}
	if err := startProfiles(f.cpuProfile, f.memProfile); err != nil {
		return nil, invocationError{err: err}
	}
	dir := f.projectDir
	if dir == "" {
		dir = os.Getenv("DBT_PROJECT_DIR")
	}
	if dir == "" {
		dir = "."
	}
	p := &project{flags: f, invocID: newInvocationID(), started: time.Now()}
	p.console = newConsole(cmd.OutOrStdout(), f.logFormat == "json", p.invocID)
	opts := []transform.Option{transform.WithLogger(log)}
	if f.profilesDir != "" {
		opts = append(opts, transform.WithProfilesDir(f.profilesDir))
	}
	if f.profile != "" {
		opts = append(opts, transform.WithProfile(f.profile))
	}
	if f.target != "" {
		opts = append(opts, transform.WithTarget(f.target))
	}
	if f.vars != "" {
		opts = append(opts, transform.WithVars(f.vars))
	}
	tp, err := transform.Load(cmd.Context(), dir, opts...)
	if err != nil {
		p.console.info("Running with dataops=%s", dbtVersionString())
		p.console.errorf("Encountered an error:\n%v", err)
		return nil, invocationError{err, true}
	}
	p.Project = tp
	// Console events carry the invocation id the artifacts record.
	if id := tp.InvocationID(); id != "" {
		p.invocID, p.console.invocID = id, id
	}
	p.console.info("Running with dataops=%s", dbtVersionString())
	p.targetDir = f.targetPath
	if p.targetDir == "" {
		p.targetDir = tp.TargetPath
	}
	if p.targetDir == "" {
		p.targetDir = "target"
	}
	if !filepath.IsAbs(p.targetDir) {
		p.targetDir = filepath.Join(tp.Dir, p.targetDir)
	}
	p.console.info("%s", foundLine(tp))
	return p, nil
}

// selection returns the run options' selection part from the flags.
func (p *project) selection() (transform.RunOptions, error) {
	f := p.flags
	mode, err := selector.ParseIndirectSelection(f.indirect)
	if err != nil {
		return transform.RunOptions{}, invocationError{err: err}
	}
	opts := transform.RunOptions{Select: f.selects, Exclude: f.excludes, Selector: f.selectorName, Indirect: mode}
	if f.state != "" {
		st, err := selector.LoadState(f.state)
		if err != nil {
			return opts, invocationError{err: err}
		}
		// source_status compares with the latest source freshness run.
		if cur, err := selector.ReadFreshness(filepath.Join(p.targetDir, "sources.json")); err == nil {
			st.CurrentFreshness = cur
		}
		opts.State = st
	}
	return opts, nil
}

// open connects to the project's target warehouse.
func (p *project) open(ctx context.Context, log *slog.Logger) (*warehouse.Warehouse, error) {
	w, err := p.OpenWarehouse(ctx)
	if err != nil {
		p.console.errorf("Encountered an error:\n%v", err)
		return nil, invocationError{err, true}
	}
	_ = log
	return w, nil
}

// loadOpen loads the project and connects to its target warehouse.
func (f *dbtFlags) loadOpen(cmd *cobra.Command, log *slog.Logger) (*project, *warehouse.Warehouse, error) {
	p, err := f.load(cmd, log)
	if err != nil {
		return nil, nil, err
	}
	w, err := p.open(cmd.Context(), log)
	if err != nil {
		return nil, nil, err
	}
	return p, w, nil
}

// dbtRunVerb builds one of the verbs that run nodes through Project.Run.
func dbtRunVerb(command transform.Command, use, short string) func(func(*cobra.Command) *slog.Logger) *cobra.Command {
	return func(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
		var f dbtFlags
		cmd := &cobra.Command{
			Use:   use,
			Short: short + " (dbt's " + use + ")",
			Long: short + `, as dbt ` + use + ` does, on the project in --project-dir and the profile
target from profiles.yml. Writes target/manifest.json and target/run_results.json.
Exit code 0 when everything passed, 1 when a node failed, 2 when the project or
the invocation is bad.`,
			Example: "  dataops " + use + " --project-dir jaffle_shop --profiles-dir . --select +customers --threads 4",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if f.inline != "" {
					return dbtFinish(cmd, compileInline(cmd, &f, logger(cmd)))
				}
				return dbtFinish(cmd, runVerb(cmd, &f, command, logger(cmd)))
			},
		}
		if command == transform.CommandCompile {
			cmd.Flags().StringVar(&f.inline, "inline", "", "compile this SQL (with Jinja) instead of the project's nodes, and print it")
		}
		f.register(cmd, true)
		cmd.Flags().IntVar(&f.threads, "threads", 0, "nodes to run at once (default: the profile's threads)")
		if command != transform.CommandTest {
			cmd.Flags().BoolVar(&f.fullRefresh, "full-refresh", false, "rebuild incremental models and seeds from scratch")
		}
		if command != transform.CommandCompile {
			cmd.Flags().BoolVarP(&f.failFast, "fail-fast", "x", false, "stop at the first failure")
		}
		return cmd
	}
}

func runVerb(cmd *cobra.Command, f *dbtFlags, command transform.Command, log *slog.Logger) error {
	p, err := f.load(cmd, log)
	if err != nil {
		return err
	}
	opts, err := p.selection()
	if err != nil {
		return err
	}
	opts.Command, opts.Threads, opts.FullRefresh, opts.FailFast, opts.TargetPath = command, f.threads, f.fullRefresh, f.failFast, f.targetPath
	return p.run(cmd.Context(), log, opts)
}

// run executes a command on the project, printing dbt's console lines and
// writing the artifacts.
func (p *project) run(ctx context.Context, log *slog.Logger, opts transform.RunOptions) error {
	if opts.Nodes == nil {
		// Check the selection before connecting, so that a bad selector
		// fails the invocation without a run.
		ids, err := p.SelectNodes(opts)
		if err != nil {
			p.console.errorf("Encountered an error:\n%v", err)
			return invocationError{err, true}
		}
		if len(ids) == 0 {
			p.console.emit("warn", "NothingToDo", "Nothing to do. Try checking your model configs and model specification args", nil)
			// dbt still writes run_results.json, with no results.
			if err := p.writeRunResults(&transform.RunResults{InvocationID: p.invocID, Command: opts.Command, StartedAt: p.started}, opts); err != nil {
				return err
			}
			return p.writeManifest(nil)
		}
		opts.Nodes = ids // Run need not select again
	}
	// dbt writes the parsed manifest before a run, so that tools see the
	// project while it runs. A compile runs nothing: the manifest it writes
	// at the end (with the compiled SQL) is the only one worth its cost.
	if opts.Command != transform.CommandCompile {
		if err := p.writeManifest(nil); err != nil {
			return err
		}
	}
	w, err := p.open(ctx, log)
	if err != nil {
		return err
	}
	defer w.Close()
	threads := opts.Threads
	if threads <= 0 {
		threads = p.Target.Threads
	}
	p.console.info("")
	p.console.info("Concurrency: %d threads (target='%s')", max(threads, 1), p.Target.Name)
	p.console.info("")
	opts.OnEvent = p.console.event
	if opts.Command == transform.CommandCompile {
		// dbt's compile prints no line per node (its CompileRunner's
		// before_execute and after_execute are empty); failures show in
		// the summary.
		opts.OnEvent = nil
	}
	opts.NoArtifacts = true // written below, with the invocation's flags
	res, err := p.Run(ctx, w, opts)
	if opts.Command == transform.CommandCompile && (res == nil || (err != nil && len(res.Results) == 0)) {
		// No results to record: still leave the parsed manifest.
		if werr := p.writeManifest(nil); werr != nil && err == nil {
			err = werr
		}
	}
	if res != nil && (err == nil || len(res.Results) > 0) {
		// The two artifacts are written at once (the manifest is tens of
		// megabytes for a large project; run_results.json one entry per
		// node).
		rrErr := make(chan error, 1)
		go func() { rrErr <- p.writeRunResults(res, opts) }()
		if werr := p.writeManifest(res); werr != nil && err == nil {
			err = werr
		}
		if werr := <-rrErr; werr != nil && err == nil {
			err = werr
		}
		p.console.summary(res)
		if opts.Command == transform.CommandCompile {
			p.printCompiled(res)
		}
	}
	if err != nil {
		p.console.errorf("Encountered an error:\n%v", err)
		return invocationError{err, true}
	}
	if res.Failed() {
		return errNodesFailed
	}
	return nil
}

// dbtFinish maps a verb's error onto dbt's exit codes: nodes that failed
// exit with 1 (the console already said why), an invocation error with 2.
func dbtFinish(cmd *cobra.Command, err error) error {
	stopProfiles()
	var ie invocationError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errNodesFailed):
		dbtExit(exitFailure)
		return err
	case errors.As(err, &ie), errors.Is(err, selector.ErrSyntax), errors.Is(err, selector.ErrUnknownSelector), errors.Is(err, selector.ErrNoState):
		if !ie.shown {
			fmt.Fprintln(cmd.ErrOrStderr(), "dataops:", err)
		}
		dbtExit(exitError)
		return err
	}
	dbtExit(exitFailure)
	return err
}

// newInvocationID returns a random UUID (version 4), as dbt's invocation_id.
func newInvocationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func dbtVersionString() string { return version.String() }

// printCompiled prints the SQL of the one node a compile selected, as dbt
// compile does ("Compiled node 'x' is:").
func (p *project) printCompiled(res *transform.RunResults) {
	var only *transform.NodeResult
	for i := range res.Results {
		r := &res.Results[i]
		if r.CompiledCode == "" || r.Node == nil || r.Node.ResourceType == transform.ResourceTest {
			continue
		}
		if only != nil {
			return
		}
		only = r
	}
	if only != nil {
		p.console.info("Compiled node '%s' is:\n%s", only.Node.Name, only.CompiledCode)
	}
}

// compileInline is dbt's compile --inline: compile SQL as a node of the
// root project would be, and print it.
func compileInline(cmd *cobra.Command, f *dbtFlags, log *slog.Logger) error {
	p, w, err := f.loadOpen(cmd, log)
	if err != nil {
		return err
	}
	defer w.Close()
	sql, err := p.CompileInline(cmd.Context(), w, f.inline)
	if err != nil {
		p.console.errorf("Encountered an error:\n%v", err)
		return invocationError{err, true}
	}
	p.console.info("Compiled inline node is:\n%s", sql)
	return nil
}
