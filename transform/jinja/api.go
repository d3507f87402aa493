package jinja

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// ErrorKind classifies an error the way Python's exception classes do, so
// callers (and the differential tests) can branch on it.
type ErrorKind string

// Error kinds. Each is named after the Python/Jinja2 exception it mirrors.
const (
	ErrSyntax            ErrorKind = "TemplateSyntaxError"    // the template does not parse
	ErrUndefined         ErrorKind = "UndefinedError"         // an undefined value was used (attribute, call, arithmetic)
	ErrType              ErrorKind = "TypeError"              // an operation on values of the wrong type
	ErrValue             ErrorKind = "ValueError"             // a value of the right type but wrong content
	ErrKey               ErrorKind = "KeyError"               // a missing key (dict.pop, % formatting, str.format)
	ErrIndex             ErrorKind = "IndexError"             // a missing index (list.pop, str.format)
	ErrAttribute         ErrorKind = "AttributeError"         // a missing attribute where Python raises it
	ErrZeroDivision      ErrorKind = "ZeroDivisionError"      // division or modulo by zero
	ErrOverflow          ErrorKind = "OverflowError"          // a number or range too large
	ErrMemory            ErrorKind = "MemoryError"            // a value larger than the engine's size bounds
	ErrSecurity          ErrorKind = "SecurityError"          // access the sandbox forbids
	ErrNotFound          ErrorKind = "TemplateNotFound"       // the loader has no such template
	ErrTemplateRuntime   ErrorKind = "TemplateRuntimeError"   // a template-level runtime failure (unknown filter at runtime, …)
	ErrTemplateAssertion ErrorKind = "TemplateAssertionError" // a compile-time check failed (unknown filter or test, …)
	ErrFilterArgument    ErrorKind = "FilterArgumentError"    // a filter got an argument it cannot use
	ErrRuntime           ErrorKind = "RuntimeError"           // recursion or budget limits, host function failures
	ErrAssertion         ErrorKind = "AssertionError"         // a precondition Jinja2 asserts (e.g. truncate's length)
)

// ErrTemplateNotFound is matched (errors.Is) by every error a Loader
// returns for a template that does not exist.
var ErrTemplateNotFound = errors.New("template not found")

// Error is the error every compile or render failure is reported as. It
// names the template, line and column where the failure happened.
type Error struct {
	Kind     ErrorKind // the Python exception class Jinja2 would raise
	Template string    // the template's name
	Line     int       // 1-based line, 0 if unknown
	Col      int       // 1-based column (in characters), 0 if unknown
	Msg      string    // the message, as Jinja2 words it where practical
	Err      error     // the underlying error, if any
}

func newErr(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *Error) Error() string {
	name := e.Template
	if name == "" {
		name = "<template>"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s: %s", name, e.Line, e.Col, e.Kind, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", name, e.Kind, e.Msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	if e.Kind == ErrNotFound {
		return ErrTemplateNotFound
	}
	return nil
}

// Loader finds template sources by name for include, import and
// Environment.GetTemplate. It returns an error wrapping
// ErrTemplateNotFound when a name does not exist.
type Loader interface {
	Load(ctx context.Context, name string) (string, error)
}

// MapLoader is a Loader over an in-memory map of name to source.
type MapLoader map[string]string

// Load implements Loader.
func (m MapLoader) Load(_ context.Context, name string) (string, error) {
	if s, ok := m[name]; ok {
		return s, nil
	}
	return "", fmt.Errorf("%w: %s", ErrTemplateNotFound, name)
}

// Func is a Go function templates can call. Arguments arrive as plain Go
// values (see ToGo); keyword arguments in kwargs (nil when there are none).
type Func func(args []any, kwargs map[string]any) (any, error)

// ContextFunc is a Func that also receives the render's context.
type ContextFunc func(ctx context.Context, args []any, kwargs map[string]any) (any, error)

// FilterFunc is a host filter: value is the filtered value, the rest are the
// filter's arguments, all as plain Go values.
type FilterFunc func(value any, args []any, kwargs map[string]any) (any, error)

// TestFunc is a host test (as in "x is name").
type TestFunc func(value any, args []any) (bool, error)

// TagHeader is what follows a host tag's name in its opening tag, e.g. for
// "{% materialization table, adapter='duckdb' %}" Name is "table" and Kwargs
// holds adapter; for "{% test not_null(model, column_name) %}" Params holds
// the parameter names.
type TagHeader struct {
	Name   string
	Params []string
	Args   []any
	Kwargs map[string]any
	Source string // the header's tokens, re-spelled
}

// TagBlock is one rendered occurrence of a host tag.
type TagBlock struct {
	Header   TagHeader
	Source   string // the body's source (data exact, tags re-spelled)
	Template string
	Line     int
	render   func() (string, error)
}

// Render renders the block's body in the scope where the tag appears.
func (b *TagBlock) Render() (string, error) { return b.render() }

// Tag is a host-registered block tag "{% name ... %}...{% endname %}", as
// dbt registers docs, test, materialization and snapshot.
type Tag struct {
	// Name is the tag name; the block ends with "end" + Name.
	Name string
	// Macro, when set, makes the block define a macro (as dbt's test,
	// materialization and docs blocks do); it returns the macro's name.
	// The header's parameter list, if any, is the macro's signature.
	Macro func(h TagHeader) (string, error)
	// Render, when set, is called where the block is rendered; its result
	// is written to the output.
	Render func(ctx context.Context, b *TagBlock) (string, error)
}

// Option configures an Environment.
type Option func(*Environment)

// WithLoader sets the loader used by include, import and GetTemplate.
func WithLoader(l Loader) Option { return func(e *Environment) { e.loader = l } }

// WithGlobals adds values every template sees.
func WithGlobals(g map[string]any) Option {
	return func(e *Environment) {
		for k, v := range g {
			e.globals[k] = toValue(v)
		}
	}
}

// WithFilter registers a host filter.
func WithFilter(name string, f FilterFunc) Option {
	return func(e *Environment) {
		e.filters[name] = func(st *state, v any, a *argv) (any, error) {
			args, kw := a.toGo()
			r, err := f(ToGo(v), args, kw)
			if err != nil {
				return nil, hostErr(err)
			}
			return toValue(r), nil
		}
	}
}

// WithTest registers a host test.
func WithTest(name string, f TestFunc) Option {
	return func(e *Environment) {
		e.tests[name] = func(st *state, v any, a *argv) (bool, error) {
			args, _ := a.toGo()
			ok, err := f(ToGo(v), args)
			if err != nil {
				return false, hostErr(err)
			}
			return ok, nil
		}
	}
}

// WithTag registers a host block tag.
func WithTag(t Tag) Option {
	return func(e *Environment) { tt := t; e.tags[t.Name] = &tt }
}

// WithLogger sets the logger (nothing is logged at Info level or above in
// normal operation).
func WithLogger(l *slog.Logger) Option { return func(e *Environment) { e.logger = l } }

// WithMaxDepth bounds nesting of macro calls, includes and recursive loops
// (default 500), so runaway recursion is an error, not a crash.
func WithMaxDepth(n int) Option { return func(e *Environment) { e.maxDepth = n } }

// WithMaxSteps bounds the loop iterations and calls of one render (default
// unlimited; cancellation of the context always stops a render).
func WithMaxSteps(n int) Option { return func(e *Environment) { e.maxSteps = n } }

// WithContextLookup resolves names that a template and its macros do not
// define, and the globals do not hold, through f with the render's context
// — as dbt resolves this, model and the other per-node names inside every
// macro against the node being rendered. f returns false for names it does
// not know, which stay undefined.
func WithContextLookup(f func(ctx context.Context, name string) (any, bool)) Option {
	return func(e *Environment) { e.ctxLookup = f }
}

// WithMaxOutput bounds the bytes one render may produce (default unlimited).
func WithMaxOutput(n int) Option { return func(e *Environment) { e.maxOutput = n } }

// Environment holds configuration shared by templates: loader, globals,
// filters, tests and tags. It is safe for concurrent use once built.
type Environment struct {
	loader    Loader
	globals   map[string]any
	filters   map[string]filterFn
	tests     map[string]testFn
	tags      map[string]*Tag
	logger    *slog.Logger
	maxDepth  int
	maxSteps  int
	maxOutput int
	ctxLookup func(ctx context.Context, name string) (any, bool)

	mu    sync.Mutex
	cache map[string]*Template
}

type filterFn func(st *state, v any, a *argv) (any, error)
type testFn func(st *state, v any, a *argv) (bool, error)

// New returns an Environment configured as dbt configures Jinja2 for text
// rendering: the do and loopcontrols extensions, no trim_blocks or
// lstrip_blocks, the default Undefined, sandboxed attribute access, dbt's
// as_text / as_bool / as_native / as_number (identities in text mode) and
// is_list filters, and a return() global.
func New(opts ...Option) *Environment {
	e := &Environment{
		globals:  map[string]any{},
		filters:  map[string]filterFn{},
		tests:    map[string]testFn{},
		tags:     map[string]*Tag{},
		maxDepth: 500,
		cache:    map[string]*Template{},
	}
	loadBuiltins()
	for k, v := range builtinGlobals {
		e.globals[k] = v
	}
	for _, o := range opts {
		o(e)
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	return e
}

func (e *Environment) filter(name string) (filterFn, bool) {
	if f, ok := e.filters[name]; ok {
		return f, true
	}
	loadBuiltins()
	f, ok := builtinFilters[name]
	return f, ok
}

func (e *Environment) test(name string) (testFn, bool) {
	if f, ok := e.tests[name]; ok {
		return f, true
	}
	loadBuiltins()
	f, ok := builtinTests[name]
	return f, ok
}

// Template is a compiled template. It is immutable: any number of
// goroutines may render it at once.
type Template struct {
	env    *Environment
	name   string
	body   []stmt
	blocks map[string]*blockStmt
	size   int // source length, a first guess at the output's
}

// Compile parses source into a Template named name (the name appears in
// errors).
func (e *Environment) Compile(name, source string) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &Error{Kind: ErrRuntime, Template: name, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	body, blocks, err := parseTemplate(e, name, normalizeNewlines(source))
	if err != nil {
		return nil, err
	}
	return &Template{env: e, name: name, body: body, blocks: blocks, size: len(source) + len(source)/4}, nil
}

// GetTemplate loads and compiles a template through the loader, caching
// the compiled result by name.
func (e *Environment) GetTemplate(ctx context.Context, name string) (*Template, error) {
	e.mu.Lock()
	t, ok := e.cache[name]
	e.mu.Unlock()
	if ok {
		return t, nil
	}
	if e.loader == nil {
		return nil, &Error{Kind: ErrType, Template: name, Msg: "no loader for this environment specified"}
	}
	src, err := e.loader.Load(ctx, name)
	if err != nil {
		if errors.Is(err, ErrTemplateNotFound) {
			return nil, &Error{Kind: ErrNotFound, Template: name, Msg: name, Err: err}
		}
		return nil, fmt.Errorf("jinja: load %s: %w", name, err)
	}
	t, err = e.Compile(name, src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.cache[name] = t
	e.mu.Unlock()
	return t, nil
}

// Name returns the template's name.
func (t *Template) Name() string { return t.name }

func (t *Template) newState(ctx context.Context, vars map[string]any) (*state, *scope) {
	if ctx == nil {
		ctx = context.Background()
	}
	g := &scope{vars: t.env.globals}
	ctxScope := &scope{vars: make(map[string]any, len(vars)), parent: g}
	for k, v := range vars {
		ctxScope.vars[k] = toValue(v)
	}
	st := &state{env: t.env, ctx: ctx, name: t.name, globals: g}
	return st, newScope(ctxScope)
}

// Render renders the template with vars (converted with the rules of
// toValue: Go maps, slices, numbers, strings, Func values and Objects).
func (t *Template) Render(ctx context.Context, vars map[string]any) (string, error) {
	st, sc := t.newState(ctx, vars)
	var b strings.Builder
	b.Grow(t.size)
	st.out = &b
	if err := t.exec(st, sc); err != nil {
		return "", err
	}
	return b.String(), nil
}

// RenderTo renders the template into w.
func (t *Template) RenderTo(ctx context.Context, w io.Writer, vars map[string]any) error {
	s, err := t.Render(ctx, vars)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, s)
	return err
}

func (t *Template) exec(st *state, sc *scope) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Kind: ErrRuntime, Template: t.name, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	err = st.runTemplate(t, sc)
	if r, ok := err.(*returnSignal); ok {
		_ = r
		return &Error{Kind: ErrTemplateRuntime, Template: t.name, Msg: "return() called outside of a macro"}
	}
	return err
}

// CallMacro renders the template's top level with vars, then calls its macro
// name with args and kwargs. It returns what the macro returns: its rendered
// text, or the value it passed to return().
func (t *Template) CallMacro(ctx context.Context, name string, vars map[string]any, args []any, kwargs map[string]any) (result any, err error) {
	st, sc := t.newState(ctx, vars)
	var b strings.Builder
	st.out = &b
	if err := t.exec(st, sc); err != nil {
		return nil, err
	}
	m, ok := sc.vars[name].(*Macro)
	if !ok {
		return nil, &Error{Kind: ErrUndefined, Template: t.name, Msg: fmt.Sprintf("no macro named %s", pyQuote(name))}
	}
	a := &argv{}
	for _, v := range args {
		a.args = append(a.args, toValue(v))
	}
	keys := make([]string, 0, len(kwargs))
	for k := range kwargs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a.kw = append(a.kw, kwPair{k, toValue(kwargs[k])})
	}
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Kind: ErrRuntime, Template: t.name, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	v, err := m.invoke(st, a)
	if err != nil {
		return nil, err
	}
	return ToGo(v), nil
}

// Module renders the template's top level with vars and returns what it
// exports: its macros and top-level variables (names not starting with "_"),
// as {% import %} would. The module's macros can be called from Go
// (Macro.Call) or passed in the context of other renders, the way dbt makes
// every project macro visible to every model. Macros that mutate variables
// of their module must not be called from concurrent renders.
func (t *Template) Module(ctx context.Context, vars map[string]any) (m *Module, err error) {
	st, sc := t.newState(ctx, vars)
	var b strings.Builder
	st.out = &b
	if err := t.exec(st, sc); err != nil {
		return nil, err
	}
	return &Module{name: t.name, exports: exportsOf(sc), body: b.String()}, nil
}

// Name returns the name of the template the module was rendered from.
func (m *Module) Name() string { return m.name }

// Output returns the text the module's top level rendered.
func (m *Module) Output() string { return m.body }

// Names lists the exported names in sorted order.
func (m *Module) Names() []string {
	out := make([]string, 0, len(m.exports.keys))
	for _, k := range m.exports.keys {
		out = append(out, k.(string))
	}
	return out
}

// Macro returns the exported macro called name.
func (m *Module) Macro(name string) (*Macro, bool) {
	v, ok := m.exports.getStr(name)
	if !ok {
		return nil, false
	}
	mac, ok := v.(*Macro)
	return mac, ok
}

// Get returns an exported value as a plain Go value (macros stay *Macro).
func (m *Module) Get(name string) (any, bool) {
	v, ok := m.exports.getStr(name)
	return ToGo(v), ok
}

// Call calls the macro from Go with positional and keyword arguments. It
// returns the rendered text, or the value the macro passed to return(), as
// a plain Go value.
func (m *Macro) Call(ctx context.Context, env *Environment, args []any, kwargs map[string]any) (result any, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	st := &state{env: env, ctx: ctx, name: m.tmplName, globals: &scope{vars: env.globals}}
	var b strings.Builder
	st.out = &b
	a := &argv{}
	for _, v := range args {
		a.args = append(a.args, toValue(v))
	}
	keys := make([]string, 0, len(kwargs))
	for k := range kwargs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a.kw = append(a.kw, kwPair{k, toValue(kwargs[k])})
	}
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Kind: ErrRuntime, Template: m.tmplName, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	v, err := m.invoke(st, a)
	if err != nil {
		return nil, err
	}
	return ToGo(v), nil
}

// Macros lists the names of the macros the template defines at top level.
func (t *Template) Macros() []string {
	var out []string
	for _, s := range t.body {
		if m, ok := s.(*macroStmt); ok {
			out = append(out, m.m.name)
		}
		if tg, ok := s.(*tagStmt); ok && tg.macro != nil {
			out = append(out, tg.macro.name)
		}
	}
	return out
}

// ---- value conversion ----

// toValue converts a host value into the engine's representation.
func toValue(v any) any { return toValueD(v, 0) }

func toValueD(v any, d int) any {
	if d > maxNest {
		return nil
	}
	switch x := v.(type) {
	case nil, bool, string, int64, float64, *big.Int, Markup, *List, Tuple, *Dict, Undefined, *Macro,
		Func, ContextFunc, *Namespace, *Module, *Template:
		return v
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		return toValueD(uint64(x), d)
	case uint64:
		if x > math.MaxInt64 {
			return new(big.Int).SetUint64(x)
		}
		return int64(x)
	case float32:
		return float64(x)
	case []any:
		l := &List{Items: make([]any, len(x))}
		for i, e := range x {
			l.Items[i] = toValueD(e, d+1)
		}
		return l
	case []string:
		l := &List{Items: make([]any, len(x))}
		for i, e := range x {
			l.Items[i] = e
		}
		return l
	case map[string]any:
		out := NewDict()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.setStr(k, toValueD(x[k], d+1))
		}
		return out
	case func(args []any, kwargs map[string]any) (any, error):
		return Func(x)
	case Object:
		return v
	case error:
		return x.Error()
	case fmt.Stringer:
		if reflect.TypeOf(v).Kind() != reflect.Struct && reflect.TypeOf(v).Kind() != reflect.Pointer {
			return x.String()
		}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		l := &List{Items: make([]any, rv.Len())}
		for i := range l.Items {
			l.Items[i] = toValueD(rv.Index(i).Interface(), d+1)
		}
		return l
	case reflect.Map:
		out := NewDict()
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface()) })
		for _, k := range keys {
			out.Set(toValueD(k.Interface(), d+1), toValueD(rv.MapIndex(k).Interface(), d+1))
		}
		return out
	case reflect.Func:
		return &reflectFunc{fn: rv}
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		if rv.Elem().Kind() == reflect.Struct {
			return structDict(rv.Elem(), d+1)
		}
		return toValueD(rv.Elem().Interface(), d+1)
	case reflect.Struct:
		return structDict(rv, d+1)
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	}
	return v
}

func structDict(rv reflect.Value, depth int) *Dict {
	d := NewDict()
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag := f.Tag.Get("json"); tag != "" {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		d.setStr(name, toValueD(rv.Field(i).Interface(), depth))
	}
	return d
}

// ToGo converts an engine value to plain Go: lists and tuples to []any,
// dicts to map[string]any (keys rendered with str()), Undefined to nil,
// Markup to string, ints to int64 (or *big.Int), floats to float64.
func ToGo(v any) any { return toGoS(v, nil) }

// toGoS converts v; stack holds the containers being converted, so a
// container that contains itself becomes nil where it recurs.
func toGoS(v any, stack []any) any {
	if len(stack) > maxNest {
		return nil
	}
	switch x := v.(type) {
	case *List, *Dict:
		if onStack(stack, x) {
			return nil
		}
		stack = append(stack, x)
	}
	switch x := v.(type) {
	case *List:
		out := make([]any, len(x.Items))
		for i, e := range x.Items {
			out[i] = toGoS(e, stack)
		}
		return out
	case Tuple:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toGoS(e, stack)
		}
		return out
	case *Dict:
		out := make(map[string]any, len(x.keys))
		for i, k := range x.keys {
			out[toStr(k)] = toGoS(x.vals[i], stack)
		}
		return out
	case Undefined:
		return nil
	case Markup:
		return string(x)
	case *rangeVal:
		return toGoS(&List{Items: x.items()}, stack)
	case *dictView:
		return toGoS(&List{Items: x.items()}, stack)
	case *genVal:
		return toGoS(&List{Items: x.drain()}, stack)
	}
	return v
}

type reflectFunc struct{ fn reflect.Value }

func (f *reflectFunc) call(a *argv) (any, error) {
	if len(a.kw) > 0 {
		return nil, newErr(ErrType, "Go function takes no keyword arguments")
	}
	t := f.fn.Type()
	n := t.NumIn()
	if !t.IsVariadic() && len(a.args) != n || t.IsVariadic() && len(a.args) < n-1 {
		return nil, newErr(ErrType, "function takes %d arguments (%d given)", n, len(a.args))
	}
	in := make([]reflect.Value, len(a.args))
	for i, v := range a.args {
		var pt reflect.Type
		if t.IsVariadic() && i >= n-1 {
			pt = t.In(n - 1).Elem()
		} else {
			pt = t.In(i)
		}
		g := ToGo(v)
		if g == nil {
			in[i] = reflect.Zero(pt)
			continue
		}
		gv := reflect.ValueOf(g)
		if gv.Type().AssignableTo(pt) {
			in[i] = gv
		} else if gv.Type().ConvertibleTo(pt) && gv.Kind() != reflect.String && pt.Kind() != reflect.String {
			in[i] = gv.Convert(pt)
		} else {
			return nil, newErr(ErrType, "argument %d: cannot use %s as %s", i+1, typeName(v), pt)
		}
	}
	out := f.fn.Call(in)
	if len(out) == 0 {
		return nil, nil
	}
	last := out[len(out)-1]
	if last.Type().Implements(reflect.TypeFor[error]()) {
		if !last.IsNil() {
			return nil, hostErr(last.Interface().(error))
		}
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return nil, nil
	}
	return toValue(out[0].Interface()), nil
}

func sortStrings(s []string) { sort.Strings(s) }

// PyStr writes a Go value (as converted into a template) the way Python's
// str() writes it: None, True, 1.0, ['a', 1] — as dbt does where it puts
// values into names.
func PyStr(v any) string { return toStr(toValue(v)) }

// PyRepr writes a Go value the way Python's repr() writes it: strings
// quoted, mappings in sorted key order.
func PyRepr(v any) string { return repr(toValue(v)) }
