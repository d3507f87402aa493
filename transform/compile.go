package transform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dataopskit/dataops/transform/materialize"
	"github.com/dataopskit/dataops/warehouse"
)

// CompileOptions configures Project.Compile.
type CompileOptions struct {
	// Nodes lists the unique ids to compile; nil compiles every model,
	// snapshot, test and analysis.
	Nodes []string
	// TargetPath overrides the project's target-path for the compiled
	// files; "-" writes no files.
	TargetPath string
	// FullRefresh makes is_incremental() false, as dbt's --full-refresh.
	FullRefresh bool
}

// compiler renders nodes with execute=true, once each, injecting
// ephemeral models as CTEs.
type compiler struct {
	p     *Project
	w     *warehouse.Warehouse
	full  bool
	which string // the command, for flags.WHICH
	dir   string // target path (absolute) or "" for no files

	mu   sync.Mutex
	done map[string]*compiled
	dirs sync.Map // directories of compiled files made, as keys
}

type compiled struct {
	once sync.Once
	sql  string
	err  error
}

func (p *Project) newCompiler(w *warehouse.Warehouse, targetPath string, full bool) *compiler {
	c := &compiler{p: p, w: w, full: full, done: map[string]*compiled{}}
	switch targetPath {
	case "-":
	case "":
		c.dir = p.targetDir()
	default:
		c.dir = targetPath
		if !filepath.IsAbs(c.dir) {
			c.dir = filepath.Join(p.Dir, c.dir)
		}
	}
	return c
}

func (p *Project) targetDir() string {
	if filepath.IsAbs(p.TargetPath) {
		return p.TargetPath
	}
	return filepath.Join(p.Dir, p.TargetPath)
}

// Compile renders the SQL of the given nodes (all when opts.Nodes is nil)
// with execute=true and writes it under target/compiled/<package>/<path>.
// With a warehouse, introspective macros (run_query, adapter.get_relation,
// is_incremental) query it; with w nil they see an empty warehouse. It
// returns the compiled SQL by unique id.
func (p *Project) Compile(ctx context.Context, w *warehouse.Warehouse, opts CompileOptions) (map[string]string, error) {
	c := p.newCompiler(w, opts.TargetPath, opts.FullRefresh)
	ids := opts.Nodes
	if ids == nil {
		for _, n := range p.NodesOf(ResourceModel, ResourceSnapshot, ResourceTest, ResourceAnalysis) {
			ids = append(ids, n.UniqueID)
		}
	}
	nodes := make([]*Node, 0, len(ids))
	for _, id := range ids {
		n, ok := p.Nodes[id]
		if !ok {
			return nil, fmt.Errorf("compile: no node %q", id)
		}
		if n.ResourceType == ResourceSeed {
			continue
		}
		nodes = append(nodes, n)
	}
	if len(c.done) == 0 {
		c.done = make(map[string]*compiled, len(nodes))
	}
	sqls := make([]string, len(nodes))
	if err := forEach(ctx, len(nodes), func(ctx context.Context, i int) error {
		sql, err := c.compile(ctx, nodes[i])
		sqls[i] = sql
		return err
	}); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(nodes))
	for i, n := range nodes {
		out[n.UniqueID] = sqls[i]
	}
	return out, nil
}

// compile renders n (once per compiler).
func (c *compiler) compile(ctx context.Context, n *Node) (string, error) {
	c.mu.Lock()
	e := c.done[n.UniqueID]
	if e == nil {
		e = &compiled{}
		c.done[n.UniqueID] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		e.sql, e.err = c.render(ctx, n)
		if e.err == nil && c.dir != "" {
			e.err = c.write("compiled", n, e.sql)
		}
	})
	return e.sql, e.err
}

func (c *compiler) render(ctx context.Context, n *Node) (string, error) {
	return c.renderWith(ctx, n, nil, nil)
}

// renderWith renders n; refs and sources named in refAs / srcAs (by unique
// id) render as those names instead of their relations (unit test
// fixtures).
func (c *compiler) renderWith(ctx context.Context, n *Node, refAs, srcAs map[string]string) (string, error) {
	p := c.p
	t, err := p.compileTemplate(n)
	if err != nil {
		return "", err
	}
	var ephemerals []*Node
	st := &renderState{p: p, node: n, results: map[string]any{}, w: c.w, which: c.which, fullRef: c.full || (n.Config.FullRefresh != nil && *n.Config.FullRefresh)}
	if n.Config.FullRefresh != nil && !*n.Config.FullRefresh {
		st.fullRef = false
	}
	if srcAs != nil {
		st.srcRel = func(s *Source) (Relation, error) {
			if name, ok := srcAs[s.UniqueID]; ok {
				return Relation{Identifier: name, Type: "cte", cte: name}, nil
			}
			return p.relation(s.Database, s.Schema, s.Identifier, "table"), nil
		}
	}
	st.refRel = func(t *Node) (Relation, error) {
		if name, ok := refAs[t.UniqueID]; ok {
			return Relation{Identifier: name, Type: "cte", cte: name}, nil
		}
		if t.Config.Materialized == "ephemeral" {
			seen := false
			for _, e := range ephemerals {
				seen = seen || e == t
			}
			if !seen {
				ephemerals = append(ephemerals, t)
			}
		}
		return p.nodeRelation(t), nil
	}
	rctx := context.WithValue(ctx, stateKey{}, st)
	var vars map[string]any
	if n.Test != nil {
		builtin := p.builtinTest(n)
		kw, err := p.testKwargsShare(rctx, n, builtin)
		if err != nil {
			return "", err
		}
		if builtin && len(ephemerals) == 0 {
			// dbt's own generic tests, not overridden: their SQL comes
			// from materialize.GenericTest without a render.
			if sql, ok := builtinTestSQL(n, kw); ok {
				return sql, nil
			}
		}
		if builtin {
			// The render gets arguments of its own (it may change them).
			if kw, err = p.testKwargs(rctx, n); err != nil {
				return "", err
			}
		}
		vars = p.nodeVars(n)
		vars = map[string]any{"model": vars["model"], "this": vars["this"], "_dbt_generic_test_kwargs": kw}
	}
	if vars == nil {
		vars = p.nodeVars(n)
	}
	sql, err := t.Render(rctx, vars)
	if err != nil {
		return "", err
	}
	if n.Test != nil {
		sql = strings.TrimSpace(sql)
	}
	if len(ephemerals) == 0 {
		return sql, nil
	}
	var ctes []string
	for _, e := range ephemerals {
		esql, err := c.compile(ctx, e)
		if err != nil {
			return "", fmt.Errorf("ephemeral model %s (needed by %s): %w", e.Name, n.Name, err)
		}
		ctes = append(ctes, "__dbt__cte__"+e.Name+" as (\n"+esql+"\n)")
	}
	return injectCTEs(sql, ctes), nil
}

// injectCTEs puts ctes in front of sql, joining an existing leading WITH.
func injectCTEs(sql string, ctes []string) string {
	joined := strings.Join(ctes, ", ")
	i := skipSpaceAndComments(sql)
	rest := sql[i:]
	if len(rest) > 4 && strings.EqualFold(rest[:4], "with") && isSpace(rest[4]) {
		rest2 := strings.TrimLeft(rest[4:], " \t\r\n")
		if !strings.HasPrefix(strings.ToLower(rest2), "recursive") {
			return sql[:i] + "with " + joined + ",\n" + rest2
		}
	}
	return "with " + joined + "\n" + sql
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

func skipSpaceAndComments(s string) int {
	i := 0
	for i < len(s) {
		switch {
		case isSpace(s[i]):
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i:], "*/")
			if j < 0 {
				return len(s)
			}
			i += j + 2
		default:
			return i
		}
	}
	return i
}

// filePath is where a node's compiled or run SQL goes under target/.
func (c *compiler) filePath(kind string, n *Node) string {
	p := n.OriginalFilePath
	if n.Test != nil {
		p = filepath.Join(n.OriginalFilePath, n.Path)
	}
	return filepath.Join(c.dir, kind, n.Package, p)
}

func (c *compiler) write(kind string, n *Node, sql string) error {
	path := c.filePath(kind, n)
	// Each directory is made once per compile: 30,000 files share a few
	// hundred directories, and MkdirAll stats the directory every time.
	if dir := filepath.Dir(path); !c.hasDir(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		c.dirs.Store(dir, struct{}{})
	}
	return overwriteFile(path, sql)
}

// hasDir reports whether this compile made (or found) dir already.
func (c *compiler) hasDir(dir string) bool {
	_, ok := c.dirs.Load(dir)
	return ok
}

// renderSQL renders a hook or operation with the project context (and a
// node, if any), execute=true.
func (c *compiler) renderSQL(ctx context.Context, n *Node, name, src string) (string, error) {
	if !strings.Contains(src, "{") {
		return src, nil
	}
	t, err := c.p.cachedTemplate(src)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	st := &renderState{p: c.p, node: n, results: map[string]any{}, w: c.w, which: c.which, fullRef: c.full}
	var vars map[string]any
	if n != nil {
		vars = c.p.nodeVars(n)
	}
	out, err := t.Render(context.WithValue(ctx, stateKey{}, st), vars)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// builtinTestSQL renders one of dbt's four generic tests in Go; false if
// its arguments are not the plain ones (the Jinja macros then render it).
func builtinTestSQL(n *Node, kw map[string]any) (string, bool) {
	model, ok := kw["model"].(Relation)
	if !ok || model.cte != "" {
		return "", false
	}
	g := materialize.GenericTest{Name: n.Test.Name, Model: model.String(), ColumnName: asString(kw["column_name"])}
	switch n.Test.Name {
	case "accepted_values":
		vals, ok := kw["values"].([]any)
		if !ok {
			return "", false
		}
		g.Values = vals
		if q, ok := kw["quote"]; ok {
			b, isBool := q.(bool)
			if !isBool {
				return "", false
			}
			g.Quote = &b
		}
	case "relationships":
		to, ok := kw["to"].(Relation)
		if !ok || to.cte != "" {
			return "", false
		}
		g.To, g.Field = to.String(), asString(kw["field"])
	}
	store := n.Config.StoreFailures != nil && *n.Config.StoreFailures
	sql, err := g.SQL(store)
	if err != nil {
		return "", false
	}
	return sql, true
}
