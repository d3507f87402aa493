package jinja

import (
	"context"
	"math/big"
	"strings"
)

// nativeStr is one of dbt's native-mode markers: a string that as_native,
// as_bool or as_number ask to be read as a Python literal (kind 'n', 'b',
// 'i'), or that as_text asks to be kept as text (kind 't').
type nativeStr struct {
	s    string
	kind byte
}

// RenderNative renders the template as dbt renders values in YAML files
// (its native environment): when the output is a single expression whose
// value is not a constant, that value is returned as is; a single constant
// or text, or several parts, give the text; a value marked with the as_native,
// as_bool or as_number filters is read as a Python literal (as_bool and
// as_number fail if it is not a bool or a number); as_text keeps text.
// The result is a plain Go value (see ToGo).
func (t *Template) RenderNative(ctx context.Context, vars map[string]any) (any, error) {
	v, err := t.renderNative(ctx, vars)
	if err != nil {
		return nil, err
	}
	return ToGo(v), nil
}

func (t *Template) renderNative(ctx context.Context, vars map[string]any) (any, error) {
	st, sc := t.newState(ctx, vars)
	var b strings.Builder
	st.out = &b
	nodes := []any{}
	st.nodes, st.native = &nodes, true
	if err := t.exec(st, sc); err != nil {
		return nil, err
	}
	return quotedNativeConcat(nodes)
}

// execBodyNative runs body collecting output nodes as Jinja2's native code
// generator yields them: adjacent constant output (text and constant
// expressions) joins into one string, other expressions give their values.
func (st *state) execBodyNative(body []stmt, sc *scope) (ctl, error) {
	var group strings.Builder
	grouping := false
	flush := func() {
		if grouping {
			*st.nodes = append(*st.nodes, group.String())
			group.Reset()
			grouping = false
		}
	}
	for _, s := range body {
		switch n := s.(type) {
		case *dataStmt:
			group.WriteString(n.text)
			grouping = true
			continue
		case *printStmt:
			if v, ok := st.constOutput(n.x); ok {
				group.WriteString(toStr(v))
				grouping = true
				continue
			}
			flush()
			v, err := st.eval(n.x, sc)
			if err != nil {
				return 0, err
			}
			*st.nodes = append(*st.nodes, v)
			continue
		}
		flush()
		// statements that write text (call and filter blocks, includes)
		// contribute it as one node
		saved := st.out
		var b strings.Builder
		st.out = &b
		c, err := st.exec(s, sc)
		st.out = saved
		if b.Len() > 0 {
			*st.nodes = append(*st.nodes, b.String())
		}
		if err != nil || c != ctlNone {
			return c, err
		}
	}
	flush()
	return ctlNone, nil
}

// constOutput evaluates x if Jinja2 would fold it to a constant at compile
// time (no names, calls or context-dependent filters, a result with a safe
// repr).
func (st *state) constOutput(x expr) (any, bool) {
	if !isConstExpr(x) {
		return nil, false
	}
	saved := st.nodes
	st.nodes = nil
	v, err := st.eval(x, &scope{vars: map[string]any{}})
	st.nodes = saved
	if err != nil || !hasSafeRepr(v, 0) {
		return nil, false
	}
	return v, true
}

var contextFilters = setOf("random", "map", "select", "reject", "selectattr", "rejectattr")

func isConstArgs(ca *callArgs) bool {
	for _, a := range ca.args {
		if !isConstExpr(a) {
			return false
		}
	}
	for _, k := range ca.kwargs {
		if !isConstExpr(k.val) {
			return false
		}
	}
	return (ca.dynArgs == nil || isConstExpr(ca.dynArgs)) && (ca.dynKwargs == nil || isConstExpr(ca.dynKwargs))
}

func isConstExpr(x expr) bool {
	switch e := x.(type) {
	case *constExpr:
		return true
	case *tupleExpr:
		for _, it := range e.items {
			if !isConstExpr(it) {
				return false
			}
		}
		return true
	case *listExpr:
		for _, it := range e.items {
			if !isConstExpr(it) {
				return false
			}
		}
		return true
	case *dictExpr:
		for i := range e.keys {
			if !isConstExpr(e.keys[i]) || !isConstExpr(e.vals[i]) {
				return false
			}
		}
		return true
	case *binExpr:
		return isConstExpr(e.l) && isConstExpr(e.r)
	case *unaryExpr:
		return isConstExpr(e.x)
	case *compareExpr:
		if !isConstExpr(e.first) {
			return false
		}
		for _, o := range e.ops {
			if !isConstExpr(o.x) {
				return false
			}
		}
		return true
	case *concatExpr:
		for _, it := range e.items {
			if !isConstExpr(it) {
				return false
			}
		}
		return true
	case *condExpr:
		return isConstExpr(e.test) && isConstExpr(e.then) && (e.els == nil || isConstExpr(e.els))
	case *getattrExpr:
		return isConstExpr(e.obj)
	case *getitemExpr:
		return isConstExpr(e.obj) && isConstExpr(e.key)
	case *sliceExpr:
		for _, it := range []expr{e.start, e.stop, e.step} {
			if it != nil && !isConstExpr(it) {
				return false
			}
		}
		return true
	case *filterExpr:
		return e.node != nil && !e.unknown && !contextFilters[e.name] && isConstExpr(e.node) && isConstArgs(&e.callArgs)
	case *testExpr:
		return !e.unknown && isConstExpr(e.node) && isConstArgs(&e.callArgs)
	}
	return false
}

// hasSafeRepr is Jinja2's has_safe_repr: values it may fold into code.
func hasSafeRepr(v any, depth int) bool {
	if depth > maxNest {
		return false
	}
	switch x := v.(type) {
	case nil, bool, int64, *big.Int, float64, string, Markup, *rangeVal:
		return true
	case *List:
		for _, e := range x.Items {
			if !hasSafeRepr(e, depth+1) {
				return false
			}
		}
		return true
	case Tuple:
		for _, e := range x {
			if !hasSafeRepr(e, depth+1) {
				return false
			}
		}
		return true
	case *Dict:
		for i := range x.keys {
			if !hasSafeRepr(x.keys[i], depth+1) || !hasSafeRepr(x.vals[i], depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// quotedNativeConcat is dbt's concatenation of native output nodes.
func quotedNativeConcat(nodes []any) (any, error) {
	switch len(nodes) {
	case 0:
		return "", nil
	case 1:
	default:
		var b strings.Builder
		for _, n := range nodes {
			b.WriteString(toStr(n))
		}
		return b.String(), nil
	}
	raw := nodes[0]
	m, ok := raw.(nativeStr)
	if !ok {
		return raw, nil
	}
	if m.kind == 't' {
		return m.s, nil
	}
	result, ok := literalEval(m.s)
	if !ok {
		result = m.s
	}
	switch m.kind {
	case 'b':
		if _, isBool := result.(bool); !isBool {
			return nil, newErr(ErrValue, "Could not convert value '%s' into type 'bool'", m.s)
		}
	case 'i':
		switch result.(type) {
		case int64, *big.Int, float64:
		default:
			return nil, newErr(ErrValue, "Could not convert value '%s' into type 'number'", m.s)
		}
	}
	return result, nil
}

// literalEval is Python's ast.literal_eval for the literals templates meet:
// numbers, strings, True, False, None, and lists, tuples and dicts of them.
func literalEval(s string) (any, bool) {
	s = strings.TrimLeft(s, " \t")
	toks, err := tokenize("literal", "{{ "+s+"\n}}")
	if err != nil {
		return nil, false
	}
	for _, t := range toks {
		if t.kind == tName && t.val != "True" && t.val != "False" && t.val != "None" {
			return nil, false
		}
	}
	p := &parser{toks: toks, name: "literal"}
	p.next()
	x, err := p.parseTuple(false, true, nil, false)
	if err != nil || p.cur().kind != tVarEnd {
		return nil, false
	}
	return literalValue(x)
}

func literalValue(x expr) (any, bool) {
	switch e := x.(type) {
	case *constExpr:
		return e.v, true
	case *unaryExpr:
		v, ok := literalValue(e.x)
		if !ok || !isNumber(v) || e.op == "not" {
			return nil, false
		}
		if _, isBool := v.(bool); isBool {
			return nil, false
		}
		if e.op == "neg" {
			r, err := negate(v)
			return r, err == nil
		}
		return v, true
	case *listExpr:
		l := &List{}
		for _, it := range e.items {
			v, ok := literalValue(it)
			if !ok {
				return nil, false
			}
			l.Items = append(l.Items, v)
		}
		return l, true
	case *tupleExpr:
		t := Tuple{}
		for _, it := range e.items {
			v, ok := literalValue(it)
			if !ok {
				return nil, false
			}
			t = append(t, v)
		}
		return t, true
	case *dictExpr:
		d := NewDict()
		for i := range e.keys {
			k, ok := literalValue(e.keys[i])
			if !ok {
				return nil, false
			}
			v, ok := literalValue(e.vals[i])
			if !ok || d.Set(k, v) != nil {
				return nil, false
			}
		}
		return d, true
	}
	return nil, false
}
