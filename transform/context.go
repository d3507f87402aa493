package transform

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/dataopskit/dataops/transform/jinja"
	"github.com/dataopskit/dataops/warehouse"
)

// projectState is what the Jinja context shares across renders of one
// project: macros by package, the DAG, the warehouse of the current
// execution.
type projectState struct {
	mu          sync.Mutex
	macros      map[string]map[string]*jinja.Macro // package → name → macro
	macroOrder  []string                           // packages in lookup order for unqualified names: root, packages, dbt
	children    map[string][]string
	invocation  string
	started     time.Time
	w           *warehouse.Warehouse
	execute     bool
	tmpls       sync.Map // Jinja source → compiled template (test arguments)
	overrides   sync.Map // generic test name → overridden by the project (bool)
	unknownCfgs map[string]bool

	sortedMu sync.Mutex
	sorted   []*Node // every node by unique id, while p.Nodes is unchanged
}

func newProjectState(p *Project) *projectState {
	return &projectState{
		macros:      map[string]map[string]*jinja.Macro{},
		children:    map[string][]string{},
		invocation:  newInvocationID(),
		started:     time.Now().UTC(),
		unknownCfgs: map[string]bool{},
	}
}

func newInvocationID() string {
	var b [16]byte
	f, err := os.Open("/dev/urandom")
	if err == nil {
		_, _ = f.Read(b[:])
		f.Close()
	} else {
		t := time.Now().UnixNano()
		for i := range b {
			b[i] = byte(t >> (i % 8 * 8))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// renderState is the per-render state a context function finds in the
// render's context.Context.
type renderState struct {
	p       *Project
	node    *Node
	parse   bool
	cfg     map[string]any // config() calls (parse)
	refs    [][]string
	srcs    [][2]string
	macros  map[string]bool
	results map[string]any // statement results
	w       *warehouse.Warehouse
	tx      *warehouse.Tx
	refRel  func(n *Node) (Relation, error)
	srcRel  func(s *Source) (Relation, error)
	file    string
	fullRef bool
	which   string // the command (flags.WHICH)
}

type stateKey struct{}

func stateOf(ctx context.Context) *renderState {
	s, _ := ctx.Value(stateKey{}).(*renderState)
	return s
}

// ---- the Jinja environment ----

func (p *Project) newJinja() {
	p.jenv = jinja.New(
		jinja.WithLogger(p.logger),
		jinja.WithContextLookup(p.contextName),
		jinja.WithTag(jinja.Tag{Name: "test", Macro: func(h jinja.TagHeader) (string, error) { return "test_" + h.Name, nil }}),
		jinja.WithTag(jinja.Tag{Name: "data_test", Macro: func(h jinja.TagHeader) (string, error) { return "test_" + h.Name, nil }}),
		jinja.WithTag(jinja.Tag{Name: "materialization", Macro: func(h jinja.TagHeader) (string, error) {
			return "materialization_" + h.Name + "_" + asString(firstNonNil(h.Kwargs["adapter"], "default")), nil
		}}),
		jinja.WithTag(jinja.Tag{Name: "docs", Render: func(context.Context, *jinja.TagBlock) (string, error) { return "", nil }}),
		jinja.WithTag(jinja.Tag{Name: "snapshot", Render: func(context.Context, *jinja.TagBlock) (string, error) { return "", nil }}),
	)
	p.addGlobals(p.baseGlobals())
}

func (p *Project) addGlobals(g map[string]any) { jinja.WithGlobals(g)(p.jenv) }

// contextName gives macros the per-node names of the render calling them
// (this, model), as dbt binds every macro to the current node.
func (p *Project) contextName(ctx context.Context, name string) (any, bool) {
	st := stateOf(ctx)
	switch name {
	case "this", "model":
		if st == nil || st.node == nil {
			return nil, false
		}
		v, ok := p.nodeVars(st.node)[name]
		return v, ok
	case "flags":
		which := "run"
		full := false
		if st != nil {
			full = st.fullRef
			if st.which != "" {
				which = st.which
			}
		}
		return map[string]any{"FULL_REFRESH": full, "STORE_FAILURES": false, "WHICH": which, "FAIL_FAST": false, "WARN_ERROR": false, "INDIRECT_SELECTION": "eager"}, true
	case "graph":
		// The parse render sees an empty graph, as in dbt (nodes are still
		// being parsed).
		return graphObj{p: p, empty: st != nil && st.parse}, true
	}
	return nil, false
}

// graphObj is the Jinja `graph`: nodes, sources and exposures as dicts,
// built when a template reads them.
type graphObj struct {
	p     *Project
	empty bool
}

// GetAttr implements jinja.Object.
func (g graphObj) GetAttr(name string) (any, bool) {
	p := g.p
	if g.empty {
		switch name {
		case "nodes", "sources", "exposures", "macros", "metrics", "groups", "semantic_models", "saved_queries":
			return map[string]any{}, true
		}
		return nil, false
	}
	switch name {
	case "nodes":
		out := make(map[string]any, len(p.Nodes))
		for id, n := range p.Nodes {
			d := p.modelDict(n)
			d["depends_on"] = map[string]any{"nodes": n.DependsOn, "macros": n.DependsOnMacros}
			out[id] = d
		}
		return out, true
	case "sources":
		out := make(map[string]any, len(p.Sources))
		for id, s := range p.Sources {
			out[id] = map[string]any{"unique_id": id, "name": s.Name, "source_name": s.SourceName, "resource_type": "source",
				"package_name": s.Package, "database": s.Database, "schema": s.Schema, "identifier": s.Identifier,
				"fqn": s.FQN, "tags": s.Tags, "meta": s.Meta, "loaded_at_field": s.LoadedAtField}
		}
		return out, true
	case "exposures":
		out := make(map[string]any, len(p.Exposures))
		for id, e := range p.Exposures {
			out[id] = map[string]any{"unique_id": id, "name": e.Name, "resource_type": "exposure", "package_name": e.Package,
				"type": e.Type, "depends_on": map[string]any{"nodes": e.DependsOn}, "tags": e.Tags, "meta": e.Meta}
		}
		return out, true
	case "macros", "metrics", "groups", "semantic_models", "saved_queries":
		return map[string]any{}, true
	}
	return nil, false
}

// setTargetGlobals publishes the target once the profile is read.
func (p *Project) setTargetGlobals() {
	p.addGlobals(map[string]any{
		"target":   p.Target.Fields,
		"database": p.Target.Database,
		"schema":   p.Target.Schema,
	})
}

// addMacroFile compiles a macro file and records its macros.
func (p *Project) addMacroFile(pkg *Package, abs, rpkg string, read func(string) ([]byte, error)) error {
	b, err := read(abs)
	if err != nil {
		return err
	}
	return p.addMacroSource(pkg.Name, rpkg, string(b), rel(p.Dir, abs))
}

// addMacroSource compiles a macro file of package pkg (rpath relative to
// the package) and records its macros; display names the file in errors.
func (p *Project) addMacroSource(pkg, rpath, src, display string) error {
	name := display
	if name == "" {
		name = pkg + "://" + rpath
	}
	t, err := p.jenv.Compile(name, src)
	if err != nil {
		return fmt.Errorf("macro file %s: %w", name, err)
	}
	mod, err := t.Module(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("macro file %s: %w", name, err)
	}
	pm := p.state.macros[pkg]
	if pm == nil {
		pm = map[string]*jinja.Macro{}
		p.state.macros[pkg] = pm
	}
	for _, mname := range mod.Names() {
		m, ok := mod.Macro(mname)
		if !ok {
			continue
		}
		pm[mname] = m
		id := "macro." + pkg + "." + mname
		p.Macros[id] = &Macro{UniqueID: id, Package: pkg, Name: mname, Path: rpath, OriginalFilePath: rpath, Source: src, Arguments: macroArgs(m)}
	}
	return nil
}

func macroArgs(m *jinja.Macro) []string {
	return nil
}

// publishMacros makes every macro callable by its bare name (root project
// first, then packages, then the built-in ones) and through its package's
// namespace (dbt.x, dbt_utils.x).
func (p *Project) publishMacros() {
	g := map[string]any{}
	order := []string{"dbt"}
	for i := len(p.Packages) - 1; i >= 0; i-- {
		order = append(order, p.Packages[i].Name)
	}
	for _, pkg := range order {
		for name, m := range p.state.macros[pkg] {
			g[name] = m
		}
	}
	for _, pkg := range order {
		if pkg == p.Name && g[pkg] != nil {
			continue // the root project's name is a namespace unless a macro has it
		}
		g[pkg] = &namespace{p: p, pkg: pkg}
	}
	// dbt's own names must not be shadowed by a package namespace.
	g["dbt"] = &namespace{p: p, pkg: "dbt"}
	p.addGlobals(g)
}

// namespace is a package's macros (dbt.date_trunc, dbt_utils.star). A
// macro of the dbt namespace that has adapter variants resolves through
// dispatch.
type namespace struct {
	p   *Project
	pkg string
}

// GetAttr implements jinja.Object: the package's macro called name.
func (n *namespace) GetAttr(name string) (any, bool) {
	if m, ok := n.p.state.macros[n.pkg][name]; ok {
		return m, true
	}
	if n.pkg == "dbt" {
		if m := n.p.dispatch(name, "dbt"); m != nil {
			return m, true
		}
	}
	return nil, false
}

// dispatch finds the implementation of macro name in namespace ns for the
// target's adapter: for each package in the search order (the project's
// dispatch config for ns, else the root project then ns), the
// `<adapter>__name` macro, then `default__name`.
func (p *Project) dispatch(name, ns string) *jinja.Macro {
	var search []string
	if ns != "" {
		if so, ok := p.root.cfg.dispatch[ns]; ok {
			search = so
		}
	}
	if search == nil {
		search = []string{p.Name}
		if ns != "" && ns != p.Name {
			search = append(search, ns)
		}
	}
	if ns == "dbt" || ns == "" {
		search = append(search, "dbt")
	}
	prefixes := []string{p.Target.Type}
	if p.Target.Type == "duckdb" {
		prefixes = append(prefixes, "postgres")
	}
	prefixes = append(prefixes, "default")
	for _, pkg := range search {
		ms := p.state.macros[pkg]
		for _, pre := range prefixes {
			if m, ok := ms[pre+"__"+name]; ok {
				return m
			}
		}
	}
	if ns != "" && ns != "dbt" {
		// Also search every package: some packages dispatch to themselves
		// under another namespace name.
		for pkg, ms := range p.state.macros {
			_ = pkg
			for _, pre := range prefixes {
				if m, ok := ms[pre+"__"+name]; ok {
					return m
				}
			}
		}
	}
	return nil
}

// ---- relations ----

// Relation is the Jinja value of ref(), source(), this and api.Relation:
// it renders as the quoted relation and has dbt's attributes.
type Relation struct {
	Database, Schema, Identifier string
	Type                         string // "table", "view", "cte", …
	quote                        func(string) string
	limit                        *int
	cte                          string
}

// String renders the relation as SQL: quoted, empty parts left out.
func (r Relation) String() string {
	if r.cte != "" {
		return r.cte
	}
	q := r.quote
	if q == nil {
		q = func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	}
	var parts []string
	for _, s := range []string{r.Database, r.Schema, r.Identifier} {
		if s != "" {
			parts = append(parts, q(s))
		}
	}
	s := strings.Join(parts, ".")
	if r.limit != nil {
		s = fmt.Sprintf("(select * from %s limit %d)", s, *r.limit)
	}
	return s
}

// GetAttr implements jinja.Object with dbt's Relation attributes.
func (r Relation) GetAttr(name string) (any, bool) {
	switch name {
	case "database":
		return r.Database, true
	case "schema":
		return r.Schema, true
	case "identifier", "name", "table":
		return r.Identifier, true
	case "type":
		return r.Type, true
	case "is_table":
		return r.Type == "table", true
	case "is_view":
		return r.Type == "view", true
	case "is_cte":
		return r.Type == "cte", true
	case "render":
		return jinja.Func(func([]any, map[string]any) (any, error) { return r.String(), nil }), true
	case "include":
		return jinja.Func(func(args []any, kw map[string]any) (any, error) {
			c := r
			if v, ok := kw["database"]; ok && !asBool(v, true) {
				c.Database = ""
			}
			if v, ok := kw["schema"]; ok && !asBool(v, true) {
				c.Schema = ""
			}
			if v, ok := kw["identifier"]; ok && !asBool(v, true) {
				c.Identifier = ""
			}
			return c, nil
		}), true
	case "incorporate":
		return jinja.Func(func(args []any, kw map[string]any) (any, error) {
			c := r
			if path := asMap(kw["path"]); path != nil {
				if v, ok := path["identifier"]; ok {
					c.Identifier = asString(v)
				}
				if v, ok := path["schema"]; ok {
					c.Schema = asString(v)
				}
				if v, ok := path["database"]; ok {
					c.Database = asString(v)
				}
			}
			if v, ok := kw["type"]; ok {
				c.Type = asString(v)
			}
			return c, nil
		}), true
	case "quote":
		return jinja.Func(func([]any, map[string]any) (any, error) { return r, nil }), true
	}
	return nil, false
}

func (p *Project) quoteIdent(s string) string {
	if p.Target.Type == "" {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return warehouse.QuoteWith('"', s)
}

func (p *Project) relation(db, schema, name, typ string) Relation {
	return Relation{Database: db, Schema: schema, Identifier: name, Type: typ, quote: p.quoteIdent}
}

// ---- config() ----

// configObj is the Jinja `config`: callable (config(materialized='table'))
// and readable (config.get('key', default), config.require('key')).
type configObj struct{}

// Call implements jinja.CallableObject: config(key=value, …) records
// configs during the parse render.
func (configObj) Call(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	if st == nil || !st.parse {
		return "", nil
	}
	if len(args) == 1 {
		if m := asMap(args[0]); m != nil {
			for k, v := range m {
				kw[k] = v
			}
		}
	}
	for k, v := range kw {
		st.cfg[k] = v
	}
	return "", nil
}

// GetAttr implements jinja.Object: config.get, config.require, config.set.
func (configObj) GetAttr(name string) (any, bool) {
	switch name {
	case "get", "require":
		return jinja.ContextFunc(func(ctx context.Context, args []any, kw map[string]any) (any, error) {
			st := stateOf(ctx)
			if len(args) == 0 {
				return nil, errors.New("config." + name + "() needs a key")
			}
			key := asString(args[0])
			var def any
			if len(args) > 1 {
				def = args[1]
			} else if d, ok := kw["default"]; ok {
				def = d
			}
			if st == nil || st.node == nil {
				return def, nil
			}
			if v, ok := st.cfg[key]; ok && st.parse {
				return v, nil
			}
			if v, ok := st.node.Config.Raw[key]; ok && v != nil {
				return v, nil
			}
			if name == "require" && !st.parse {
				return nil, fmt.Errorf("required config %q is not set for %s", key, st.node.UniqueID)
			}
			return def, nil
		}), true
	case "set":
		return jinja.ContextFunc(func(ctx context.Context, args []any, kw map[string]any) (any, error) {
			if st := stateOf(ctx); st != nil && st.parse && len(args) == 2 {
				st.cfg[asString(args[0])] = args[1]
			}
			return "", nil
		}), true
	}
	return nil, false
}

// ---- objects: adapter, api, exceptions, modules ----

type funcObject map[string]any

// GetAttr implements jinja.Object.
func (f funcObject) GetAttr(name string) (any, bool) { v, ok := f[name]; return v, ok }

func (p *Project) baseGlobals() map[string]any {
	g := map[string]any{
		"execute":        false,
		"config":         configObj{},
		"ref":            jinja.ContextFunc(p.jinjaRef),
		"source":         jinja.ContextFunc(p.jinjaSource),
		"var":            jinja.ContextFunc(p.jinjaVar),
		"env_var":        jinja.Func(p.jinjaEnvVar),
		"is_incremental": jinja.ContextFunc(p.jinjaIsIncremental),
		"run_query":      jinja.ContextFunc(p.jinjaRunQuery),
		"_dbt_statement": jinja.ContextFunc(p.jinjaStatement),
		"load_result":    jinja.ContextFunc(p.jinjaLoadResult),
		"store_result":   jinja.ContextFunc(p.jinjaStoreResult),
		"doc":            jinja.ContextFunc(p.jinjaDoc),
		"log": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			p.logger.Info(asString(firstArg(args)))
			return "", nil
		}),
		"print": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			p.logger.Info(asString(firstArg(args)))
			return "", nil
		}),
		"fromjson": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			var v any
			if err := json.Unmarshal([]byte(asString(firstArg(args))), &v); err != nil {
				if len(args) > 1 {
					return args[1], nil
				}
				return nil, err
			}
			return v, nil
		}),
		"tojson": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			b, err := json.Marshal(firstArg(args))
			return string(b), err
		}),
		"fromyaml": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			var v any
			if err := yaml.Unmarshal([]byte(asString(firstArg(args))), &v); err != nil {
				return nil, err
			}
			return normalizeYAML(v), nil
		}),
		"toyaml": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			b, err := yaml.Marshal(firstArg(args))
			return string(b), err
		}),
		"zip": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			var out []any
			for i := 0; ; i++ {
				var t []any
				for _, a := range args {
					l := asList(a)
					if i >= len(l) {
						return out, nil
					}
					t = append(t, l[i])
				}
				if len(args) == 0 {
					return out, nil
				}
				out = append(out, jinja.Tuple(t))
			}
		}),
		"set": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			seen := map[string]bool{}
			var out []any
			for _, v := range asList(firstArg(args)) {
				k := fmt.Sprint(v)
				if !seen[k] {
					seen[k] = true
					out = append(out, v)
				}
			}
			return out, nil
		}),
		"local_md5": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			h := md5.Sum([]byte(asString(firstArg(args))))
			return hex.EncodeToString(h[:]), nil
		}),
		"invocation_id":      p.invocationID(),
		"run_started_at":     time.Now().UTC().Format("2006-01-02 15:04:05.000000+00:00"),
		"dbt_version":        "1.8.0",
		"project_name":       "",
		"builtins":           map[string]any{},
		"selected_resources": []any{},
		"exceptions": funcObject{
			"raise_compiler_error": jinja.Func(func(args []any, kw map[string]any) (any, error) {
				return nil, &CompilerError{Msg: asString(firstArg(args))}
			}),
			"raise_not_implemented": jinja.Func(func(args []any, kw map[string]any) (any, error) {
				return nil, &CompilerError{Msg: "not implemented: " + asString(firstArg(args))}
			}),
			"warn": jinja.Func(func(args []any, kw map[string]any) (any, error) {
				p.logger.Warn(asString(firstArg(args)))
				return "", nil
			}),
		},
		"api": funcObject{
			"Relation": funcObject{"create": jinja.Func(func(args []any, kw map[string]any) (any, error) {
				return p.relation(asString(kw["database"]), asString(kw["schema"]), asString(kw["identifier"]), asString(firstNonNil(kw["type"], "table"))), nil
			})},
			"Column": funcObject{"create": jinja.Func(func(args []any, kw map[string]any) (any, error) {
				return map[string]any{"name": asString(firstNonNil(kw["name"], firstArg(args))), "column": asString(firstNonNil(kw["name"], firstArg(args))), "data_type": asString(kw["data_type"]), "dtype": asString(kw["data_type"])}, nil
			})},
		},
		"modules": funcObject{
			"datetime": funcObject{
				"datetime": funcObject{"now": jinja.Func(func([]any, map[string]any) (any, error) { return time.Now().Format("2006-01-02 15:04:05.000000"), nil }),
					"utcnow": jinja.Func(func([]any, map[string]any) (any, error) {
						return time.Now().UTC().Format("2006-01-02 15:04:05.000000"), nil
					})},
				"date": funcObject{"today": jinja.Func(func([]any, map[string]any) (any, error) { return time.Now().Format("2006-01-02"), nil })},
			},
			"re": funcObject{
				"match":  jinja.Func(reFunc(func(re *regexp.Regexp, s string) any { return matchOrNone(re, s, true) })),
				"search": jinja.Func(reFunc(func(re *regexp.Regexp, s string) any { return matchOrNone(re, s, false) })),
				"findall": jinja.Func(reFunc(func(re *regexp.Regexp, s string) any {
					var out []any
					for _, m := range re.FindAllString(s, -1) {
						out = append(out, m)
					}
					return out
				})),
				"sub": jinja.Func(func(args []any, kw map[string]any) (any, error) {
					if len(args) < 3 {
						return nil, errors.New("re.sub needs pattern, repl, string")
					}
					re, err := regexp.Compile(asString(args[0]))
					if err != nil {
						return nil, err
					}
					return re.ReplaceAllString(asString(args[2]), strings.ReplaceAll(asString(args[1]), `\`, "$")), nil
				}),
			},
			"itertools": funcObject{},
			"pytz":      funcObject{},
		},
	}
	g["adapter"] = p.withAdapterMethods(p.adapterObject())
	return g
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

func reFunc(f func(*regexp.Regexp, string) any) func([]any, map[string]any) (any, error) {
	return func(args []any, kw map[string]any) (any, error) {
		if len(args) < 2 {
			return nil, errors.New("re: needs a pattern and a string")
		}
		re, err := regexp.Compile(asString(args[0]))
		if err != nil {
			return nil, err
		}
		return f(re, asString(args[1])), nil
	}
}

func matchOrNone(re *regexp.Regexp, s string, anchored bool) any {
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil || (anchored && loc[0] != 0) {
		return nil
	}
	groups := []any{}
	for i := 2; i < len(loc); i += 2 {
		if loc[i] < 0 {
			groups = append(groups, nil)
		} else {
			groups = append(groups, s[loc[i]:loc[i+1]])
		}
	}
	return funcObject{
		"group": jinja.Func(func(args []any, _ map[string]any) (any, error) {
			i, _ := asInt(firstArg(args))
			if i == 0 {
				return s[loc[0]:loc[1]], nil
			}
			if i-1 < len(groups) {
				return groups[i-1], nil
			}
			return nil, errors.New("no such group")
		}),
		"groups": jinja.Func(func([]any, map[string]any) (any, error) { return jinja.Tuple(groups), nil }),
	}
}

// InvocationID is the id of this load of the project, as dbt's
// invocation_id: the artifacts and run results record it.
func (p *Project) InvocationID() string { return p.invocationID() }

func (p *Project) invocationID() string {
	if p.state != nil {
		return p.state.invocation
	}
	return newInvocationID()
}

// CompilerError is an error a template raised through
// exceptions.raise_compiler_error or that compiling found (a missing ref,
// a cycle).
type CompilerError struct {
	Node string // unique id, if known
	File string // template file, if known
	Line int
	Msg  string
}

// Error implements error.
func (e *CompilerError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Node != "" {
		b.WriteString(e.Node + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ---- context functions ----

func (p *Project) jinjaRef(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	var pkg, name string
	switch len(args) {
	case 1:
		name = asString(args[0])
	case 2:
		pkg, name = asString(args[0]), asString(args[1])
	default:
		return nil, errors.New("ref() takes one or two arguments (package, name)")
	}
	if st == nil {
		return nil, errors.New("ref() is only available while rendering a node")
	}
	if st.parse {
		r := []string{name}
		if pkg != "" {
			r = []string{pkg, name}
		}
		st.refs = append(st.refs, r)
		return p.relation(p.Target.Database, p.Target.Schema, name, "table"), nil
	}
	target, err := p.resolveRef(st.node, pkg, name)
	if err != nil {
		return nil, err
	}
	if st.refRel != nil {
		return st.refRel(target)
	}
	return p.nodeRelation(target), nil
}

func (p *Project) nodeRelation(n *Node) Relation {
	typ := "table"
	if n.Config.Materialized == "view" {
		typ = "view"
	}
	if n.Config.Materialized == "ephemeral" {
		return Relation{Identifier: "__dbt__cte__" + n.Name, Type: "cte", cte: "__dbt__cte__" + n.Name}
	}
	return p.relation(n.Database, n.Schema, n.Alias, typ)
}

func (p *Project) jinjaSource(ctx context.Context, args []any, kw map[string]any) (any, error) {
	if len(args) != 2 {
		return nil, errors.New("source() takes two arguments (source name, table name)")
	}
	sname, tname := asString(args[0]), asString(args[1])
	st := stateOf(ctx)
	if st != nil && st.parse {
		st.srcs = append(st.srcs, [2]string{sname, tname})
		return p.relation(p.Target.Database, sname, tname, "table"), nil
	}
	s, err := p.resolveSource(st.nodeOrNil(), sname, tname)
	if err != nil {
		return nil, err
	}
	if st != nil && st.srcRel != nil {
		return st.srcRel(s)
	}
	return p.relation(s.Database, s.Schema, s.Identifier, "table"), nil
}

func (s *renderState) nodeOrNil() *Node {
	if s == nil {
		return nil
	}
	return s.node
}

func (p *Project) jinjaVar(ctx context.Context, args []any, kw map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("var() needs a name")
	}
	name := asString(args[0])
	st := stateOf(ctx)
	pkg := p.Name
	if st != nil && st.node != nil {
		pkg = st.node.Package
	}
	if v, ok := p.lookupVar(pkg, name); ok {
		return v, nil
	}
	if len(args) > 1 {
		return args[1], nil
	}
	if d, ok := kw["default"]; ok {
		return d, nil
	}
	where := ""
	if st != nil && st.node != nil {
		where = " in " + st.node.UniqueID
	}
	return nil, &CompilerError{Msg: fmt.Sprintf("required var %q not found in config%s: vars supplied to %s = %v", name, where, pkg, varNames(p.Vars))}
}

func varNames(m map[string]any) []string {
	ks := sortedKeys(m)
	return ks
}

// lookupVar resolves a var as dbt does: the command line, then the root
// project's vars scoped to the package, its global vars, then the
// package's own vars.
func (p *Project) lookupVar(pkg, name string) (any, bool) {
	if v, ok := p.Vars[name]; ok {
		return v, true
	}
	rv := p.root.cfg.vars
	if scoped := asMap(rv[pkg]); scoped != nil {
		if v, ok := scoped[name]; ok {
			return v, true
		}
	}
	if v, ok := rv[name]; ok {
		if _, isPkg := p.packageNamed(name); !isPkg {
			return v, true
		}
	}
	if pk, ok := p.packageNamed(pkg); ok && !pk.Root {
		if v, ok := pk.cfg.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (p *Project) packageNamed(name string) (*Package, bool) {
	for _, pk := range p.Packages {
		if pk.Name == name {
			return pk, true
		}
	}
	return nil, false
}

func (p *Project) jinjaEnvVar(args []any, kw map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("env_var() needs a name")
	}
	name := asString(args[0])
	if v, ok := p.env(name); ok {
		return v, nil
	}
	if len(args) > 1 {
		return args[1], nil
	}
	if d, ok := kw["default"]; ok {
		return d, nil
	}
	return nil, &CompilerError{Msg: fmt.Sprintf("env var required but not provided: %q", name)}
}

func (p *Project) jinjaIsIncremental(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	if st == nil || st.parse || st.node == nil || st.w == nil {
		return false, nil
	}
	n := st.node
	if n.Config.Materialized != "incremental" || st.fullRef {
		return false, nil
	}
	info, err := st.w.Relation(ctx, n.Relation())
	if err != nil {
		if errors.Is(err, warehouse.ErrNotFound) {
			return false, nil
		}
		return nil, err
	}
	return info.Kind == warehouse.KindTable, nil
}

func (p *Project) jinjaRunQuery(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	if st == nil || st.parse || st.w == nil {
		return nil, nil
	}
	return p.query(ctx, st, asString(firstArg(args)), true)
}

// agateTable is the Jinja value of a query result: rows (as tuples),
// columns, column_names, and print_table, as far as dbt projects use them.
type agateTable struct {
	names []string
	rows  [][]any
}

// GetAttr implements jinja.Object: rows, columns, column_names.
func (t *agateTable) GetAttr(name string) (any, bool) {
	switch name {
	case "rows":
		var out []any
		for _, r := range t.rows {
			out = append(out, jinja.Tuple(r))
		}
		return out, true
	case "column_names":
		return t.names, true
	case "columns":
		var out []any
		for i, n := range t.names {
			var vals []any
			for _, r := range t.rows {
				vals = append(vals, r[i])
			}
			vs := vals
			out = append(out, funcObject{"name": n, "values": jinja.Func(func([]any, map[string]any) (any, error) { return vs, nil })})
		}
		return out, true
	case "print_table":
		return jinja.Func(func([]any, map[string]any) (any, error) { return "", nil }), true
	}
	return nil, false
}

func (p *Project) query(ctx context.Context, st *renderState, sql string, fetch bool) (any, error) {
	rows := st.w.Rows(ctx, sql)
	t := &agateTable{}
	const maxRows = 100000
	for rec, err := range rows {
		if err != nil {
			return nil, fmt.Errorf("run_query: %w", err)
		}
		if t.names == nil {
			for _, c := range rec.Columns {
				t.names = append(t.names, c.Name)
			}
		}
		if len(t.rows) >= maxRows {
			return nil, fmt.Errorf("run_query: more than %d rows; aggregate in SQL instead", maxRows)
		}
		vals := make([]any, len(rec.Values))
		for i, v := range rec.Values {
			vals[i] = jinjaValue(v)
		}
		t.rows = append(t.rows, vals)
	}
	return t, nil
}

func jinjaValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case warehouse.Decimal:
		return x.String()
	case []byte:
		return string(x)
	}
	return v
}

func (p *Project) jinjaStatement(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	if st == nil || st.parse || st.w == nil {
		return "", nil
	}
	name := asString(firstArg(args))
	sql := ""
	if len(args) > 1 {
		sql = asString(args[1])
	}
	fetch := len(args) > 2 && asBool(args[2], false)
	var res any
	if fetch {
		t, err := p.query(ctx, st, sql, true)
		if err != nil {
			return nil, err
		}
		res = t
	} else {
		if _, err := st.w.Exec(ctx, sql); err != nil {
			return nil, fmt.Errorf("statement %s: %w", name, err)
		}
	}
	if name != "" {
		st.results[name] = map[string]any{"response": map[string]any{"code": "OK"}, "data": tableData(res), "table": res}
	}
	return "", nil
}

func tableData(v any) any {
	t, ok := v.(*agateTable)
	if !ok {
		return []any{}
	}
	var out []any
	for _, r := range t.rows {
		out = append(out, jinja.Tuple(r))
	}
	return out
}

func (p *Project) jinjaLoadResult(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	if st == nil || st.results == nil {
		return nil, nil
	}
	return st.results[asString(firstArg(args))], nil
}

func (p *Project) jinjaStoreResult(ctx context.Context, args []any, kw map[string]any) (any, error) {
	st := stateOf(ctx)
	if st != nil && st.results != nil {
		st.results[asString(firstArg(args))] = map[string]any{"response": kw["response"], "table": kw["agate_table"]}
	}
	return "", nil
}

func (p *Project) jinjaDoc(ctx context.Context, args []any, kw map[string]any) (any, error) {
	var pkg, name string
	if len(args) == 2 {
		pkg, name = asString(args[0]), asString(args[1])
	} else {
		name = asString(firstArg(args))
	}
	for id, d := range p.Docs {
		if d.Name == name && (pkg == "" || d.Package == pkg) {
			_ = id
			return d.Contents, nil
		}
	}
	return nil, &CompilerError{Msg: fmt.Sprintf("documentation for %q not found", name)}
}

// adapterObject is the Jinja `adapter`.
func (p *Project) adapterObject() funcObject {
	return funcObject{
		"dispatch": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			name := asString(firstNonNil(firstArg(args), kw["macro_name"]))
			ns := ""
			if len(args) > 1 {
				ns = asString(args[1])
			} else if v, ok := kw["macro_namespace"]; ok {
				ns = asString(v)
			}
			if m := p.dispatch(name, ns); m != nil {
				return m, nil
			}
			return nil, &CompilerError{Msg: fmt.Sprintf("dispatch: no macro %s for adapter %s in namespace %q (looked for %s__%s and default__%s)", name, p.Target.Type, ns, p.Target.Type, name, name)}
		}),
		"quote": jinja.Func(func(args []any, kw map[string]any) (any, error) {
			return p.quoteIdent(asString(firstArg(args))), nil
		}),
		"type": jinja.Func(func([]any, map[string]any) (any, error) { return p.Target.Type, nil }),
		"get_relation": jinja.ContextFunc(func(ctx context.Context, args []any, kw map[string]any) (any, error) {
			st := stateOf(ctx)
			if st == nil || st.w == nil {
				return nil, nil
			}
			get := func(i int, k string) string {
				if i < len(args) {
					return asString(args[i])
				}
				return asString(kw[k])
			}
			r := warehouse.Relation{Database: get(0, "database"), Schema: get(1, "schema"), Name: get(2, "identifier")}
			if p.Target.Type == "duckdb" || p.Target.Type == "postgres" {
				r.Database = ""
			}
			info, err := st.w.Relation(ctx, r)
			if err != nil {
				if errors.Is(err, warehouse.ErrNotFound) {
					return nil, nil
				}
				return nil, err
			}
			typ := "table"
			if info.Kind == warehouse.KindView {
				typ = "view"
			}
			return p.relation(get(0, "database"), get(1, "schema"), get(2, "identifier"), typ), nil
		}),
		"get_columns_in_relation": jinja.ContextFunc(func(ctx context.Context, args []any, kw map[string]any) (any, error) {
			st := stateOf(ctx)
			if st == nil || st.w == nil {
				return []any{}, nil
			}
			r, ok := firstArg(args).(Relation)
			if !ok {
				return nil, errors.New("get_columns_in_relation needs a relation")
			}
			cols, err := st.w.Columns(ctx, warehouse.Relation{Schema: r.Schema, Name: r.Identifier})
			if err != nil {
				if errors.Is(err, warehouse.ErrNotFound) {
					return []any{}, nil
				}
				return nil, err
			}
			var out []any
			for _, c := range cols {
				native := c.Type.Native
				if native == "" {
					native, _ = st.w.Dialect().TypeSQL(c.Type)
				}
				out = append(out, map[string]any{"name": c.Name, "column": c.Name, "data_type": native, "dtype": native, "quoted": p.quoteIdent(c.Name)})
			}
			return out, nil
		}),
		"check_schema_exists": jinja.ContextFunc(func(ctx context.Context, args []any, kw map[string]any) (any, error) {
			st := stateOf(ctx)
			if st == nil || st.w == nil {
				return false, nil
			}
			schemas, err := st.w.Schemas(ctx)
			if err != nil {
				return nil, err
			}
			want := asString(firstNonNil(kw["schema"], lastArg(args)))
			for _, s := range schemas {
				if strings.EqualFold(s, want) {
					return true, nil
				}
			}
			return false, nil
		}),
		"already_exists": jinja.ContextFunc(func(ctx context.Context, args []any, kw map[string]any) (any, error) {
			st := stateOf(ctx)
			if st == nil || st.w == nil || len(args) < 2 {
				return false, nil
			}
			_, err := st.w.Relation(ctx, warehouse.Rel(asString(args[0]), asString(args[1])))
			return err == nil, nil
		}),
	}
}

func lastArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[len(args)-1]
}

// sortedIDs returns the keys of a set, sorted.
func sortedIDs(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
