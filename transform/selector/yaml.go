package selector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Selectors are the named selectors of a project's selectors.yml.
type Selectors struct {
	// File is the path the selectors were read from, for messages.
	File string
	list []*SelectorDef
}

// SelectorDef is one selector of selectors.yml.
type SelectorDef struct {
	Name        string
	Description string
	// Default marks the selector used when a command selects nothing.
	Default bool
	// Definition is the parsed definition.
	Definition Spec
	// Line is where the selector starts in its file.
	Line int
}

// SelectorsOptions tunes ParseSelectors.
type SelectorsOptions struct {
	// RenderDefault renders a string value of `default:` (dbt allows Jinja
	// there, as "{{ target.name == 'prod' }}") to a boolean. Without it
	// only "true" and "false" are accepted.
	RenderDefault func(text string) (bool, error)
}

// LoadSelectors reads selectors.yml from a project directory. A project
// without one has no selectors: LoadSelectors returns nil, nil.
func LoadSelectors(projectDir string, opts SelectorsOptions) (*Selectors, error) {
	file := filepath.Join(projectDir, "selectors.yml")
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseSelectors(file, data, opts)
}

// ParseSelectors parses the text of a selectors.yml. Errors name the file,
// line and selector.
func ParseSelectors(file string, data []byte, opts SelectorsOptions) (*Selectors, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", file, ErrSyntax, strings.TrimSpace(yaml.FormatError(err, false, false)))
	}
	astFile, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", file, ErrSyntax, err)
	}
	p := &yamlParser{file: file, ast: astFile}
	s := &Selectors{File: file}
	if doc == nil {
		return s, nil
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, p.errorf("$", "", "selectors.yml must be a mapping with a `selectors:` list")
	}
	raw, ok := root["selectors"]
	if !ok {
		return nil, p.errorf("$", "", "no `selectors:` key")
	}
	items, ok := raw.([]any)
	if !ok {
		return nil, p.errorf("$.selectors", "", "`selectors:` must be a list")
	}
	seen := map[string]int{}
	defaults := []string{}
	for i, it := range items {
		at := fmt.Sprintf("$.selectors[%d]", i)
		m, ok := it.(map[string]any)
		if !ok {
			return nil, p.errorf(at, "", "each selector must be a mapping with name and definition")
		}
		name, _ := m["name"].(string)
		if name == "" {
			return nil, p.errorf(at, "", "selector has no name")
		}
		def := &SelectorDef{Name: name, Line: p.line(at)}
		if line, dup := seen[name]; dup {
			return nil, p.errorf(at, name, "duplicate selector name (first defined at line %d)", line)
		}
		seen[name] = def.Line
		def.Description, _ = m["description"].(string)
		switch d := m["default"].(type) {
		case nil:
		case bool:
			def.Default = d
		case string:
			if opts.RenderDefault != nil {
				v, err := opts.RenderDefault(d)
				if err != nil {
					return nil, p.errorf(at+".default", name, "default: %v", err)
				}
				def.Default = v
			} else if b, err := strconv.ParseBool(strings.TrimSpace(d)); err == nil {
				def.Default = b
			} else {
				return nil, p.errorf(at+".default", name, "default must be a boolean, not %q", d)
			}
		default:
			return nil, p.errorf(at+".default", name, "default must be a boolean")
		}
		if def.Default {
			defaults = append(defaults, name)
		}
		d, ok := m["definition"]
		if !ok {
			return nil, p.errorf(at, name, "selector has no definition")
		}
		p.selector = name
		spec, err := p.definition(d, at+".definition")
		if err != nil {
			return nil, err
		}
		def.Definition = spec
		s.list = append(s.list, def)
	}
	if len(defaults) > 1 {
		return nil, fmt.Errorf("%s: %w: more than one selector is marked default: %s", file, ErrSyntax, strings.Join(defaults, ", "))
	}
	return s, nil
}

// Lookup returns the definition of the named selector.
func (s *Selectors) Lookup(name string) (Spec, error) {
	if s != nil {
		for _, d := range s.list {
			if d.Name == name {
				return d.Definition, nil
			}
		}
	}
	known := "none are defined"
	if s != nil && len(s.list) > 0 {
		known = "known: " + strings.Join(s.Names(), ", ")
	}
	return nil, fmt.Errorf("%w %q (%s)", ErrUnknownSelector, name, known)
}

// Default returns the selector marked default, or nil.
func (s *Selectors) Default() *SelectorDef {
	if s == nil {
		return nil
	}
	for _, d := range s.list {
		if d.Default {
			return d
		}
	}
	return nil
}

// Names returns the selectors' names, sorted.
func (s *Selectors) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s.list))
	for i, d := range s.list {
		out[i] = d.Name
	}
	sort.Strings(out)
	return out
}

// List returns the selectors in file order.
func (s *Selectors) List() []*SelectorDef {
	if s == nil {
		return nil
	}
	return s.list
}

type yamlParser struct {
	file     string
	ast      *ast.File
	selector string
}

// line returns the line of the node at a YAML path, or 0.
func (p *yamlParser) line(at string) int {
	for {
		if path, err := yaml.PathString(at); err == nil {
			if n, err := path.FilterFile(p.ast); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		// Climb to the parent path until a node is found.
		i := strings.LastIndexAny(at, ".[")
		if i <= 1 {
			return 0
		}
		at = at[:i]
	}
}

func (p *yamlParser) errorf(at, selector, format string, args ...any) error {
	where := p.file
	if l := p.line(at); l > 0 {
		where = fmt.Sprintf("%s:%d", p.file, l)
	}
	if selector != "" {
		where += ": selector " + strconv.Quote(selector)
	}
	return fmt.Errorf("%s: %w: %s", where, ErrSyntax, fmt.Sprintf(format, args...))
}

func (p *yamlParser) definition(d any, at string) (Spec, error) {
	switch d := d.(type) {
	case string:
		c, err := ParseCriterion(d)
		if err != nil {
			return nil, p.errorf(at, p.selector, "%v", err)
		}
		return c, nil
	case map[string]any:
		_, hasU := d["union"]
		_, hasI := d["intersection"]
		switch {
		case hasU && hasI:
			return nil, p.errorf(at, p.selector, "a definition cannot hold both union and intersection")
		case hasU:
			return p.setOp(d["union"], at+".union", true)
		case hasI:
			return p.setOp(d["intersection"], at+".intersection", false)
		}
		return p.dict(d, at)
	}
	return nil, p.errorf(at, p.selector, "expected union, intersection, a string or a mapping, found %T", d)
}

func (p *yamlParser) setOp(v any, at string, isUnion bool) (Spec, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, p.errorf(at, p.selector, "expected a list")
	}
	var include []Spec
	var exclude Spec
	for i, it := range items {
		iat := fmt.Sprintf("%s[%d]", at, i)
		if m, ok := it.(map[string]any); ok {
			if _, ok := m["exclude"]; ok {
				if exclude != nil {
					return nil, p.errorf(iat, p.selector, "only one exclude per set operation")
				}
				x, err := p.exclusions(m["exclude"], iat+".exclude")
				if err != nil {
					return nil, err
				}
				exclude = x
				continue
			}
		}
		s, err := p.definition(it, iat)
		if err != nil {
			return nil, err
		}
		include = append(include, s)
	}
	var out Spec
	if isUnion {
		out = &Union{Specs: include}
	} else {
		out = &Intersection{Specs: include}
	}
	if exclude != nil {
		out = &Difference{Include: out, Exclude: exclude}
	}
	return out, nil
}

func (p *yamlParser) exclusions(v any, at string) (Spec, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, p.errorf(at, p.selector, "exclude must be a list")
	}
	var specs []Spec
	for i, it := range items {
		s, err := p.definition(it, fmt.Sprintf("%s[%d]", at, i))
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	if len(specs) == 1 {
		return specs[0], nil
	}
	return &Union{Specs: specs}, nil
}

func (p *yamlParser) dict(d map[string]any, at string) (Spec, error) {
	var method string
	var value any
	var exclude Spec
	switch {
	case len(d) == 1:
		for k, v := range d {
			method, value = k, v
		}
	case d["method"] != nil && d["value"] != nil:
		method, _ = d["method"].(string)
		value = d["value"]
		if x, ok := d["exclude"]; ok {
			s, err := p.exclusions(x, at+".exclude")
			if err != nil {
				return nil, err
			}
			exclude = s
		}
	default:
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, p.errorf(at, p.selector, "expected one `method: value` key or `method` and `value` keys, got %s", strings.Join(keys, ", "))
	}
	if method == "" {
		return nil, p.errorf(at, p.selector, "method must be a string")
	}
	var val string
	switch v := value.(type) {
	case string:
		val = v
	case bool, int, int64, uint64, float64:
		val = fmt.Sprint(v)
	default:
		return nil, p.errorf(at, p.selector, "the value of method %q must be a string, found %T", method, value)
	}
	c := &Criterion{Value: val, ParentsDepth: -1, ChildrenDepth: -1, Raw: method + ":" + val}
	if err := c.setMethod(method); err != nil {
		return nil, p.errorf(at, p.selector, "%v", err)
	}
	if val == "" {
		return nil, p.errorf(at, p.selector, "method %q has no value", method)
	}
	var err error
	flag := func(key string) bool {
		if err != nil {
			return false
		}
		switch v := d[key].(type) {
		case nil:
			return false
		case bool:
			return v
		default:
			err = p.errorf(at+"."+key, p.selector, "%s must be true or false", key)
			return false
		}
	}
	depth := func(key string) int {
		if err != nil {
			return -1
		}
		switch v := d[key].(type) {
		case nil:
			return -1
		case uint64:
			return int(v)
		case int64:
			if v >= 0 {
				return int(v)
			}
		case int:
			if v >= 0 {
				return v
			}
		}
		err = p.errorf(at+"."+key, p.selector, "%s must be a non-negative integer", key)
		return -1
	}
	if len(d) > 1 {
		c.Parents, c.Children, c.ChildrensParents = flag("parents"), flag("children"), flag("childrens_parents")
		c.ParentsDepth, c.ChildrenDepth = depth("parents_depth"), depth("children_depth")
		if s, ok := d["indirect_selection"].(string); ok && err == nil {
			m, perr := ParseIndirectSelection(s)
			if perr != nil {
				return nil, p.errorf(at+".indirect_selection", p.selector, "%v", perr)
			}
			c.Indirect = m
		}
	}
	if err != nil {
		return nil, err
	}
	if c.ChildrensParents && c.Parents {
		return nil, p.errorf(at, p.selector, "childrens_parents (@) and parents (+) cannot be combined")
	}
	var out Spec = c
	if exclude != nil {
		out = &Difference{Include: c, Exclude: exclude}
	}
	return out, nil
}
