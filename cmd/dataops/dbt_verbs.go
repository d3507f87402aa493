package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/transform"
	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/selector"
	"github.com/dataopskit/dataops/warehouse"
)

// selectIDs runs a selection over the whole project graph (sources and
// exposures included), as ls and source freshness need.
func (p *project) selectIDs(types []string) ([]string, error) {
	opts, err := p.selection()
	if err != nil {
		return nil, err
	}
	sels, err := selector.LoadSelectors(p.Dir, selector.SelectorsOptions{})
	if err != nil {
		return nil, invocationError{err: err}
	}
	macros := map[string]selector.Macro{}
	for id, m := range p.Macros {
		macros[id] = selector.Macro{SQL: m.Source}
	}
	res, err := selector.Select(p.SelectorGraph(), selector.Options{
		Select: opts.Select, Exclude: opts.Exclude, Selector: opts.Selector, Selectors: sels, ResourceTypes: types,
		Indirect: opts.Indirect, State: opts.State, Macros: macros, ProjectName: p.Name,
	})
	if err != nil {
		return nil, invocationError{err: err}
	}
	for _, w := range res.Warnings {
		p.console.emit("warn", "NoNodesForSelectionCriteria", w, nil)
		if p.warnings != nil {
			fmt.Fprintln(p.warnings, w)
		}
	}
	return res.Selected, nil
}

func newDBTListCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f dbtFlags
	var output string
	var types, keys []string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the selected nodes of a dbt project (dbt's ls)",
		Long: `ls lists the nodes a selection picks, one per line: as selectors (the default,
"shop.staging.stg_orders", "source:shop.raw.orders"), names, paths, or JSON objects.`,
		Example: `  dataops ls --select +customers --resource-type model
  dataops ls --output json --output-keys name,resource_type`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, listNodes(cmd, &f, output, types, keys, logger(cmd)))
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVarP(&output, "output", "o", "selector", "what to print per node: selector, name, path or json")
	cmd.Flags().StringSliceVar(&types, "resource-type", nil, "only nodes of these types (model, seed, snapshot, test, source, exposure, analysis; all or default: every type)")
	cmd.Flags().StringSliceVar(&keys, "output-keys", nil, "with --output json, only these keys")
	return cmd
}

func listNodes(cmd *cobra.Command, f *dbtFlags, output string, types, keys []string, log *slog.Logger) error {
	switch output {
	case "selector", "name", "path", "json":
	default:
		return invocationError{err: fmt.Errorf("--output %q: want selector, name, path or json", output)}
	}
	var rt []string
	everything := false
	for _, t := range types {
		switch t {
		case "all", "default":
			everything = true
		case "model", "seed", "snapshot", "test", "source", "exposure", "analysis", "unit_test", "operation", "metric", "semantic_model", "saved_query":
			rt = append(rt, t)
		default:
			return invocationError{err: fmt.Errorf("--resource-type %q: unknown type", t)}
		}
	}
	if everything {
		rt = nil
	}
	p, err := f.loadQuiet(cmd, log)
	if err != nil {
		return err
	}
	ids, err := p.selectIDs(rt)
	if err != nil {
		return err
	}
	var lines []string
	for _, id := range ids {
		line, ok := p.listLine(id, output, keys)
		if ok {
			lines = append(lines, line)
		}
	}
	sort.Strings(lines)
	out := cmd.OutOrStdout()
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return nil
}

// listLine is one line of ls output for a node, source, exposure or unit
// test of the manifest.
func (p *project) listLine(id, output string, keys []string) (string, bool) {
	m := p.parsedManifest()
	var name, rtype, pkg, path string
	var fqn, tags, deps []string
	var cfg map[string]any
	var alias *string
	switch {
	case m.Nodes[id] != nil:
		n := m.Nodes[id]
		name, rtype, pkg, path, fqn, tags, deps, cfg, alias = n.Name, n.ResourceType, n.PackageName, n.OriginalFilePath, n.FQN, n.Tags, n.DependsOn.Nodes, n.Config, &n.Alias
	case m.Sources[id] != nil:
		s := m.Sources[id]
		name, rtype, pkg, path, fqn, tags, cfg = s.SourceName+"."+s.Name, "source", s.PackageName, s.OriginalFilePath, s.FQN, s.Tags, s.Config
	case m.Exposures[id] != nil:
		e := m.Exposures[id]
		name, rtype, pkg, path, fqn, tags, deps, cfg = e.Name, "exposure", e.PackageName, e.OriginalFilePath, e.FQN, e.Tags, e.DependsOn.Nodes, e.Config
	case m.UnitTests[id] != nil:
		u := m.UnitTests[id]
		name, rtype, pkg, path, fqn, deps, cfg = u.Name, "unit_test", u.PackageName, u.OriginalFilePath, u.FQN, u.DependsOn.Nodes, u.Config
	default:
		return "", false
	}
	switch output {
	case "name":
		return name, true
	case "path":
		return path, true
	case "json":
		if cfg == nil {
			cfg = map[string]any{}
		}
		obj := map[string]any{
			"name": name, "resource_type": rtype, "package_name": pkg, "original_file_path": path, "unique_id": id,
			"config": cfg, "tags": nonNil(tags), "depends_on": map[string]any{"nodes": nonNil(deps)},
		}
		if alias != nil {
			obj["alias"] = *alias
		}
		if rtype == "source" {
			obj["source_name"] = m.Sources[id].SourceName
		}
		if len(keys) > 0 {
			kept := map[string]any{}
			for _, k := range keys {
				if v, ok := obj[k]; ok {
					kept[k] = v
				}
			}
			obj = kept
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	sel := strings.Join(fqn, ".")
	switch rtype {
	case "source":
		sel = "source:" + sel
	case "exposure":
		sel = "exposure:" + sel
	case "unit_test":
		sel = "unit_test:" + sel
	}
	return sel, true
}

// loadQuiet loads the project without console lines (ls prints only its
// list).
func (f *dbtFlags) loadQuiet(cmd *cobra.Command, log *slog.Logger) (*project, error) {
	saved := cmd.OutOrStdout()
	cmd.SetOut(io.Discard)
	p, err := f.load(cmd, log)
	cmd.SetOut(saved)
	if p != nil {
		p.console.w = io.Discard
		p.warnings = cmd.ErrOrStderr()
	}
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Encountered an error:\n%v\n", err)
	}
	return p, err
}

func newDBTParseCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f dbtFlags
	cmd := &cobra.Command{
		Use:   "parse",
		Short: "Parse a dbt project and write target/manifest.json (dbt's parse)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, func() error {
				p, err := f.load(cmd, logger(cmd))
				if err != nil {
					return err
				}
				if err := p.writeManifest(nil); err != nil {
					return err
				}
				p.console.info("Wrote %s", filepath.Join(p.targetDir, "manifest.json"))
				return nil
			}())
		},
	}
	f.register(cmd, false)
	return cmd
}

func newDBTCleanCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var projectDir string
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Delete the project's clean-targets (dbt's clean)",
		Long: `clean deletes the directories dbt_project.yml lists under clean-targets (by default
the target path). It refuses to delete anything outside the project directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, clean(cmd.OutOrStdout(), projectDir))
		},
	}
	cmd.Flags().StringVar(&projectDir, "project-dir", "", "directory holding dbt_project.yml (default: the current directory)")
	return cmd
}

func clean(out io.Writer, dir string) error {
	if dir == "" {
		dir = os.Getenv("DBT_PROJECT_DIR")
	}
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return invocationError{err: err}
	}
	file := filepath.Join(abs, "dbt_project.yml")
	data, err := os.ReadFile(file)
	if err != nil {
		return invocationError{err: fmt.Errorf("no dbt project in %s: %w", abs, err)}
	}
	var cfg struct {
		TargetPath   string   `yaml:"target-path"`
		CleanTargets []string `yaml:"clean-targets"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return invocationError{err: fmt.Errorf("%s: %s", file, yaml.FormatError(err, false, false))}
	}
	targets := cfg.CleanTargets
	if targets == nil {
		t := cfg.TargetPath
		if t == "" {
			t = "target"
		}
		targets = []string{t}
	}
	c := newConsole(out, false, "")
	for _, t := range targets {
		path := t
		if !filepath.IsAbs(path) {
			path = filepath.Join(abs, t)
		}
		rel, err := filepath.Rel(abs, path)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return invocationError{err: fmt.Errorf("clean-targets: %q is not inside the project directory %s; not deleting it", t, abs)}
		}
		c.info("Checking %s/*", t)
		if err := os.RemoveAll(path); err != nil {
			return invocationError{err: err}
		}
		c.info("  Cleaned %s/*", t)
	}
	c.info("Finished cleaning all paths.")
	return nil
}

func newDBTDocsCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	docs := &cobra.Command{Use: "docs", Short: "Generate the project's documentation artifacts (dbt's docs)"}
	var f dbtFlags
	var noCompile bool
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Write target/manifest.json and target/catalog.json (the columns and types of every relation)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, docsGenerate(cmd, &f, noCompile, logger(cmd)))
		},
	}
	f.register(gen, true)
	gen.Flags().IntVar(&f.threads, "threads", 0, "nodes to compile at once (default: the profile's threads)")
	gen.Flags().BoolVar(&noCompile, "no-compile", false, "do not compile the project first")
	docs.AddCommand(gen)
	return docs
}

func docsGenerate(cmd *cobra.Command, f *dbtFlags, noCompile bool, log *slog.Logger) error {
	ctx := cmd.Context()
	p, w, err := f.loadOpen(cmd, log)
	if err != nil {
		return err
	}
	defer w.Close()
	var res *transform.RunResults
	if !noCompile {
		opts, err := p.selection()
		if err != nil {
			return err
		}
		opts.Command, opts.Threads, opts.TargetPath = transform.CommandCompile, f.threads, f.targetPath
		if res, err = p.Run(ctx, w, opts); err != nil {
			return invocationError{err: err}
		}
	}
	if !noCompile { // dbt writes no manifest with --no-compile
		if err := p.writeManifest(res); err != nil {
			return err
		}
	}
	if err := copyAssets(p.Dir, p.targetDir); err != nil {
		return invocationError{err: err}
	}
	p.console.info("Building catalog")
	cat, err := buildCatalog(ctx, p, w)
	if err != nil {
		return invocationError{err: err}
	}
	path := filepath.Join(p.targetDir, "catalog.json")
	if err := artifacts.WriteFile(path, cat); err != nil {
		return invocationError{err: err}
	}
	p.console.info("Catalog written to %s", path)
	return nil
}

// buildCatalog introspects the relations of the project's models, seeds,
// snapshots and sources: those that exist go into the catalog with their
// columns in order.
func buildCatalog(ctx context.Context, p *project, w *warehouse.Warehouse) (*artifacts.Catalog, error) {
	md := artifacts.NewMetadata(artifacts.CatalogV1, p.invocID)
	md.InvocationStartedAt = artifacts.Str(artifacts.Timestamp(p.started))
	cat := artifacts.NewCatalog(md)
	table := func(id string, rel warehouse.Relation) (*artifacts.CatalogTable, error) {
		info, err := w.Relation(ctx, rel)
		if err != nil {
			if errors.Is(err, warehouse.ErrNotFound) {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		cols, err := w.Columns(ctx, rel)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		kind := "BASE TABLE"
		if info.Kind == warehouse.KindView {
			kind = "VIEW"
		}
		t := &artifacts.CatalogTable{
			Metadata: artifacts.TableMetadata{Type: kind, Schema: info.Schema, Name: info.Name, Database: strOrNil(info.Database), Owner: catalogOwner(ctx, w, rel)},
			Columns:  map[string]*artifacts.CatalogColumn{}, Stats: artifacts.NoStats(), UniqueID: artifacts.Str(id),
		}
		if t.Metadata.Schema == "" {
			t.Metadata.Schema = rel.Schema
		}
		if t.Metadata.Name == "" {
			t.Metadata.Name = rel.Name
		}
		for i, c := range cols {
			typ := c.Type.Native
			if typ == "" {
				typ = fmt.Sprint(c.Type.Kind)
			}
			t.Columns[c.Name] = &artifacts.CatalogColumn{Type: catalogType(w, typ), Index: i + 1, Name: c.Name}
		}
		return t, nil
	}
	for _, id := range sortedKeys(p.Nodes) {
		n := p.Nodes[id]
		switch n.ResourceType {
		case transform.ResourceModel, transform.ResourceSeed, transform.ResourceSnapshot:
		default:
			continue
		}
		if n.Config.Materialized == "ephemeral" {
			continue
		}
		t, err := table(id, n.Relation())
		if err != nil {
			return nil, err
		}
		if t != nil {
			cat.Nodes[id] = t
		}
	}
	for _, id := range sortedKeys(p.Sources) {
		t, err := table(id, p.Sources[id].Relation())
		if err != nil {
			return nil, err
		}
		if t != nil {
			cat.Sources[id] = t
		}
	}
	return cat, nil
}

func newDBTRetryCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f dbtFlags
	cmd := &cobra.Command{
		Use:   "retry",
		Short: "Re-run the nodes that errored, failed or were skipped in the previous run (dbt's retry)",
		Long: `retry reads target/run_results.json, and runs the command it records again over the
nodes whose status was error, fail or skipped, with the same threads and full-refresh.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, retry(cmd, &f, logger(cmd)))
		},
	}
	f.register(cmd, false)
	cmd.Flags().IntVar(&f.threads, "threads", 0, "nodes to run at once (default: as the previous run)")
	return cmd
}

func retry(cmd *cobra.Command, f *dbtFlags, log *slog.Logger) error {
	p, err := f.load(cmd, log)
	if err != nil {
		return err
	}
	path := filepath.Join(p.targetDir, "run_results.json")
	prev, err := artifacts.ReadRunResults(path)
	if err != nil {
		return invocationError{err: fmt.Errorf("no previous run to retry: %w", err)}
	}
	which, _ := prev.Args["which"].(string)
	command := transform.Command(which)
	switch command {
	case transform.CommandRun, transform.CommandTest, transform.CommandBuild, transform.CommandSeed, transform.CommandSnapshot, transform.CommandCompile:
	default:
		return invocationError{err: fmt.Errorf("%s: the previous command %q cannot be retried", path, which)}
	}
	ids := []string{}
	for _, r := range prev.Results {
		switch r.Status {
		case artifacts.StatusError, artifacts.StatusFail, artifacts.StatusSkipped, artifacts.StatusRuntimeError:
			if _, ok := p.Nodes[r.UniqueID]; ok {
				ids = append(ids, r.UniqueID)
			}
		}
	}
	if len(ids) == 0 {
		p.console.info("Nothing to do: the previous %s had no errors, failures or skipped nodes.", which)
		return nil
	}
	opts := transform.RunOptions{Command: command, Nodes: ids, Threads: f.threads, TargetPath: f.targetPath}
	if opts.Threads == 0 {
		if t, ok := prev.Args["threads"].(float64); ok {
			opts.Threads = int(t)
		}
	}
	opts.FullRefresh, _ = prev.Args["full_refresh"].(bool)
	opts.FailFast, _ = prev.Args["fail_fast"].(bool)
	return p.run(cmd.Context(), log, opts)
}

func newDBTShowCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f dbtFlags
	var inline string
	var limit int
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Compile a node (or plain SQL with --inline) and print the first rows of its result (dbt's show)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, show(cmd, &f, inline, limit, logger(cmd)))
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&inline, "inline", "", "SQL (with Jinja: ref, source, macros) to run instead of a node")
	cmd.Flags().IntVar(&limit, "limit", 5, "rows to show (negative: all)")
	return cmd
}

func show(cmd *cobra.Command, f *dbtFlags, inline string, limit int, log *slog.Logger) error {
	ctx := cmd.Context()
	if inline == "" && len(f.selects) == 0 && f.selectorName == "" {
		return invocationError{err: errors.New("show needs --select or --inline")}
	}
	p, w, err := f.loadOpen(cmd, log)
	if err != nil {
		return err
	}
	defer w.Close()
	type preview struct{ name, sql string }
	var previews []preview
	if inline != "" {
		sql, err := p.CompileInline(ctx, w, inline)
		if err != nil {
			p.console.errorf("Encountered an error:\n%v", err)
			return invocationError{err, true}
		}
		previews = append(previews, preview{"inline", sql})
	} else {
		opts, err := p.selection()
		if err != nil {
			return err
		}
		opts.Command = transform.CommandCompile
		ids, err := p.SelectNodes(opts)
		if err != nil {
			return invocationError{err: err}
		}
		var nodes []string
		for _, id := range ids {
			if n := p.Nodes[id]; n != nil && n.ResourceType != transform.ResourceTest {
				nodes = append(nodes, id)
			}
		}
		if len(nodes) == 0 {
			return invocationError{err: errors.New("show: the selection matched no model, seed, snapshot or analysis")}
		}
		sqls, err := p.Compile(ctx, w, transform.CompileOptions{Nodes: nodes, TargetPath: f.targetPath})
		if err != nil {
			return invocationError{err: err}
		}
		for _, id := range nodes {
			sql := sqls[id]
			if p.Nodes[id].ResourceType == transform.ResourceSeed {
				sql = "select * from " + quoteRel(p.Nodes[id].Relation())
			}
			previews = append(previews, preview{p.Nodes[id].Name, sql})
		}
	}
	for _, pv := range previews {
		q := "select * from (\n" + strings.TrimRight(strings.TrimSpace(pv.sql), ";") + "\n) as dbt_show_subquery"
		var args []any
		if limit >= 0 {
			q += " limit $1"
			args = append(args, limit)
		}
		var header []string
		var rows [][]string
		for rec, err := range w.Rows(ctx, q, args...) {
			if err != nil {
				p.console.errorf("Encountered an error:\n%s: %v", pv.name, err)
				return invocationError{err: fmt.Errorf("show %s: %w", pv.name, err)}
			}
			if header == nil {
				for _, c := range rec.Columns {
					header = append(header, c.Name)
				}
			}
			row := make([]string, len(rec.Values))
			for i, v := range rec.Values {
				row[i] = showValue(v)
			}
			rows = append(rows, row)
		}
		p.console.info("Previewing node '%s':", pv.name)
		fmt.Fprint(cmd.OutOrStdout(), markdownTable(header, rows))
	}
	return nil
}

func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999")
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// markdownTable renders rows as dbt show does: a pipe table padded to the
// widest value of each column.
func markdownTable(header []string, rows [][]string) string {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, v := range r {
			if i < len(widths) && len([]rune(v)) > widths[i] {
				widths[i] = len([]rune(v))
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, w := range widths {
			v := ""
			if i < len(cells) {
				v = cells[i]
			}
			b.WriteString(" " + v + strings.Repeat(" ", w-len([]rune(v))) + " |")
		}
		b.WriteString("\n")
	}
	line(header)
	dashes := make([]string, len(widths))
	for i, w := range widths {
		dashes[i] = strings.Repeat("-", w)
	}
	line(dashes)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

func newDBTRunOperationCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f dbtFlags
	var args string
	cmd := &cobra.Command{
		Use:   "run-operation MACRO",
		Short: "Run a macro with arguments (dbt's run-operation)",
		Long: `run-operation calls a macro of the project, of a package ("package.macro") or of
dbt's built-ins with --args as keyword arguments; its run_query and statement
calls run on the target. Exit code 1 when the macro fails.`,
		Example: "  dataops run-operation grant_select --args '{role: reporter}'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return dbtFinish(cmd, runOperation(cmd, &f, a[0], args, logger(cmd)))
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&args, "args", "", "the macro's keyword arguments as a YAML mapping")
	return cmd
}

func runOperation(cmd *cobra.Command, f *dbtFlags, name, rawArgs string, log *slog.Logger) error {
	kwargs := map[string]any{}
	if strings.TrimSpace(rawArgs) != "" {
		if err := yaml.Unmarshal([]byte(rawArgs), &kwargs); err != nil {
			return invocationError{err: fmt.Errorf("--args: not a YAML mapping: %s", yaml.FormatError(err, false, false))}
		}
	}
	p, w, err := f.loadOpen(cmd, log)
	if err != nil {
		return err
	}
	defer w.Close()
	ret, err := p.RunOperation(cmd.Context(), w, name, kwargs)
	if err != nil {
		p.console.errorf("Encountered an error while running operation: %v", err)
		return errNodesFailed
	}
	log.Debug("run-operation returned", "macro", name, "value", ret)
	return nil
}
