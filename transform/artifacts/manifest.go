package artifacts

import (
	"encoding/json"
	"sort"
	"strings"
)

// Manifest is dbt's manifest.json (schema v12): the whole parsed project.
type Manifest struct {
	Metadata       ManifestMetadata             `json:"metadata"`
	Nodes          map[string]*Node             `json:"nodes"`
	Sources        map[string]*Source           `json:"sources"`
	Macros         map[string]*Macro            `json:"macros"`
	Docs           map[string]*Doc              `json:"docs"`
	Exposures      map[string]*Exposure         `json:"exposures"`
	Metrics        map[string]json.RawMessage   `json:"metrics"`
	Groups         map[string]*Group            `json:"groups"`
	Selectors      map[string]any               `json:"selectors"`
	Disabled       map[string][]json.RawMessage `json:"disabled"`
	ParentMap      map[string][]string          `json:"parent_map"`
	ChildMap       map[string][]string          `json:"child_map"`
	GroupMap       map[string][]string          `json:"group_map"`
	SavedQueries   map[string]json.RawMessage   `json:"saved_queries"`
	SemanticModels map[string]json.RawMessage   `json:"semantic_models"`
	UnitTests      map[string]*UnitTest         `json:"unit_tests"`
}

// ManifestMetadata is the manifest's metadata block.
type ManifestMetadata struct {
	Metadata
	ProjectName             *string  `json:"project_name"`
	ProjectID               *string  `json:"project_id"`
	UserID                  *string  `json:"user_id"`
	SendAnonymousUsageStats *bool    `json:"send_anonymous_usage_stats"`
	AdapterType             *string  `json:"adapter_type"`
	Quoting                 *Quoting `json:"quoting,omitempty"`
	RunStartedAt            *string  `json:"run_started_at,omitempty"`
}

// NewManifest returns an empty manifest with every map allocated.
func NewManifest(md Metadata) *Manifest {
	md.DBTSchemaVersion = ManifestV12
	f := false
	return &Manifest{
		Metadata:       ManifestMetadata{Metadata: md, SendAnonymousUsageStats: &f},
		Nodes:          map[string]*Node{},
		Sources:        map[string]*Source{},
		Macros:         map[string]*Macro{},
		Docs:           map[string]*Doc{},
		Exposures:      map[string]*Exposure{},
		Metrics:        map[string]json.RawMessage{},
		Groups:         map[string]*Group{},
		Selectors:      map[string]any{},
		Disabled:       map[string][]json.RawMessage{},
		ParentMap:      map[string][]string{},
		ChildMap:       map[string][]string{},
		GroupMap:       map[string][]string{},
		SavedQueries:   map[string]json.RawMessage{},
		SemanticModels: map[string]json.RawMessage{},
		UnitTests:      map[string]*UnitTest{},
	}
}

// BuildMaps fills parent_map, child_map and group_map from the depends_on of
// nodes, exposures and unit tests, as dbt does: every node, source and
// exposure has an entry (possibly empty), lists are sorted.
func (m *Manifest) BuildMaps() {
	m.ParentMap, m.ChildMap, m.GroupMap = map[string][]string{}, map[string][]string{}, map[string][]string{}
	add := func(id string, parents []string, group *string) {
		if _, ok := m.ParentMap[id]; !ok {
			m.ParentMap[id] = []string{}
		}
		if _, ok := m.ChildMap[id]; !ok {
			m.ChildMap[id] = []string{}
		}
		for _, p := range parents {
			m.ParentMap[id] = append(m.ParentMap[id], p)
			m.ChildMap[p] = append(m.ChildMap[p], id)
		}
		if group != nil && *group != "" {
			m.GroupMap[*group] = append(m.GroupMap[*group], id)
		}
	}
	for id, n := range m.Nodes {
		add(id, n.DependsOn.Nodes, n.Group)
	}
	for id := range m.Sources {
		add(id, nil, nil)
	}
	for id, e := range m.Exposures {
		add(id, e.DependsOn.Nodes, nil)
	}
	for id, u := range m.UnitTests {
		add(id, u.DependsOn.Nodes, nil)
	}
	for _, mp := range []map[string][]string{m.ParentMap, m.ChildMap, m.GroupMap} {
		for k, ids := range mp {
			sort.Strings(ids)
			mp[k] = dedupSorted(ids)
		}
	}
}

func dedupSorted(ids []string) []string {
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// ReadManifest reads a manifest.json (for --state comparison).
func ReadManifest(path string) (*Manifest, error) {
	var m Manifest
	if err := readFile(path, &m, "manifest", func() string { return m.Metadata.DBTSchemaVersion }); err != nil {
		return nil, err
	}
	return &m, nil
}

// FileHash is a node's checksum: the hash name and its hex value.
type FileHash struct {
	Name     string `json:"name"`
	Checksum string `json:"checksum"`
}

// DependsOn lists what a node depends on.
type DependsOn struct {
	Macros []string `json:"macros"`
	Nodes  []string `json:"nodes"`
}

// RefArgs is one ref() call of a node.
type RefArgs struct {
	Name    string  `json:"name"`
	Package *string `json:"package"`
	Version any     `json:"version"`
}

// Docs is a node's docs config.
type Docs struct {
	Show      bool    `json:"show"`
	NodeColor *string `json:"node_color"`
}

// Contract is a model's contract.
type Contract struct {
	Enforced   bool    `json:"enforced"`
	AliasTypes bool    `json:"alias_types"`
	Checksum   *string `json:"checksum"`
}

// InjectedCTE is an ephemeral model injected into a node's SQL as a CTE.
type InjectedCTE struct {
	ID  string `json:"id"`
	SQL string `json:"sql"`
}

// Quoting says which parts of relation names are quoted.
type Quoting struct {
	Database   *bool `json:"database"`
	Schema     *bool `json:"schema"`
	Identifier *bool `json:"identifier"`
	Column     *bool `json:"column"`
}

// Column is a documented column of a node or source.
type Column struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Meta        map[string]any `json:"meta"`
	DataType    *string        `json:"data_type"`
	Constraints []any          `json:"constraints"`
	Quote       *bool          `json:"quote"`
	Tags        []string       `json:"tags"`
}

// TestMetadata names the generic test a test node instantiates, with its
// arguments.
type TestMetadata struct {
	Name      string         `json:"name"`
	Kwargs    map[string]any `json:"kwargs"`
	Namespace *string        `json:"namespace"`
}

// Node is one entry of the manifest's nodes: a model, seed, snapshot,
// analysis, test (generic or singular), operation (hook) or SQL operation,
// told apart by ResourceType. The fields a kind does not have in dbt's
// schema are left out when it is written.
type Node struct {
	Database                 *string            `json:"database"`
	Schema                   string             `json:"schema"`
	Name                     string             `json:"name"`
	ResourceType             string             `json:"resource_type"`
	PackageName              string             `json:"package_name"`
	Path                     string             `json:"path"`
	OriginalFilePath         string             `json:"original_file_path"`
	UniqueID                 string             `json:"unique_id"`
	FQN                      []string           `json:"fqn"`
	Alias                    string             `json:"alias"`
	Checksum                 FileHash           `json:"checksum"`
	Config                   map[string]any     `json:"config"`
	Tags                     []string           `json:"tags"`
	Description              string             `json:"description"`
	Columns                  map[string]*Column `json:"columns"`
	Meta                     map[string]any     `json:"meta"`
	Group                    *string            `json:"group"`
	Docs                     Docs               `json:"docs"`
	PatchPath                *string            `json:"patch_path"`
	BuildPath                *string            `json:"build_path"`
	UnrenderedConfig         map[string]any     `json:"unrendered_config"`
	CreatedAt                float64            `json:"created_at"`
	ConfigCallDict           map[string]any     `json:"config_call_dict"`
	UnrenderedConfigCallDict map[string]any     `json:"unrendered_config_call_dict"`
	RelationName             *string            `json:"relation_name"`
	RawCode                  string             `json:"raw_code"`
	DocBlocks                []string           `json:"doc_blocks"`
	RootPath                 *string            `json:"root_path,omitempty"`
	DependsOn                DependsOn          `json:"depends_on"`
	Language                 string             `json:"language,omitempty"`
	Refs                     []RefArgs          `json:"refs"`
	Sources                  [][]string         `json:"sources"`
	Metrics                  [][]string         `json:"metrics"`
	Functions                [][]string         `json:"functions"`
	CompiledPath             *string            `json:"compiled_path"`
	Compiled                 bool               `json:"compiled"`
	CompiledCode             *string            `json:"compiled_code"`
	ExtraCTEsInjected        bool               `json:"extra_ctes_injected"`
	ExtraCTEs                []InjectedCTE      `json:"extra_ctes"`
	Contract                 *Contract          `json:"contract,omitempty"`
	// Models only.
	Access          string   `json:"access,omitempty"`
	Constraints     []any    `json:"constraints"`
	Version         any      `json:"version"`
	LatestVersion   any      `json:"latest_version"`
	DeprecationDate *string  `json:"deprecation_date"`
	PrimaryKey      []string `json:"primary_key"`
	// Generic tests only.
	ColumnName   *string       `json:"column_name"`
	FileKeyName  *string       `json:"file_key_name"`
	AttachedNode *string       `json:"attached_node"`
	TestMetadata *TestMetadata `json:"test_metadata,omitempty"`
	// Hooks (operations) only.
	Index *int `json:"index"`
}

// Which keys each kind of node may carry beyond the common ones, as in
// dbt's schema (additionalProperties is false for every kind).
var (
	compiledKeys = []string{"language", "refs", "sources", "metrics", "functions", "depends_on", "compiled_path", "compiled", "compiled_code", "extra_ctes_injected", "extra_ctes", "contract"}
	kindKeys     = map[string][]string{
		"seed":          {"root_path", "depends_on"},
		"analysis":      compiledKeys,
		"sql_operation": compiledKeys,
		"snapshot":      compiledKeys,
		"operation":     append([]string{"index"}, compiledKeys...),
		"model":         append([]string{"access", "constraints", "version", "latest_version", "deprecation_date", "primary_key"}, compiledKeys...),
		"test":          append([]string{"column_name", "file_key_name", "attached_node", "test_metadata"}, compiledKeys...),
	}
	optionalKeys = map[string]bool{}
	// allowedKeys holds kindKeys as sets (and the singular test's set
	// under singularTest), made once.
	allowedKeys = map[string]map[string]bool{}
)

// singularTest is allowedKeys' entry for a test without test metadata.
const singularTest = "test/singular"

func init() {
	for kind, keys := range kindKeys {
		allowedKeys[kind] = map[string]bool{}
		for _, k := range keys {
			optionalKeys[k] = true
			allowedKeys[kind][k] = true
		}
	}
	allowedKeys[singularTest] = map[string]bool{}
	for k := range allowedKeys["test"] {
		switch k {
		case "column_name", "file_key_name", "attached_node", "test_metadata":
		default:
			allowedKeys[singularTest][k] = true
		}
	}
}

// MarshalJSON writes the node with the keys its kind has in dbt's schema,
// empty collections as [] and {}, and hooks in config as Hook objects.
func (n *Node) MarshalJSON() ([]byte, error) {
	type plain Node
	c := plain(*n)
	if c.Config == nil {
		c.Config = map[string]any{}
	}
	c.Config = normalizeConfig(c.Config)
	fill(&c.Tags)
	fill(&c.DocBlocks)
	fill(&c.FQN)
	fill(&c.DependsOn.Macros)
	fill(&c.DependsOn.Nodes)
	fill(&c.Refs)
	fill(&c.Sources)
	fill(&c.Metrics)
	fill(&c.Functions)
	fill(&c.ExtraCTEs)
	fill(&c.Constraints)
	fill(&c.PrimaryKey)
	for _, mp := range []*map[string]any{&c.Meta, &c.UnrenderedConfig, &c.ConfigCallDict, &c.UnrenderedConfigCallDict} {
		if *mp == nil {
			*mp = map[string]any{}
		}
	}
	if c.Columns == nil {
		c.Columns = map[string]*Column{}
	}
	if c.Language == "" {
		c.Language = "sql"
	}
	if c.Contract == nil {
		c.Contract = &Contract{AliasTypes: true}
	}
	if c.ResourceType == "test" && c.TestMetadata == nil {
		c.ColumnName, c.FileKeyName, c.AttachedNode = nil, nil, nil
	}
	if c.ResourceType == "model" && c.Access == "" {
		c.Access = "protected"
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	allowed := allowedKeys[c.ResourceType]
	if c.ResourceType == "test" && c.TestMetadata == nil {
		allowed = allowedKeys[singularTest]
	}
	var replace map[string][]byte
	if c.ResourceType == "seed" {
		deps, err := json.Marshal(map[string][]string{"macros": c.DependsOn.Macros})
		if err != nil {
			return nil, err
		}
		replace = map[string][]byte{"depends_on": deps}
	}
	return filterKeys(data, func(k string) bool { return optionalKeys[k] && !allowed[k] }, replace)
}

// normalizeConfig returns config with pre-hook / post-hook given as strings
// turned into dbt's Hook objects.
func normalizeConfig(cfg map[string]any) map[string]any {
	_, pre := cfg["pre-hook"]
	_, post := cfg["post-hook"]
	if !pre && !post {
		return cfg // nothing to change: no copy
	}
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		out[k] = v
	}
	for _, key := range []string{"pre-hook", "post-hook"} {
		v, ok := out[key]
		if !ok {
			continue
		}
		var hooks []any
		add := func(x any) {
			switch h := x.(type) {
			case string:
				hooks = append(hooks, map[string]any{"sql": h, "transaction": true, "index": nil})
			default:
				hooks = append(hooks, h)
			}
		}
		switch v := v.(type) {
		case nil:
		case []any:
			for _, x := range v {
				add(x)
			}
		case []string:
			for _, x := range v {
				add(x)
			}
		default:
			add(v)
		}
		if hooks == nil {
			hooks = []any{}
		}
		out[key] = hooks
	}
	return out
}

func fill[T any](s *[]T) {
	if *s == nil {
		*s = []T{}
	}
}

// Source is one table of a source (the manifest's sources).
type Source struct {
	Database           *string            `json:"database"`
	Schema             string             `json:"schema"`
	Name               string             `json:"name"`
	ResourceType       string             `json:"resource_type"`
	PackageName        string             `json:"package_name"`
	Path               string             `json:"path"`
	OriginalFilePath   string             `json:"original_file_path"`
	UniqueID           string             `json:"unique_id"`
	FQN                []string           `json:"fqn"`
	SourceName         string             `json:"source_name"`
	SourceDescription  string             `json:"source_description"`
	Loader             string             `json:"loader"`
	Identifier         string             `json:"identifier"`
	Quoting            Quoting            `json:"quoting"`
	LoadedAtField      *string            `json:"loaded_at_field"`
	LoadedAtQuery      *string            `json:"loaded_at_query,omitempty"`
	Freshness          *Freshness         `json:"freshness"`
	External           any                `json:"external"`
	Description        string             `json:"description"`
	Columns            map[string]*Column `json:"columns"`
	Meta               map[string]any     `json:"meta"`
	SourceMeta         map[string]any     `json:"source_meta"`
	Tags               []string           `json:"tags"`
	Config             map[string]any     `json:"config"`
	PatchPath          *string            `json:"patch_path"`
	UnrenderedConfig   map[string]any     `json:"unrendered_config"`
	RelationName       *string            `json:"relation_name"`
	CreatedAt          float64            `json:"created_at"`
	UnrenderedDatabase *string            `json:"unrendered_database,omitempty"`
	UnrenderedSchema   *string            `json:"unrendered_schema,omitempty"`
	DocBlocks          []string           `json:"doc_blocks"`
}

// MarshalJSON writes empty collections as [] and {}.
func (s *Source) MarshalJSON() ([]byte, error) {
	type plain Source
	c := plain(*s)
	if c.ResourceType == "" {
		c.ResourceType = "source"
	}
	fill(&c.FQN)
	fill(&c.Tags)
	fill(&c.DocBlocks)
	for _, mp := range []*map[string]any{&c.Meta, &c.SourceMeta, &c.Config, &c.UnrenderedConfig} {
		if *mp == nil {
			*mp = map[string]any{}
		}
	}
	if c.Columns == nil {
		c.Columns = map[string]*Column{}
	}
	return json.Marshal(c)
}

// Freshness is a source's freshness criteria.
type Freshness struct {
	WarnAfter  *Period `json:"warn_after"`
	ErrorAfter *Period `json:"error_after"`
	Filter     *string `json:"filter"`
}

// Period is a freshness threshold: count periods (minute, hour, day).
type Period struct {
	Count  *int    `json:"count"`
	Period *string `json:"period"`
}

// Macro is one macro of the manifest.
type Macro struct {
	Name             string         `json:"name"`
	ResourceType     string         `json:"resource_type"`
	PackageName      string         `json:"package_name"`
	Path             string         `json:"path"`
	OriginalFilePath string         `json:"original_file_path"`
	UniqueID         string         `json:"unique_id"`
	MacroSQL         string         `json:"macro_sql"`
	DependsOn        MacroDependsOn `json:"depends_on"`
	Description      string         `json:"description"`
	Meta             map[string]any `json:"meta"`
	Docs             Docs           `json:"docs"`
	PatchPath        *string        `json:"patch_path"`
	Arguments        []any          `json:"arguments"`
	CreatedAt        float64        `json:"created_at"`
	SupportedLangs   []string       `json:"supported_languages"`
}

// MacroDependsOn lists the macros a macro (or seed) calls.
type MacroDependsOn struct {
	Macros []string `json:"macros"`
}

// MarshalJSON writes empty collections as [] and {}.
func (m *Macro) MarshalJSON() ([]byte, error) {
	type plain Macro
	c := plain(*m)
	if c.ResourceType == "" {
		c.ResourceType = "macro"
	}
	fill(&c.DependsOn.Macros)
	fill(&c.Arguments)
	if c.Meta == nil {
		c.Meta = map[string]any{}
	}
	return json.Marshal(c)
}

// Doc is a {% docs %} block.
type Doc struct {
	Name             string `json:"name"`
	ResourceType     string `json:"resource_type"`
	PackageName      string `json:"package_name"`
	Path             string `json:"path"`
	OriginalFilePath string `json:"original_file_path"`
	UniqueID         string `json:"unique_id"`
	BlockContents    string `json:"block_contents"`
}

// Owner is the owner of an exposure or group.
type Owner struct {
	Email any     `json:"email"`
	Name  *string `json:"name"`
}

// Exposure is a downstream use of the project (a dashboard, a notebook, …).
type Exposure struct {
	Name             string         `json:"name"`
	ResourceType     string         `json:"resource_type"`
	PackageName      string         `json:"package_name"`
	Path             string         `json:"path"`
	OriginalFilePath string         `json:"original_file_path"`
	UniqueID         string         `json:"unique_id"`
	FQN              []string       `json:"fqn"`
	Type             string         `json:"type"`
	Owner            Owner          `json:"owner"`
	Description      string         `json:"description"`
	Label            *string        `json:"label"`
	Maturity         *string        `json:"maturity"`
	Meta             map[string]any `json:"meta"`
	Tags             []string       `json:"tags"`
	Config           map[string]any `json:"config"`
	UnrenderedConfig map[string]any `json:"unrendered_config"`
	URL              *string        `json:"url"`
	DependsOn        DependsOn      `json:"depends_on"`
	Refs             []RefArgs      `json:"refs"`
	Sources          [][]string     `json:"sources"`
	Metrics          [][]string     `json:"metrics"`
	CreatedAt        float64        `json:"created_at"`
}

// MarshalJSON writes empty collections as [] and {}.
func (e *Exposure) MarshalJSON() ([]byte, error) {
	type plain Exposure
	c := plain(*e)
	if c.ResourceType == "" {
		c.ResourceType = "exposure"
	}
	fill(&c.FQN)
	fill(&c.Tags)
	fill(&c.Refs)
	fill(&c.Sources)
	fill(&c.Metrics)
	fill(&c.DependsOn.Macros)
	fill(&c.DependsOn.Nodes)
	for _, mp := range []*map[string]any{&c.Meta, &c.Config, &c.UnrenderedConfig} {
		if *mp == nil {
			*mp = map[string]any{}
		}
	}
	return json.Marshal(c)
}

// Group is a group of models with an owner.
type Group struct {
	Name             string         `json:"name"`
	ResourceType     string         `json:"resource_type"`
	PackageName      string         `json:"package_name"`
	Path             string         `json:"path"`
	OriginalFilePath string         `json:"original_file_path"`
	UniqueID         string         `json:"unique_id"`
	Owner            Owner          `json:"owner"`
	Description      *string        `json:"description"`
	Config           map[string]any `json:"config"`
}

// UnitTest is a unit test definition (unit_tests: in property YAML).
type UnitTest struct {
	Model            string          `json:"model"`
	Given            []UnitTestInput `json:"given"`
	Expect           UnitTestOutput  `json:"expect"`
	Name             string          `json:"name"`
	ResourceType     string          `json:"resource_type"`
	PackageName      string          `json:"package_name"`
	Path             string          `json:"path"`
	OriginalFilePath string          `json:"original_file_path"`
	UniqueID         string          `json:"unique_id"`
	FQN              []string        `json:"fqn"`
	Description      string          `json:"description"`
	Overrides        map[string]any  `json:"overrides"`
	DependsOn        DependsOn       `json:"depends_on"`
	Config           map[string]any  `json:"config"`
	Checksum         *string         `json:"checksum"`
	Schema           *string         `json:"schema"`
	CreatedAt        float64         `json:"created_at"`
}

// UnitTestInput is one given: fixture of a unit test. Rows are a list of
// mappings (format dict) or text (csv, sql).
type UnitTestInput struct {
	Input   string  `json:"input"`
	Rows    any     `json:"rows"`
	Format  string  `json:"format"`
	Fixture *string `json:"fixture"`
}

// UnitTestOutput is the expect: fixture of a unit test.
type UnitTestOutput struct {
	Rows    any     `json:"rows"`
	Format  string  `json:"format"`
	Fixture *string `json:"fixture"`
}

// MarshalJSON writes empty collections as [] and {} and defaults the
// fixture formats to dict.
func (u *UnitTest) MarshalJSON() ([]byte, error) {
	type plain UnitTest
	c := plain(*u)
	if c.ResourceType == "" {
		c.ResourceType = "unit_test"
	}
	fill(&c.FQN)
	fill(&c.Given)
	fill(&c.DependsOn.Macros)
	fill(&c.DependsOn.Nodes)
	if c.Config == nil {
		c.Config = map[string]any{}
	}
	given := make([]UnitTestInput, len(c.Given))
	for i, g := range c.Given {
		if g.Format == "" {
			g.Format = "dict"
		}
		given[i] = g
	}
	c.Given = given
	if c.Expect.Format == "" {
		c.Expect.Format = "dict"
	}
	return json.Marshal(c)
}

// ResourceTypeOf returns the resource type spelled in a unique id
// ("model.shop.orders" → "model").
func ResourceTypeOf(uniqueID string) string {
	if i := strings.IndexByte(uniqueID, '.'); i > 0 {
		return uniqueID[:i]
	}
	return ""
}

// MarshalJSON writes empty collections as [] and {}.
func (c *Column) MarshalJSON() ([]byte, error) {
	type plain Column
	p := plain(*c)
	fill(&p.Constraints)
	fill(&p.Tags)
	if p.Meta == nil {
		p.Meta = map[string]any{}
	}
	return json.Marshal(p)
}

// MarshalJSON writes an empty config as {}.
func (g *Group) MarshalJSON() ([]byte, error) {
	type plain Group
	p := plain(*g)
	if p.ResourceType == "" {
		p.ResourceType = "group"
	}
	if p.Config == nil {
		p.Config = map[string]any{}
	}
	return json.Marshal(p)
}
