package selector

import (
	"slices"
	"sort"
)

// Resource types as dbt names them in unique ids and in resource_type.
const (
	Model         = "model"
	Seed          = "seed"
	Snapshot      = "snapshot"
	Test          = "test"
	UnitTest      = "unit_test"
	Source        = "source"
	Exposure      = "exposure"
	Metric        = "metric"
	Analysis      = "analysis"
	Operation     = "operation"
	SemanticModel = "semantic_model"
	SavedQuery    = "saved_query"
)

// Node is what selection needs to know of one node of a dbt project: a
// model, seed, snapshot, test, unit test, source, exposure, analysis, ….
// The runner adapts its own nodes to it; Info is a ready-made
// implementation.
type Node interface {
	// UniqueID is dbt's unique id, e.g. "model.jaffle_shop.orders".
	UniqueID() string
	// ResourceType is dbt's resource_type ("model", "test", "source", …).
	ResourceType() string
	// Name is the node's name (a source's table name).
	Name() string
	// PackageName is the package (project) that defines the node.
	PackageName() string
	// FQN is the fully qualified name: package, folders, name (for a
	// source: package, folders, source name, table name).
	FQN() []string
	// Tags are the node's tags, config tags included.
	Tags() []string
	// OriginalFilePath is the file that defines the node, relative to its
	// project root ("models/staging/stg_orders.sql").
	OriginalFilePath() string
	// Config returns the node's resolved config, keyed as in dbt_project.yml
	// (materialized, schema, meta, …). It may be nil.
	Config() map[string]any
	// DependsOn lists the unique ids of the nodes this node depends on.
	DependsOn() []string
}

// TestNode is implemented by test nodes; TestName is the name of the generic
// test that defines the node ("unique", "accepted_values", "equality"), empty
// for a singular test.
type TestNode interface {
	Node
	TestName() string
}

// StateNode is implemented by nodes that take part in state comparison
// (state:modified and its sub-selectors).
type StateNode interface {
	Node
	// Checksum is dbt's checksum of the node's body (sha256 of the raw
	// file for models, seeds, snapshots, tests).
	Checksum() string
	// DependsOnMacros lists the unique ids of the macros the node calls.
	DependsOnMacros() []string
	// Description is the node's description (for persisted descriptions).
	Description() string
}

// PatchedNode is implemented by nodes described in a property file other
// than the file that defines them (a model's schema.yml); the path method
// selects them by that file too. PatchPath is dbt's patch_path,
// "package://models/schema.yml".
type PatchedNode interface {
	Node
	PatchPath() string
}

// Info is a plain Node: a runner that has its nodes' properties at hand can
// fill it in instead of implementing Node itself.
type Info struct {
	ID              string
	Type            string
	NodeName        string
	Package         string
	FullName        []string
	TagList         []string
	Path            string
	Conf            map[string]any
	Parents         []string
	GenericTest     string // test_metadata.name of a generic test
	Sum             string // checksum of the body
	Macros          []string
	DescriptionText string
	Patch           string // patch_path: "package://models/schema.yml"
}

// UniqueID implements Node.
func (i *Info) UniqueID() string { return i.ID }

// ResourceType implements Node.
func (i *Info) ResourceType() string { return i.Type }

// Name implements Node.
func (i *Info) Name() string { return i.NodeName }

// PackageName implements Node.
func (i *Info) PackageName() string { return i.Package }

// FQN implements Node.
func (i *Info) FQN() []string { return i.FullName }

// Tags implements Node.
func (i *Info) Tags() []string { return i.TagList }

// OriginalFilePath implements Node.
func (i *Info) OriginalFilePath() string { return i.Path }

// Config implements Node.
func (i *Info) Config() map[string]any { return i.Conf }

// DependsOn implements Node.
func (i *Info) DependsOn() []string { return i.Parents }

// TestName implements TestNode.
func (i *Info) TestName() string { return i.GenericTest }

// Checksum implements StateNode.
func (i *Info) Checksum() string { return i.Sum }

// DependsOnMacros implements StateNode.
func (i *Info) DependsOnMacros() []string { return i.Macros }

// Description implements StateNode.
func (i *Info) Description() string { return i.DescriptionText }

// PatchPath implements PatchedNode.
func (i *Info) PatchPath() string { return i.Patch }

// Graph is the DAG selection walks: every node, and the edges between them.
type Graph interface {
	// Nodes returns every enabled node of the project, sources, exposures
	// and tests included.
	Nodes() []Node
	// Node returns the node with the unique id, if any.
	Node(id string) (Node, bool)
	// Parents returns the unique ids of the direct parents of id.
	Parents(id string) []string
	// Children returns the unique ids of the direct children of id.
	Children(id string) []string
}

// NewGraph builds a Graph from nodes, taking the edges from each node's
// DependsOn. Edges to ids that are not among nodes are ignored.
func NewGraph(nodes []Node) Graph {
	// Made at their size, each node's parents in one allocation: a
	// 10,000-model project has 30,000 nodes.
	g := &graph{byID: make(map[string]Node, len(nodes)), nodes: make([]Node, 0, len(nodes)),
		parents: make(map[string][]string, len(nodes)), children: make(map[string][]string, len(nodes))}
	for _, n := range nodes {
		if _, dup := g.byID[n.UniqueID()]; dup {
			continue
		}
		g.byID[n.UniqueID()] = n
		g.nodes = append(g.nodes, n)
	}
	for _, n := range g.nodes {
		id := n.UniqueID() // unique in g.nodes: its parents are listed here alone
		deps := n.DependsOn()
		var ps []string
		for _, p := range deps {
			if _, ok := g.byID[p]; !ok || slices.Contains(ps, p) {
				continue
			}
			if ps == nil {
				ps = make([]string, 0, len(deps))
			}
			ps = append(ps, p)
			g.children[p] = append(g.children[p], id)
		}
		if ps != nil {
			g.parents[id] = ps
		}
	}
	for _, m := range []map[string][]string{g.parents, g.children} {
		for _, ids := range m {
			sort.Strings(ids)
		}
	}
	return g
}

type graph struct {
	nodes    []Node
	byID     map[string]Node
	parents  map[string][]string
	children map[string][]string
}

func (g *graph) Nodes() []Node               { return g.nodes }
func (g *graph) Node(id string) (Node, bool) { n, ok := g.byID[id]; return n, ok }
func (g *graph) Parents(id string) []string  { return g.parents[id] }
func (g *graph) Children(id string) []string { return g.children[id] }

// set is a set of unique ids.
type set map[string]struct{}

func (s set) add(id string) { s[id] = struct{}{} }

func (s set) has(id string) bool { _, ok := s[id]; return ok }

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func union(sets ...set) set {
	n := 0
	for _, s := range sets {
		n = max(n, len(s))
	}
	out := make(set, n)
	for _, s := range sets {
		for id := range s {
			out.add(id)
		}
	}
	return out
}

func intersect(sets ...set) set {
	if len(sets) == 0 {
		return set{}
	}
	out := set{}
	for id := range sets[0] {
		in := true
		for _, s := range sets[1:] {
			if !s.has(id) {
				in = false
				break
			}
		}
		if in {
			out.add(id)
		}
	}
	return out
}

func difference(a set, others ...set) set {
	out := make(set, len(a))
	for id := range a {
		drop := false
		for _, s := range others {
			if s.has(id) {
				drop = true
				break
			}
		}
		if !drop {
			out.add(id)
		}
	}
	return out
}

// walk returns the nodes reachable from start by next, up to depth steps
// (depth < 0: no limit), not including start itself unless reached again.
func walk(start set, next func(string) []string, depth int) set {
	out := set{}
	frontier := make([]string, 0, len(start))
	for id := range start {
		frontier = append(frontier, id)
	}
	for step := 0; len(frontier) > 0 && (depth < 0 || step < depth); step++ {
		var nextFrontier []string
		for _, id := range frontier {
			for _, n := range next(id) {
				if !out.has(n) {
					out.add(n)
					nextFrontier = append(nextFrontier, n)
				}
			}
		}
		frontier = nextFrontier
	}
	return out
}
