package transform

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dataopskit/dataops/transform/jinja"
	"github.com/dataopskit/dataops/transform/materialize"
)

// ErrCycle is matched by the error Load returns for a cycle in the DAG.
var ErrCycle = errors.New("dependency cycle")

// ErrMissingRef is matched by the error for a ref() or source() that names
// nothing.
var ErrMissingRef = errors.New("reference to a missing node")

// parse runs the parse render of every node, resolves configs and names,
// and builds the DAG.
func (p *Project) parse(ctx context.Context, l *loader) error {
	p.publishMacros()
	p.addGlobals(map[string]any{
		"project_name":          p.Name,
		"get_where_subquery":    jinja.ContextFunc(p.jinjaWhereSubquery),
		"should_store_failures": jinja.ContextFunc(p.jinjaShouldStoreFailures),
	})
	nodes := p.sortedNodes()
	// Base configs (project trees) and YAML configs, in parallel; their
	// warnings are given afterwards in node order, as one pass would.
	type warning struct{ key, msg string }
	warns := make([][]warning, len(nodes))
	if err := forEach(ctx, len(nodes), func(_ context.Context, i int) error {
		n := nodes[i]
		warn := func(key, msg string) { warns[i] = append(warns[i], warning{key, msg}) }
		cfg := l.baseConfig(n, warn)
		for _, k := range sortedKeys(n.parsed) {
			if !knownConfigs[k] {
				warn("cfg:"+k, fmt.Sprintf("%s: unknown config key %q (ignored by the runner)", n.OriginalFilePath, k))
			}
			mergeConfig(cfg, k, n.parsed[k])
		}
		n.Config.Raw = cfg
		return nil
	}); err != nil {
		return err
	}
	for _, ws := range warns {
		for _, w := range ws {
			l.warnOnce(w.key, w.msg)
		}
	}
	// Parse renders, in parallel; each node's final config follows its
	// render (config() calls merged over the base).
	var mu sync.Mutex
	var unknown []string
	if err := forEach(ctx, len(nodes), func(ctx context.Context, i int) error {
		n := nodes[i]
		switch n.ResourceType {
		case ResourceSeed:
		case ResourceUnitTest:
			n.Refs = [][]string{{n.Unit.Model}}
		default:
			if err := p.parseNode(ctx, n); err != nil {
				return err
			}
			for k := range n.ucfg {
				if !knownConfigs[k] {
					mu.Lock()
					unknown = append(unknown, n.OriginalFilePath+"\x00"+k)
					mu.Unlock()
				}
			}
		}
		for _, k := range sortedKeys(n.ucfg) {
			mergeConfig(n.Config.Raw, k, n.ucfg[k])
		}
		n.Config = typedConfig(n.Config.Raw)
		n.Tags = n.Config.Tags
		return nil
	}); err != nil {
		return err
	}
	sort.Strings(unknown)
	for _, u := range unknown {
		f, k, _ := strings.Cut(u, "\x00")
		l.warnOnce("cfg:"+k, fmt.Sprintf("%s: unknown config key %q (ignored by the runner)", f, k))
	}
	// Drop disabled nodes.
	for _, n := range nodes {
		if !n.Config.Enabled {
			delete(p.Nodes, n.UniqueID)
		}
	}
	// Tests attached to disabled nodes go too.
	for id, n := range p.Nodes {
		if n.AttachedNode != "" && strings.HasPrefix(n.AttachedNode, "model.") {
			if _, ok := p.Nodes[n.AttachedNode]; !ok {
				delete(p.Nodes, id)
			}
		}
		if n.Unit != nil {
			if _, ok := p.Nodes["model."+n.Package+"."+n.Unit.Model]; !ok {
				if _, err := p.resolveRef(n, "", n.Unit.Model); err != nil {
					delete(p.Nodes, id)
					l.warnOnce("unit:"+id, fmt.Sprintf("%s: unit test %s tests model %q, which does not exist or is disabled; ignored", n.yamlKey, n.Name, n.Unit.Model))
				}
			}
		}
	}
	nodes = p.sortedNodes()
	if err := p.resolveNames(ctx, nodes); err != nil {
		return err
	}
	if err := p.renderDescriptions(ctx, nodes); err != nil {
		return err
	}
	if err := p.resolveDeps(ctx, nodes); err != nil {
		return err
	}
	for _, e := range p.Exposures {
		deps := map[string]bool{}
		for _, r := range e.Refs {
			t, err := p.resolveRef(nil, refPkg(r), r[len(r)-1])
			if err != nil {
				return fmt.Errorf("exposure %s (%s): %w", e.Name, e.OriginalFilePath, err)
			}
			deps[t.UniqueID] = true
		}
		for _, s := range e.SourceRefs {
			src, err := p.resolveSource(nil, s[0], s[1])
			if err != nil {
				return fmt.Errorf("exposure %s (%s): %w", e.Name, e.OriginalFilePath, err)
			}
			deps[src.UniqueID] = true
		}
		e.DependsOn = sortedIDs(deps)
	}
	p.buildChildren(nodes)
	if err := p.checkCycles(nodes); err != nil {
		return err
	}
	p.addGlobals(map[string]any{"execute": true})
	p.state.execute = true
	return nil
}

func refPkg(r []string) string {
	if len(r) == 2 {
		return r[0]
	}
	return ""
}

// compileTemplate compiles the node's raw code once.
func (p *Project) compileTemplate(n *Node) (*jinja.Template, error) {
	if n.tmpl != nil {
		return n.tmpl, nil
	}
	name := n.OriginalFilePath
	if n.file != "" {
		name = rel(p.Dir, n.file)
	}
	if n.Test != nil {
		name = n.yamlKey + " (test " + n.Name + ")"
	}
	src := n.RawCode
	if n.Line > 1 && n.ResourceType == ResourceSnapshot {
		// Keep line numbers of snapshot blocks right in errors.
		src = strings.Repeat("\n", n.Line-1) + src
	}
	if n.Test != nil && n.Test.Name != "" {
		// Generic tests share their one-line template.
		t, err := p.cachedTemplate(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		n.tmpl = t
		return t, nil
	}
	t, err := p.jenv.Compile(name, src)
	if err != nil {
		return nil, err
	}
	n.tmpl = t
	return t, nil
}

func (p *Project) parseNode(ctx context.Context, n *Node) error {
	t, err := p.compileTemplate(n)
	if err != nil {
		return err
	}
	st := &renderState{p: p, node: n, parse: true, cfg: map[string]any{}, results: map[string]any{}}
	rctx := context.WithValue(ctx, stateKey{}, st)
	var vars map[string]any
	if n.Test != nil && p.builtinTest(n) {
		// dbt's own generic tests: what the parse render needs from the
		// arguments is the refs and sources they name, and their errors.
		if err := p.testKwargsParse(rctx, n); err != nil {
			return err
		}
	} else if n.Test != nil {
		kw, err := p.testKwargs(rctx, n)
		if err != nil {
			return err
		}
		if !p.builtinTest(n) {
			vars = p.nodeVars(n)
			vars = map[string]any{"model": vars["model"], "this": vars["this"], "_dbt_generic_test_kwargs": kw}
		}
	} else {
		vars = p.nodeVars(n)
	}
	if p.builtinTest(n) {
		// dbt's own generic tests call neither ref nor config: their
		// arguments were all the parse render needed.
	} else if _, err := t.Render(rctx, vars); err != nil {
		if n.Test != nil {
			return fmt.Errorf("%s: test %s: %w", n.yamlKey, n.Name, err)
		}
		return err
	}
	n.Refs = st.refs
	n.SourceRefs = st.srcs
	n.ucfg = st.cfg
	if n.Test != nil {
		n.DependsOnMacros = []string{"macro.dbt.test_" + n.Test.Name}
		if n.Test.Namespace != "" {
			n.DependsOnMacros = []string{"macro." + n.Test.Namespace + ".test_" + n.Test.Name}
		}
	}
	return nil
}

// builtinTest reports whether n is one of dbt's four generic tests that no
// project or package overrides.
func (p *Project) builtinTest(n *Node) bool {
	if n.Test == nil || n.Test.Namespace != "" {
		return false
	}
	switch n.Test.Name {
	case "unique", "not_null", "accepted_values", "relationships":
	default:
		return false
	}
	v, ok := p.state.overrides.Load(n.Test.Name)
	if !ok {
		v = p.overridden("test_" + n.Test.Name)
		p.state.overrides.Store(n.Test.Name, v)
	}
	return !v.(bool)
}

// nodeVars are the per-node names of a render: this, model, and the node's
// own package name for macros.
func (p *Project) nodeVars(n *Node) map[string]any {
	if n.Alias != "" {
		if v := n.vars.Load(); v != nil {
			return *v
		}
		vars := map[string]any{"model": modelObj{n}, "this": p.nodeRelation(n)}
		n.vars.Store(&vars)
		return vars
	}
	return map[string]any{"model": modelObj{n}, "this": p.relation(p.Target.Database, p.Target.Schema, n.Name, "table")}
}

// modelObj is the Jinja `model`: the node's attributes, built on access.
type modelObj struct{ n *Node }

// GetAttr implements jinja.Object.
func (m modelObj) GetAttr(name string) (any, bool) {
	if name == "get" {
		return jinja.Func(func(args []any, _ map[string]any) (any, error) {
			if v, ok := m.n.project.modelDict(m.n)[asString(firstArg(args))]; ok {
				return v, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, nil
		}), true
	}
	v, ok := m.n.project.modelDict(m.n)[name]
	return v, ok
}

func (p *Project) modelDict(n *Node) map[string]any {
	cols := map[string]any{}
	for _, c := range n.Columns {
		cols[c.Name] = map[string]any{"name": c.Name, "description": c.Description, "data_type": c.DataType, "meta": c.Meta}
	}
	m := map[string]any{
		"unique_id": n.UniqueID, "name": n.Name, "resource_type": string(n.ResourceType),
		"package_name": n.Package, "path": n.Path, "original_file_path": n.OriginalFilePath,
		"fqn": n.FQN, "config": n.Config.Raw, "tags": n.Tags, "alias": n.Alias, "schema": n.Schema,
		"database": n.Database, "raw_code": n.RawCode, "raw_sql": n.RawCode, "columns": cols,
		"meta": n.Meta, "description": n.Description, "refs": n.Refs,
	}
	if n.Test != nil {
		m["test_metadata"] = map[string]any{"name": n.Test.Name, "namespace": n.Test.Namespace, "kwargs": n.Test.Kwargs}
		m["column_name"] = n.ColumnName
		m["attached_node"] = n.AttachedNode
	}
	return m
}

// looksLikeFunc is compiled on first use, not at program start.
var looksLikeFunc = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$`)
})

// testKwargs renders a generic test's arguments as dbt does: strings that
// look like a ref/source/var/env_var/doc call are evaluated, other strings
// are rendered natively (so "{{ … }}" works), column_name stays as is.
func (p *Project) testKwargs(ctx context.Context, n *Node) (map[string]any, error) {
	return p.testKwargsShare(ctx, n, false)
}

// testKwargsShare is testKwargs; with share, arguments that need no
// render are the node's own values, not copies (for readers that change
// nothing, as builtinTestSQL).
func (p *Project) testKwargsShare(ctx context.Context, n *Node, share bool) (map[string]any, error) {
	out := make(map[string]any, len(n.Test.Kwargs))
	for k, v := range n.Test.Kwargs {
		if k == "column_name" || share && k != "model" && !kwargNeedsRender(v) {
			out[k] = v
			continue
		}
		if k == "model" && n.testModel != nil {
			m, err := p.testModelArg(ctx, n)
			if err != nil {
				return nil, err
			}
			out[k] = m
			continue
		}
		r, err := p.renderKwarg(ctx, n, v)
		if err != nil {
			return nil, fmt.Errorf("%s: test %s argument %s: %w", n.OriginalFilePath, n.Name, k, err)
		}
		out[k] = r
	}
	return out, nil
}

// testKwargsParse is testKwargs for the parse render of a built-in test:
// it renders only the arguments holding Jinja or a call (for the refs and
// sources they name, and their errors) and keeps no values.
func (p *Project) testKwargsParse(ctx context.Context, n *Node) error {
	for k, v := range n.Test.Kwargs {
		switch {
		case k == "column_name":
		case k == "model" && n.testModel != nil:
			st := stateOf(ctx)
			if tm := n.testModel; tm[0] == "ref" {
				st.refs = append(st.refs, []string{tm[1]})
			} else {
				st.srcs = append(st.srcs, [2]string{tm[1], tm[2]})
			}
		case kwargNeedsRender(v):
			if _, err := p.renderKwarg(ctx, n, v); err != nil {
				return fmt.Errorf("%s: test %s argument %s: %w", n.OriginalFilePath, n.Name, k, err)
			}
		}
	}
	return nil
}

// kwargNeedsRender reports whether renderKwarg could do more than copy v:
// a string holding "{" or a call's "(", at any depth.
func kwargNeedsRender(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsAny(x, "{(")
	case []any:
		for _, e := range x {
			if kwargNeedsRender(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if kwargNeedsRender(e) {
				return true
			}
		}
	}
	return false
}

// testModelArg is a generic test's model argument — dbt's
// {{ get_where_subquery(ref('x')) }} — resolved without a render.
func (p *Project) testModelArg(ctx context.Context, n *Node) (any, error) {
	st := stateOf(ctx)
	tm := n.testModel
	if st.parse {
		if tm[0] == "ref" {
			st.refs = append(st.refs, []string{tm[1]})
		} else {
			st.srcs = append(st.srcs, [2]string{tm[1], tm[2]})
		}
		return p.relation(p.Target.Database, p.Target.Schema, tm[len(tm)-1], "table"), nil
	}
	var rel Relation
	if tm[0] == "ref" {
		t, err := p.resolveRef(n, "", tm[1])
		if err != nil {
			return nil, err
		}
		if st.refRel != nil {
			if rel, err = st.refRel(t); err != nil {
				return nil, err
			}
		} else {
			rel = p.nodeRelation(t)
		}
	} else {
		s, err := p.resolveSource(n, tm[1], tm[2])
		if err != nil {
			return nil, err
		}
		rel = p.relation(s.Database, s.Schema, s.Identifier, "table")
	}
	if where := asString(n.Config.Raw["where"]); where != "" {
		return materialize.WhereSubquery(rel.String(), where), nil
	}
	return rel, nil
}

func (p *Project) renderKwarg(ctx context.Context, n *Node, v any) (any, error) {
	switch x := v.(type) {
	case string:
		s := x
		if strings.IndexByte(s, '(') >= 0 && looksLikeFunc().MatchString(s) {
			s = "{{ " + s + " }}"
		}
		if !strings.Contains(s, "{") {
			return x, nil
		}
		t, err := p.cachedTemplate(s)
		if err != nil {
			return nil, err
		}
		return t.RenderNative(ctx, nil)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := p.renderKwarg(ctx, n, e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			r, err := p.renderKwarg(ctx, n, e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func (p *Project) cachedTemplate(src string) (*jinja.Template, error) {
	if t, ok := p.state.tmpls.Load(src); ok {
		return t.(*jinja.Template), nil
	}
	t, err := p.jenv.Compile("<test argument>", src)
	if err != nil {
		return nil, err
	}
	p.state.tmpls.Store(src, t)
	return t, nil
}

// jinjaWhereSubquery is dbt's get_where_subquery: a test's model wrapped in
// a subquery when the test has a `where` config.
func (p *Project) jinjaWhereSubquery(ctx context.Context, args []any, kw map[string]any) (any, error) {
	rel := firstArg(args)
	st := stateOf(ctx)
	if st == nil || st.node == nil || st.parse {
		return rel, nil
	}
	where := asString(st.node.Config.Raw["where"])
	if where == "" {
		return rel, nil
	}
	return materialize.WhereSubquery(fmt.Sprint(rel), where), nil
}

// jinjaShouldStoreFailures is dbt's should_store_failures(): the test's
// store_failures config (or store_failures_as), else the --store-failures
// flag (false).
func (p *Project) jinjaShouldStoreFailures(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	if st == nil || st.node == nil {
		return false, nil
	}
	c := st.node.Config
	if c.StoreFailures != nil {
		return *c.StoreFailures, nil
	}
	return asString(c.Raw["store_failures_as"]) != "", nil
}

// ---- names: database, schema, alias ----

func (p *Project) overridden(name string) bool {
	for pkg, ms := range p.state.macros {
		if pkg == "dbt" {
			continue
		}
		if _, ok := ms[name]; ok {
			return true
		}
		for _, pre := range []string{"default__", p.Target.Type + "__"} {
			if _, ok := ms[pre+name]; ok {
				return true
			}
		}
	}
	return false
}

func (p *Project) resolveNames(ctx context.Context, nodes []*Node) error {
	fast := map[string]bool{}
	for _, m := range []string{"generate_schema_name", "generate_alias_name", "generate_database_name"} {
		fast[m] = !p.overridden(m)
	}
	call := func(n *Node, macro string, custom any) (string, error) {
		st := &renderState{p: p, node: n, results: map[string]any{}}
		rctx := context.WithValue(ctx, stateKey{}, st)
		m := p.state.macros[p.Name][macro]
		if m == nil {
			for i := len(p.Packages) - 1; i >= 0 && m == nil; i-- {
				m = p.state.macros[p.Packages[i].Name][macro]
			}
		}
		if m == nil {
			m = p.state.macros["dbt"][macro]
		}
		v, err := m.Call(rctx, p.jenv, []any{custom, p.modelDict(n)}, nil)
		if err != nil {
			return "", fmt.Errorf("%s: %s: %w", n.OriginalFilePath, macro, err)
		}
		return strings.TrimSpace(asString(v)), nil
	}
	// resolve calls the project's override of macro, or applies dbt's
	// default (def) when there is none.
	resolve := func(n *Node, macro string, custom any, def func() string) (string, error) {
		if fast[macro] {
			return def(), nil
		}
		return call(n, macro, custom)
	}
	optional := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	one := func(n *Node) error {
		c := n.Config
		var err error
		// Schema: target_schema of a (legacy) snapshot is taken as is.
		if n.ResourceType == ResourceSnapshot && c.TargetSchema != "" {
			n.Schema = c.TargetSchema
		} else {
			custom := optional(c.Schema)
			if n.ResourceType == ResourceTest && custom == nil {
				custom = "dbt_test__audit"
			}
			if n.Schema, err = resolve(n, "generate_schema_name", custom, func() string {
				if custom == nil {
					return p.Target.Schema
				}
				return p.Target.Schema + "_" + strings.TrimSpace(asString(custom))
			}); err != nil {
				return err
			}
		}
		customDB := optional(c.Database)
		if td := asString(c.Raw["target_database"]); customDB == nil && td != "" && n.ResourceType == ResourceSnapshot {
			customDB = td
		}
		if n.Database, err = resolve(n, "generate_database_name", customDB, func() string {
			if customDB == nil {
				return p.Target.Database
			}
			return strings.TrimSpace(asString(customDB))
		}); err != nil {
			return err
		}
		customAlias := optional(c.Alias)
		if n.Alias, err = resolve(n, "generate_alias_name", customAlias, func() string {
			if customAlias == nil {
				return n.Name
			}
			return strings.TrimSpace(asString(customAlias))
		}); err != nil {
			return err
		}
		return nil
	}
	if fast["generate_schema_name"] && fast["generate_alias_name"] && fast["generate_database_name"] {
		// dbt's defaults only: no Jinja runs, so the nodes go in parallel.
		return forEach(ctx, len(nodes), func(_ context.Context, i int) error { return one(nodes[i]) })
	}
	for _, n := range nodes {
		if err := one(n); err != nil {
			return err
		}
	}
	return nil
}

// ---- references and the DAG ----

func (p *Project) resolveRef(from *Node, pkg, name string) (*Node, error) {
	var cands []*Node
	for _, t := range []ResourceType{ResourceModel, ResourceSeed, ResourceSnapshot} {
		if pkg != "" {
			if n, ok := p.Nodes[string(t)+"."+pkg+"."+name]; ok {
				return n, nil
			}
			continue
		}
		if from != nil {
			if n, ok := p.Nodes[string(t)+"."+from.Package+"."+name]; ok {
				return n, nil
			}
		}
		if n, ok := p.Nodes[string(t)+"."+p.Name+"."+name]; ok {
			cands = append(cands, n)
		}
	}
	if len(cands) > 0 {
		return cands[0], nil
	}
	if pkg == "" {
		for _, pk := range p.Packages {
			for _, t := range []ResourceType{ResourceModel, ResourceSeed, ResourceSnapshot} {
				if n, ok := p.Nodes[string(t)+"."+pk.Name+"."+name]; ok {
					return n, nil
				}
			}
		}
	}
	var names []string
	for _, n := range p.Nodes {
		if n.ResourceType == ResourceModel || n.ResourceType == ResourceSeed || n.ResourceType == ResourceSnapshot {
			names = append(names, n.Name)
		}
	}
	what := name
	if pkg != "" {
		what = pkg + "." + name
	}
	msg := fmt.Sprintf("ref(%q) names a node that does not exist (or is disabled)", what)
	if s := closest(name, names); len(s) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
	}
	return nil, p.refError(from, "ref", name, msg)
}

func (p *Project) refError(from *Node, fn, name, msg string) error {
	ce := &CompilerError{Msg: msg}
	if from != nil {
		ce.Node = from.UniqueID
		ce.File = from.OriginalFilePath
		if from.Test == nil {
			ce.Line = findLine(from.RawCode, fn, name) + from.Line - 1
		}
	}
	return fmt.Errorf("%w: %w", ErrMissingRef, ce)
}

func findLine(src, fn, name string) int {
	re := regexp.MustCompile(fn + `\s*\([^)]*['"]` + regexp.QuoteMeta(name) + `['"]`)
	loc := re.FindStringIndex(src)
	if loc == nil {
		return 0
	}
	return 1 + strings.Count(src[:loc[0]], "\n")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func (p *Project) resolveSource(from *Node, sname, tname string) (*Source, error) {
	pkgs := []string{}
	if from != nil {
		pkgs = append(pkgs, from.Package)
	}
	pkgs = append(pkgs, p.Name)
	for _, pk := range p.Packages {
		pkgs = append(pkgs, pk.Name)
	}
	for _, pk := range pkgs {
		if s, ok := p.Sources["source."+pk+"."+sname+"."+tname]; ok {
			return s, nil
		}
	}
	var names []string
	for _, s := range p.Sources {
		names = append(names, s.SourceName+"."+s.Name)
	}
	msg := fmt.Sprintf("source(%q, %q) names a source table that does not exist", sname, tname)
	if s := closest(sname+"."+tname, names); len(s) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
	}
	return nil, p.refError(from, "source", tname, msg)
}

func (p *Project) resolveDeps(ctx context.Context, nodes []*Node) error {
	return forEach(ctx, len(nodes), func(_ context.Context, i int) error {
		n := nodes[i]
		ids := make([]string, 0, len(n.Refs)+len(n.SourceRefs))
		n.parents = n.parents[:0]
		for _, r := range n.Refs {
			t, err := p.resolveRef(n, refPkg(r), r[len(r)-1])
			if err != nil {
				return err
			}
			ids = append(ids, t.UniqueID)
			n.parents = append(n.parents, t)
		}
		for _, s := range n.SourceRefs {
			src, err := p.resolveSource(n, s[0], s[1])
			if err != nil {
				return err
			}
			ids = append(ids, src.UniqueID)
		}
		slices.Sort(ids)
		n.DependsOn = slices.Compact(ids)
		if len(n.parents) > 1 {
			// In DependsOn's order, so cycles are found as before.
			slices.SortFunc(n.parents, func(a, b *Node) int { return strings.Compare(a.UniqueID, b.UniqueID) })
			n.parents = slices.Compact(n.parents)
		}
		if n.Test != nil && n.AttachedNode == "" && len(n.DependsOn) > 0 {
			n.AttachedNode = n.DependsOn[0]
		}
		return nil
	})
}

func (p *Project) buildChildren(nodes []*Node) {
	ch := make(map[string][]string, len(nodes)/2)
	for _, n := range nodes {
		for _, d := range n.DependsOn {
			ch[d] = append(ch[d], n.UniqueID)
		}
	}
	// Nodes came in id order, so their lists are sorted already.
	for _, e := range p.Exposures {
		for _, d := range e.DependsOn {
			ch[d] = append(ch[d], e.UniqueID)
		}
	}
	for _, e := range p.Exposures {
		for _, d := range e.DependsOn {
			if !slices.IsSorted(ch[d]) {
				slices.Sort(ch[d])
			}
		}
	}
	p.state.children = ch
}

// checkCycles reports a cycle with its path spelled out. It follows the
// parents resolveDeps found (a cycle can only run through nodes).
func (p *Project) checkCycles(nodes []*Node) error {
	const (
		white = iota
		grey
		black
	)
	for i, n := range nodes {
		n.ord = int32(i)
	}
	color := make([]uint8, len(nodes))
	in := func(d *Node) bool { return int(d.ord) < len(nodes) && nodes[d.ord] == d }
	var stack []*Node
	var visit func(n *Node) error
	visit = func(n *Node) error {
		color[n.ord] = grey
		stack = append(stack, n)
		for _, d := range n.parents {
			if !in(d) {
				continue
			}
			switch color[d.ord] {
			case grey:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				cyc := make([]string, 0, len(stack)-i+1)
				for _, s := range stack[i:] {
					cyc = append(cyc, s.UniqueID)
				}
				cyc = append(cyc, d.UniqueID)
				// Present it in dependency order: a depends on b → "b → a".
				slices.Reverse(cyc)
				return fmt.Errorf("%w: %s", ErrCycle, strings.Join(cyc, " → "))
			case white:
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n.ord] = black
		return nil
	}
	for _, n := range nodes {
		if color[n.ord] == white {
			if err := visit(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// closest returns up to two names nearest to want by edit distance.
func closest(want string, names []string) []string {
	type c struct {
		s string
		d int
	}
	var cs []c
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		d := editDistance(want, n)
		if d <= max(2, len(want)/3) {
			cs = append(cs, c{n, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].s < cs[j].s
	})
	var out []string
	for i := 0; i < len(cs) && i < 2; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// renderDescriptions renders Jinja in descriptions ({{ doc('name') }}) as
// dbt does, once every docs block is known.
func (p *Project) renderDescriptions(ctx context.Context, nodes []*Node) error {
	render := func(s *string, where string) error {
		if !strings.Contains(*s, "{{") {
			return nil
		}
		t, err := p.cachedTemplate(*s)
		if err != nil {
			return fmt.Errorf("%s: description: %w", where, err)
		}
		st := &renderState{p: p, parse: true, cfg: map[string]any{}, results: map[string]any{}}
		out, err := t.Render(context.WithValue(ctx, stateKey{}, st), nil)
		if err != nil {
			return fmt.Errorf("%s: description: %w", where, err)
		}
		*s = out
		return nil
	}
	// Nodes on the worker pool (each render touches its own node only).
	if err := forEach(ctx, len(nodes), func(ctx context.Context, i int) error {
		n := nodes[i]
		where := n.OriginalFilePath
		if n.PatchPath != "" {
			where = n.PatchPath
		}
		if err := render(&n.Description, where); err != nil {
			return err
		}
		for i := range n.Columns {
			if err := render(&n.Columns[i].Description, where); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, s := range p.Sources {
		if err := render(&s.Description, s.OriginalFilePath); err != nil {
			return err
		}
		if err := render(&s.SourceDesc, s.OriginalFilePath); err != nil {
			return err
		}
		for i := range s.Columns {
			if err := render(&s.Columns[i].Description, s.OriginalFilePath); err != nil {
				return err
			}
		}
	}
	for _, e := range p.Exposures {
		if err := render(&e.Description, e.OriginalFilePath); err != nil {
			return err
		}
	}
	for _, m := range p.Macros {
		if err := render(&m.Description, m.OriginalFilePath); err != nil {
			return err
		}
		for _, a := range m.ArgDocs {
			d := asString(a["description"])
			if err := render(&d, m.OriginalFilePath); err != nil {
				return err
			}
			a["description"] = d
		}
	}
	return nil
}
