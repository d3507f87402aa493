package selector

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every error about the text of a selection
// (a --select / --exclude value or a selectors.yml definition).
var ErrSyntax = errors.New("invalid selector")

// IndirectSelection is how tests are selected through the nodes they test
// (dbt's --indirect-selection): eager (the default), cautious, buildable or
// empty.
type IndirectSelection string

// The indirect selection modes.
const (
	Eager     IndirectSelection = "eager"
	Cautious  IndirectSelection = "cautious"
	Buildable IndirectSelection = "buildable"
	Empty     IndirectSelection = "empty"
)

// ParseIndirectSelection checks a mode name; "" is Eager.
func ParseIndirectSelection(s string) (IndirectSelection, error) {
	switch m := IndirectSelection(strings.ToLower(s)); m {
	case "":
		return Eager, nil
	case Eager, Cautious, Buildable, Empty:
		return m, nil
	}
	return "", fmt.Errorf("%w: indirect selection %q: want eager, cautious, buildable or empty", ErrSyntax, s)
}

// Spec is a parsed selection: a tree of set operations whose leaves are
// criteria. It is one of *Criterion, *Union, *Intersection, *Difference.
type Spec interface {
	// String spells the spec in dbt's command-line syntax (approximately,
	// for set operations that the command line cannot express).
	String() string
	spec()
}

// Criterion is one selection method with its value and graph operators, as
// in "2+tag:nightly+" or "@config.materialized:table".
type Criterion struct {
	Method           string   // fqn, tag, path, file, package, config, source, …
	Args             []string // method arguments: ["materialized"] in config.materialized, ["meta","owner"] in config.meta.owner
	Value            string
	Parents          bool
	ParentsDepth     int // -1: unlimited
	Children         bool
	ChildrenDepth    int // -1: unlimited
	ChildrensParents bool
	// Indirect overrides the indirect selection mode for this criterion
	// ("" inherits the mode of the selection).
	Indirect IndirectSelection
	// Raw is the text the criterion was parsed from, for messages.
	Raw string
}

// Union selects what any of its members selects (space-separated values, or
// repeated --select flags).
type Union struct {
	Specs []Spec
	// Indirect is how the set operation takes in tests its members
	// selected only indirectly ("" is eager: it takes none).
	Indirect IndirectSelection
}

// Intersection selects what all of its members select (comma-separated).
type Intersection struct {
	Specs    []Spec
	Indirect IndirectSelection
	// Raw is the command-line item ("tag:a,config.materialized:table")
	// when it came from one; selecting nothing with it is warned of.
	Raw string
}

// Difference selects what Include selects and Exclude does not.
type Difference struct {
	Include, Exclude Spec
	Indirect         IndirectSelection
}

func (*Criterion) spec()    {}
func (*Union) spec()        {}
func (*Intersection) spec() {}
func (*Difference) spec()   {}

// String implements Spec.
func (c *Criterion) String() string {
	var b strings.Builder
	if c.ChildrensParents {
		b.WriteByte('@')
	}
	if c.Parents {
		if c.ParentsDepth >= 0 {
			b.WriteString(strconv.Itoa(c.ParentsDepth))
		}
		b.WriteByte('+')
	}
	b.WriteString(strings.Join(append([]string{c.Method}, c.Args...), "."))
	b.WriteByte(':')
	b.WriteString(c.Value)
	if c.Children {
		b.WriteByte('+')
		if c.ChildrenDepth >= 0 {
			b.WriteString(strconv.Itoa(c.ChildrenDepth))
		}
	}
	return b.String()
}

// String implements Spec.
func (u *Union) String() string { return joinSpecs(u.Specs, " ") }

// String implements Spec.
func (i *Intersection) String() string { return joinSpecs(i.Specs, ",") }

// String implements Spec.
func (d *Difference) String() string {
	return d.Include.String() + " --exclude " + d.Exclude.String()
}

func joinSpecs(specs []Spec, sep string) string {
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = s.String()
	}
	return strings.Join(parts, sep)
}

// rawSelector is dbt's grammar of one criterion.
var rawSelector = regexp.MustCompile(`\A(@)?(?:(\d*)(\+))?(?:([\w.]+):)?(.*?)(?:(\+)(\d*))?\z`)

// methods lists the method names selection knows, with whether they take
// arguments after a dot (config.<key>).
var methods = map[string]bool{
	"fqn": false, "tag": false, "path": false, "file": false, "package": false,
	"config": true, "source": false, "resource_type": false, "test_type": false,
	"test_name": false, "exposure": false, "metric": false, "state": false,
	"result": false, "group": false, "access": false, "unit_test": false,
	"semantic_model": false, "saved_query": false, "selector": false, "source_status": false,
	"version": false,
}

// ParseCriterion parses one criterion: "[@][n+][method[.arg…]:]value[+n]".
// Without a method the value picks one as dbt does: a value holding a '/'
// is a path, one ending in .sql, .py or .csv a file, anything else an fqn.
func ParseCriterion(raw string) (*Criterion, error) {
	m := rawSelector.FindStringSubmatch(raw)
	if m == nil {
		return nil, fmt.Errorf("%w: %q", ErrSyntax, raw)
	}
	c := &Criterion{Raw: raw, ParentsDepth: -1, ChildrenDepth: -1, Value: m[5]}
	c.ChildrensParents = m[1] != ""
	if m[3] != "" {
		c.Parents = true
		if m[2] != "" {
			d, err := strconv.Atoi(m[2])
			if err != nil {
				return nil, fmt.Errorf("%w: %q: parents depth %q: %w", ErrSyntax, raw, m[2], err)
			}
			c.ParentsDepth = d
		}
	}
	if m[6] != "" {
		c.Children = true
		if m[7] != "" {
			d, err := strconv.Atoi(m[7])
			if err != nil {
				return nil, fmt.Errorf("%w: %q: children depth %q: %w", ErrSyntax, raw, m[7], err)
			}
			c.ChildrenDepth = d
		}
	}
	if c.ChildrensParents && c.Parents {
		return nil, fmt.Errorf("%w: %q: the '@' and '+' prefixes cannot be combined", ErrSyntax, raw)
	}
	if m[4] == "" {
		c.Method = defaultMethod(c.Value)
	} else if err := c.setMethod(m[4]); err != nil {
		return nil, fmt.Errorf("%w: %q", err, raw)
	}
	if c.Value == "" {
		return nil, fmt.Errorf("%w: %q: no value to select", ErrSyntax, raw)
	}
	return c, nil
}

func (c *Criterion) setMethod(full string) error {
	parts := strings.Split(full, ".")
	takesArgs, ok := methods[parts[0]]
	if !ok {
		return fmt.Errorf("%w: %q is not a valid method name", ErrSyntax, parts[0])
	}
	if takesArgs && len(parts) < 2 {
		return fmt.Errorf("%w: method %q needs an argument, as in %s.materialized", ErrSyntax, parts[0], parts[0])
	}
	if !takesArgs && len(parts) > 1 {
		return fmt.Errorf("%w: method %q takes no argument after a dot", ErrSyntax, parts[0])
	}
	for _, a := range parts[1:] {
		if a == "" {
			return fmt.Errorf("%w: empty argument in method %q", ErrSyntax, full)
		}
	}
	c.Method, c.Args = parts[0], parts[1:]
	return nil
}

func defaultMethod(value string) string {
	switch {
	case strings.Contains(value, "/"):
		return "path"
	case hasSuffixFold(value, ".sql"), hasSuffixFold(value, ".py"), hasSuffixFold(value, ".csv"):
		return "file"
	}
	return "fqn"
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// Parse parses the values of --select and --exclude flags: each value is a
// union of space-separated items, each item an intersection of
// comma-separated criteria; several values are a union too. A nil include
// (no --select) stands for the default selection, which Select fills in.
func Parse(selects, excludes []string) (include, exclude Spec, err error) {
	if include, err = parseUnion(selects); err != nil {
		return nil, nil, err
	}
	if exclude, err = parseUnion(excludes); err != nil {
		return nil, nil, err
	}
	return include, exclude, nil
}

func parseUnion(values []string) (Spec, error) {
	var items []Spec
	for _, v := range values {
		for _, item := range strings.Fields(v) {
			var inter []Spec
			for _, part := range strings.Split(item, ",") {
				if part == "" {
					continue
				}
				c, err := ParseCriterion(part)
				if err != nil {
					return nil, err
				}
				inter = append(inter, c)
			}
			if len(inter) > 0 {
				items = append(items, &Intersection{Specs: inter, Raw: item})
			}
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	return &Union{Specs: items}, nil
}

// withIndirect sets the indirect selection mode of a command-line spec's
// set operations, as dbt gives them the --indirect-selection flag.
func withIndirect(s Spec, mode IndirectSelection) {
	switch s := s.(type) {
	case *Union:
		s.Indirect = mode
		for _, sub := range s.Specs {
			withIndirect(sub, mode)
		}
	case *Intersection:
		s.Indirect = mode
		for _, sub := range s.Specs {
			withIndirect(sub, mode)
		}
	}
}
