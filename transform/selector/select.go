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

// Select evaluates a selection on a graph as dbt-core does: each criterion
// with its graph operators and the tests it selects through the nodes they
// test, then the set operations (which take in, in cautious and buildable
// mode, tests whose parents all ended up selected), then the command's
// resource types.
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
	var spec Spec
	switch {
	case opts.Selector != "":
		if include != nil || exclude != nil {
			return nil, fmt.Errorf("%w: --selector cannot be combined with --select or --exclude", ErrSyntax)
		}
		if spec, err = opts.Selectors.Lookup(opts.Selector); err != nil {
			return nil, err
		}
	case include == nil && exclude == nil && opts.Selectors.Default() != nil:
		spec = opts.Selectors.Default().Definition
	default:
		withIndirect(include, mode)
		withIndirect(exclude, mode)
		if include == nil {
			include = opts.Default
		}
		if include == nil {
			include = everything{}
		}
		if exclude == nil {
			exclude = &Union{}
		}
		spec = &Difference{Include: include, Exclude: exclude}
	}
	e := &evaluator{g: g, opts: opts, inSelector: map[string]bool{}}
	direct, _, err := e.eval(spec)
	if err != nil {
		return nil, err
	}
	return &Result{Selected: e.filter(direct).sorted(), Warnings: e.warnings}, nil
}

func isDifference(s Spec) bool {
	_, ok := s.(*Difference)
	return ok
}

// everything is the default selection: every node of the graph (dbt's
// fqn:* source:* exposure:* …).
type everything struct{}

func (everything) String() string { return "*" }
func (everything) spec()          {}

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

// eval returns the nodes a spec selects directly and those it selects
// directly or indirectly, as dbt-core's select_nodes_recursively.
func (e *evaluator) eval(s Spec) (direct, indirect set, err error) {
	var specs []Spec
	var combine func(...set) set
	var mode IndirectSelection
	raw := ""
	switch s := s.(type) {
	case *Criterion:
		return e.evalCriterion(s)
	case everything:
		all := set{}
		for _, n := range e.g.Nodes() {
			all.add(n.UniqueID())
		}
		return all, all, nil
	case *Union:
		specs, combine, mode = s.Specs, union, s.Indirect
	case *Intersection:
		specs, combine, mode, raw = s.Specs, intersect, s.Indirect, s.Raw
	case *Difference:
		specs, mode = []Spec{s.Include, s.Exclude}, s.Indirect
		combine = func(sets ...set) set { return difference(sets[0], sets[1:]...) }
	case nil:
		return set{}, set{}, nil
	default:
		return nil, nil, fmt.Errorf("%w: unknown spec %T", ErrSyntax, s)
	}
	if len(specs) == 0 {
		return set{}, set{}, nil
	}
	var ds, is []set
	for _, sub := range specs {
		d, i, err := e.eval(sub)
		if err != nil {
			return nil, nil, err
		}
		// Sets are not changed once made, so a member's set serves
		// as is when there is nothing to add to it.
		di := d
		if len(i) > 0 {
			di = union(d, i)
		}
		ds, is = append(ds, d), append(is, di)
	}
	var initial set
	switch {
	case len(specs) == 1:
		initial, indirect = ds[0], is[0]
	case len(specs) == 2 && len(is[1]) == 0 && isDifference(s):
		initial, indirect = ds[0], is[0]
	default:
		initial, indirect = combine(ds...), combine(is...)
	}
	direct = e.incorporate(initial, indirect, mode)
	if raw != "" && len(direct) == 0 {
		e.warnings = append(e.warnings, fmt.Sprintf("The selection criterion '%s' does not match any enabled nodes", raw))
	}
	return direct, indirect, nil
}

func (e *evaluator) evalCriterion(c *Criterion) (direct, indirect set, err error) {
	mode := e.opts.Indirect
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
		return e.eval(def)
	}
	found, err := e.search(c)
	if err != nil {
		return nil, nil, err
	}
	selected := found
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
	if mode == Empty {
		return selected, set{}, nil
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

// incorporate takes in the tests a set operation's members selected only
// indirectly once their parents are all selected (cautious), or selected or
// ancestors of selected nodes (buildable); eager and empty take in none
// here, as dbt-core's incorporate_indirect_nodes. Unit tests are never
// taken in this way.
func (e *evaluator) incorporate(direct, indirect set, mode IndirectSelection) set {
	if mode != Cautious && mode != Buildable {
		return direct
	}
	out := union(direct)
	ok := direct
	if mode == Buildable {
		ok = union(direct, walk(direct, e.g.Parents, -1))
	}
	for id := range indirect {
		if out.has(id) {
			continue
		}
		if n, found := e.g.Node(id); !found || n.ResourceType() == UnitTest || n.ResourceType() == Source || n.ResourceType() == Exposure {
			continue
		}
		if allIn(e.g.Parents(id), ok) {
			out.add(id)
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
