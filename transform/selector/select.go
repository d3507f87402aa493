package selector

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNoState is wrapped when a state: or result: criterion is used without
// the artifacts of a previous run to compare with.
var ErrNoState = errors.New("no comparison state")

// ErrUnknownSelector is wrapped when --selector names no selector of
// selectors.yml.
var ErrUnknownSelector = errors.New("unknown selector")

// Options is one selection, as a dbt command's flags give it.
type Options struct {
	// Select and Exclude are the values of the --select and --exclude
	// flags, one element per flag.
	Select, Exclude []string
	// Selector is the --selector flag: the name of a selector of
	// Selectors. It cannot be combined with Select or Exclude.
	Selector string
	// Selectors are the project's selectors.yml (nil: none). A selector
	// marked default is used when neither Select, Exclude nor Selector is
	// given.
	Selectors *Selectors
	// Default is the selection of the command when nothing is selected
	// (nil: every node of the graph).
	Default Spec
	// ResourceTypes keeps only nodes of these types in the result (the
	// command's types, or ls --resource-type); nil keeps all.
	ResourceTypes []string
	// Indirect is how tests are selected through the nodes they test
	// (default eager).
	Indirect IndirectSelection
	// State is the previous run to compare with (--state), for the state:
	// and result: methods.
	State *State
	// Macros are the current project's macros by unique id, for
	// state:modified.macros.
	Macros map[string]Macro
	// ProjectName is the root project's name, which package:this means.
	ProjectName string
}

// Result is what a selection selected.
type Result struct {
	// Selected holds unique ids, sorted.
	Selected []string
	// Warnings name criteria that matched no node, as dbt warns of them.
	Warnings []string
}

// Has reports whether the unique id is selected.
func (r *Result) Has(id string) bool {
	_, ok := slices.BinarySearch(r.Selected, id)
	return ok
}

// Select evaluates a selection on a graph as dbt does: criteria with their
// graph operators, set operations, the tests selected indirectly through the
// nodes they test, then the command's resource types.
func Select(g Graph, opts Options) (*Result, error) {
	mode, err := ParseIndirectSelection(string(opts.Indirect))
	if err != nil {
		return nil, err
	}
	opts.Indirect = mode
	include, exclude, err := Parse(opts.Select, opts.Exclude)
	if err != nil {
		return nil, err
	}
	if opts.Selector != "" {
		if include != nil || exclude != nil {
			return nil, fmt.Errorf("%w: --selector cannot be combined with --select or --exclude", ErrSyntax)
		}
		def, err := opts.Selectors.Lookup(opts.Selector)
		if err != nil {
			return nil, err
		}
		include = def
	} else if include == nil && exclude == nil && opts.Selectors != nil {
		if d := opts.Selectors.Default(); d != nil {
			include = d.Definition
		}
	}
	e := &evaluator{g: g, opts: opts, inSelector: map[string]bool{}}
	var spec Spec
	if include == nil {
		spec = opts.Default
	} else {
		spec = include
	}
	var direct, indirect set
	if spec == nil {
		direct, indirect = set{}, set{}
		for _, n := range g.Nodes() {
			direct.add(n.UniqueID())
		}
	} else if direct, indirect, err = e.eval(spec, mode); err != nil {
		return nil, err
	}
	if exclude != nil {
		xd, xi, err := e.eval(exclude, mode)
		if err != nil {
			return nil, err
		}
		direct, indirect = difference(direct, xd), difference(indirect, xi)
	}
	indirectOnly := difference(indirect, direct)
	selected := e.filter(direct)
	if len(indirectOnly) > 0 {
		selected = e.incorporate(selected, e.filter(indirectOnly), mode)
	}
	return &Result{Selected: selected.sorted(), Warnings: e.warnings}, nil
}

type evaluator struct {
	g          Graph
	opts       Options
	warnings   []string
	inSelector map[string]bool
}

// filter keeps the nodes of the command's resource types.
func (e *evaluator) filter(s set) set {
	if e.opts.ResourceTypes == nil {
		return s
	}
	out := set{}
	for id := range s {
		if n, ok := e.g.Node(id); ok && slices.Contains(e.opts.ResourceTypes, n.ResourceType()) {
			out.add(id)
		}
	}
	return out
}

// eval returns the nodes a spec selects directly, and the tests it selects
// indirectly (kept only if the whole selection allows them).
func (e *evaluator) eval(s Spec, mode IndirectSelection) (direct, indirect set, err error) {
	switch s := s.(type) {
	case *Criterion:
		return e.evalCriterion(s, mode)
	case *Union, *Intersection:
		var specs []Spec
		op := union
		if u, ok := s.(*Union); ok {
			specs = u.Specs
		} else {
			specs, op = s.(*Intersection).Specs, intersect
		}
		var ds, is []set
		for _, sub := range specs {
			d, i, err := e.eval(sub, mode)
			if err != nil {
				return nil, nil, err
			}
			ds, is = append(ds, d), append(is, i)
		}
		return op(ds...), op(is...), nil
	case *Difference:
		d, i, err := e.eval(s.Include, mode)
		if err != nil {
			return nil, nil, err
		}
		xd, xi, err := e.eval(s.Exclude, mode)
		if err != nil {
			return nil, nil, err
		}
		return difference(d, xd), difference(i, xi), nil
	case nil:
		return set{}, set{}, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown spec %T", ErrSyntax, s)
}

func (e *evaluator) evalCriterion(c *Criterion, mode IndirectSelection) (direct, indirect set, err error) {
	if c.Indirect != "" {
		mode = c.Indirect
	}
	if c.Method == "selector" {
		if c.Parents || c.Children || c.ChildrensParents {
			return nil, nil, fmt.Errorf("%w: %q: the selector method takes no graph operators", ErrSyntax, c.Raw)
		}
		if e.inSelector[c.Value] {
			return nil, nil, fmt.Errorf("%w: selector %q refers to itself", ErrSyntax, c.Value)
		}
		def, err := e.opts.Selectors.Lookup(c.Value)
		if err != nil {
			return nil, nil, err
		}
		e.inSelector[c.Value] = true
		defer delete(e.inSelector, c.Value)
		return e.eval(def, mode)
	}
	found, err := e.search(c)
	if err != nil {
		return nil, nil, err
	}
	if len(found) == 0 {
		e.warnings = append(e.warnings, fmt.Sprintf("The selection criterion '%s' does not match any enabled nodes", c.Raw))
	}
	selected := union(found)
	if c.ChildrensParents {
		withChildren := union(found, walk(found, e.g.Children, -1))
		selected = union(withChildren, walk(withChildren, e.g.Parents, -1))
	}
	if c.Parents {
		selected = union(selected, walk(found, e.g.Parents, c.ParentsDepth))
	}
	if c.Children {
		selected = union(selected, walk(found, e.g.Children, c.ChildrenDepth))
	}
	direct, indirect = e.expand(selected, mode)
	return direct, indirect, nil
}

// selectableIndirectly reports whether a node joins a selection through the
// nodes it tests.
func selectableIndirectly(n Node) bool {
	return n.ResourceType() == Test || n.ResourceType() == UnitTest
}

// expand adds the tests of selected nodes, as dbt's expand_selection: eager
// adds every test with a selected parent; cautious, buildable and empty add
// at once only tests whose parents are all selected (buildable also those
// whose parents are selected or ancestors of selected nodes), and leave the
// others as indirect candidates (none for empty).
func (e *evaluator) expand(selected set, mode IndirectSelection) (direct, indirect set) {
	direct, indirect = union(selected), set{}
	if mode == Empty {
		return direct, indirect
	}
	var buildable set
	if mode == Buildable {
		buildable = union(selected, walk(selected, e.g.Parents, -1))
		for _, n := range e.g.Nodes() {
			if n.ResourceType() == Source {
				buildable.add(n.UniqueID())
			}
		}
	}
	for id := range walk(selected, e.g.Children, 1) {
		n, ok := e.g.Node(id)
		if !ok || !selectableIndirectly(n) {
			continue
		}
		parents := e.g.Parents(id)
		switch {
		case mode == Eager || allIn(parents, selected):
			direct.add(id)
		case mode == Buildable && allIn(parents, buildable):
			direct.add(id)
		default:
			indirect.add(id)
		}
	}
	return direct, indirect
}

// incorporate adds the indirect candidates the final selection allows.
func (e *evaluator) incorporate(selected, candidates set, mode IndirectSelection) set {
	out := union(selected)
	var buildable set
	if mode == Buildable {
		buildable = union(selected, walk(selected, e.g.Parents, -1))
	}
	for id := range candidates {
		parents := e.g.Parents(id)
		switch mode {
		case Eager, Cautious:
			if allIn(parents, selected) {
				out.add(id)
			}
		case Buildable:
			if allIn(parents, buildable) {
				out.add(id)
			}
		}
	}
	return out
}

func allIn(ids []string, s set) bool {
	for _, id := range ids {
		if !s.has(id) {
			return false
		}
	}
	return true
}
