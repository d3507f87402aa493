package transform

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/dataopskit/dataops/transform/jinja"
	"github.com/dataopskit/dataops/warehouse"
)

// ResourceType is the kind of a node, spelled as dbt spells it in
// manifest.json.
type ResourceType string

// Resource types.
const (
	ResourceModel    ResourceType = "model"
	ResourceSeed     ResourceType = "seed"
	ResourceSnapshot ResourceType = "snapshot"
	ResourceTest     ResourceType = "test"
	ResourceSource   ResourceType = "source"
	ResourceMacro    ResourceType = "macro"
	ResourceExposure ResourceType = "exposure"
	ResourceDoc      ResourceType = "doc"
	ResourceAnalysis ResourceType = "analysis"
	ResourceUnitTest ResourceType = "unit_test"
)

// Project is a loaded dbt project: its own files, its packages, the profile
// target it runs against and every node, source, macro, exposure and doc
// block. Load parses it (the parse render has run: refs, sources and
// configs are known and the DAG is built); Compile renders SQL; Run
// executes. A Project holds no global state: several may be loaded and run
// at once in one process.
type Project struct {
	// Name is the project name from dbt_project.yml.
	Name string
	// Dir is the project directory (absolute).
	Dir string
	// ProfileName is the profile dbt_project.yml names.
	ProfileName string
	// Target is the profile target the project runs against.
	Target Target
	// TargetPath is where artifacts go ("target" unless configured),
	// relative to Dir unless absolute.
	TargetPath string
	// Vars are the project's global vars merged with the command-line vars.
	Vars map[string]any
	// Packages lists the loaded packages (the root project first).
	Packages []*Package
	// Nodes holds models, seeds, snapshots, tests and analyses by unique id.
	Nodes map[string]*Node
	// Sources holds source tables by unique id.
	Sources map[string]*Source
	// Macros holds macros by unique id (macro.<package>.<name>).
	Macros map[string]*Macro
	// Exposures holds exposures by unique id.
	Exposures map[string]*Exposure
	// Docs holds {% docs %} blocks by unique id (doc.<package>.<name>).
	Docs map[string]*Doc
	// OnRunStart and OnRunEnd are the project's hooks (raw Jinja SQL).
	OnRunStart, OnRunEnd []string
	// Warnings collects the warnings loading produced (also logged).
	Warnings []string

	logger *slog.Logger
	env    func(string) (string, bool)
	root   *Package
	jenv   *jinja.Environment
	state  *projectState
}

// Package is the root project or one of its packages.
type Package struct {
	// Name is the package's project name.
	Name string
	// Dir is its directory.
	Dir string
	// Root reports whether it is the root project.
	Root bool

	cfg *projectFile
}

// Target is a profile target resolved into a warehouse URL.
type Target struct {
	// Name is the target's name (e.g. "dev").
	Name string
	// Type is the adapter type: "duckdb", "postgres", ….
	Type string
	// Database and Schema are the target's defaults for relations.
	Database, Schema string
	// Threads is the profile's thread count (1 when unset).
	Threads int
	// URL opens the target's warehouse with warehouse.Open.
	URL string
	// Fields holds every field of the profile target (the Jinja `target`),
	// with secrets included; never log it.
	Fields map[string]any
}

// Node is a model, seed, snapshot, test or analysis.
type Node struct {
	// UniqueID is dbt's id: "<type>.<package>.<name>" (tests add a hash).
	UniqueID string
	// ResourceType is the node's kind.
	ResourceType ResourceType
	// Package is the package that defines the node.
	Package string
	// Name is the node's name (file name without extension for files).
	Name string
	// Path is the file's path inside its resource folder
	// (e.g. "staging/stg_orders.sql").
	Path string
	// OriginalFilePath is the file's path relative to its package root
	// (e.g. "models/staging/stg_orders.sql").
	OriginalFilePath string
	// FQN is dbt's fully qualified name: package, folders, name.
	FQN []string
	// RawCode is the node's Jinja SQL (for seeds: empty).
	RawCode string
	// Language is "sql".
	Language string
	// Description, Columns, Meta and Tags come from property YAML and config.
	Description string
	Columns     []ColumnInfo
	Meta        map[string]any
	Tags        []string
	// Config is the node's resolved configuration.
	Config NodeConfig
	// Database, Schema and Alias locate the node's relation in the
	// warehouse (generate_*_name applied).
	Database, Schema, Alias string
	// Refs, SourceRefs and DependsOn are what the parse render found:
	// ref() arguments, source() arguments, and the unique ids of the nodes
	// and sources this node depends on (sorted).
	Refs       [][]string
	SourceRefs [][2]string
	DependsOn  []string
	// DependsOnMacros lists the unique ids of macros the node calls
	// (generic test macros for tests).
	DependsOnMacros []string
	// Test holds what a generic data test was generated from; nil for
	// other nodes (and singular tests).
	Test *TestMetadata
	// AttachedNode is the unique id of the model, seed, snapshot or
	// source a test is attached to.
	AttachedNode string
	// ColumnName is the column (or expression) a column test is on.
	ColumnName string
	// Checksum is the sha256 of the node's file.
	Checksum string
	// PatchPath is the property file (package://path) that described the
	// node, if any.
	PatchPath string
	// Line is the line of the node's definition in its file (snapshot
	// blocks and YAML-defined tests), 1 for whole files.
	Line int
	// Unit holds a unit test's definition (ResourceUnitTest only).
	Unit *UnitTestSpec

	project *Project
	tmpl    *jinja.Template
	file    string // absolute path of the file
	yamlKey string // property file line for tests, for errors
	parsed  map[string]any
	ucfg    map[string]any // config() from the parse render
	// testModel is what a generic test is attached to: ["ref", name] or
	// ["source", source, table]; its `model` argument is resolved from it
	// without a render.
	testModel []string
	vars      atomic.Pointer[map[string]any] // this and model, once names are resolved
	parents   []*Node                        // the nodes Refs resolved to (resolveDeps)
	ord       int32                          // position among the sorted nodes (checkCycles)
}

// Relation returns the node's warehouse relation.
func (n *Node) Relation() warehouse.Relation {
	return warehouse.Relation{Database: n.Database, Schema: n.Schema, Name: n.Alias}
}

// ColumnInfo is a column documented in property YAML.
type ColumnInfo struct {
	Name        string
	Description string
	DataType    string
	Quote       *bool
	Meta        map[string]any
	Tags        []string
}

// TestMetadata is what a generic data test was generated from.
type TestMetadata struct {
	// Name is the test's name ("unique", "not_null", a custom one).
	Name string
	// Namespace is the package the test macro was qualified with
	// ("dbt_utils" in dbt_utils.expression_is_true), or "".
	Namespace string
	// Kwargs are the test's arguments (column_name and model included, as
	// dbt writes them: model as "{{ get_where_subquery(ref('x')) }}").
	Kwargs map[string]any
}

// UnitTestSpec is a unit test from property YAML: the model it tests, the
// fixtures given for its inputs and the rows expected.
type UnitTestSpec struct {
	// Model is the tested model's name.
	Model string
	// Given are the fixtures, by input: "ref('x')" or "source('a', 'b')".
	Given []UnitTestFixture
	// Expect is the expected output.
	Expect UnitTestFixture
	// Description is the test's description.
	Description string
}

// UnitTestFixture is the rows of an input or of the expected output, in
// dbt's dict form (Rows), csv form (CSV) or sql form (SQL, a query).
type UnitTestFixture struct {
	Input string
	Rows  []map[string]any
	CSV   string
	SQL   string
}

// NodeConfig is a node's configuration after dbt_project.yml's folder
// trees, property YAML and config() calls are merged (later wins).
type NodeConfig struct {
	Enabled               bool
	Materialized          string
	Database              string
	Schema                string
	Alias                 string
	Tags                  []string
	PreHook               []string
	PostHook              []string
	UniqueKey             []string
	IncrementalStrategy   string
	OnSchemaChange        string
	IncrementalPredicates []string
	FullRefresh           *bool
	// Seeds.
	ColumnTypes  map[string]string
	QuoteColumns *bool
	Delimiter    string
	// Snapshots.
	Strategy     string
	UpdatedAt    string
	CheckCols    []string // ["all"] for check_cols='all'
	HardDeletes  string
	TargetSchema string
	// Tests.
	Severity      string
	WarnIf        string
	ErrorIf       string
	Where         string
	Limit         *int
	StoreFailures *bool
	// Raw holds every key as configured, typed ones included.
	Raw map[string]any
}

// Get returns a config value by key (Raw first, then nil).
func (c NodeConfig) Get(key string) (any, bool) {
	v, ok := c.Raw[key]
	return v, ok
}

// Source is one table of a source in property YAML.
type Source struct {
	UniqueID         string
	Package          string
	SourceName       string
	Name             string
	Description      string
	SourceDesc       string // the description of the source the table is in
	Database         string
	Schema           string
	Identifier       string
	Loader           string
	Columns          []ColumnInfo
	Meta             map[string]any
	Tags             []string
	FQN              []string
	Path             string
	OriginalFilePath string
	Freshness        map[string]any
	LoadedAtField    string
	Quoting          map[string]any
	Enabled          bool
}

// Relation returns the source table's warehouse relation.
func (s *Source) Relation() warehouse.Relation {
	return warehouse.Relation{Database: s.Database, Schema: s.Schema, Name: s.Identifier}
}

// Macro is a macro defined in a package's macro files (or a built-in one).
type Macro struct {
	UniqueID         string
	Package          string
	Name             string
	Path             string
	OriginalFilePath string
	Description      string
	// Arguments lists the macro's parameter names.
	Arguments []string
	// Source is the macro's file content.
	Source string
	// Meta, ArgDocs (name, type, description per argument) and PatchPath
	// come from the macros: entry of a property file.
	Meta      map[string]any
	ArgDocs   []map[string]any
	PatchPath string
}

// Exposure is an exposure from property YAML.
type Exposure struct {
	UniqueID         string
	Package          string
	Name             string
	Type             string
	Label            string
	Description      string
	Maturity         string
	URL              string
	Owner            map[string]any
	DependsOn        []string
	Refs             [][]string
	SourceRefs       [][2]string
	Tags             []string
	Meta             map[string]any
	FQN              []string
	Path             string
	OriginalFilePath string
}

// Doc is a {% docs name %} block.
type Doc struct {
	UniqueID         string
	Package          string
	Name             string
	Path             string
	OriginalFilePath string
	Contents         string
}

// NodesOf returns the nodes of the given kinds (all when none) sorted by
// unique id.
func (p *Project) NodesOf(kinds ...ResourceType) []*Node {
	all := p.sortedNodes()
	if len(kinds) == 0 {
		return slices.Clone(all)
	}
	var out []*Node
	for _, n := range all {
		if containsType(kinds, n.ResourceType) {
			out = append(out, n)
		}
	}
	return out
}

// sortedNodes returns every node sorted by unique id; the slice is shared
// and must not be changed. The sort is kept while p.Nodes holds the same
// nodes (checked with a lookup per node, far cheaper than sorting again).
func (p *Project) sortedNodes() []*Node {
	st := p.state
	if st != nil {
		st.sortedMu.Lock()
		defer st.sortedMu.Unlock()
		if s := st.sorted; len(s) == len(p.Nodes) {
			same := true
			for _, n := range s {
				if p.Nodes[n.UniqueID] != n {
					same = false
					break
				}
			}
			if same {
				return s
			}
		}
	}
	out := make([]*Node, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *Node) int { return strings.Compare(a.UniqueID, b.UniqueID) })
	if st != nil {
		st.sorted = out
	}
	return out
}

// Parents returns the unique ids the node (or source, exposure) id depends on.
func (p *Project) Parents(id string) []string {
	if n, ok := p.Nodes[id]; ok {
		return n.DependsOn
	}
	if e, ok := p.Exposures[id]; ok {
		return e.DependsOn
	}
	return nil
}

// Children returns the unique ids of the nodes and exposures that depend
// directly on id, sorted.
func (p *Project) Children(id string) []string {
	return p.state.children[id]
}

// OpenWarehouse opens the target's warehouse. The driver for the target's
// type must be imported (warehouse/duckdb, warehouse/postgres).
func (p *Project) OpenWarehouse(ctx context.Context) (*warehouse.Warehouse, error) {
	return warehouse.Open(ctx, p.Target.URL, warehouse.WithLogger(p.logger))
}

func containsType(ts []ResourceType, t ResourceType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}
