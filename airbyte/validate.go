package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var englishPrinter = message.NewPrinter(language.English)

// ErrInvalidConfig is wrapped by every *ConfigError, for errors.Is.
var ErrInvalidConfig = errors.New("invalid config")

// ConfigProblem is one way a config fails its connector's schema.
type ConfigProblem struct {
	// Path is where in the config the problem is, as a JSONPath: "$" is the
	// whole config, "$.credentials.password", "$.schemas[2]".
	Path string
	// Message says what is wrong. It never contains the value of a secret
	// (a field the schema marks airbyte_secret).
	Message string
}

// ConfigError lists every problem found validating a config against the
// JSON schema of its connector's spec.
type ConfigError struct {
	Connector string // which connector's spec, when known
	Problems  []ConfigProblem
}

// Error lists the problems, one "path: message" after another.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid config")
	if e.Connector != "" {
		b.WriteString(" for ")
		b.WriteString(e.Connector)
	}
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Path)
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// compiledSpec is a connector's config schema, compiled, with the names of
// the properties it marks secret.
type compiledSpec struct {
	schema  *jsonschema.Schema
	secrets map[string]bool
}

var specCache sync.Map // string(connectionSpecification) -> *compiledSpec

func compileSpec(raw json.RawMessage) (*compiledSpec, error) {
	if c, ok := specCache.Load(string(raw)); ok {
		return c.(*compiledSpec), nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("airbyte: connectionSpecification is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7) // what Airbyte connector specs are written in
	const url = "urn:dataops:connection-specification"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("airbyte: connectionSpecification: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("airbyte: connectionSpecification is not a valid JSON schema: %w", err)
	}
	cs := &compiledSpec{schema: sch, secrets: map[string]bool{}}
	collectSecrets(doc, cs.secrets)
	specCache.Store(string(raw), cs)
	return cs, nil
}

// collectSecrets records the names of properties marked airbyte_secret
// anywhere in the schema (nested objects, oneOf branches, arrays).
func collectSecrets(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			for name, p := range props {
				if ps, ok := p.(map[string]any); ok && ps["airbyte_secret"] == true {
					into[name] = true
				}
			}
		}
		for _, c := range v {
			collectSecrets(c, into)
		}
	case []any:
		for _, c := range v {
			collectSecrets(c, into)
		}
	}
}

// ValidateConfig checks config against the JSON schema in
// spec.ConnectionSpecification. It returns nil if the config is valid (or
// the spec has no schema), a *ConfigError listing every failing path if
// not, and another error if the schema itself cannot be compiled. Values of
// secret fields (airbyte_secret: true) never appear in the error.
func ValidateConfig(spec *ConnectorSpecification, config json.RawMessage) error {
	if spec == nil || len(bytes.TrimSpace(spec.ConnectionSpecification)) == 0 || isNull(bytes.TrimSpace(spec.ConnectionSpecification)) {
		return nil
	}
	cs, err := compileSpec(spec.ConnectionSpecification)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(config)) == 0 {
		config = json.RawMessage("{}")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return &ConfigError{Problems: []ConfigProblem{{Path: "$", Message: "config is not valid JSON"}}}
	}
	err = cs.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("airbyte: validate config: %w", err)
	}
	secretValues := collectSecretValues(inst, cs.secrets, nil)
	var problems []ConfigProblem
	seen := map[ConfigProblem]bool{}
	add := func(p ConfigProblem) {
		for _, s := range secretValues {
			p.Message = strings.ReplaceAll(p.Message, s, "****")
		}
		if !seen[p] {
			seen[p] = true
			problems = append(problems, p)
		}
	}
	for leaf := range leaves(ve) {
		loc := leaf.InstanceLocation
		if req, ok := leaf.ErrorKind.(*kind.Required); ok {
			for _, name := range req.Missing {
				add(ConfigProblem{Path: jsonPath(append(loc[:len(loc):len(loc)], name)), Message: "required property is missing"})
			}
			continue
		}
		msg := leaf.ErrorKind.LocalizedString(englishPrinter)
		if underSecret(loc, cs.secrets) {
			kw := leaf.ErrorKind.KeywordPath()
			what := "schema"
			if len(kw) > 0 {
				what = kw[len(kw)-1]
			}
			msg = "secret value does not satisfy " + strconv.Quote(what) + " (value not shown)"
		}
		add(ConfigProblem{Path: jsonPath(loc), Message: msg})
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
	return &ConfigError{Problems: problems}
}

// leaves yields the innermost errors of a validation error tree: each is
// one concrete failure at one place.
func leaves(e *jsonschema.ValidationError) iter.Seq[*jsonschema.ValidationError] {
	return func(yield func(*jsonschema.ValidationError) bool) {
		var walk func(*jsonschema.ValidationError) bool
		walk = func(e *jsonschema.ValidationError) bool {
			if len(e.Causes) == 0 {
				return yield(e)
			}
			for _, c := range e.Causes {
				if !walk(c) {
					return false
				}
			}
			return true
		}
		walk(e)
	}
}

func underSecret(loc []string, secrets map[string]bool) bool {
	for _, tok := range loc {
		if secrets[tok] {
			return true
		}
	}
	return false
}

// collectSecretValues gathers the scalar values found under secret keys, so
// that no message can echo them.
func collectSecretValues(v any, secrets map[string]bool, into []string) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if secrets[k] {
				into = appendScalars(c, into)
			} else {
				into = collectSecretValues(c, secrets, into)
			}
		}
	case []any:
		for _, c := range v {
			into = collectSecretValues(c, secrets, into)
		}
	}
	return into
}

func appendScalars(v any, into []string) []string {
	switch v := v.(type) {
	case string:
		if v != "" {
			into = append(into, v)
		}
	case json.Number:
		into = append(into, v.String())
	case map[string]any:
		for _, c := range v {
			into = appendScalars(c, into)
		}
	case []any:
		for _, c := range v {
			into = appendScalars(c, into)
		}
	}
	return into
}

// jsonPath renders an instance location as a JSONPath ("$.a.b[0]").
func jsonPath(loc []string) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, tok := range loc {
		if n, err := strconv.Atoi(tok); err == nil && n >= 0 && strconv.Itoa(n) == tok {
			b.WriteString("[" + tok + "]")
			continue
		}
		if isPlainName(tok) {
			b.WriteString("." + tok)
			continue
		}
		b.WriteString("[" + strconv.Quote(tok) + "]")
	}
	return b.String()
}

func isPlainName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

// Validating wraps src so that Check, Discover and Read first validate the
// config against src's spec (fetched once) and fail with a *ConfigError
// before the source runs.
func Validating(src Source) Source {
	if v, ok := src.(*validatingSource); ok {
		return v
	}
	return &validatingSource{Source: src}
}

type validatingSource struct {
	Source
	mu   sync.Mutex
	spec *ConnectorSpecification
}

func (v *validatingSource) validate(ctx context.Context, config json.RawMessage) error {
	v.mu.Lock()
	spec := v.spec
	v.mu.Unlock()
	if spec == nil {
		s, err := v.Source.Spec(ctx)
		if err != nil {
			return fmt.Errorf("airbyte: spec for config validation: %w", err)
		}
		v.mu.Lock()
		v.spec = s
		v.mu.Unlock()
		spec = s
	}
	return ValidateConfig(spec, config)
}

// Spec returns the wrapped source's spec (and remembers it).
func (v *validatingSource) Spec(ctx context.Context) (*ConnectorSpecification, error) {
	s, err := v.Source.Spec(ctx)
	if err == nil {
		v.mu.Lock()
		v.spec = s
		v.mu.Unlock()
	}
	return s, err
}

// Check validates config, then checks.
func (v *validatingSource) Check(ctx context.Context, config json.RawMessage) (*ConnectionStatus, error) {
	if err := v.validate(ctx, config); err != nil {
		return nil, err
	}
	return v.Source.Check(ctx, config)
}

// Discover validates config, then discovers.
func (v *validatingSource) Discover(ctx context.Context, config json.RawMessage) (*Catalog, error) {
	if err := v.validate(ctx, config); err != nil {
		return nil, err
	}
	return v.Source.Discover(ctx, config)
}

// Read validates config, then reads.
func (v *validatingSource) Read(ctx context.Context, config json.RawMessage, catalog *ConfiguredCatalog, state []StateMessage) (ReadStream, error) {
	if err := v.validate(ctx, config); err != nil {
		return nil, err
	}
	return v.Source.Read(ctx, config, catalog, state)
}
