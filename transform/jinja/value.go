package jinja

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Values inside the engine are Go values of a small set of types that mirror
// Python's: nil (None), bool, int64 and *big.Int (int), float64, string,
// Markup, *List, Tuple, *Dict, Undefined, and callables. Host values are
// converted on the way in (see toValue) and on the way out (see ToGo).

// List is a mutable Python list. Templates that append to a list change it
// for every holder of the same *List.
type List struct {
	Items []any
}

// Tuple is an immutable Python tuple.
type Tuple []any

// Markup is a string that is already escaped for HTML; the escape filter
// leaves it unchanged.
type Markup string

// Undefined is the value of a name or attribute that does not exist. It
// renders as the empty string, iterates as empty and is false, as in Jinja2's
// default Undefined; any other use (attribute access, call) is an error.
type Undefined struct {
	Name string // what was looked up, for messages
	hint string
}

// Dict is an insertion-ordered Python dict.
type Dict struct {
	keys []any
	vals []any
	idx  map[any]int
}

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{idx: map[any]int{}} }

// Len reports the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []any { return append([]any(nil), d.keys...) }

// Get returns the value stored under key.
func (d *Dict) Get(key any) (any, bool) {
	h, err := hashKey(key)
	if err != nil {
		return nil, false
	}
	i, ok := d.idx[h]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// Set stores value under key; it fails only for unhashable keys.
func (d *Dict) Set(key, value any) error {
	h, err := hashKey(key)
	if err != nil {
		return err
	}
	if i, ok := d.idx[h]; ok {
		d.vals[i] = value
		return nil
	}
	d.idx[h] = len(d.keys)
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, value)
	return nil
}

func (d *Dict) setStr(key string, value any) {
	if i, ok := d.idx[key]; ok {
		d.vals[i] = value
		return
	}
	d.idx[key] = len(d.keys)
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, value)
}

func (d *Dict) getStr(key string) (any, bool) {
	i, ok := d.idx[key]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

func (d *Dict) delete(key any) (any, bool) {
	h, err := hashKey(key)
	if err != nil {
		return nil, false
	}
	i, ok := d.idx[h]
	if !ok {
		return nil, false
	}
	v := d.vals[i]
	d.keys = append(d.keys[:i], d.keys[i+1:]...)
	d.vals = append(d.vals[:i], d.vals[i+1:]...)
	delete(d.idx, h)
	for j := i; j < len(d.keys); j++ {
		hh, _ := hashKey(d.keys[j])
		d.idx[hh] = j
	}
	return v, true
}

func (d *Dict) copy() *Dict {
	n := &Dict{keys: append([]any(nil), d.keys...), vals: append([]any(nil), d.vals...), idx: make(map[any]int, len(d.idx))}
	for k, v := range d.idx {
		n.idx[k] = v
	}
	return n
}

// genVal is a one-shot iterator, as the generators Jinja2's select, map,
// unique, batch and items filters return (and reverse's iterators): true
// even when empty, no len(), consumed by iteration.
type genVal struct {
	items []any
	pos   int
	kind  string // Python type name, e.g. "generator"
}

func newGen(kind string, items []any) *genVal { return &genVal{items: items, kind: kind} }

func (g *genVal) drain() []any {
	rest := g.items[g.pos:]
	g.pos = len(g.items)
	return rest
}

// dictView is the result of dict.keys(), .values() and .items().
type dictView struct {
	kind string // keys, values, items
	d    *Dict
}

func (v *dictView) items() []any {
	out := make([]any, len(v.d.keys))
	for i := range v.d.keys {
		switch v.kind {
		case "keys":
			out[i] = v.d.keys[i]
		case "values":
			out[i] = v.d.vals[i]
		default:
			out[i] = Tuple{v.d.keys[i], v.d.vals[i]}
		}
	}
	return out
}

type bigKey string

// hashKey maps a Python-hashable value to a comparable Go key such that values
// Python considers equal (1, 1.0, True) share a key.
func hashKey(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case Markup:
		return string(x), nil
	case int64:
		return x, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), nil
		}
		return x, nil
	case *big.Int:
		return bigKey(x.String()), nil
	case nil:
		return nil, nil
	case Tuple:
		var b strings.Builder
		b.WriteString("\x00t")
		for _, e := range x {
			k, err := hashKey(e)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "%T:%v\x00", k, k)
		}
		return b.String(), nil
	case Undefined:
		return "\x00undefined", nil
	case *List, *Dict:
		return nil, newErr(ErrType, "unhashable type: '%s'", typeName(v))
	}
	rv := reflect.ValueOf(v)
	if rv.Comparable() {
		return v, nil
	}
	return nil, newErr(ErrType, "unhashable type: '%s'", typeName(v))
}

// typeName returns the Python type name of v.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case Markup:
		return "Markup"
	case *List:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case Undefined:
		return "Undefined"
	case nativeStr:
		return "str"
	case *Macro:
		return "Macro"
	case *dictView:
		return "dict_" + v.(*dictView).kind
	case *genVal:
		return v.(*genVal).kind
	}
	if isCallable(v) {
		return "function"
	}
	return fmt.Sprintf("%T", v)
}

// truth returns Python truthiness.
func truth(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case *big.Int:
		return x.Sign() != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case Markup:
		return x != ""
	case nativeStr:
		return x.s != ""
	case *List:
		return len(x.Items) > 0
	case Tuple:
		return len(x) > 0
	case *Dict:
		return len(x.keys) > 0
	case Undefined:
		return false
	case *dictView:
		return len(x.d.keys) > 0
	case *rangeVal:
		return x.len() > 0
	}
	return true
}

// toStr is Python's str() as Jinja renders it.
func toStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Markup:
		return string(x)
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return formatFloat(x)
	case Undefined:
		return ""
	case *Module:
		return x.body
	case nativeStr:
		return x.s
	}
	return repr(v)
}

// repr is Python's repr().
func repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v, nil)
	return b.String()
}

// onStack reports whether container c is being printed already (Python
// prints such a reference as [...] or {...}).
func onStack(stack []any, c any) bool {
	for _, s := range stack {
		if s == c {
			return true
		}
	}
	return false
}

// maxRepr bounds the text repr produces for values with many shared parts.
const maxRepr = 1 << 25

func writeRepr(b *strings.Builder, v any, stack []any) {
	if len(stack) > maxNest || b.Len() > maxRepr {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case string:
		b.WriteString(pyQuote(x))
	case Markup:
		b.WriteString("Markup(" + pyQuote(string(x)) + ")")
	case nativeStr:
		b.WriteString(pyQuote(x.s))
	case *List:
		if onStack(stack, x) {
			b.WriteString("[...]")
			return
		}
		stack = append(stack, x)
		b.WriteByte('[')
		for i, e := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, stack)
		}
		b.WriteByte(']')
	case Tuple:
		b.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, stack)
		}
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *Dict:
		if onStack(stack, x) {
			b.WriteString("{...}")
			return
		}
		stack = append(stack, x)
		b.WriteByte('{')
		for i := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x.keys[i], stack)
			b.WriteString(": ")
			writeRepr(b, x.vals[i], stack)
		}
		b.WriteByte('}')
	case *dictView:
		b.WriteString("dict_" + x.kind + "(")
		writeRepr(b, &List{Items: x.items()}, stack)
		b.WriteByte(')')
	case Undefined:
		b.WriteString("Undefined")
	case *rangeVal:
		if x.step == 1 {
			fmt.Fprintf(b, "range(%d, %d)", x.start, x.stop)
		} else {
			fmt.Fprintf(b, "range(%d, %d, %d)", x.start, x.stop, x.step)
		}
	case *Macro:
		b.WriteString("<Macro '" + x.def.name + "'>")
	case *Namespace:
		b.WriteString("<Namespace " + repr(x.d) + ">")
	case *cycler:
		b.WriteString("<Cycler>")
	case *joiner:
		b.WriteString("<Joiner>")
	case *genVal:
		b.WriteString("<" + x.kind + " object>")
	case *loopObj:
		b.WriteString("<LoopContext " + strconv.Itoa(x.i+1) + "/" + strconv.Itoa(len(x.items)) + ">")
	case nil, bool, int64, *big.Int, float64:
		b.WriteString(toStr(v))
	default:
		if s, ok := v.(fmt.Stringer); ok {
			b.WriteString(s.String())
			return
		}
		if isCallable(v) {
			b.WriteString("<function>")
			return
		}
		fmt.Fprintf(b, "%v", v)
	}
}

// pyQuote quotes s the way Python's repr does.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// formatFloat renders a float as Python's repr does.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	} else if exp < 0 {
		out = "0." + strings.Repeat("0", -exp-1) + digits
	} else if exp+1 >= len(digits) {
		out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	} else {
		out = digits[:exp+1] + "." + digits[exp+1:]
	}
	if neg {
		return "-" + out
	}
	return out
}

// normInt returns an int64 when b fits.
func normInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

func toBig(v any) *big.Int {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x)
	case *big.Int:
		return x
	case bool:
		if x {
			return big.NewInt(1)
		}
		return big.NewInt(0)
	}
	return nil
}

func isInt(v any) bool {
	switch v.(type) {
	case int64, *big.Int, bool:
		return true
	}
	return false
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, *big.Int, bool, float64:
		return true
	}
	return false
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case float64:
		return x
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

func isString(v any) bool {
	switch v.(type) {
	case string, Markup, nativeStr:
		return true
	}
	return false
}

func strOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case Markup:
		return string(x), true
	case nativeStr:
		return x.s, true
	}
	return "", false
}

// equal is Python ==.
func equal(a, b any) bool {
	budget := maxCompare
	return equalD(a, b, 0, &budget)
}

// maxCompare bounds the element comparisons one == or < may make (values
// that share or contain themselves could otherwise take exponential time).
const maxCompare = 1 << 20

// maxNest bounds recursion into nested (possibly self-referencing)
// containers.
const maxNest = 200

func equalD(a, b any, d int, budget *int) bool {
	*budget--
	if d > maxNest || *budget < 0 {
		return false
	}
	if isNumber(a) && isNumber(b) {
		c, ok := numCompare(a, b)
		return ok && c == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string, Markup:
		y, ok := strOf(b)
		s, _ := strOf(x)
		return ok && s == y
	case Undefined:
		_, ok := b.(Undefined)
		return ok
	case *List:
		y, ok := b.(*List)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		return seqEqualD(x.Items, y.Items, d+1, budget)
	case Tuple:
		y, ok := b.(Tuple)
		return ok && seqEqualD(x, y, d+1, budget)
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || len(x.keys) != len(y.keys) {
			return false
		}
		for i, k := range x.keys {
			v, ok := y.Get(k)
			if !ok || !equalD(x.vals[i], v, d+1, budget) {
				return false
			}
		}
		return true
	case *dictView:
		y, ok := b.(*dictView)
		return ok && seqEqual(x.items(), y.items())
	case *rangeVal:
		y, ok := b.(*rangeVal)
		return ok && seqEqual(x.items(), y.items())
	case *genVal:
		return a == b
	}
	if isNumber(a) || isNumber(b) {
		return false
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Type() != rb.Type() {
		return false
	}
	if ra.Comparable() {
		return a == b
	}
	return ra.Pointer() == rb.Pointer()
}

func seqEqual(a, b []any) bool {
	budget := maxCompare
	return seqEqualD(a, b, 0, &budget)
}

func seqEqualD(a, b []any, d int, budget *int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalD(a[i], b[i], d, budget) {
			return false
		}
	}
	return true
}

// numCompare compares two numbers.
func numCompare(a, b any) (int, bool) {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return cmpInt(x, y), true
		}
	}
	_, af := a.(float64)
	_, bf := b.(float64)
	if af || bf {
		x, y := toFloat(a), toFloat(b)
		if math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		if af && bf || (math.Abs(x) < 1<<53 && math.Abs(y) < 1<<53) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
		bx, _ := new(big.Float).SetPrec(2000).SetFloat64(x).Int(nil)
		_ = bx
		fx := new(big.Float).SetPrec(2000)
		fy := new(big.Float).SetPrec(2000)
		if af {
			fx.SetFloat64(x)
		} else {
			fx.SetInt(toBig(a))
		}
		if bf {
			fy.SetFloat64(y)
		} else {
			fy.SetInt(toBig(b))
		}
		return fx.Cmp(fy), true
	}
	return toBig(a).Cmp(toBig(b)), true
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// compare implements <, <=, >, >= (op is one of "lt", "lteq", "gt", "gteq").
func compare(op string, a, b any) (bool, error) {
	c, err := order(a, b, op)
	if err != nil {
		return false, err
	}
	if c == 2 { // unordered (NaN)
		return false, nil
	}
	switch op {
	case "lt":
		return c < 0, nil
	case "lteq":
		return c <= 0, nil
	case "gt":
		return c > 0, nil
	}
	return c >= 0, nil
}

var opSymbol = map[string]string{"lt": "<", "lteq": "<=", "gt": ">", "gteq": ">="}

// order returns -1, 0, 1, or 2 for unordered.
func order(a, b any, op string) (int, error) {
	budget := maxCompare
	return orderD(a, b, op, 0, &budget)
}

func orderD(a, b any, op string, d int, budget *int) (int, error) {
	*budget--
	if d > maxNest || *budget < 0 {
		return 0, newErr(ErrRuntime, "maximum recursion depth exceeded in comparison")
	}
	if isNumber(a) && isNumber(b) {
		c, ok := numCompare(a, b)
		if !ok {
			return 2, nil
		}
		return c, nil
	}
	if sa, ok := strOf(a); ok {
		if sb, ok := strOf(b); ok {
			return strings.Compare(sa, sb), nil
		}
	}
	var sa, sb []any
	switch x := a.(type) {
	case *List:
		if y, ok := b.(*List); ok {
			sa, sb = x.Items, y.Items
		}
	case Tuple:
		if y, ok := b.(Tuple); ok {
			sa, sb = x, y
		}
	}
	if sa != nil || sb != nil {
		for i := 0; i < len(sa) && i < len(sb); i++ {
			if !equalD(sa[i], sb[i], d+1, budget) {
				return orderD(sa[i], sb[i], op, d+1, budget)
			}
		}
		return cmpInt(int64(len(sa)), int64(len(sb))), nil
	}
	if _, ok := a.(*List); ok {
		if _, ok := b.(*List); ok {
			return cmpInt(0, 0), nil
		}
	}
	if _, ok := a.(Tuple); ok {
		if _, ok := b.(Tuple); ok {
			return 0, nil
		}
	}
	if op == "" {
		op = "lt"
	}
	return 0, newErr(ErrType, "'%s' not supported between instances of '%s' and '%s'", opSymbol[op], typeName(a), typeName(b))
}

// iterate returns the items a for loop sees.
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case *List:
		return x.Items, nil
	case Tuple:
		return x, nil
	case *Dict:
		return x.keys, nil
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case Markup:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case Undefined:
		return nil, nil
	case *dictView:
		return x.items(), nil
	case *rangeVal:
		return x.items(), nil
	case *genVal:
		return x.drain(), nil
	case *Namespace:
		return nil, newErr(ErrType, "'Namespace' object is not iterable")
	case *cycler:
		return nil, newErr(ErrType, "'Cycler' object is not iterable")
	}
	return nil, newErr(ErrType, "'%s' object is not iterable", typeName(v))
}

func isIterable(v any) bool {
	switch v.(type) {
	case *List, Tuple, *Dict, string, Markup, Undefined, *dictView, *rangeVal, *genVal:
		return true
	}
	return false
}

// length is Python len().
func length(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return len([]rune(x)), nil
	case Markup:
		return len([]rune(string(x))), nil
	case *List:
		return len(x.Items), nil
	case Tuple:
		return len(x), nil
	case *Dict:
		return len(x.keys), nil
	case *dictView:
		return len(x.d.keys), nil
	case *rangeVal:
		return int(x.len()), nil
	case Undefined:
		return 0, nil
	}
	return 0, newErr(ErrType, "object of type '%s' has no len()", typeName(v))
}

// contains is Python's "in".
func contains(container, item any) (bool, error) {
	switch x := container.(type) {
	case string, Markup:
		s, _ := strOf(x)
		sub, ok := strOf(item)
		if !ok {
			return false, newErr(ErrType, "'in <string>' requires string as left operand, not %s", typeName(item))
		}
		return strings.Contains(s, sub), nil
	case *Dict:
		_, err := hashKey(item)
		if err != nil {
			return false, err
		}
		_, ok := x.Get(item)
		return ok, nil
	case Undefined:
		return false, nil
	case *genVal:
		for x.pos < len(x.items) {
			e := x.items[x.pos]
			x.pos++
			if equal(e, item) {
				return true, nil
			}
		}
		return false, nil
	}
	items, err := iterate(container)
	if err != nil {
		return false, newErr(ErrType, "argument of type '%s' is not iterable", typeName(container))
	}
	for _, e := range items {
		if equal(e, item) {
			return true, nil
		}
	}
	return false, nil
}

// sortValues sorts in place with Python ordering; key maps items before comparison.
func sortValues(items []any, key func(any) any, reverse bool) error {
	var err error
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if key != nil {
			a, b = key(a), key(b)
		}
		if reverse {
			a, b = b, a
		}
		c, e := order(a, b, "lt")
		if e != nil && err == nil {
			err = e
		}
		return c == -1
	})
	return err
}
