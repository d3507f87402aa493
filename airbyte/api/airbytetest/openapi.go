package airbytetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const specURL = "file:///airbyte/public-api-v1.json"

// OpenAPI checks requests to and responses from an Airbyte server against
// Airbyte's OpenAPI spec of the public API v1 (public-api-v1.yaml from
// airbyte-platform). Paths are relative to the API's prefix, as the
// Server's validator hooks see them. Connector configurations are only
// checked to be objects: the spec's unions of connector schemas are the
// connectors' business. Use it with Options.ValidateRequest and
// Options.ValidateResponse to keep a test server and its clients honest.
type OpenAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	routes   []route

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
}

type route struct {
	template string
	re       *regexp.Regexp
	names    []string
}

// LoadOpenAPI reads and compiles the spec at path. It takes a second or
// two: load it once per test binary.
func LoadOpenAPI(path string) (*OpenAPI, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var y any
	if err := yaml.Unmarshal(raw, &y); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	js, err := json.Marshal(y)
	if err != nil {
		return nil, fmt.Errorf("%s: to JSON: %w", path, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	// SourceConfiguration and DestinationConfiguration are unions of several
	// hundred connector schemas, some of which break the JSON Schema
	// metaschema. A connector's configuration is the connector's business:
	// the client passes it through, so here it only has to be an object.
	schemas := doc.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range []string{"SourceConfiguration", "DestinationConfiguration"} {
		schemas[name] = map[string]any{"type": "object"}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Some connector schemas use patterns (lookbehind) that Go's regexp
	// cannot compile; those patterns are not checked.
	c.UseRegexpEngine(func(s string) (jsonschema.Regexp, error) {
		if re, err := regexp.Compile(s); err == nil {
			return re, nil
		}
		return anyMatch(s), nil
	})
	if err := c.AddResource(specURL, doc); err != nil {
		return nil, err
	}
	s := &OpenAPI{doc: doc.(map[string]any), compiler: c, schemas: map[string]*jsonschema.Schema{}}
	paths, _ := s.doc["paths"].(map[string]any)
	for tpl := range paths {
		var names []string
		var parts []string
		for _, seg := range strings.Split(tpl, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				names = append(names, strings.Trim(seg, "{}"))
				parts = append(parts, "([^/]+)")
			} else {
				parts = append(parts, regexp.QuoteMeta(seg))
			}
		}
		pat := strings.Join(parts, "/")
		s.routes = append(s.routes, route{template: tpl, re: regexp.MustCompile("^" + pat + "$"), names: names})
	}
	// Compile every schema of every operation now, so that no request
	// handled by the server waits for a compilation (tests with short
	// request timeouts would see it as a slow response).
	if err := s.precompile(); err != nil {
		return nil, err
	}
	// Literal paths win over templated ones (/workspaces/x vs templates).
	sort.Slice(s.routes, func(i, j int) bool { return len(s.routes[i].names) < len(s.routes[j].names) })
	return s, nil
}

// servedPaths are the spec paths that the client uses and the fake serves.
var servedPaths = regexp.MustCompile(`^/(health|jobs|connections|sources|destinations|streams|workspaces)(/\{[A-Za-z]+\})?$`)

func (s *OpenAPI) precompile() error {
	var ptrs [][]string
	ptrs = append(ptrs, []string{"components", "schemas", "ApplicationTokenRequestWithGrant"}, []string{"components", "schemas", "PublicAccessTokenResponse"})
	for tpl, item := range s.doc["paths"].(map[string]any) {
		if !servedPaths.MatchString(tpl) {
			continue
		}
		item := item.(map[string]any)
		for i := range asList(item["parameters"]) {
			ptrs = append(ptrs, []string{"paths", tpl, "parameters", strconv.Itoa(i), "schema"})
		}
		for method, op := range item {
			op, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			for i := range asList(op["parameters"]) {
				ptrs = append(ptrs, []string{"paths", tpl, method, "parameters", strconv.Itoa(i), "schema"})
			}
			if rb, ok := op["requestBody"].(map[string]any); ok {
				if content, _ := rb["content"].(map[string]any); content["application/json"] != nil {
					ptrs = append(ptrs, []string{"paths", tpl, method, "requestBody", "content", "application/json", "schema"})
				}
			}
			responses, _ := op["responses"].(map[string]any)
			for status, resp := range responses {
				content, _ := resp.(map[string]any)["content"].(map[string]any)
				if content["application/json"] != nil {
					ptrs = append(ptrs, []string{"paths", tpl, method, "responses", status, "content", "application/json", "schema"})
				}
			}
		}
	}
	for _, p := range ptrs {
		if _, err := s.schemaAt(p); err != nil {
			return fmt.Errorf("compiling %s: %w", strings.Join(p, "/"), err)
		}
	}
	return nil
}

// schemaAt compiles the schema at a JSON pointer of the document.
func (s *OpenAPI) schemaAt(ptr []string) (*jsonschema.Schema, error) {
	var esc []string
	for _, p := range ptr {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
		esc = append(esc, url.PathEscape(p))
	}
	loc := specURL + "#/" + strings.Join(esc, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[loc]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(loc)
	if err != nil {
		return nil, err
	}
	s.schemas[loc] = sch
	return sch, nil
}

// match finds the spec path of a request path (relative to the prefix).
func (s *OpenAPI) match(path string) (string, map[string]string, bool) {
	for _, r := range s.routes {
		if m := r.re.FindStringSubmatch(path); m != nil {
			vars := map[string]string{}
			for i, n := range r.names {
				vars[n] = m[i+1]
			}
			return r.template, vars, true
		}
	}
	return "", nil, false
}

func (s *OpenAPI) operation(r *http.Request) (tpl string, vars map[string]string, op map[string]any, err error) {
	rel := r.URL.Path
	tpl, vars, ok := s.match(rel)
	if !ok {
		return "", nil, nil, fmt.Errorf("path %s is not in the spec", rel)
	}
	item := s.doc["paths"].(map[string]any)[tpl].(map[string]any)
	op, ok = item[strings.ToLower(r.Method)].(map[string]any)
	if !ok {
		return "", nil, nil, fmt.Errorf("%s %s is not in the spec", r.Method, tpl)
	}
	return tpl, vars, op, nil
}

// ValidateRequest checks the query, path parameters and JSON body of a
// request against its operation in the spec.
func (s *OpenAPI) ValidateRequest(r *http.Request, body []byte) error {
	rel := r.URL.Path
	if rel == "/applications/token" && r.Method == http.MethodPost {
		// Declared only as the oauth2 tokenUrl; its body schema is
		// ApplicationTokenRequestWithGrant.
		return s.validateJSON([]string{"components", "schemas", "ApplicationTokenRequestWithGrant"}, body)
	}
	tpl, vars, op, err := s.operation(r)
	if err != nil {
		return err
	}
	item := s.doc["paths"].(map[string]any)[tpl].(map[string]any)
	type param struct {
		ptr []string
		p   map[string]any
	}
	var params []param
	for _, where := range []struct {
		list []any
		ptr  []string
	}{
		{asList(item["parameters"]), []string{"paths", tpl, "parameters"}},
		{asList(op["parameters"]), []string{"paths", tpl, strings.ToLower(r.Method), "parameters"}},
	} {
		for i, p := range where.list {
			params = append(params, param{append(append([]string{}, where.ptr...), strconv.Itoa(i)), p.(map[string]any)})
		}
	}
	query := r.URL.Query()
	known := map[string]bool{}
	var errs []error
	for _, p := range params {
		name, in := p.p["name"].(string), p.p["in"].(string)
		var values []string
		switch in {
		case "query":
			known[name] = true
			values = query[name]
		case "path":
			values = []string{vars[name]}
		default:
			continue
		}
		if len(values) == 0 {
			if req, _ := p.p["required"].(bool); req {
				errs = append(errs, fmt.Errorf("required %s parameter %s is missing", in, name))
			}
			continue
		}
		schema, _ := p.p["schema"].(map[string]any)
		v, err := coerce(schema, values)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s parameter %s: %w", in, name, err))
			continue
		}
		sch, err := s.schemaAt(append(p.ptr, "schema"))
		if err != nil {
			return err
		}
		if err := sch.Validate(v); err != nil {
			errs = append(errs, fmt.Errorf("%s parameter %s=%v: %w", in, name, values, err))
		}
	}
	for name := range query {
		if !known[name] {
			errs = append(errs, fmt.Errorf("query parameter %s is not in the spec", name))
		}
	}
	rb, hasBody := op["requestBody"].(map[string]any)
	switch {
	case hasBody:
		if len(bytes.TrimSpace(body)) == 0 {
			if req, _ := rb["required"].(bool); req {
				errs = append(errs, errors.New("request body is required"))
			}
			break
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			errs = append(errs, fmt.Errorf("Content-Type %q, want application/json", ct))
		}
		if err := s.validateJSON([]string{"paths", tpl, strings.ToLower(r.Method), "requestBody", "content", "application/json", "schema"}, body); err != nil {
			errs = append(errs, err)
		}
	case len(bytes.TrimSpace(body)) > 0:
		errs = append(errs, fmt.Errorf("%s %s takes no body", r.Method, tpl))
	}
	return errors.Join(errs...)
}

// ValidateResponse checks a response body against the spec's schema for its
// status. Error statuses the spec does not document are let through: the
// spec documents few of them.
func (s *OpenAPI) ValidateResponse(r *http.Request, status int, body []byte) error {
	rel := r.URL.Path
	if rel == "/applications/token" {
		if status != http.StatusOK {
			return nil
		}
		return s.validateJSON([]string{"components", "schemas", "PublicAccessTokenResponse"}, body)
	}
	tpl, _, op, err := s.operation(r)
	if err != nil {
		return nil // already reported for the request
	}
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		if status >= 400 {
			return nil
		}
		return fmt.Errorf("status %d is not documented for %s %s", status, r.Method, tpl)
	}
	content, _ := resp["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		if len(bytes.TrimSpace(body)) > 0 && status < 400 {
			return fmt.Errorf("status %d of %s %s has no documented body, got %q", status, r.Method, tpl, body)
		}
		return nil
	}
	return s.validateJSON([]string{"paths", tpl, strings.ToLower(r.Method), "responses", strconv.Itoa(status), "content", "application/json", "schema"}, body)
}

func (s *OpenAPI) validateJSON(ptr []string, body []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	sch, err := s.schemaAt(ptr)
	if err != nil {
		return err
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("body %s does not match %s: %w", abbreviate(body), strings.Join(ptr, "/"), err)
	}
	return nil
}

func abbreviate(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// anyMatch stands in for a pattern Go cannot compile.
type anyMatch string

func (anyMatch) MatchString(string) bool { return true }
func (a anyMatch) String() string        { return string(a) }

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// coerce turns the text of a parameter into the JSON value its schema
// describes (integers, booleans, arrays of strings).
func coerce(schema map[string]any, values []string) (any, error) {
	typ, _ := schema["type"].(string)
	switch typ {
	case "array":
		out := make([]any, len(values))
		for i, v := range values {
			out[i] = v
		}
		return out, nil
	case "integer":
		n, err := strconv.ParseInt(values[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", values[0])
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	case "boolean":
		b, err := strconv.ParseBool(values[0])
		if err != nil {
			return nil, fmt.Errorf("%q is not a boolean", values[0])
		}
		return b, nil
	}
	return values[0], nil
}
