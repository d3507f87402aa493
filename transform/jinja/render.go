package jinja

import (
	"context"
	"errors"
	"math/big"
	"strings"
)

type scope struct {
	vars   map[string]any
	parent *scope
}

func newScope(parent *scope) *scope { return &scope{vars: make(map[string]any, 4), parent: parent} }

func (s *scope) lookup(name string) (any, bool) {
	for c := s; c != nil; c = c.parent {
		if v, ok := c.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// state is the per-render mutable state; compiled templates are never
// changed while rendering.
type state struct {
	env        *Environment
	ctx        context.Context
	name       string // current template name
	depth      int
	steps      int
	nextCheck  int
	out        *strings.Builder
	globals    *scope
	blocks     map[string][]*blockStmt
	extends    *Template
	autoescape bool   // inside {% autoescape true %}
	nodes      *[]any // output nodes, while rendering natively (RenderNative)
	native     bool   // RenderNative: dbt's as_* filters produce markers
}

// runTemplate executes t's body in sc, following {% extends %} chains.
func (st *state) runTemplate(t *Template, sc *scope) error {
	savedBlocks, savedExt, savedName := st.blocks, st.extends, st.name
	st.blocks, st.extends, st.name = nil, nil, t.name
	out := st.out
	_, err := st.execBody(t.body, sc)
	for err == nil && st.extends != nil {
		parent := st.extends
		st.extends = nil
		if st.blocks == nil {
			st.blocks = map[string][]*blockStmt{}
			for name, b := range t.blocks {
				st.blocks[name] = []*blockStmt{b}
			}
		}
		for name, b := range parent.blocks {
			st.blocks[name] = append(st.blocks[name], b)
		}
		st.out = out
		st.name = parent.name
		if st.depth >= st.env.maxDepth {
			err = newErr(ErrRuntime, "maximum recursion depth exceeded")
			break
		}
		st.depth++
		_, err = st.execBody(parent.body, newScope(sc.parent))
		st.depth--
	}
	st.out = out
	st.blocks, st.extends, st.name = savedBlocks, savedExt, savedName
	return err
}

// renderBlock renders level of the override chain of block n.
func (st *state) renderBlock(n *blockStmt, level int, sc *scope) error {
	chain := st.blocks[n.name]
	b := n
	if level < len(chain) {
		b = chain[level]
	}
	inner := newScope(sc)
	inner.vars["super"] = &superFunc{st: st, name: n.name, level: level + 1, fallback: n, sc: sc}
	_, err := st.execBody(b.body, inner)
	return err
}

type ctl uint8

const (
	ctlNone ctl = iota
	ctlBreak
	ctlContinue
)

// returnSignal carries the value of return() up to the macro boundary.
type returnSignal struct{ value any }

func (r *returnSignal) Error() string { return "return() called outside of a macro" }

// chargeFor charges for work proportional to the size of v (a filter or
// method that walks a large value).
func (st *state) chargeFor(v any) error {
	switch x := v.(type) {
	case string:
		return st.charge(len(x))
	case *List:
		return st.charge(len(x.Items) * 8)
	case Tuple:
		return st.charge(len(x) * 8)
	case *Dict:
		return st.charge(len(x.keys) * 8)
	case *rangeVal:
		return st.charge(int(min(x.len(), maxRange)) * 8)
	case *genVal:
		return st.charge(len(x.items) * 8)
	}
	return nil
}

// charge accounts for work proportional to n (bytes or items produced).
func (st *state) charge(n int) error {
	st.steps += n >> 10
	return st.tick()
}

func (st *state) tick() error {
	st.steps++
	if st.steps < st.nextCheck {
		return nil
	}
	st.nextCheck = st.steps + 64
	if err := st.ctx.Err(); err != nil {
		return err
	}
	if st.env.maxSteps > 0 && st.steps > st.env.maxSteps {
		return newErr(ErrRuntime, "step budget of %d exceeded", st.env.maxSteps)
	}
	return nil
}

// locate adds the template name and position to an error that has none.
func (st *state) locate(err error, p pos) error {
	var e *Error
	if errors.As(err, &e) {
		if e.Line == 0 {
			e.Line, e.Col = p.line, p.col
			if e.Template == "" {
				e.Template = st.name
			}
		}
		return err
	}
	if _, ok := err.(*returnSignal); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &Error{Kind: ErrRuntime, Template: st.name, Line: p.line, Col: p.col, Msg: err.Error(), Err: err}
}

func (st *state) execBody(body []stmt, sc *scope) (ctl, error) {
	if st.nodes != nil {
		return st.execBodyNative(body, sc)
	}
	for _, s := range body {
		c, err := st.exec(s, sc)
		if err != nil || c != ctlNone {
			return c, err
		}
	}
	return ctlNone, nil
}

func (st *state) exec(s stmt, sc *scope) (ctl, error) {
	switch n := s.(type) {
	case *dataStmt:
		st.out.WriteString(n.text)
		if st.env.maxOutput > 0 && st.out.Len() > st.env.maxOutput {
			return 0, st.locate(newErr(ErrRuntime, "output larger than %d bytes", st.env.maxOutput), n.pos)
		}
	case *printStmt:
		v, err := st.eval(n.x, sc)
		if err != nil {
			return 0, err
		}
		switch x := v.(type) {
		case string:
			if st.autoescape {
				x = htmlEscape(x)
			}
			st.out.WriteString(x)
		case Markup:
			st.out.WriteString(string(x))
		default:
			s := toStr(x)
			if st.autoescape {
				s = htmlEscape(s)
			}
			st.out.WriteString(s)
		}
		if st.env.maxOutput > 0 && st.out.Len() > st.env.maxOutput {
			return 0, st.locate(newErr(ErrRuntime, "output larger than %d bytes", st.env.maxOutput), n.pos)
		}
	case *ifStmt:
		v, err := st.eval(n.test, sc)
		if err != nil {
			return 0, err
		}
		if truth(v) {
			return st.execBody(n.body, sc)
		}
		return st.execBody(n.els, sc)
	case *forStmt:
		return ctlNone, st.execFor(n, sc)
	case *setStmt:
		v, err := st.eval(n.x, sc)
		if err != nil {
			return 0, err
		}
		return ctlNone, st.locate0(st.assign(n.target, v, sc), n.pos)
	case *setBlockStmt:
		s, err := st.capture(n.body, newScope(sc))
		if err != nil {
			return 0, err
		}
		var v any = s
		if n.filter != nil {
			v, err = st.applyFilterChain(n.filter, s, sc)
			if err != nil {
				return 0, err
			}
		}
		return ctlNone, st.locate0(st.assign(n.target, v, sc), n.pos)
	case *macroStmt:
		sc.vars[n.m.name] = &Macro{def: n.m, closure: sc, tmplName: st.name}
	case *callBlockStmt:
		caller := &Macro{def: n.caller, closure: sc, tmplName: st.name}
		fn, err := st.eval(n.call.fn, sc)
		if err != nil {
			return 0, err
		}
		a, err := st.evalArgs(&n.call.callArgs, sc)
		if err != nil {
			return 0, err
		}
		a.kw = append(a.kw, kwPair{"caller", caller})
		v, err := st.call(fn, a, n.call.pos)
		if err != nil {
			return 0, st.locate(err, n.pos)
		}
		st.out.WriteString(toStr(v))
	case *filterBlockStmt:
		s, err := st.capture(n.body, sc)
		if err != nil {
			return 0, err
		}
		v, err := st.applyFilterChain(n.filter, s, sc)
		if err != nil {
			return 0, err
		}
		st.out.WriteString(toStr(v))
	case *withStmt:
		inner := newScope(sc)
		for i, t := range n.targets {
			v, err := st.eval(n.values[i], sc)
			if err != nil {
				return 0, err
			}
			if err := st.assign(t, v, inner); err != nil {
				return 0, st.locate(err, n.pos)
			}
		}
		return st.execBody(n.body, inner)
	case *doStmt:
		_, err := st.eval(n.x, sc)
		return ctlNone, err
	case *breakStmt:
		return ctlBreak, nil
	case *continueStmt:
		return ctlContinue, nil
	case *includeStmt:
		return ctlNone, st.locate0(st.include(n, sc), n.pos)
	case *importStmt:
		v, err := st.eval(n.template, sc)
		if err != nil {
			return 0, err
		}
		mod, err := st.importModule(v, n.withContext, sc)
		if err != nil {
			return 0, st.locate(err, n.pos)
		}
		sc.vars[n.target] = mod
	case *fromImportStmt:
		v, err := st.eval(n.template, sc)
		if err != nil {
			return 0, err
		}
		mod, err := st.importModule(v, n.withContext, sc)
		if err != nil {
			return 0, st.locate(err, n.pos)
		}
		for _, nm := range n.names {
			if x, ok := mod.exports.getStr(nm[0]); ok {
				sc.vars[nm[1]] = x
			} else {
				sc.vars[nm[1]] = Undefined{Name: nm[0], hint: "the template " + pyQuote(mod.name) + " does not export the requested name " + pyQuote(nm[0])}
			}
		}
	case *blockStmt:
		if st.extends != nil {
			return ctlNone, nil
		}
		inner := sc
		if !n.scoped {
			for c := sc; c != nil; c = c.parent {
				if c.parent != nil && c.parent.parent == st.globals {
					inner = c
					break
				}
			}
		}
		return ctlNone, st.renderBlock(n, 0, inner)
	case *extendsStmt:
		v, err := st.eval(n.template, sc)
		if err != nil {
			return 0, err
		}
		if st.extends != nil {
			return 0, st.locate(newErr(ErrTemplateRuntime, "extended multiple times"), n.pos)
		}
		t, ok := v.(*Template)
		if !ok {
			t, err = st.env.GetTemplate(st.ctx, toStr(v))
			if err != nil {
				return 0, st.locate(err, n.pos)
			}
		}
		st.extends = t
		st.out = &strings.Builder{}
	case *autoescapeStmt:
		on, err := st.eval(n.on, sc)
		if err != nil {
			return 0, err
		}
		saved := st.autoescape
		st.autoescape = truth(on)
		c, err := st.execBody(n.body, sc)
		st.autoescape = saved
		return c, err
	case *tagStmt:
		return ctlNone, st.execTag(n, sc)
	}
	return ctlNone, nil
}

func (st *state) locate0(err error, p pos) error {
	if err == nil {
		return nil
	}
	return st.locate(err, p)
}

func (st *state) captureFn(f func() error) (string, error) {
	saved, savedNodes := st.out, st.nodes
	var b strings.Builder
	st.out, st.nodes = &b, nil
	err := f()
	st.out, st.nodes = saved, savedNodes
	return b.String(), err
}

// capture renders body into a string.
func (st *state) capture(body []stmt, sc *scope) (string, error) {
	saved, savedNodes := st.out, st.nodes
	var b strings.Builder
	st.out, st.nodes = &b, nil
	_, err := st.execBody(body, sc)
	st.out, st.nodes = saved, savedNodes
	return b.String(), err
}

func (st *state) applyFilterChain(f expr, v any, sc *scope) (any, error) {
	fe, ok := f.(*filterExpr)
	if !ok {
		return v, nil
	}
	if fe.node != nil {
		var err error
		v, err = st.applyFilterChain(fe.node, v, sc)
		if err != nil {
			return nil, err
		}
	}
	return st.applyFilter(fe, v, sc)
}

// assign binds a target (name, tuple of names or namespace attribute).
func (st *state) assign(target expr, v any, sc *scope) error {
	switch t := target.(type) {
	case *nameExpr:
		sc.vars[t.name] = v
		return nil
	case *tupleExpr:
		items, err := iterate(v)
		if err != nil {
			return newErr(ErrType, "cannot unpack non-iterable %s object", typeName(v))
		}
		if len(items) < len(t.items) {
			return newErr(ErrValue, "not enough values to unpack (expected %d, got %d)", len(t.items), len(items))
		}
		if len(items) > len(t.items) {
			return newErr(ErrValue, "too many values to unpack (expected %d)", len(t.items))
		}
		for i, it := range t.items {
			if err := st.assign(it, items[i], sc); err != nil {
				return err
			}
		}
		return nil
	case *getattrExpr:
		obj, _ := sc.lookup(t.obj.(*nameExpr).name)
		ns, ok := obj.(*Namespace)
		if !ok {
			return newErr(ErrTemplateRuntime, "cannot assign attribute on non-namespace object")
		}
		ns.d.setStr(t.attr, v)
		return nil
	}
	return newErr(ErrSyntax, "cannot assign")
}

type loopObj struct {
	items   []any
	i       int
	depth0  int
	last    any
	hasLast bool
	recurse func(it any) (any, error)
}

func (st *state) execFor(n *forStmt, sc *scope) error {
	it, err := st.eval(n.iter, sc)
	if err != nil {
		return err
	}
	return st.runLoop(n, it, sc, 0)
}

func (st *state) runLoop(n *forStmt, it any, sc *scope, depth0 int) error {
	items, err := iterate(it)
	if err != nil {
		return st.locate(err, n.iter.at())
	}
	if _, ok := it.(*List); ok {
		// iterating a list sees a snapshot, as a Python for over a copy would
		// not; Jinja2 iterates the live list, so appends inside are seen.
		items = it.(*List).Items
	}
	if n.cond != nil {
		var kept []any
		for _, item := range items {
			inner := newScope(sc)
			if err := st.assign(n.target, item, inner); err != nil {
				return st.locate(err, n.pos)
			}
			v, err := st.eval(n.cond, inner)
			if err != nil {
				return err
			}
			if truth(v) {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	loop := &loopObj{items: items, depth0: depth0}
	if n.recursive {
		loop.recurse = func(x any) (any, error) {
			if st.depth >= st.env.maxDepth {
				return nil, newErr(ErrRuntime, "maximum recursion depth exceeded")
			}
			st.depth++
			defer func() { st.depth-- }()
			s, err := st.captureLoop(n, x, sc, depth0+1)
			return s, err
		}
	}
	ran := false
	var shared *scope
	if n.reuse {
		shared = &scope{vars: make(map[string]any, 4), parent: sc}
	}
	for i := 0; i < len(items); i++ {
		if err := st.tick(); err != nil {
			return err
		}
		ran = true
		loop.i = i
		inner := shared
		if inner == nil {
			inner = &scope{vars: make(map[string]any, 4), parent: sc}
		} else if i > 0 {
			clear(inner.vars)
		}
		if err := st.assign(n.target, items[i], inner); err != nil {
			return st.locate(err, n.pos)
		}
		inner.vars["loop"] = loop
		c, err := st.execBody(n.body, inner)
		if err != nil {
			return err
		}
		if c == ctlBreak {
			break
		}
		// a list appended to while iterating is seen by Jinja2
		if l, ok := it.(*List); ok && n.cond == nil && len(l.Items) > len(items) {
			items = l.Items
			loop.items = items
		}
	}
	if !ran && len(n.els) > 0 {
		_, err := st.execBody(n.els, sc)
		return err
	}
	return nil
}

func (st *state) captureLoop(n *forStmt, it any, sc *scope, depth0 int) (string, error) {
	saved, savedNodes := st.out, st.nodes
	var b strings.Builder
	st.out, st.nodes = &b, nil
	err := st.runLoop(n, it, sc, depth0)
	st.out, st.nodes = saved, savedNodes
	return b.String(), err
}

func (st *state) include(n *includeStmt, sc *scope) error {
	v, err := st.eval(n.template, sc)
	if err != nil {
		return err
	}
	names := []any{v}
	if l, ok := v.(*List); ok {
		names = l.Items
	} else if t, ok := v.(Tuple); ok {
		names = t
	}
	var t *Template
	for _, nm := range names {
		if tt, ok := nm.(*Template); ok {
			t = tt
			break
		}
		t, err = st.env.GetTemplate(st.ctx, toStr(nm))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrTemplateNotFound) {
			return err
		}
	}
	if t == nil {
		if n.ignoreMissing {
			return nil
		}
		return err
	}
	parent := st.globals
	if n.withContext {
		parent = sc
	}
	if st.depth >= st.env.maxDepth {
		return newErr(ErrRuntime, "maximum recursion depth exceeded")
	}
	st.depth++
	err = st.runTemplate(t, newScope(parent))
	st.depth--
	return err
}

// Module is an imported template: its exported macros and variables.
type Module struct {
	name    string
	exports *Dict
	body    string
}

func (st *state) importModule(v any, withContext bool, sc *scope) (*Module, error) {
	t, ok := v.(*Template)
	if !ok {
		var err error
		t, err = st.env.GetTemplate(st.ctx, toStr(v))
		if err != nil {
			return nil, err
		}
	}
	parent := st.globals
	if withContext {
		parent = sc
	}
	if st.depth >= st.env.maxDepth {
		return nil, newErr(ErrRuntime, "maximum recursion depth exceeded")
	}
	st.depth++
	defer func() { st.depth-- }()
	top := newScope(parent)
	body, err := st.captureFn(func() error { return st.runTemplate(t, top) })
	if err != nil {
		return nil, err
	}
	return &Module{name: t.name, exports: exportsOf(top), body: body}, nil
}

func exportsOf(top *scope) *Dict {
	d := NewDict()
	keys := make([]string, 0, len(top.vars))
	for k := range top.vars {
		if !strings.HasPrefix(k, "_") {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	for _, k := range keys {
		d.setStr(k, top.vars[k])
	}
	return d
}

type superFunc struct {
	st       *state
	name     string
	level    int
	fallback *blockStmt
	sc       *scope
}

func (st *state) execTag(n *tagStmt, sc *scope) error {
	if n.macro != nil {
		sc.vars[n.macro.name] = &Macro{def: n.macro, closure: sc, tmplName: st.name}
	}
	if n.tag.Render == nil {
		return nil
	}
	b := &TagBlock{Header: n.header, Source: n.src, Line: n.line, Template: st.name}
	b.render = func() (string, error) { return st.capture(n.body, newScope(sc)) }
	s, err := n.tag.Render(st.ctx, b)
	if err != nil {
		return st.locate(&Error{Kind: ErrRuntime, Msg: err.Error(), Err: err}, n.pos)
	}
	st.out.WriteString(s)
	return nil
}

// ---- expressions ----

func (st *state) eval(x expr, sc *scope) (any, error) {
	switch e := x.(type) {
	case *constExpr:
		return e.v, nil
	case *nameExpr:
		if v, ok := sc.lookup(e.name); ok {
			return v, nil
		}
		if f := st.env.ctxLookup; f != nil {
			if v, ok := f(st.ctx, e.name); ok {
				return toValue(v), nil
			}
		}
		return Undefined{Name: e.name}, nil
	case *getattrExpr:
		obj, err := st.eval(e.obj, sc)
		if err != nil {
			return nil, err
		}
		v, err := getattr(st, obj, e.attr)
		if err != nil {
			return nil, st.locate(err, e.pos)
		}
		return v, nil
	case *getitemExpr:
		obj, err := st.eval(e.obj, sc)
		if err != nil {
			return nil, err
		}
		if s, ok := e.key.(*sliceExpr); ok {
			v, err := st.evalSlice(obj, s, sc)
			if err != nil {
				return nil, st.locate(err, e.pos)
			}
			return v, nil
		}
		k, err := st.eval(e.key, sc)
		if err != nil {
			return nil, err
		}
		v, err := getitem(st, obj, k)
		if err != nil {
			return nil, st.locate(err, e.pos)
		}
		return v, nil
	case *binExpr:
		return st.evalBin(e, sc)
	case *unaryExpr:
		v, err := st.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		switch e.op {
		case "not":
			return !truth(v), nil
		case "neg":
			r, err := negate(v)
			return r, st.locate0(err, e.pos)
		default:
			if !isNumber(v) {
				return nil, st.locate(typeErrUnary("+", v), e.pos)
			}
			if b, ok := v.(bool); ok {
				if b {
					return int64(1), nil
				}
				return int64(0), nil
			}
			return v, nil
		}
	case *compareExpr:
		l, err := st.eval(e.first, sc)
		if err != nil {
			return nil, err
		}
		for _, o := range e.ops {
			r, err := st.eval(o.x, sc)
			if err != nil {
				return nil, err
			}
			if o.op == "in" || o.op == "notin" {
				if err := st.chargeFor(r); err != nil {
					return nil, err
				}
			}
			ok, err := compareOp(o.op, l, r)
			if err != nil {
				return nil, st.locate(err, e.pos)
			}
			if !ok {
				return false, nil
			}
			l = r
		}
		return true, nil
	case *condExpr:
		t, err := st.eval(e.test, sc)
		if err != nil {
			return nil, err
		}
		if truth(t) {
			return st.eval(e.then, sc)
		}
		if e.els == nil {
			return Undefined{hint: "the inline if-expression on line " + itoa(e.line) + " evaluated to false and no else section was defined."}, nil
		}
		return st.eval(e.els, sc)
	case *concatExpr:
		var b strings.Builder
		for _, it := range e.items {
			v, err := st.eval(it, sc)
			if err != nil {
				return nil, err
			}
			b.WriteString(toStr(v))
		}
		return b.String(), nil
	case *tupleExpr:
		t := make(Tuple, len(e.items))
		for i, it := range e.items {
			v, err := st.eval(it, sc)
			if err != nil {
				return nil, err
			}
			t[i] = v
		}
		return t, nil
	case *listExpr:
		l := &List{Items: make([]any, len(e.items))}
		for i, it := range e.items {
			v, err := st.eval(it, sc)
			if err != nil {
				return nil, err
			}
			l.Items[i] = v
		}
		return l, nil
	case *dictExpr:
		d := NewDict()
		for i := range e.keys {
			k, err := st.eval(e.keys[i], sc)
			if err != nil {
				return nil, err
			}
			v, err := st.eval(e.vals[i], sc)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, v); err != nil {
				return nil, st.locate(err, e.pos)
			}
		}
		return d, nil
	case *callExpr:
		fn, err := st.eval(e.fn, sc)
		if err != nil {
			return nil, err
		}
		a, err := st.evalArgs(&e.callArgs, sc)
		if err != nil {
			return nil, err
		}
		v, err := st.call(fn, a, e.pos)
		if err != nil {
			return nil, st.locate(err, e.pos)
		}
		return v, nil
	case *filterExpr:
		var v any
		if e.node != nil {
			var err error
			v, err = st.eval(e.node, sc)
			if err != nil {
				return nil, err
			}
		}
		return st.applyFilter(e, v, sc)
	case *testExpr:
		v, err := st.eval(e.node, sc)
		if err != nil {
			return nil, err
		}
		t, ok := st.env.test(e.name)
		if !ok {
			return nil, st.locate(newErr(ErrTemplateRuntime, "No test named '%s' found.", e.name), e.pos)
		}
		a, err := st.evalArgs(&e.callArgs, sc)
		if err != nil {
			return nil, err
		}
		res, err := t(st, v, a)
		if err != nil {
			return nil, st.locate(err, e.pos)
		}
		return res != e.negate, nil
	case *sliceExpr:
		return nil, st.locate(newErr(ErrType, "slice outside subscript"), e.pos)
	}
	return nil, newErr(ErrRuntime, "unknown expression %T", x)
}

func itoa(i int) string { return toStr(int64(i)) }

func (st *state) applyFilter(e *filterExpr, v any, sc *scope) (any, error) {
	f, ok := st.env.filter(e.name)
	if !ok {
		return nil, st.locate(newErr(ErrTemplateRuntime, "No filter named '%s' found.", e.name), e.pos)
	}
	a, err := st.evalArgs(&e.callArgs, sc)
	if err != nil {
		return nil, err
	}
	if err := st.chargeFor(v); err != nil {
		return nil, err
	}
	r, err := f(st, v, a)
	if err != nil {
		return nil, st.locate(err, e.pos)
	}
	return r, nil
}

func (st *state) evalBin(e *binExpr, sc *scope) (any, error) {
	l, err := st.eval(e.l, sc)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "and":
		if !truth(l) {
			return l, nil
		}
		return st.eval(e.r, sc)
	case "or":
		if truth(l) {
			return l, nil
		}
		return st.eval(e.r, sc)
	}
	r, err := st.eval(e.r, sc)
	if err != nil {
		return nil, err
	}
	v, err := binop(st, e.op, l, r)
	if err != nil {
		return nil, st.locate(err, e.pos)
	}
	return v, nil
}

func compareOp(op string, l, r any) (bool, error) {
	switch op {
	case "eq":
		return equal(l, r), nil
	case "ne":
		return !equal(l, r), nil
	case "in":
		return contains(r, l)
	case "notin":
		ok, err := contains(r, l)
		return !ok, err
	}
	if u, ok := l.(Undefined); ok {
		return false, u.err()
	}
	if u, ok := r.(Undefined); ok {
		return false, u.err()
	}
	return compare(op, l, r)
}

func (u Undefined) err() error {
	if u.hint != "" {
		return newErr(ErrUndefined, "%s", u.hint)
	}
	return newErr(ErrUndefined, "'%s' is undefined", u.Name)
}

// argv holds evaluated call arguments.
type argv struct {
	args []any
	kw   []kwPair
	// buf holds the arguments of the usual small call, in the argv's
	// own allocation.
	buf [3]any
}

type kwPair struct {
	name string
	val  any
}

func (a *argv) kwarg(name string) (any, bool) {
	for _, p := range a.kw {
		if p.name == name {
			return p.val, true
		}
	}
	return nil, false
}

func (st *state) evalArgs(ca *callArgs, sc *scope) (*argv, error) {
	a := &argv{}
	switch n := len(ca.args); {
	case n > len(a.buf):
		a.args = make([]any, 0, n)
	case n > 0:
		a.args = a.buf[:0]
	}
	for _, x := range ca.args {
		v, err := st.eval(x, sc)
		if err != nil {
			return nil, err
		}
		a.args = append(a.args, v)
	}
	for _, k := range ca.kwargs {
		v, err := st.eval(k.val, sc)
		if err != nil {
			return nil, err
		}
		a.kw = append(a.kw, kwPair{k.name, v})
	}
	if ca.dynArgs != nil {
		v, err := st.eval(ca.dynArgs, sc)
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, st.locate(err, ca.dynArgs.at())
		}
		a.args = append(a.args, items...)
	}
	if ca.dynKwargs != nil {
		v, err := st.eval(ca.dynKwargs, sc)
		if err != nil {
			return nil, err
		}
		switch d := v.(type) {
		case *Dict:
			for i, k := range d.keys {
				ks, ok := k.(string)
				if !ok {
					return nil, st.locate(newErr(ErrType, "keywords must be strings"), ca.dynKwargs.at())
				}
				a.kw = append(a.kw, kwPair{ks, d.vals[i]})
			}
		case Undefined:
		default:
			return nil, st.locate(newErr(ErrType, "argument after ** must be a mapping, not %s", typeName(v)), ca.dynKwargs.at())
		}
	}
	return a, nil
}

func (st *state) evalSlice(obj any, s *sliceExpr, sc *scope) (any, error) {
	var parts [3]any
	for i, x := range []expr{s.start, s.stop, s.step} {
		if x == nil {
			parts[i] = nil
			continue
		}
		v, err := st.eval(x, sc)
		if err != nil {
			return nil, err
		}
		parts[i] = v
	}
	return sliceValue(obj, parts[0], parts[1], parts[2])
}

// ---- macros ----

// Macro is a template macro (or the caller of a call block). It can be
// called from templates and, through Template.CallMacro, from Go.
type Macro struct {
	def      *macroDef
	closure  *scope
	tmplName string
}

// Name returns the macro's name.
func (m *Macro) Name() string { return m.def.name }

func (m *Macro) invoke(st *state, a *argv) (any, error) {
	d := m.def
	if st.depth >= st.env.maxDepth {
		return nil, newErr(ErrRuntime, "maximum recursion depth exceeded")
	}
	sc := &scope{vars: make(map[string]any, len(d.args)+2), parent: m.closure}
	nargs := len(d.args)
	if len(a.args) > nargs && !d.usesVarargs {
		return nil, newErr(ErrType, "macro '%s' takes not more than %d argument(s)", d.name, nargs)
	}
	var setBuf [8]bool
	set := setBuf[:]
	if nargs > len(setBuf) {
		set = make([]bool, nargs)
	}
	for i := 0; i < nargs && i < len(a.args); i++ {
		sc.vars[d.args[i]] = a.args[i]
		set[i] = true
	}
	var extraKw *Dict
	var caller any
	hasCaller := false
	for _, kv := range a.kw {
		found := false
		for i, n := range d.args {
			if n == kv.name {
				if set[i] {
					return nil, newErr(ErrType, "macro '%s' got multiple values for argument '%s'", d.name, n)
				}
				sc.vars[n] = kv.val
				set[i] = true
				found = true
				break
			}
		}
		if found {
			continue
		}
		if kv.name == "caller" && d.usesCaller {
			caller, hasCaller = kv.val, true
			continue
		}
		if !d.usesKwargs {
			if kv.name == "caller" {
				return nil, newErr(ErrType, "macro '%s' was invoked with two values for the special caller argument. This is most likely a bug.", d.name)
			}
			return nil, newErr(ErrType, "macro '%s' takes no keyword argument '%s'", d.name, kv.name)
		}
		if extraKw == nil {
			extraKw = NewDict()
		}
		extraKw.setStr(kv.name, kv.val)
	}
	st.depth++
	defer func() { st.depth-- }()
	firstDefault := nargs - len(d.defaults)
	for i := 0; i < nargs; i++ {
		if set[i] {
			continue
		}
		if i >= firstDefault {
			v, err := st.eval(d.defaults[i-firstDefault], sc)
			if err != nil {
				return nil, err
			}
			sc.vars[d.args[i]] = v
			continue
		}
		sc.vars[d.args[i]] = Undefined{Name: d.args[i], hint: "parameter " + pyQuote(d.args[i]) + " was not provided"}
	}
	if d.usesVarargs {
		var extra Tuple = Tuple{}
		if len(a.args) > nargs {
			extra = append(Tuple{}, a.args[nargs:]...)
		}
		sc.vars["varargs"] = extra
	}
	if d.usesKwargs {
		if extraKw == nil {
			extraKw = NewDict()
		}
		sc.vars["kwargs"] = extraKw
	}
	if d.usesCaller {
		if hasCaller {
			sc.vars["caller"] = caller
		} else {
			sc.vars["caller"] = Undefined{Name: "caller", hint: "No caller defined"}
		}
	}
	savedName := st.name
	st.name = m.tmplName
	s, err := st.capture(d.body, sc)
	st.name = savedName
	if err != nil {
		if r, ok := err.(*returnSignal); ok {
			return r.value, nil
		}
		return nil, err
	}
	return s, nil
}

// ---- calls ----

func isCallable(v any) bool {
	switch v.(type) {
	case *Macro, *builtinFunc, *boundMethod, Func, ContextFunc, *loopObj, *superFunc, *reflectFunc, CallableObject:
		return true
	}
	return false
}

func (st *state) call(fn any, a *argv, p pos) (any, error) {
	if err := st.tick(); err != nil {
		return nil, err
	}
	switch f := fn.(type) {
	case *Macro:
		return f.invoke(st, a)
	case *builtinFunc:
		return f.fn(st, a)
	case *boundMethod:
		if err := st.chargeFor(f.recv); err != nil {
			return nil, err
		}
		return callMethod(st, f, a)
	case Func:
		args, kw := a.toGo()
		v, err := f(args, kw)
		if err != nil {
			return nil, hostErr(err)
		}
		return toValue(v), nil
	case ContextFunc:
		args, kw := a.toGo()
		v, err := f(st.ctx, args, kw)
		if err != nil {
			return nil, hostErr(err)
		}
		return toValue(v), nil
	case *reflectFunc:
		return f.call(a)
	case *loopObj:
		if f.recurse == nil {
			return nil, newErr(ErrType, "Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.")
		}
		if len(a.args) != 1 {
			return nil, newErr(ErrType, "loop() takes exactly one argument")
		}
		return f.recurse(a.args[0])
	case *superFunc:
		chain := st.blocks[f.name]
		if f.level >= len(chain) {
			return nil, newErr(ErrUndefined, "there is no parent block called '%s'.", f.name)
		}
		s, err := st.captureFn(func() error { return st.renderBlock(f.fallback, f.level, f.sc) })
		return Markup(s), err
	case Undefined:
		return nil, f.err()
	case CallableObject:
		args, kw := a.toGo()
		v, err := f.Call(st.ctx, args, kw)
		if err != nil {
			return nil, hostErr(err)
		}
		return toValue(v), nil
	}
	return nil, newErr(ErrType, "'%s' object is not callable", typeName(fn))
}

func hostErr(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if _, ok := err.(*returnSignal); ok {
		return err
	}
	return &Error{Kind: ErrRuntime, Msg: err.Error(), Err: err}
}

// toGo converts the arguments for a host function, in place: an argv is
// made for one call and not used after it.
func (a *argv) toGo() ([]any, map[string]any) {
	args := a.args
	if args == nil {
		args = []any{}
	}
	for i, v := range args {
		args[i] = ToGo(v)
	}
	var kw map[string]any
	if len(a.kw) > 0 {
		kw = make(map[string]any, len(a.kw))
		for _, p := range a.kw {
			kw[p.name] = ToGo(p.val)
		}
	}
	return args, kw
}

// ---- arithmetic ----

func typeErrUnary(op string, v any) error {
	if u, ok := v.(Undefined); ok {
		return u.err()
	}
	return newErr(ErrType, "bad operand type for unary %s: '%s'", op, typeName(v))
}

func negate(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		if x == -x && x != 0 {
			return new(big.Int).Neg(big.NewInt(x)), nil
		}
		return -x, nil
	case *big.Int:
		return normInt(new(big.Int).Neg(x)), nil
	case float64:
		return -x, nil
	case bool:
		if x {
			return int64(-1), nil
		}
		return int64(0), nil
	}
	return nil, typeErrUnary("-", v)
}
