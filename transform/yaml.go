package transform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// LoadError is a problem in a project's files: it names the file and,
// when known, the line and column.
type LoadError struct {
	File string // path relative to the project directory when possible
	Line int
	Col  int
	Msg  string
	Err  error
}

// Error implements error as "file:line:col: message".
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *LoadError) Unwrap() error { return e.Err }

// readYAML reads a YAML file into plain Go values; errors carry
// file:line:col.
func readYAML(path, display string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: display, Msg: err.Error(), Err: err}
	}
	return parseYAML(b, display)
}

func parseYAML(b []byte, display string) (map[string]any, error) {
	v, ok := fastYAML(b)
	if !ok {
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, yamlErr(display, err)
		}
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &LoadError{File: display, Line: 1, Msg: fmt.Sprintf("expected a mapping at the top level, got %s", kindOf(v))}
	}
	return m, nil
}

func yamlErr(display string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		le := &LoadError{File: display, Msg: ye.GetMessage(), Err: err}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			le.Line, le.Col = tk.Position.Line, tk.Position.Column
		}
		return le
	}
	return &LoadError{File: display, Msg: err.Error(), Err: err}
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", v)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case nil:
		return nil
	}
	return []any{v}
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if x == nil {
			continue
		}
		out = append(out, asString(x))
	}
	return out
}

func asBool(v any, def bool) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(x) {
		case "true", "yes", "1":
			return true
		case "false", "no", "0":
			return false
		}
	case uint64:
		return x != 0
	case int64:
		return x != 0
	case int:
		return x != 0
	}
	return def
}

func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case uint64:
		return int(x), true
	case float64:
		return int(x), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// rel returns path relative to base with forward slashes, or path itself.
func rel(base, path string) string {
	r, err := filepath.Rel(base, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// normalizeYAML converts go-yaml's values into the shapes the Jinja engine
// and config code expect (uint64 → int64, nested maps and lists).
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case uint64:
		return int64(x)
	case int:
		return int64(x)
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeYAML(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeYAML(e)
		}
		return x
	}
	return v
}
