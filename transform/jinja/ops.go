package jinja

import (
	"context"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

const maxRepeat = 1 << 23 // bytes or items a repetition may produce

func binop(st *state, op string, l, r any) (any, error) {
	if u, ok := l.(Undefined); ok {
		return nil, u.err()
	}
	if u, ok := r.(Undefined); ok && !(op == "%" && isString(l)) {
		return nil, u.err()
	}
	switch op {
	case "+":
		if isNumber(l) && isNumber(r) {
			return arith(op, l, r)
		}
		if st != nil {
			if err := st.chargeFor(r); err != nil {
				return nil, err
			}
			if err := st.chargeFor(l); err != nil {
				return nil, err
			}
		}
		switch x := l.(type) {
		case string, Markup:
			ls, _ := strOf(x)
			if rs, ok := strOf(r); ok {
				return ls + rs, nil
			}
			return nil, newErr(ErrType, "can only concatenate str (not \"%s\") to str", typeName(r))
		case *List:
			if y, ok := r.(*List); ok {
				items := make([]any, 0, len(x.Items)+len(y.Items))
				return &List{Items: append(append(items, x.Items...), y.Items...)}, nil
			}
			return nil, newErr(ErrType, "can only concatenate list (not \"%s\") to list", typeName(r))
		case Tuple:
			if y, ok := r.(Tuple); ok {
				return append(append(Tuple{}, x...), y...), nil
			}
			return nil, newErr(ErrType, "can only concatenate tuple (not \"%s\") to tuple", typeName(r))
		}
	case "-", "/", "//", "**":
		if isNumber(l) && isNumber(r) {
			return arith(op, l, r)
		}
	case "*":
		if isNumber(l) && isNumber(r) {
			return arith(op, l, r)
		}
		var v any
		var err error
		if isInt(r) && !isNumber(l) {
			v, err = repeat(l, r)
		} else if isInt(l) && !isNumber(r) {
			v, err = repeat(r, l)
		} else {
			break
		}
		if err == nil && st != nil {
			n, _ := length(v)
			err = st.charge(n)
		}
		return v, err
	case "%":
		if s, ok := strOf(l); ok {
			return printf(st, s, r)
		}
		if isNumber(l) && isNumber(r) {
			return arith(op, l, r)
		}
	}
	sym := op
	if op == "**" {
		sym = "** or pow()"
	}
	return nil, newErr(ErrType, "unsupported operand type(s) for %s: '%s' and '%s'", sym, typeName(l), typeName(r))
}

func repeat(seq, n any) (any, error) {
	b := toBig(n)
	if !b.IsInt64() {
		return nil, newErr(ErrOverflow, "cannot fit 'int' into an index-sized integer")
	}
	k := b.Int64()
	if k < 0 {
		k = 0
	}
	if k > maxRepeat {
		if n, _ := length(seq); n > 0 {
			return nil, newErr(ErrMemory, "repeated sequence too large")
		}
		k = 0
	}
	switch x := seq.(type) {
	case string, Markup:
		s, _ := strOf(x)
		if int64(len(s))*k > maxRepeat {
			return nil, newErr(ErrMemory, "repeated string too large")
		}
		return strings.Repeat(s, int(k)), nil
	case *List:
		if int64(len(x.Items))*k > maxRepeat {
			return nil, newErr(ErrMemory, "repeated list too large")
		}
		out := make([]any, 0, len(x.Items)*int(k))
		for i := int64(0); i < k; i++ {
			out = append(out, x.Items...)
		}
		return &List{Items: out}, nil
	case Tuple:
		if int64(len(x))*k > maxRepeat {
			return nil, newErr(ErrMemory, "repeated tuple too large")
		}
		out := Tuple{}
		for i := int64(0); i < k; i++ {
			out = append(out, x...)
		}
		return out, nil
	}
	return nil, newErr(ErrType, "can't multiply sequence by non-int of type '%s'", typeName(n))
}

func boolToInt(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// arith applies a numeric operator with Python semantics.
func arith(op string, l, r any) (any, error) {
	l, r = boolToInt(l), boolToInt(r)
	_, lf := l.(float64)
	_, rf := r.(float64)
	if op == "/" || lf || rf {
		a, b := toFloat(l), toFloat(r)
		if (math.IsInf(a, 0) && !lf) || (math.IsInf(b, 0) && !rf) {
			return nil, newErr(ErrOverflow, "int too large to convert to float")
		}
		switch op {
		case "+":
			return a + b, nil
		case "-":
			return a - b, nil
		case "*":
			return a * b, nil
		case "/":
			if b == 0 {
				return nil, newErr(ErrZeroDivision, "division by zero")
			}
			return a / b, nil
		case "//":
			if b == 0 {
				return nil, newErr(ErrZeroDivision, "float floor division by zero")
			}
			return math.Floor(a / b), nil
		case "%":
			if b == 0 {
				return nil, newErr(ErrZeroDivision, "float modulo")
			}
			m := math.Mod(a, b)
			if m != 0 && (m < 0) != (b < 0) {
				m += b
			}
			if m == 0 {
				m = math.Copysign(0, b)
			}
			return m, nil
		case "**":
			if a == 0 && b < 0 {
				return nil, newErr(ErrZeroDivision, "0.0 cannot be raised to a negative power")
			}
			if a < 0 && b != math.Trunc(b) {
				return nil, newErr(ErrValue, "complex results are not supported")
			}
			res := math.Pow(a, b)
			if math.IsInf(res, 0) && !math.IsInf(a, 0) {
				return nil, newErr(ErrOverflow, "(34, 'Numerical result out of range')")
			}
			return res, nil
		}
	}
	if x, ok := l.(int64); ok {
		if y, ok := r.(int64); ok {
			switch op {
			case "+":
				s := x + y
				if (s > x) == (y > 0) {
					return s, nil
				}
			case "-":
				s := x - y
				if (s < x) == (y > 0) {
					return s, nil
				}
			case "*":
				if x == 0 || y == 0 {
					return int64(0), nil
				}
				s := x * y
				if s/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
					return s, nil
				}
			case "//", "%":
				if y == 0 {
					if op == "%" {
						return nil, newErr(ErrZeroDivision, "integer modulo by zero")
					}
					return nil, newErr(ErrZeroDivision, "integer division or modulo by zero")
				}
				if !(x == math.MinInt64 && y == -1) {
					q, m := x/y, x%y
					if m != 0 && (m < 0) != (y < 0) {
						q--
						m += y
					}
					if op == "//" {
						return q, nil
					}
					return m, nil
				}
			}
		}
	}
	a, b := toBig(l), toBig(r)
	switch op {
	case "+":
		return normInt(new(big.Int).Add(a, b)), nil
	case "-":
		return normInt(new(big.Int).Sub(a, b)), nil
	case "*":
		if a.BitLen()+b.BitLen() > 1<<20 {
			return nil, newErr(ErrOverflow, "integer too large")
		}
		return normInt(new(big.Int).Mul(a, b)), nil
	case "//", "%":
		if b.Sign() == 0 {
			if op == "%" {
				return nil, newErr(ErrZeroDivision, "integer modulo by zero")
			}
			return nil, newErr(ErrZeroDivision, "integer division or modulo by zero")
		}
		q, m := new(big.Int).DivMod(a, b, new(big.Int)) // Euclidean: m >= 0
		if m.Sign() != 0 && b.Sign() < 0 {
			q.Add(q, big.NewInt(1))
			m.Add(m, b)
		}
		if op == "//" {
			return normInt(q), nil
		}
		return normInt(m), nil
	case "**":
		if b.Sign() < 0 {
			fa, fb := toFloat(a), toFloat(b)
			if fa == 0 {
				return nil, newErr(ErrZeroDivision, "0.0 cannot be raised to a negative power")
			}
			return math.Pow(fa, fb), nil
		}
		if a.BitLen() > 1 && (!b.IsInt64() || int64(a.BitLen())*b.Int64() > 1<<20) {
			return nil, newErr(ErrOverflow, "integer power result too large")
		}
		return normInt(new(big.Int).Exp(a, b, nil)), nil
	}
	return nil, newErr(ErrType, "unsupported operand")
}

// ---- attribute and item access ----

var strMethods = setOf("capitalize", "casefold", "center", "count", "endswith", "find", "format", "index", "isalnum", "isalpha", "isdigit", "isdecimal", "isnumeric", "islower", "isupper", "isspace", "istitle", "isidentifier", "join", "ljust", "lower", "lstrip", "partition", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill", "removeprefix", "removesuffix", "expandtabs", "format_map", "encode")
var listMethods = setOf("append", "extend", "insert", "pop", "remove", "index", "count", "reverse", "sort", "copy", "clear")
var dictMethods = setOf("items", "keys", "values", "get", "update", "pop", "setdefault", "copy", "clear", "popitem")
var tupleMethods = setOf("index", "count")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

type boundMethod struct {
	recv any
	name string
}

// Object is implemented by host values that expose attributes to templates.
type Object interface {
	// GetAttr returns the attribute called name, or false if there is none.
	GetAttr(name string) (any, bool)
}

// CallableObject is an Object that templates can also call, as dbt's
// config is both called (config(materialized='table')) and read
// (config.get('materialized')). Call receives the render's context and the
// arguments as plain Go values (see ToGo).
type CallableObject interface {
	Object
	Call(ctx context.Context, args []any, kwargs map[string]any) (any, error)
}

func getattr(st *state, obj any, name string) (any, error) {
	switch x := obj.(type) {
	case Undefined:
		return nil, x.err()
	case *Dict:
		if dictMethods[name] {
			return &boundMethod{x, name}, nil
		}
		if v, ok := x.getStr(name); ok {
			return v, nil
		}
		return Undefined{Name: name, hint: "'dict object' has no attribute " + pyQuote(name)}, nil
	case string, Markup:
		if strMethods[name] {
			s, _ := strOf(x)
			return &boundMethod{s, name}, nil
		}
	case *List:
		if listMethods[name] {
			return &boundMethod{x, name}, nil
		}
	case Tuple:
		if tupleMethods[name] {
			return &boundMethod{x, name}, nil
		}
		if len(x) == 2 && name == "grouper" {
			return x[0], nil
		}
		if len(x) == 2 && name == "list" {
			return x[1], nil
		}
	case *Namespace:
		if v, ok := x.d.getStr(name); ok {
			return v, nil
		}
	case *loopObj:
		return x.attr(name), nil
	case *Module:
		if v, ok := x.exports.getStr(name); ok {
			return v, nil
		}
		return Undefined{Name: name, hint: "'" + x.name + "' has no attribute " + pyQuote(name)}, nil
	case *cycler:
		switch name {
		case "next", "reset":
			return &boundMethod{x, name}, nil
		case "current":
			return x.items[x.pos], nil
		case "items":
			return &List{Items: x.items}, nil
		}
	case *rangeVal:
		switch name {
		case "start":
			return x.start, nil
		case "stop":
			return x.stop, nil
		case "step":
			return x.step, nil
		case "index", "count":
			return &boundMethod{x, name}, nil
		}
	case *dictView:
	case *Macro:
		switch name {
		case "name":
			return x.def.name, nil
		case "arguments":
			t := Tuple{}
			for _, a := range x.def.args {
				t = append(t, a)
			}
			return t, nil
		case "catch_kwargs":
			return x.def.usesKwargs, nil
		case "catch_varargs":
			return x.def.usesVarargs, nil
		case "caller":
			return x.def.usesCaller, nil
		}
	case float64:
		switch name {
		case "real":
			return x, nil
		case "imag":
			return 0.0, nil
		case "is_integer":
			return &boundMethod{x, name}, nil
		}
	case int64, *big.Int:
		switch name {
		case "real", "numerator":
			return x, nil
		case "imag":
			return int64(0), nil
		case "denominator":
			return int64(1), nil
		}
	case Object:
		if v, ok := x.GetAttr(name); ok {
			return toValue(v), nil
		}
	}
	return Undefined{Name: name, hint: pyQuote(typeName(obj)) + " object has no attribute " + pyQuote(name)}, nil
}

func undefinedAttr(obj any, name string) Undefined {
	return Undefined{Name: name, hint: typeName(obj) + " object has no attribute " + pyQuote(name)}
}

func getitem(st *state, obj any, key any) (any, error) {
	switch x := obj.(type) {
	case Undefined:
		return nil, x.err()
	case *Dict:
		if _, err := hashKey(key); err != nil {
			return Undefined{Name: repr(key)}, nil
		}
		if v, ok := x.Get(key); ok {
			return v, nil
		}
		if s, ok := key.(string); ok && dictMethods[s] {
			return &boundMethod{x, s}, nil
		}
		return Undefined{Name: toStr(key), hint: "'dict object' has no attribute " + pyQuote(toStr(key))}, nil
	case *List, Tuple, string, Markup, *rangeVal:
		if isInt(key) {
			items, err := seqItems(x)
			if err != nil {
				return nil, err
			}
			b := toBig(key)
			n := int64(len(items))
			if b.IsInt64() {
				i := b.Int64()
				if i < 0 {
					i += n
				}
				if i >= 0 && i < n {
					return items[i], nil
				}
			}
			return Undefined{Name: toStr(key), hint: pyQuote(typeName(obj)) + " object has no element " + toStr(key)}, nil
		}
		if s, ok := key.(string); ok {
			return getattr(st, obj, s)
		}
	case *Namespace, *Module, *loopObj, Object:
		if s, ok := key.(string); ok {
			return getattr(st, obj, s)
		}
	}
	if s, ok := key.(string); ok {
		return getattr(st, obj, s)
	}
	return Undefined{Name: toStr(key), hint: pyQuote(typeName(obj)) + " object has no element " + repr(key)}, nil
}

func seqItems(v any) ([]any, error) {
	switch x := v.(type) {
	case *List:
		return x.Items, nil
	case Tuple:
		return x, nil
	case string, Markup:
		return iterate(x)
	case *rangeVal:
		return x.items(), nil
	}
	return iterate(v)
}

func sliceIndex(v any, def int64) (int64, bool, error) {
	switch x := v.(type) {
	case nil:
		return def, false, nil
	case int64:
		return x, true, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	case *big.Int:
		if x.Sign() < 0 {
			return math.MinInt64 / 2, true, nil
		}
		return math.MaxInt64 / 2, true, nil
	case Undefined:
		return def, false, nil
	}
	return 0, false, newErr(ErrType, "slice indices must be integers or None or have an __index__ method")
}

// sliceValue is Python's obj[start:stop:step].
func sliceValue(obj any, start, stop, step any) (any, error) {
	if u, ok := obj.(Undefined); ok {
		return nil, u.err()
	}
	st, _, err := sliceIndex(step, 1)
	if err != nil {
		return nil, err
	}
	if st == 0 {
		return nil, newErr(ErrValue, "slice step cannot be zero")
	}
	var items []any
	var runes []rune
	isStr := false
	switch x := obj.(type) {
	case string:
		runes, isStr = []rune(x), true
	case Markup:
		runes, isStr = []rune(string(x)), true
	case *List:
		items = x.Items
	case Tuple:
		items = x
	case *rangeVal:
		items = x.items()
	default:
		return nil, newErr(ErrType, "'%s' object is not subscriptable", typeName(obj))
	}
	n := int64(len(items))
	if isStr {
		n = int64(len(runes))
	}
	var lo, hi int64
	if st > 0 {
		lo, hi = 0, n
	} else {
		lo, hi = n-1, -1
	}
	a, aset, err := sliceIndex(start, lo)
	if err != nil {
		return nil, err
	}
	b, bset, err := sliceIndex(stop, hi)
	if err != nil {
		return nil, err
	}
	clamp := func(i int64, isSet bool, def int64) int64 {
		if !isSet {
			return def
		}
		if i < 0 {
			i += n
			if i < 0 {
				if st < 0 {
					return -1
				}
				return 0
			}
		} else if i >= n {
			if st < 0 {
				return n - 1
			}
			return n
		}
		return i
	}
	a = clamp(a, aset, lo)
	b = clamp(b, bset, hi)
	var idx []int64
	if st > 0 {
		for i := a; i < b; i += st {
			idx = append(idx, i)
		}
	} else {
		for i := a; i > b; i += st {
			idx = append(idx, i)
		}
	}
	if r, ok := obj.(*rangeVal); ok {
		return &rangeVal{start: r.start + a*r.step, stop: r.start + b*r.step, step: r.step * st}, nil
	}
	if isStr {
		var sb strings.Builder
		for _, i := range idx {
			sb.WriteRune(runes[i])
		}
		return sb.String(), nil
	}
	out := make([]any, len(idx))
	for j, i := range idx {
		out[j] = items[i]
	}
	switch obj.(type) {
	case Tuple:
		return Tuple(out), nil
	case *rangeVal:
		return &List{Items: out}, nil
	}
	return &List{Items: out}, nil
}

// ---- printf-style formatting (str % args) ----

func printf(st *state, format string, arg any) (any, error) {
	var args []any
	var mapping *Dict
	switch x := arg.(type) {
	case Tuple:
		args = x
	case *Dict:
		mapping = x
		args = []any{x}
	default:
		args = []any{arg}
	}
	var b strings.Builder
	ai := 0
	next := func() (any, error) {
		if ai >= len(args) {
			return nil, newErr(ErrType, "not enough arguments for format string")
		}
		ai++
		return args[ai-1], nil
	}
	usedMapping := false
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return nil, newErr(ErrValue, "incomplete format")
		}
		var v any
		hasV := false
		if format[i] == '(' {
			depth := 1
			j := i + 1
			for j < len(format) && depth > 0 {
				if format[j] == '(' {
					depth++
				} else if format[j] == ')' {
					depth--
				}
				j++
			}
			if depth > 0 {
				return nil, newErr(ErrValue, "incomplete format key")
			}
			key := format[i+1 : j-1]
			if mapping == nil {
				return nil, newErr(ErrType, "format requires a mapping")
			}
			val, ok := mapping.getStr(key)
			if !ok {
				return nil, newErr(ErrKey, "%s", pyQuote(key))
			}
			v, hasV, usedMapping = val, true, true
			i = j
		}
		spec := fmtSpec{}
	flags:
		for ; i < len(format); i++ {
			switch format[i] {
			case '-':
				spec.minus = true
			case '+':
				spec.plus = true
			case ' ':
				spec.space = true
			case '#':
				spec.alt = true
			case '0':
				spec.zero = true
			default:
				break flags
			}
		}
		if i < len(format) && format[i] == '*' {
			w, err := next()
			if err != nil {
				return nil, err
			}
			if !isInt(w) {
				return nil, newErr(ErrType, "* wants int")
			}
			spec.width = int(toBig(w).Int64())
			if spec.width < 0 {
				spec.minus, spec.width = true, -spec.width
			}
			if spec.width > maxRepeat || spec.width < 0 {
				return nil, newErr(ErrMemory, "width too big")
			}
			i++
		} else {
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				spec.width = spec.width*10 + int(format[i]-'0')
				i++
			}
		}
		spec.prec = -1
		if i < len(format) && format[i] == '.' {
			i++
			spec.prec = 0
			if i < len(format) && format[i] == '*' {
				w, err := next()
				if err != nil {
					return nil, err
				}
				if !isInt(w) {
					return nil, newErr(ErrType, "* wants int")
				}
				spec.prec = int(max(min(toBig(w).Int64(), 1<<20), 0))
				i++
			} else {
				for i < len(format) && format[i] >= '0' && format[i] <= '9' {
					spec.prec = spec.prec*10 + int(format[i]-'0')
					i++
				}
			}
		}
		for i < len(format) && (format[i] == 'l' || format[i] == 'h' || format[i] == 'L') {
			i++
		}
		if i >= len(format) {
			return nil, newErr(ErrValue, "incomplete format")
		}
		if spec.width > maxRepeat || spec.width < 0 || spec.prec > 10000 {
			return nil, newErr(ErrOverflow, "width or precision too big")
		}
		conv := format[i]
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if !hasV {
			var err error
			v, err = next()
			if err != nil {
				return nil, err
			}
		}
		s, err := formatOne(conv, v, spec)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	if ai < len(args) && mapping == nil {
		return nil, newErr(ErrType, "not all arguments converted during string formatting")
	}
	_ = usedMapping
	return b.String(), nil
}

type fmtSpec struct {
	minus, plus, space, alt, zero bool
	width, prec                   int
}

func pad(s string, spec fmtSpec, numeric bool) string {
	n := utf8.RuneCountInString(s)
	if n >= spec.width {
		return s
	}
	fill := spec.width - n
	if spec.minus {
		return s + strings.Repeat(" ", fill)
	}
	if spec.zero && numeric {
		sign := ""
		if len(s) > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ') {
			sign, s = s[:1], s[1:]
		}
		prefix := ""
		if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o') {
			prefix, s = s[:2], s[2:]
		}
		return sign + prefix + strings.Repeat("0", fill) + s
	}
	return strings.Repeat(" ", fill) + s
}

func formatOne(conv byte, v any, spec fmtSpec) (string, error) {
	switch conv {
	case 's', 'r', 'a':
		s := toStr(v)
		if conv != 's' {
			s = repr(v)
		}
		if spec.prec >= 0 {
			r := []rune(s)
			if len(r) > spec.prec {
				s = string(r[:spec.prec])
			}
		}
		return pad(s, spec, false), nil
	case 'd', 'i', 'u':
		if !isNumber(v) {
			return "", newErr(ErrType, "%%%c format: a real number is required, not %s", conv, typeName(v))
		}
		var b *big.Int
		if f, ok := v.(float64); ok {
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return "", newErr(ErrOverflow, "cannot convert float infinity to integer")
			}
			b, _ = new(big.Float).SetFloat64(math.Trunc(f)).Int(nil)
		} else {
			b = toBig(v)
		}
		s := b.String()
		return pad(signed(s, spec), spec, true), nil
	case 'x', 'X', 'o':
		if !isInt(v) {
			return "", newErr(ErrType, "%%%c format: an integer is required, not %s", conv, typeName(v))
		}
		b := toBig(v)
		base := 16
		if conv == 'o' {
			base = 8
		}
		s := new(big.Int).Abs(b).Text(base)
		if conv == 'X' {
			s = strings.ToUpper(s)
		}
		if spec.alt {
			s = "0" + string(conv) + s
		}
		if b.Sign() < 0 {
			s = "-" + s
		}
		return pad(signed(s, spec), spec, true), nil
	case 'f', 'F', 'e', 'E', 'g', 'G':
		if !isNumber(v) {
			return "", newErr(ErrType, "must be real number, not %s", typeName(v))
		}
		f := toFloat(v)
		prec := spec.prec
		if prec < 0 {
			prec = 6
		}
		s := formatFloatSpec(f, conv, prec, spec.alt)
		return pad(signed(s, spec), spec, true), nil
	case 'c':
		if isInt(v) {
			return pad(string(rune(toBig(v).Int64())), spec, false), nil
		}
		if s, ok := strOf(v); ok && utf8.RuneCountInString(s) == 1 {
			return pad(s, spec, false), nil
		}
		return "", newErr(ErrType, "%%c requires int or char")
	}
	return "", newErr(ErrValue, "unsupported format character '%c' (0x%x)", conv, conv)
}

func signed(s string, spec fmtSpec) string {
	if strings.HasPrefix(s, "-") {
		return s
	}
	if spec.plus {
		return "+" + s
	}
	if spec.space {
		return " " + s
	}
	return s
}

// formatFloatSpec formats like C printf / Python's float formatting.
func formatFloatSpec(f float64, conv byte, prec int, alt bool) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		s := "inf"
		if math.IsNaN(f) {
			s = "nan"
		} else if f < 0 {
			s = "-inf"
		}
		if conv >= 'A' && conv <= 'Z' {
			s = strings.ToUpper(s)
		}
		return s
	}
	switch conv {
	case 'f', 'F':
		return strconv.FormatFloat(f, 'f', prec, 64)
	case 'e', 'E':
		s := strconv.FormatFloat(f, 'e', prec, 64)
		s = fixExp(s)
		if conv == 'E' {
			s = strings.ToUpper(s)
		}
		return s
	default: // g
		if prec == 0 {
			prec = 1
		}
		if f == 0 {
			if alt {
				return "0." + strings.Repeat("0", prec-1)
			}
			if math.Signbit(f) {
				return "-0"
			}
			return "0"
		}
		es := strconv.FormatFloat(f, 'e', prec-1, 64)
		_, expS, _ := strings.Cut(es, "e")
		exp, _ := strconv.Atoi(expS)
		var s string
		if exp < -4 || exp >= prec {
			s = es
			if !alt {
				m, e, _ := strings.Cut(s, "e")
				if strings.Contains(m, ".") {
					m = strings.TrimRight(strings.TrimRight(m, "0"), ".")
				}
				s = m + "e" + e
			}
			s = fixExp(s)
		} else {
			s = strconv.FormatFloat(f, 'f', prec-1-exp, 64)
			if !alt && strings.Contains(s, ".") {
				s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
			}
		}
		if conv == 'G' {
			s = strings.ToUpper(s)
		}
		return s
	}
}

// fixExp makes Go's exponent at least two digits, as C does (Go already
// does); kept for clarity of intent.
func fixExp(s string) string { return s }
