package artifacts

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dataopskit/dataops/internal/jsonscan"
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
	// Made at their size, each parent list in one allocation: a
	// 10,000-model manifest has 30,000 entries in each map.
	size := len(m.Nodes) + len(m.Sources) + len(m.Exposures) + len(m.UnitTests)
	m.ParentMap, m.ChildMap, m.GroupMap = make(map[string][]string, size), make(map[string][]string, size), map[string][]string{}
	add := func(id string, parents []string, group *string) {
		ps, ok := m.ParentMap[id]
		if !ok {
			ps = make([]string, 0, len(parents))
		}
		m.ParentMap[id] = append(ps, parents...) // a copy: sorted below
		if _, ok := m.ChildMap[id]; !ok {
			m.ChildMap[id] = []string{}
		}
		for _, p := range parents {
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
// empty collections as [] and {}, and hooks in config as Hook objects. The
// bytes are those of encoding/json on the node's fields (HTML-escaped
// strings, maps sorted by key), written field by field: a manifest holds
// tens of thousands of nodes, and reflection over each was most of the
// time a manifest took to write.
func (n *Node) MarshalJSON() ([]byte, error) {
	return n.appendJSON(make([]byte, 0, 2048))
}

// appendJSON appends the node's JSON (MarshalJSON's bytes) to out.
func (n *Node) appendJSON(out []byte) ([]byte, error) {
	allowed := allowedKeys[n.ResourceType]
	singular := n.ResourceType == "test" && n.TestMetadata == nil
	if singular {
		allowed = allowedKeys[singularTest]
	}
	if allowed == nil {
		allowed = noOptionalKeys // a kind dbt's schema does not know
	}
	e := nodeEncoder{allowed: allowed, out: out}
	e.out = append(e.out, '{')
	e.strPtr("database", n.Database)
	e.str("schema", n.Schema)
	e.str("name", n.Name)
	e.str("resource_type", n.ResourceType)
	e.str("package_name", n.PackageName)
	e.str("path", n.Path)
	e.str("original_file_path", n.OriginalFilePath)
	e.str("unique_id", n.UniqueID)
	e.strs("fqn", n.FQN)
	e.str("alias", n.Alias)
	if e.key("checksum") {
		e.out = append(e.out, `{"name":`...)
		e.out = appendString(e.out, n.Checksum.Name)
		e.out = append(e.out, `,"checksum":`...)
		e.out = appendString(e.out, n.Checksum.Checksum)
		e.out = append(e.out, '}')
	}
	cfg := n.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	e.value("config", normalizeConfig(cfg))
	e.strs("tags", n.Tags)
	e.str("description", n.Description)
	if e.key("columns") {
		if len(n.Columns) == 0 {
			e.out = append(e.out, "{}"...)
		} else {
			e.marshal(n.Columns)
		}
	}
	e.dict("meta", n.Meta)
	e.strPtr("group", n.Group)
	if e.key("docs") {
		e.out = append(e.out, `{"show":`...)
		e.out = strconv.AppendBool(e.out, n.Docs.Show)
		e.out = append(e.out, `,"node_color":`...)
		e.out = appendStringPtr(e.out, n.Docs.NodeColor)
		e.out = append(e.out, '}')
	}
	e.strPtr("patch_path", n.PatchPath)
	e.strPtr("build_path", n.BuildPath)
	e.dict("unrendered_config", n.UnrenderedConfig)
	if e.key("created_at") {
		e.float(n.CreatedAt)
	}
	e.dict("config_call_dict", n.ConfigCallDict)
	e.dict("unrendered_config_call_dict", n.UnrenderedConfigCallDict)
	e.strPtr("relation_name", n.RelationName)
	e.str("raw_code", n.RawCode)
	e.strs("doc_blocks", n.DocBlocks)
	if n.RootPath != nil {
		e.strPtr("root_path", n.RootPath)
	}
	if e.key("depends_on") {
		e.out = append(e.out, `{"macros":`...)
		e.out = appendStrings(e.out, n.DependsOn.Macros, true)
		if n.ResourceType != "seed" { // a seed's depends_on has macros only
			e.out = append(e.out, `,"nodes":`...)
			e.out = appendStrings(e.out, n.DependsOn.Nodes, true)
		}
		e.out = append(e.out, '}')
	}
	language := n.Language
	if language == "" {
		language = "sql"
	}
	e.str("language", language)
	if e.key("refs") {
		e.out = append(e.out, '[')
		for i, r := range n.Refs {
			if i > 0 {
				e.out = append(e.out, ',')
			}
			e.out = append(e.out, `{"name":`...)
			e.out = appendString(e.out, r.Name)
			e.out = append(e.out, `,"package":`...)
			e.out = appendStringPtr(e.out, r.Package)
			e.out = append(e.out, `,"version":`...)
			e.anyValue(r.Version)
			e.out = append(e.out, '}')
		}
		e.out = append(e.out, ']')
	}
	e.lists("sources", n.Sources)
	e.lists("metrics", n.Metrics)
	e.lists("functions", n.Functions)
	e.strPtr("compiled_path", n.CompiledPath)
	e.boolean("compiled", n.Compiled)
	e.strPtr("compiled_code", n.CompiledCode)
	e.boolean("extra_ctes_injected", n.ExtraCTEsInjected)
	if e.key("extra_ctes") {
		e.out = append(e.out, '[')
		for i, c := range n.ExtraCTEs {
			if i > 0 {
				e.out = append(e.out, ',')
			}
			e.out = append(e.out, `{"id":`...)
			e.out = appendString(e.out, c.ID)
			e.out = append(e.out, `,"sql":`...)
			e.out = appendString(e.out, c.SQL)
			e.out = append(e.out, '}')
		}
		e.out = append(e.out, ']')
	}
	if e.key("contract") {
		c := n.Contract
		if c == nil {
			c = &Contract{AliasTypes: true}
		}
		e.out = append(e.out, `{"enforced":`...)
		e.out = strconv.AppendBool(e.out, c.Enforced)
		e.out = append(e.out, `,"alias_types":`...)
		e.out = strconv.AppendBool(e.out, c.AliasTypes)
		e.out = append(e.out, `,"checksum":`...)
		e.out = appendStringPtr(e.out, c.Checksum)
		e.out = append(e.out, '}')
	}
	access := n.Access
	if n.ResourceType == "model" && access == "" {
		access = "protected"
	}
	if access != "" {
		e.str("access", access)
	}
	if e.key("constraints") {
		if len(n.Constraints) == 0 {
			e.out = append(e.out, "[]"...)
		} else {
			e.marshal(n.Constraints)
		}
	}
	if e.key("version") {
		e.anyValue(n.Version)
	}
	if e.key("latest_version") {
		e.anyValue(n.LatestVersion)
	}
	e.strPtr("deprecation_date", n.DeprecationDate)
	e.strs("primary_key", n.PrimaryKey)
	if !singular {
		e.strPtr("column_name", n.ColumnName)
		e.strPtr("file_key_name", n.FileKeyName)
		e.strPtr("attached_node", n.AttachedNode)
	}
	if n.TestMetadata != nil && e.key("test_metadata") {
		t := n.TestMetadata
		e.out = append(e.out, `{"name":`...)
		e.out = appendString(e.out, t.Name)
		e.out = append(e.out, `,"kwargs":`...)
		e.marshal(t.Kwargs)
		e.out = append(e.out, `,"namespace":`...)
		e.out = appendStringPtr(e.out, t.Namespace)
		e.out = append(e.out, '}')
	}
	if e.key("index") {
		if n.Index == nil {
			e.out = append(e.out, "null"...)
		} else {
			e.out = strconv.AppendInt(e.out, int64(*n.Index), 10)
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	return append(e.out, '}'), nil
}

// noOptionalKeys allows none of the optional keys.
var noOptionalKeys = map[string]bool{}

// nodeEncoder appends an object's members to out, leaving out the optional
// keys of nodes their kind does not allow (all members are written when
// allowed is nil: run results).
type nodeEncoder struct {
	out     []byte
	allowed map[string]bool
	n       int // members written
	err     error
}

// key writes the member name k (after a comma if needed) and reports
// whether the node carries it; if not, nothing is written.
func (e *nodeEncoder) key(k string) bool {
	if e.allowed != nil && isOptionalKey(k) && !e.allowed[k] {
		return false
	}
	if e.n > 0 {
		e.out = append(e.out, ',')
	}
	e.n++
	e.out = append(e.out, '"')
	e.out = append(e.out, k...)
	e.out = append(e.out, '"', ':')
	return true
}

func (e *nodeEncoder) str(k, v string) {
	if e.key(k) {
		e.out = appendString(e.out, v)
	}
}

func (e *nodeEncoder) strPtr(k string, v *string) {
	if e.key(k) {
		e.out = appendStringPtr(e.out, v)
	}
}

func (e *nodeEncoder) strs(k string, v []string) {
	if e.key(k) {
		e.out = appendStrings(e.out, v, true)
	}
}

func (e *nodeEncoder) boolean(k string, v bool) {
	if e.key(k) {
		e.out = strconv.AppendBool(e.out, v)
	}
}

// lists writes a [][]string, nil as [].
func (e *nodeEncoder) lists(k string, v [][]string) {
	if !e.key(k) {
		return
	}
	e.out = append(e.out, '[')
	for i, l := range v {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		e.out = appendStrings(e.out, l, false)
	}
	e.out = append(e.out, ']')
}

// dict writes a map, nil or empty as {}.
func (e *nodeEncoder) dict(k string, v map[string]any) {
	if !e.key(k) {
		return
	}
	if len(v) == 0 {
		e.out = append(e.out, "{}"...)
		return
	}
	e.marshal(v)
}

func (e *nodeEncoder) value(k string, v any) {
	if e.key(k) {
		e.marshal(v)
	}
}

// anyValue writes an interface value: null for nil, else as encoding/json.
func (e *nodeEncoder) anyValue(v any) {
	if v == nil {
		e.out = append(e.out, "null"...)
		return
	}
	e.marshal(v)
}

// isOptionalKey reports whether k is one of the keys only some kinds of
// node carry (optionalKeys, without a map lookup).
func isOptionalKey(k string) bool {
	switch k {
	case "root_path", "depends_on", "language", "refs", "sources", "metrics", "functions", "compiled_path",
		"compiled", "compiled_code", "extra_ctes_injected", "extra_ctes", "contract", "index", "access",
		"constraints", "version", "latest_version", "deprecation_date", "primary_key", "column_name",
		"file_key_name", "attached_node", "test_metadata":
		return true
	}
	return false
}

// marshal appends v as json.Marshal writes it: the shapes that configs,
// meta and test arguments are made of directly, anything else through
// encoding/json.
func (e *nodeEncoder) marshal(v any) {
	var ok bool
	if e.out, ok = appendAny(e.out, v, 0); ok {
		return
	}
	b, err := json.Marshal(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	e.out = append(e.out, b...)
}

// appendAny appends v as json.Marshal would if v is made of nil, strings,
// booleans, ints, float64s, []string, []any and map[string]any (and the
// columns of a node); otherwise it returns out unchanged and false.
func appendAny(out []byte, v any, depth int) ([]byte, bool) {
	if depth > 32 {
		return out, false
	}
	switch v := v.(type) {
	case nil:
		return append(out, "null"...), true
	case string:
		return appendString(out, v), true
	case bool:
		return strconv.AppendBool(out, v), true
	case int:
		return strconv.AppendInt(out, int64(v), 10), true
	case int64:
		return strconv.AppendInt(out, v, 10), true
	case float64:
		if a := math.Abs(v); a == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(out, v, 'f', -1, 64), true
		}
		return out, false
	case []string:
		if v == nil {
			return append(out, "null"...), true
		}
		return appendStrings(out, v, true), true
	case []any:
		if v == nil {
			return append(out, "null"...), true
		}
		start := len(out)
		out = append(out, '[')
		for i, x := range v {
			if i > 0 {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = appendAny(out, x, depth+1); !ok {
				return out[:start], false
			}
		}
		return append(out, ']'), true
	case map[string]any:
		return appendSortedMap(out, v, func(out []byte, x any) ([]byte, bool) {
			return appendAny(out, x, depth+1)
		})
	case map[string]*Column:
		return appendSortedMap(out, v, func(out []byte, c *Column) ([]byte, bool) {
			if c == nil {
				return append(out, "null"...), true
			}
			b, err := c.MarshalJSON() // compact and HTML-escaped already
			if err != nil {
				return out, false
			}
			return append(out, b...), true
		})
	}
	return out, false
}

// appendSortedMap appends m as a JSON object with its keys sorted, as
// encoding/json writes a map, each value through enc; nil is null. When enc
// fails, out comes back as it was, with false.
func appendSortedMap[V any](out []byte, m map[string]V, enc func([]byte, V) ([]byte, bool)) ([]byte, bool) {
	if m == nil {
		return append(out, "null"...), true
	}
	keys := sortedKeys(m)
	start := len(out)
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		var ok bool
		if out, ok = enc(out, m[k]); !ok {
			return out[:start], false
		}
	}
	return append(out, '}'), true
}

// float appends f as encoding/json writes a float64.
func (e *nodeEncoder) float(f float64) {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		e.out = strconv.AppendFloat(e.out, f, 'f', -1, 64)
		return
	}
	e.marshal(f) // exponent form, NaN and infinities: as encoding/json does
}

// appendString appends s as json.Marshal writes a string (HTML-escaped);
// a node's SQL has newlines and quotes in every model, and going through
// json.Marshal cost an allocation and a copy each.
func appendString(out []byte, s string) []byte { return jsonscan.AppendString(out, s, true) }

func appendStringPtr(out []byte, s *string) []byte {
	if s == nil {
		return append(out, "null"...)
	}
	return appendString(out, *s)
}

// appendStrings appends a list of strings; nil is [] when emptyAsList,
// else null.
func appendStrings(out []byte, v []string, emptyAsList bool) []byte {
	if v == nil && !emptyAsList {
		return append(out, "null"...)
	}
	out = append(out, '[')
	for i, s := range v {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, s)
	}
	return append(out, ']')
}

// normalizeConfig returns config with pre-hook / post-hook given as strings
// turned into dbt's Hook objects.
func normalizeConfig(cfg map[string]any) map[string]any {
	if !hooksNeedNormalizing(cfg, "pre-hook") && !hooksNeedNormalizing(cfg, "post-hook") {
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

// hooksNeedNormalizing reports whether normalizeConfig would write
// cfg[key] differently from how it is (an empty []string writes as [], as
// the []any it would become).
func hooksNeedNormalizing(cfg map[string]any, key string) bool {
	v, ok := cfg[key]
	if !ok {
		return false
	}
	switch v := v.(type) {
	case []string:
		return len(v) > 0
	case []any:
		for _, x := range v {
			if _, ok := x.(string); ok {
				return true
			}
		}
		return false
	}
	return true
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
