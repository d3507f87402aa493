package selector

import (
	"fmt"
	"path"
	"strings"
)

// search returns the ids of the nodes that criterion c's method selects,
// before graph operators.
func (e *evaluator) search(c *Criterion) (set, error) {
	out := set{}
	v := c.Value
	each := func(types func(string) bool, match func(Node) bool) {
		for _, n := range e.g.Nodes() {
			if types(n.ResourceType()) && match(n) {
				out.add(n.UniqueID())
			}
		}
	}
	all := func(string) bool { return true }
	only := func(t ...string) func(string) bool {
		return func(rt string) bool {
			for _, x := range t {
				if rt == x {
					return true
				}
			}
			return false
		}
	}
	switch c.Method {
	case "fqn":
		// Every node but sources, matched on its fqn or, across packages,
		// on its fqn without the package.
		m := newFQNMatcher(v)
		each(func(rt string) bool { return rt != Source }, func(n Node) bool {
			fqn := n.FQN()
			return m.match(fqn) || len(fqn) > 1 && m.match(fqn[1:])
		})
	case "tag":
		each(all, func(n Node) bool {
			for _, t := range n.Tags() {
				if fnmatch(t, v) {
					return true
				}
			}
			return false
		})
	case "path":
		// The file that defines a node, or the property file that
		// describes it.
		pat := cleanPath(v)
		each(all, func(n Node) bool {
			if pathMatch(n.OriginalFilePath(), pat) {
				return true
			}
			if p, ok := n.(PatchedNode); ok && p.PatchPath() != "" {
				pp := p.PatchPath()
				if _, after, found := strings.Cut(pp, "://"); found {
					pp = after
				}
				pp = cleanPath(pp)
				if pp == pat {
					return true
				}
				ok, _ := path.Match(pat, pp)
				return ok
			}
			return false
		})
	case "file":
		each(all, func(n Node) bool {
			base := path.Base(strings.ReplaceAll(n.OriginalFilePath(), "\\", "/"))
			stem := strings.TrimSuffix(base, path.Ext(base))
			return fnmatch(base, v) || fnmatch(stem, v)
		})
	case "package":
		if v == "this" && e.opts.ProjectName != "" {
			v = e.opts.ProjectName
		}
		each(all, func(n Node) bool { return fnmatch(n.PackageName(), v) })
	case "config":
		// Nodes and sources (dbt's configurable nodes); severity compares
		// without case.
		configurable := func(rt string) bool {
			return rt != Exposure && rt != Metric && rt != UnitTest && rt != SemanticModel && rt != SavedQuery
		}
		fold := len(c.Args) == 1 && c.Args[0] == "severity"
		each(configurable, func(n Node) bool { return configMatch(n.Config(), c.Args, v, fold) })
	case "group":
		each(func(rt string) bool { return rt != Source && rt != Exposure && rt != UnitTest }, func(n Node) bool {
			g, _ := n.Config()["group"].(string)
			return g != "" && fnmatch(g, v)
		})
	case "access":
		each(only(Model), func(n Node) bool {
			a, _ := n.Config()["access"].(string)
			if a == "" {
				a = "protected"
			}
			return a == v
		})
	case "source":
		parts := strings.Split(v, ".")
		pkg, src, tbl := "*", "*", "*"
		switch len(parts) {
		case 1:
			src = parts[0]
		case 2:
			src, tbl = parts[0], parts[1]
		case 3:
			pkg, src, tbl = parts[0], parts[1], parts[2]
		default:
			return nil, fmt.Errorf("%w: %q: a source selector is source_name, source_name.table_name or package.source_name.table_name", ErrSyntax, c.Raw)
		}
		each(only(Source), func(n Node) bool {
			fqn := n.FQN()
			srcName := ""
			if len(fqn) >= 2 {
				srcName = fqn[len(fqn)-2]
			}
			return fnmatch(n.PackageName(), pkg) && fnmatch(srcName, src) && fnmatch(n.Name(), tbl)
		})
	case "exposure", "metric", "semantic_model", "saved_query", "unit_test":
		parts := strings.Split(v, ".")
		pkg, name := "*", v
		switch len(parts) {
		case 1:
		case 2:
			pkg, name = parts[0], parts[1]
		default:
			return nil, fmt.Errorf("%w: %q: want name or package.name", ErrSyntax, c.Raw)
		}
		each(only(c.Method), func(n Node) bool {
			return fnmatch(n.PackageName(), pkg) && fnmatch(n.Name(), name)
		})
	case "resource_type":
		if !knownResourceType(v) {
			return nil, fmt.Errorf("%w: %q: unknown resource type %q", ErrSyntax, c.Raw, v)
		}
		each(func(rt string) bool { return rt == v }, func(Node) bool { return true })
	case "test_type":
		var ok func(Node) bool
		switch v {
		case "generic", "schema":
			ok = func(n Node) bool { return n.ResourceType() == Test && testName(n) != "" }
		case "singular":
			ok = func(n Node) bool { return n.ResourceType() == Test && testName(n) == "" }
		case "data":
			ok = func(n Node) bool { return n.ResourceType() == Test }
		case "unit":
			ok = func(n Node) bool { return n.ResourceType() == UnitTest }
		default:
			return nil, fmt.Errorf("%w: %q: test_type is one of generic, singular, data, unit", ErrSyntax, c.Raw)
		}
		each(only(Test, UnitTest), ok)
	case "test_name":
		each(only(Test, UnitTest), func(n Node) bool {
			name := n.Name()
			if n.ResourceType() == Test {
				name = testName(n)
			}
			return name != "" && fnmatch(name, v)
		})
	case "state":
		return e.searchState(c)
	case "source_status":
		return e.searchSourceStatus(c)
	case "version":
		return nil, fmt.Errorf("%w: %q: model versions are not supported yet", ErrSyntax, c.Raw)
	case "result":
		if e.opts.State == nil || e.opts.State.Results == nil {
			return nil, fmt.Errorf("%w: %q needs the run_results.json of a previous run (--state)", ErrNoState, c.Raw)
		}
		for id, status := range e.opts.State.Results {
			if status == v {
				if _, ok := e.g.Node(id); ok {
					out.add(id)
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: %q is not a valid method name", ErrSyntax, c.Method)
	}
	return out, nil
}

func testName(n Node) string {
	if t, ok := n.(TestNode); ok {
		return t.TestName()
	}
	return ""
}

func knownResourceType(t string) bool {
	switch t {
	case Model, Seed, Snapshot, Test, UnitTest, Source, Exposure, Metric, Analysis, Operation, SemanticModel, SavedQuery, "function":
		return true
	}
	return false
}

// fqnMatcher is dbt's qualified-name match: the selector equals the node's
// name, or its dot-separated parts are a prefix of the flattened fqn, the
// part with the first wildcard and everything after it matched as one glob
// against the rest of the fqn.
type fqnMatcher struct {
	sel   string
	parts []string
	glob  int    // index of the first part with a wildcard, or -1
	rest  string // the selector from that part on
	all   bool   // the selector is "*"
}

func newFQNMatcher(sel string) *fqnMatcher {
	m := &fqnMatcher{sel: sel, parts: strings.Split(sel, "."), glob: -1, all: sel == "*"}
	for i, p := range m.parts {
		if hasGlob(p) {
			m.glob, m.rest = i, strings.Join(m.parts[i:], ".")
			break
		}
	}
	return m
}

func (m *fqnMatcher) match(fqn []string) bool {
	if len(fqn) == 0 {
		return false
	}
	if m.all || fqn[len(fqn)-1] == m.sel {
		return true
	}
	flat := fqn
	for _, seg := range fqn {
		if strings.Contains(seg, ".") {
			flat = nil
			for _, seg := range fqn {
				flat = append(flat, strings.Split(seg, ".")...)
			}
			break
		}
	}
	if len(flat) < len(m.parts) {
		return false
	}
	for i, p := range m.parts {
		if i == m.glob {
			return fnmatch(strings.Join(flat[i:], "."), m.rest)
		}
		if flat[i] != p {
			return false
		}
	}
	return true
}

func cleanPath(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	if c := path.Clean(p); c != "." {
		return c
	}
	return p
}

// pathMatch reports whether file (a project-relative path) is the path pat
// or lies under it; pat may hold shell wildcards, matched per segment.
func pathMatch(file, pat string) bool {
	file = cleanPath(file)
	for f := file; f != "." && f != "/" && f != ""; f = path.Dir(f) {
		if f == pat {
			return true
		}
		if hasGlob(pat) {
			if ok, _ := path.Match(pat, f); ok {
				return true
			}
		}
		if path.Dir(f) == f {
			break
		}
	}
	return false
}

// configMatch is dbt's config.<key>:value match: descend the keys through
// nested mappings; a list matches when the value is one of its members; a
// boolean matches "true"/"false" in any case; other values match when equal
// as strings.
func configMatch(conf map[string]any, keys []string, want string, fold bool) bool {
	var v any = conf
	for _, k := range keys {
		m, ok := asMap(v)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	one := func(x any) bool {
		switch x := x.(type) {
		case string:
			return x == want || fold && strings.EqualFold(x, want)
		case bool:
			return strings.EqualFold(want, fmt.Sprint(x))
		}
		return false
	}
	switch x := v.(type) {
	case []any:
		for _, el := range x {
			if one(el) {
				return true
			}
		}
		return false
	case []string:
		for _, el := range x {
			if el == want {
				return true
			}
		}
		return false
	}
	return one(v)
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[string]string:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[k] = x
		}
		return out, true
	}
	return nil, false
}
