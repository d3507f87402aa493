package jinja

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

type builtinFunc struct {
	name string
	fn   func(st *state, a *argv) (any, error)
}

// Namespace is the object namespace() returns; {% set ns.x = ... %}
// assigns its attributes from any scope.
type Namespace struct{ d *Dict }

type cycler struct {
	items []any
	pos   int
}

type joiner struct {
	sep   string
	used  bool
	calls int
}

// maxRange is the sandbox's MAX_RANGE.
const maxRange = 100000

type rangeVal struct{ start, stop, step int64 }

func (r *rangeVal) len() int64 {
	var n *big.Int
	switch {
	case r.step > 0 && r.start < r.stop:
		n = new(big.Int).Sub(big.NewInt(r.stop), big.NewInt(r.start))
		n.Add(n, big.NewInt(r.step-1))
		n.Quo(n, big.NewInt(r.step))
	case r.step < 0 && r.start > r.stop:
		n = new(big.Int).Sub(big.NewInt(r.start), big.NewInt(r.stop))
		n.Sub(n, big.NewInt(r.step+1))
		n.Quo(n, new(big.Int).Neg(big.NewInt(r.step)))
	default:
		return 0
	}
	if !n.IsInt64() {
		return math.MaxInt64
	}
	return n.Int64()
}

func (r *rangeVal) items() []any {
	n := r.len()
	out := make([]any, n)
	v := r.start
	for i := range out {
		out[i] = v
		v += r.step
	}
	return out
}

var builtinGlobals = map[string]any{}

// builtinsOnce fills builtinGlobals, builtinFilters and builtinTests on
// first use rather than at program start (a CLI that never renders a
// template does not pay for them).
var builtinsOnce sync.Once

func loadBuiltins() {
	builtinsOnce.Do(func() {
		initGlobals()
		initFilters()
		initTests()
	})
}

func isRange(v any) bool { _, ok := v.(*rangeVal); return ok }

func initGlobals() {
	reg := func(name string, fn func(st *state, a *argv) (any, error)) {
		builtinGlobals[name] = &builtinFunc{name, fn}
	}
	reg("range", func(st *state, a *argv) (any, error) {
		if len(a.kw) > 0 {
			return nil, newErr(ErrType, "range() takes no keyword arguments")
		}
		var nums []int64
		for _, v := range a.args {
			if !isInt(v) {
				return nil, newErr(ErrType, "'%s' object cannot be interpreted as an integer", typeName(v))
			}
			b := toBig(v)
			if !b.IsInt64() {
				return nil, newErr(ErrOverflow, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", maxRange)
			}
			nums = append(nums, b.Int64())
		}
		r := &rangeVal{step: 1}
		switch len(nums) {
		case 1:
			r.stop = nums[0]
		case 2:
			r.start, r.stop = nums[0], nums[1]
		case 3:
			r.start, r.stop, r.step = nums[0], nums[1], nums[2]
			if r.step == 0 {
				return nil, newErr(ErrValue, "range() arg 3 must not be zero")
			}
		default:
			return nil, newErr(ErrType, "range expected at most 3 arguments, got %d", len(nums))
		}
		if r.len() > maxRange {
			return nil, newErr(ErrOverflow, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", maxRange)
		}
		return r, nil
	})
	reg("dict", func(st *state, a *argv) (any, error) {
		d := NewDict()
		if len(a.args) > 1 {
			return nil, newErr(ErrType, "dict expected at most 1 argument, got %d", len(a.args))
		}
		if len(a.args) == 1 {
			if _, err := dictMethod(d, "update", &argv{args: a.args}); err != nil {
				return nil, err
			}
		}
		for _, kv := range a.kw {
			d.setStr(kv.name, kv.val)
		}
		return d, nil
	})
	reg("namespace", func(st *state, a *argv) (any, error) {
		d := NewDict()
		if len(a.args) > 0 {
			if _, err := dictMethod(d, "update", &argv{args: a.args[:1]}); err != nil {
				return nil, err
			}
		}
		for _, kv := range a.kw {
			d.setStr(kv.name, kv.val)
		}
		return &Namespace{d}, nil
	})
	reg("cycler", func(st *state, a *argv) (any, error) {
		if len(a.args) == 0 {
			return nil, newErr(ErrRuntime, "at least one item has to be provided")
		}
		return &cycler{items: append([]any(nil), a.args...)}, nil
	})
	reg("joiner", func(st *state, a *argv) (any, error) {
		p, err := a.bind("joiner", []string{"sep"}, 0)
		if err != nil {
			return nil, err
		}
		j := &joiner{sep: toStr(or(p[0], ", "))}
		return &builtinFunc{"joiner", func(st *state, a *argv) (any, error) {
			if !j.used {
				j.used = true
				return "", nil
			}
			return j.sep, nil
		}}, nil
	})
	reg("lipsum", func(st *state, a *argv) (any, error) {
		p, err := a.bind("lipsum", []string{"n", "html", "min", "max"}, 0)
		if err != nil {
			return nil, err
		}
		n, _ := argInt("lipsum", or(p[0], int64(5)))
		lo, _ := argInt("lipsum", or(p[2], int64(20)))
		hi, _ := argInt("lipsum", or(p[3], int64(100)))
		if n > 0 && hi > 0 && (n > 100000 || hi > 100000 || n*hi > 1000000) {
			return nil, newErr(ErrMemory, "lipsum too large")
		}
		if err := st.charge(int(max(n, 0) * max(hi, 0))); err != nil {
			return nil, err
		}
		return lipsum(int(min(n, 1000)), truth(or(p[1], true)), int(lo), int(min(hi, 100000)))
	})
	reg("return", func(st *state, a *argv) (any, error) {
		p, err := a.bind("return", []string{"value"}, 0)
		if err != nil {
			return nil, err
		}
		return nil, &returnSignal{value: or(p[0], nil)}
	})
}

var lipsumWords = sync.OnceValue(func() []string {
	return strings.Fields(`a ac accumsan ad adipiscing aenean aliquam aliquet amet ante aptent arcu at auctor augue bibendum blandit class commodo condimentum congue consectetuer consequat conubia convallis cras cubilia cum curabitur curae cursus dapibus diam dictum dictumst dignissim dis dolor donec dui duis egestas eget eleifend elementum elit enim erat eros est et etiam eu euismod facilisi facilisis fames faucibus felis fermentum feugiat fringilla fusce gravida habitant habitasse hac hendrerit hymenaeos iaculis id imperdiet in inceptos integer interdum ipsum justo lacinia lacus laoreet lectus leo libero ligula litora lobortis lorem luctus maecenas magna magnis malesuada massa mattis mauris metus mi molestie mollis montes morbi mus nam nascetur natoque nec neque netus nibh nisi nisl non nonummy nostra nulla nullam nunc odio orci ornare parturient pede pellentesque penatibus per pharetra phasellus placerat platea porta porttitor posuere potenti praesent pretium primis proin pulvinar purus quam quis quisque rhoncus ridiculus risus rutrum sagittis sapien scelerisque sed sem semper senectus sit sociis sociosqu sodales sollicitudin suscipit suspendisse taciti tellus tempor tempus tincidunt torquent tortor tristique turpis ullamcorper ultrices ultricies urna ut varius vehicula vel velit venenatis vestibulum vitae vivamus viverra volutpat vulputate`)
})

func lipsum(n int, html bool, lo, hi int) (any, error) {
	if hi <= lo {
		return nil, newErr(ErrValue, "empty range for randrange() (%d, %d, %d)", lo, hi, hi-lo)
	}
	var paras []string
	for i := 0; i < n; i++ {
		words := rand.IntN(hi-lo) + lo
		var b []string
		nextCapitalized := true
		lastComma, lastFullstop := 0, 0
		last := ""
		for idx := 0; idx < words; idx++ {
			w := lipsumWords()[rand.IntN(len(lipsumWords()))]
			for w == last {
				w = lipsumWords()[rand.IntN(len(lipsumWords()))]
			}
			last = w
			if nextCapitalized {
				w = capitalize(w)
				nextCapitalized = false
			}
			if idx-rand.IntN(20)-10 > lastComma {
				lastComma = idx
				lastFullstop += 2
				w += ","
			}
			if idx-rand.IntN(20)-10 > lastFullstop {
				lastComma, lastFullstop = idx, idx
				w += "."
				nextCapitalized = true
			}
			b = append(b, w)
		}
		p := strings.Join(b, " ")
		if strings.HasSuffix(p, ",") {
			p = p[:len(p)-1] + "."
		} else if !strings.HasSuffix(p, ".") {
			p += "."
		}
		paras = append(paras, p)
	}
	if !html {
		return strings.Join(paras, "\n\n"), nil
	}
	for i, p := range paras {
		paras[i] = "<p>" + htmlEscape(p) + "</p>"
	}
	return Markup(strings.Join(paras, "\n")), nil
}

func (l *loopObj) attr(name string) any {
	n := int64(len(l.items))
	i := int64(l.i)
	switch name {
	case "index":
		return i + 1
	case "index0":
		return i
	case "revindex":
		return n - i
	case "revindex0":
		return n - i - 1
	case "first":
		return i == 0
	case "last":
		return i == n-1
	case "length":
		return n
	case "depth":
		return int64(l.depth0 + 1)
	case "depth0":
		return int64(l.depth0)
	case "previtem":
		if i == 0 {
			return Undefined{Name: "previtem", hint: "there is no previous item"}
		}
		return l.items[i-1]
	case "nextitem":
		if i >= n-1 {
			return Undefined{Name: "nextitem", hint: "there is no next item"}
		}
		return l.items[i+1]
	case "cycle":
		return &builtinFunc{"cycle", func(st *state, a *argv) (any, error) {
			if len(a.args) == 0 {
				return nil, newErr(ErrType, "no items for cycling given")
			}
			return a.args[l.i%len(a.args)], nil
		}}
	case "changed":
		return &builtinFunc{"changed", func(st *state, a *argv) (any, error) {
			v := Tuple(append([]any(nil), a.args...))
			if !l.hasLast || !equal(l.last, v) {
				l.last, l.hasLast = v, true
				return true, nil
			}
			return false, nil
		}}
	}
	return Undefined{Name: name, hint: "'LoopContext' object has no attribute " + pyQuote(name)}
}

// ---- filters ----

var builtinFilters map[string]filterFn

func strArg(v any) string {
	if s, ok := strOf(v); ok {
		return s
	}
	return toStr(v)
}

func initFilters() {
	f := map[string]filterFn{}
	builtinFilters = f
	simple := func(name string, params []string, required int, fn func(st *state, v any, p []any) (any, error)) {
		f[name] = func(st *state, v any, a *argv) (any, error) {
			p, err := a.bind(name, params, required)
			if err != nil {
				return nil, err
			}
			return fn(st, v, p)
		}
	}
	simple("abs", nil, 0, func(st *state, v any, p []any) (any, error) {
		switch x := v.(type) {
		case int64:
			if x < 0 {
				return negate(x)
			}
			return x, nil
		case *big.Int:
			return normInt(new(big.Int).Abs(x)), nil
		case float64:
			return math.Abs(x), nil
		case bool:
			return boolToInt(x), nil
		}
		return nil, newErr(ErrType, "bad operand type for abs(): '%s'", typeName(v))
	})
	simple("attr", []string{"name"}, 1, func(st *state, v any, p []any) (any, error) {
		s, ok := p[0].(string)
		if !ok {
			return nil, newErr(ErrType, "attribute name must be string")
		}
		if strings.HasPrefix(s, "_") {
			return Undefined{Name: s}, nil
		}
		if _, ok := v.(*Dict); ok {
			if dictMethods[s] {
				return &boundMethod{v, s}, nil
			}
			return Undefined{Name: s}, nil
		}
		r, err := getattr(st, v, s)
		if err != nil {
			return nil, err
		}
		return r, nil
	})
	simple("batch", []string{"linecount", "fill_with"}, 1, func(st *state, v any, p []any) (any, error) {
		n, err := argInt("batch", p[0])
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		out := &List{}
		tmp := &List{}
		for _, it := range items {
			if int64(len(tmp.Items)) == n {
				out.Items = append(out.Items, tmp)
				tmp = &List{}
			}
			tmp.Items = append(tmp.Items, it)
		}
		if len(tmp.Items) > 0 {
			if p[1] != missing && p[1] != nil && int64(len(tmp.Items)) < n && n < maxRepeat {
				for int64(len(tmp.Items)) < n {
					tmp.Items = append(tmp.Items, p[1])
				}
			}
			out.Items = append(out.Items, tmp)
		}
		return newGen("generator", out.Items), nil
	})
	// dbt registers these in its (non-native) environment: the as_* markers
	// are identities there, is_list tests for a list.
	for name, kind := range map[string]byte{"as_text": 't', "as_bool": 'b', "as_native": 'n', "as_number": 'i'} {
		simple(name, nil, 0, func(st *state, v any, p []any) (any, error) {
			if st.native {
				return nativeStr{s: toStr(v), kind: kind}, nil
			}
			return v, nil
		})
	}
	simple("is_list", nil, 0, func(st *state, v any, p []any) (any, error) { _, ok := v.(*List); return ok, nil })
	simple("capitalize", nil, 0, func(st *state, v any, p []any) (any, error) { return capitalize(strArg(v)), nil })
	simple("center", []string{"width"}, 0, func(st *state, v any, p []any) (any, error) {
		w, err := argInt("center", or(p[0], int64(80)))
		if err != nil {
			return nil, err
		}
		return justify(strArg(v), "center", w, " ")
	})
	lengthF := func(st *state, v any, p []any) (any, error) {
		if r, ok := v.(*rangeVal); ok {
			return r.len(), nil
		}
		n, err := length(v)
		return int64(n), err
	}
	simple("length", nil, 0, lengthF)
	simple("count", nil, 0, lengthF)
	defaultF := func(st *state, v any, p []any) (any, error) {
		_, undef := v.(Undefined)
		if undef || truth(or(p[1], false)) && !truth(v) {
			return or(p[0], ""), nil
		}
		return v, nil
	}
	simple("default", []string{"default_value", "boolean"}, 0, defaultF)
	simple("d", []string{"default_value", "boolean"}, 0, defaultF)
	simple("dictsort", []string{"case_sensitive", "by", "reverse"}, 0, func(st *state, v any, p []any) (any, error) {
		if u, ok := v.(Undefined); ok {
			return nil, u.err()
		}
		d, ok := v.(*Dict)
		if !ok {
			return nil, newErr(ErrAttribute, "'%s' object has no attribute 'items'", typeName(v))
		}
		by := toStr(or(p[1], "key"))
		pos := 0
		switch by {
		case "key":
		case "value":
			pos = 1
		default:
			return nil, newErr(ErrFilterArgument, "You can only sort by either \"key\" or \"value\"")
		}
		cs := truth(or(p[0], false))
		items := (&dictView{"items", d}).items()
		err := sortValues(items, func(x any) any {
			k := x.(Tuple)[pos]
			if !cs {
				if s, ok := k.(string); ok {
					return strings.ToLower(s)
				}
			}
			return k
		}, truth(or(p[2], false)))
		return &List{Items: items}, err
	})
	escapeF := func(st *state, v any, p []any) (any, error) {
		if m, ok := v.(Markup); ok {
			return m, nil
		}
		return Markup(htmlEscape(toStr(v))), nil
	}
	simple("escape", nil, 0, escapeF)
	simple("e", nil, 0, escapeF)
	simple("forceescape", nil, 0, func(st *state, v any, p []any) (any, error) { return Markup(htmlEscape(toStr(v))), nil })
	simple("safe", nil, 0, func(st *state, v any, p []any) (any, error) { return Markup(toStr(v)), nil })
	simple("filesizeformat", []string{"binary"}, 0, func(st *state, v any, p []any) (any, error) {
		if u, ok := v.(Undefined); ok {
			return nil, u.err()
		}
		var bytes float64
		switch x := v.(type) {
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, newErr(ErrValue, "could not convert string to float: %s", pyQuote(x))
			}
			bytes = f
		default:
			if !isNumber(v) {
				return nil, newErr(ErrType, "float() argument must be a string or a real number, not '%s'", typeName(v))
			}
			bytes = toFloat(v)
		}
		binary := truth(or(p[0], false))
		base := 1000.0
		prefixes := []string{"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
		if binary {
			base = 1024
			prefixes = []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}
		}
		if bytes == 1 {
			return "1 Byte", nil
		}
		if bytes < base {
			return fmt.Sprintf("%d Bytes", int64(bytes)), nil
		}
		unit := base
		for i, pre := range prefixes {
			unit = math.Pow(base, float64(i+2))
			if bytes < unit {
				return formatFloatSpec(base*bytes/unit, 'f', 1, false) + " " + pre, nil
			}
		}
		return formatFloatSpec(base*bytes/unit, 'f', 1, false) + " " + prefixes[len(prefixes)-1], nil
	})
	simple("first", nil, 0, func(st *state, v any, p []any) (any, error) {
		if g, ok := v.(*genVal); ok {
			if g.pos >= len(g.items) {
				return Undefined{Name: "first", hint: "No first item, sequence was empty."}, nil
			}
			g.pos++
			return g.items[g.pos-1], nil
		}
		items, err := iterSeq(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return Undefined{Name: "first", hint: "No first item, sequence was empty."}, nil
		}
		return items[0], nil
	})
	simple("last", nil, 0, func(st *state, v any, p []any) (any, error) {
		if g, ok := v.(*genVal); ok {
			return nil, newErr(ErrType, "'%s' object is not reversible", g.kind)
		}
		items, err := iterSeq(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return Undefined{Name: "last", hint: "No last item, sequence was empty."}, nil
		}
		return items[len(items)-1], nil
	})
	simple("float", []string{"default"}, 0, func(st *state, v any, p []any) (any, error) {
		if u, ok := v.(Undefined); ok {
			return nil, u.err()
		}
		if r, ok := toFloatPy(v); ok {
			return r, nil
		}
		return or(p[0], 0.0), nil
	})
	f["format"] = func(st *state, v any, a *argv) (any, error) {
		s := strArg(v)
		if len(a.args) > 0 && len(a.kw) > 0 {
			return nil, newErr(ErrFilterArgument, "can't handle positional and keyword arguments at the same time")
		}
		if len(a.kw) > 0 {
			d := NewDict()
			for _, kv := range a.kw {
				d.setStr(kv.name, kv.val)
			}
			return printf(st, s, d)
		}
		return printf(st, s, Tuple(a.args))
	}
	simple("groupby", []string{"attribute", "default", "case_sensitive"}, 1, func(st *state, v any, p []any) (any, error) {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		cs := truth(or(p[2], false))
		get := attrGetter(st, p[0], or(p[1], missing))
		keyed := make([][2]any, len(items))
		for i, it := range items {
			k, err := get(it)
			if err != nil {
				return nil, err
			}
			keyed[i] = [2]any{k, it}
		}
		norm := func(k any) any {
			if !cs {
				if s, ok := k.(string); ok {
					return strings.ToLower(s)
				}
			}
			return k
		}
		var serr error
		sort.SliceStable(keyed, func(i, j int) bool {
			c, err := order(norm(keyed[i][0]), norm(keyed[j][0]), "lt")
			if err != nil && serr == nil {
				serr = err
			}
			return c == -1
		})
		if serr != nil {
			return nil, serr
		}
		out := &List{}
		for i := 0; i < len(keyed); {
			j := i
			grp := &List{}
			for j < len(keyed) && equal(norm(keyed[j][0]), norm(keyed[i][0])) {
				grp.Items = append(grp.Items, keyed[j][1])
				j++
			}
			out.Items = append(out.Items, Tuple{keyed[i][0], grp})
			i = j
		}
		return out, nil
	})
	simple("indent", []string{"width", "first", "blank"}, 0, func(st *state, v any, p []any) (any, error) {
		if u, ok := v.(Undefined); ok {
			return nil, u.err()
		}
		s := strArg(v)
		var ind string
		switch w := or(p[0], int64(4)).(type) {
		case string:
			ind = w
		default:
			n, err := argInt("indent", w)
			if err != nil {
				return nil, err
			}
			if n > maxRepeat {
				return nil, newErr(ErrMemory, "indent too large")
			}
			ind = strings.Repeat(" ", int(max(n, 0)))
		}
		first, blank := truth(or(p[1], false)), truth(or(p[2], false))
		nl := "\n"
		s += nl
		lines := strings.Split(s, nl)
		lines = lines[:len(lines)-1]
		var rv string
		if blank {
			for i := range lines {
				if i > 0 {
					lines[i] = ind + lines[i]
				}
			}
			rv = strings.Join(lines, nl)
		} else {
			if len(lines) > 0 {
				rv = lines[0]
			}
			for _, l := range lines[1:] {
				if l != "" {
					rv += nl + ind + l
				} else {
					rv += nl
				}
			}
		}
		if first {
			rv = ind + rv
		}
		return rv, nil
	})
	simple("int", []string{"default", "base"}, 0, func(st *state, v any, p []any) (any, error) {
		if u, ok := v.(Undefined); ok {
			return nil, u.err()
		}
		base, err := argInt("int", or(p[1], int64(10)))
		if err != nil {
			return nil, err
		}
		def := or(p[0], int64(0))
		if s, ok := strOf(v); ok {
			if r, ok := parsePyInt(s, int(base)); ok {
				return r, nil
			}
		} else if isInt(v) {
			return boolToInt(v), nil
		}
		if r, ok := toFloatPy(v); ok {
			if math.IsInf(r, 0) || math.IsNaN(r) {
				return def, nil
			}
			bf, _ := new(big.Float).SetFloat64(math.Trunc(r)).Int(nil)
			return normInt(bf), nil
		}
		return def, nil
	})
	simple("items", nil, 0, func(st *state, v any, p []any) (any, error) {
		switch x := v.(type) {
		case Undefined:
			return newGen("generator", nil), nil
		case *Dict:
			return newGen("generator", (&dictView{"items", x}).items()), nil
		}
		return nil, newErr(ErrType, "Can only get item pairs from a mapping.")
	})
	simple("join", []string{"d", "attribute"}, 0, func(st *state, v any, p []any) (any, error) {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		if p[1] != missing && p[1] != nil {
			get := attrGetter(st, p[1], missing)
			mapped := make([]any, len(items))
			for i, it := range items {
				mapped[i], err = get(it)
				if err != nil {
					return nil, err
				}
			}
			items = mapped
		}
		sep := strArg(or(p[0], ""))
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = toStr(it)
		}
		return strings.Join(parts, sep), nil
	})
	simple("list", nil, 0, func(st *state, v any, p []any) (any, error) {
		items, err := iterSeq(v)
		if err != nil {
			return nil, err
		}
		return &List{Items: append([]any(nil), items...)}, nil
	})
	simple("lower", nil, 0, func(st *state, v any, p []any) (any, error) { return pyLower(strArg(v)), nil })
	simple("upper", nil, 0, func(st *state, v any, p []any) (any, error) { return pyUpper(strArg(v)), nil })
	simple("title", nil, 0, func(st *state, v any, p []any) (any, error) { return jinjaTitle(strArg(v)), nil })
	simple("trim", []string{"chars"}, 0, func(st *state, v any, p []any) (any, error) {
		return pyStrip(strArg(v), p[0], true, true)
	})
	simple("string", nil, 0, func(st *state, v any, p []any) (any, error) {
		if m, ok := v.(Markup); ok {
			return m, nil
		}
		return toStr(v), nil
	})
	f["map"] = func(st *state, v any, a *argv) (any, error) {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		fn, err := mapFunc(st, a)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i], err = fn(it)
			if err != nil {
				return nil, err
			}
		}
		return newGen("generator", out), nil
	}
	minmax := func(name string) {
		simple(name, []string{"case_sensitive", "attribute"}, 0, func(st *state, v any, p []any) (any, error) {
			items, err := iterate(v)
			if err != nil {
				return nil, err
			}
			if len(items) == 0 {
				return Undefined{Name: name, hint: "No aggregated item, sequence was empty."}, nil
			}
			key, err := sortKey(st, p[1], truth(or(p[0], false)))
			if err != nil {
				return nil, err
			}
			best := items[0]
			for _, it := range items[1:] {
				c, err := order(key(it), key(best), "lt")
				if err != nil {
					return nil, err
				}
				if name == "min" && c < 0 || name == "max" && c > 0 {
					best = it
				}
			}
			return best, nil
		})
	}
	minmax("min")
	minmax("max")
	simple("pprint", nil, 0, func(st *state, v any, p []any) (any, error) {
		var b strings.Builder
		pformat(&b, v, 0, 0, 0)
		return b.String(), nil
	})
	simple("random", nil, 0, func(st *state, v any, p []any) (any, error) {
		if _, err := length(v); err != nil {
			if _, ok := v.(*rangeVal); !ok {
				return nil, err
			}
		}
		items, err := iterSeq(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return Undefined{Name: "random", hint: "No random item, sequence was empty."}, nil
		}
		return items[rand.IntN(len(items))], nil
	})
	selectF := func(name string, attr, keep bool) {
		f[name] = func(st *state, v any, a *argv) (any, error) {
			items, err := iterate(v)
			if err != nil {
				return nil, err
			}
			args := a.args
			get := func(x any) (any, error) { return x, nil }
			if attr {
				if len(args) == 0 {
					return nil, newErr(ErrFilterArgument, "Missing parameter for attribute name")
				}
				get = attrGetter(st, args[0], missing)
				args = args[1:]
			}
			test := func(x any) (bool, error) { return truth(x), nil }
			if len(args) > 0 {
				tn := toStr(args[0])
				t, ok := st.env.test(tn)
				if !ok {
					return nil, newErr(ErrTemplateRuntime, "No test named %s.", pyQuote(tn))
				}
				rest := &argv{args: args[1:], kw: a.kw}
				test = func(x any) (bool, error) { return t(st, x, rest) }
			}
			out := &List{}
			for _, it := range items {
				x, err := get(it)
				if err != nil {
					return nil, err
				}
				ok, err := test(x)
				if err != nil {
					return nil, err
				}
				if ok == keep {
					out.Items = append(out.Items, it)
				}
			}
			return newGen("generator", out.Items), nil
		}
	}
	selectF("select", false, true)
	selectF("reject", false, false)
	selectF("selectattr", true, true)
	selectF("rejectattr", true, false)
	simple("replace", []string{"old", "new", "count"}, 2, func(st *state, v any, p []any) (any, error) {
		return strMethod(st, strArg(v), "replace", &argv{args: []any{strArg(p[0]), strArg(p[1]), or(p[2], int64(-1))}})
	})
	simple("reverse", nil, 0, func(st *state, v any, p []any) (any, error) {
		if s, ok := strOf(v); ok {
			r := []rune(s)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return string(r), nil
		}
		if _, ok := v.(Undefined); ok {
			return newGen("reversed", nil), nil
		}
		items, err := iterSeq(v)
		if err != nil {
			return nil, newErr(ErrFilterArgument, "argument must be iterable")
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[len(items)-1-i] = it
		}
		switch v.(type) {
		case *List:
			return newGen("list_reverseiterator", out), nil
		case Tuple, *rangeVal:
			return newGen(map[bool]string{true: "range_iterator", false: "reversed"}[isRange(v)], out), nil
		case *Dict, *dictView:
			return newGen("dict_reversekeyiterator", out), nil
		}
		return &List{Items: out}, nil
	})
	simple("round", []string{"precision", "method"}, 0, func(st *state, v any, p []any) (any, error) {
		prec, err := argInt("round", or(p[0], int64(0)))
		if err != nil {
			return nil, err
		}
		method := toStr(or(p[1], "common"))
		if !isNumber(v) {
			return nil, newErr(ErrType, "type %s doesn't define __round__ method", typeName(v))
		}
		switch method {
		case "common":
			if isInt(v) {
				if prec >= 0 {
					return boolToInt(v), nil
				}
				return pyRoundInt(toBig(v), prec), nil
			}
			return pyRound(toFloat(v), prec), nil
		case "ceil", "floor":
			scale := math.Pow(10, float64(prec))
			x := toFloat(v) * scale
			if method == "ceil" {
				x = math.Ceil(x)
			} else {
				x = math.Floor(x)
			}
			return x / scale, nil
		}
		return nil, newErr(ErrFilterArgument, "method must be common, ceil or floor")
	})
	simple("slice", []string{"slices", "fill_with"}, 1, func(st *state, v any, p []any) (any, error) {
		n, err := argInt("slice", p[0])
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, newErr(ErrZeroDivision, "integer division or modulo by zero")
		}
		if n < 0 || n > maxRepeat {
			return nil, newErr(ErrValue, "slices must be positive")
		}
		if err := st.charge(int(n) * 16); err != nil {
			return nil, err
		}
		items, err := iterSeq(v)
		if err != nil {
			return nil, err
		}
		per := len(items) / int(n)
		extra := len(items) % int(n)
		offset := 0
		out := &List{}
		for i := 0; i < int(n); i++ {
			start := offset + i*per
			if i < extra {
				offset++
			}
			end := offset + (i+1)*per
			row := &List{Items: append([]any(nil), items[start:end]...)}
			if p[1] != missing && p[1] != nil && i >= extra {
				row.Items = append(row.Items, p[1])
			}
			out.Items = append(out.Items, row)
		}
		return out, nil
	})
	simple("sort", []string{"reverse", "case_sensitive", "attribute"}, 0, func(st *state, v any, p []any) (any, error) {
		items, err := iterSeq(v)
		if err != nil {
			return nil, err
		}
		items = append([]any(nil), items...)
		key, err := sortKey(st, p[2], truth(or(p[1], false)))
		if err != nil {
			return nil, err
		}
		return &List{Items: items}, sortValues(items, key, truth(or(p[0], false)))
	})
	simple("striptags", nil, 0, func(st *state, v any, p []any) (any, error) {
		s := strArg(v)
		s = commentRe().ReplaceAllString(s, "")
		s = tagRe().ReplaceAllString(s, "")
		s = strings.Join(strings.FieldsFunc(s, isPySpace), " ")
		return htmlUnescape(s), nil
	})
	simple("sum", []string{"attribute", "start"}, 0, func(st *state, v any, p []any) (any, error) {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		var total any = or(p[1], int64(0))
		get := func(x any) (any, error) { return x, nil }
		if p[0] != missing && p[0] != nil {
			get = attrGetter(st, p[0], missing)
		}
		for _, it := range items {
			x, err := get(it)
			if err != nil {
				return nil, err
			}
			total, err = binop(st, "+", total, x)
			if err != nil {
				return nil, err
			}
		}
		return total, nil
	})
	simple("tojson", []string{"indent"}, 0, func(st *state, v any, p []any) (any, error) {
		ind := ""
		pretty := false
		if x := or(p[0], nil); x != nil {
			if s, ok := x.(string); ok {
				ind, pretty = s, true
			} else {
				n, err := argInt("tojson", x)
				if err != nil {
					return nil, err
				}
				ind, pretty = strings.Repeat(" ", int(max(min(n, 64), 0))), true
			}
		}
		var b strings.Builder
		if err := pyJSON(&b, v, ind, pretty, 0); err != nil {
			return nil, err
		}
		s := b.String()
		s = strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`).Replace(s)
		return Markup(s), nil
	})
	simple("truncate", []string{"length", "killwords", "end", "leeway"}, 0, func(st *state, v any, p []any) (any, error) {
		s := []rune(strArg(v))
		n, err := argInt("truncate", or(p[0], int64(255)))
		if err != nil {
			return nil, err
		}
		end := strArg(or(p[2], "..."))
		leeway, err := argInt("truncate", or(p[3], int64(5)))
		if err != nil {
			return nil, err
		}
		if n < int64(utf8.RuneCountInString(end)) {
			return nil, newErr(ErrAssertion, "expected length >= %d, got %d", utf8.RuneCountInString(end), n)
		}
		if leeway < 0 {
			return nil, newErr(ErrAssertion, "expected leeway >= 0, got %d", leeway)
		}
		if int64(len(s)) <= n+leeway {
			return string(s), nil
		}
		cut := string(s[:n-int64(utf8.RuneCountInString(end))])
		if truth(or(p[1], false)) {
			return cut + end, nil
		}
		if i := strings.LastIndex(cut, " "); i >= 0 {
			cut = cut[:i]
		}
		return cut + end, nil
	})
	simple("unique", []string{"case_sensitive", "attribute"}, 0, func(st *state, v any, p []any) (any, error) {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		key, err := sortKey(st, p[1], truth(or(p[0], false)))
		if err != nil {
			return nil, err
		}
		seen := NewDict()
		out := &List{}
		for _, it := range items {
			k := key(it)
			if _, ok := seen.Get(k); ok {
				continue
			}
			if err := seen.Set(k, true); err != nil {
				return nil, err
			}
			out.Items = append(out.Items, it)
		}
		return newGen("generator", out.Items), nil
	})
	simple("urlencode", nil, 0, func(st *state, v any, p []any) (any, error) {
		switch x := v.(type) {
		case *Dict:
			var parts []string
			for i, k := range x.keys {
				parts = append(parts, urlQuote(toStr(k), false)+"="+urlQuote(toStr(x.vals[i]), false))
			}
			return strings.Join(parts, "&"), nil
		case string, Markup:
			return urlQuote(strArg(x), true), nil
		}
		if items, err := iterate(v); err == nil {
			var parts []string
			for _, it := range items {
				t, ok := it.(Tuple)
				if !ok || len(t) != 2 {
					return nil, newErr(ErrValue, "need pairs")
				}
				parts = append(parts, urlQuote(toStr(t[0]), false)+"="+urlQuote(toStr(t[1]), false))
			}
			return strings.Join(parts, "&"), nil
		}
		return urlQuote(toStr(v), true), nil
	})
	simple("urlize", []string{"trim_url_limit", "nofollow", "target", "rel", "extra_schemes"}, 0, func(st *state, v any, p []any) (any, error) {
		return urlize(strArg(v), or(p[0], nil), truth(or(p[1], false)), or(p[2], nil), or(p[3], nil)), nil
	})
	simple("wordcount", nil, 0, func(st *state, v any, p []any) (any, error) {
		return int64(len(wordRe().FindAllString(strArg(v), -1))), nil
	})
	simple("wordwrap", []string{"width", "break_long_words", "wrapstring", "break_on_hyphens"}, 0, func(st *state, v any, p []any) (any, error) {
		if err := st.charge(len(strArg(v))); err != nil {
			return nil, err
		}
		if u, ok := v.(Undefined); ok {
			return nil, u.err()
		}
		w, err := argInt("wordwrap", or(p[0], int64(79)))
		if err != nil {
			return nil, err
		}
		if w <= 0 {
			return nil, newErr(ErrValue, "invalid width %d (must be > 0)", w)
		}
		wrap := or(p[2], nil)
		if wrap == nil {
			wrap = "\n"
		}
		return wordwrap(strArg(v), int(min(w, maxRepeat)), truth(or(p[1], true)), strArg(wrap), truth(or(p[3], true))), nil
	})
	simple("xmlattr", []string{"autospace"}, 0, func(st *state, v any, p []any) (any, error) {
		if u, ok := v.(Undefined); ok {
			return nil, u.err()
		}
		d, ok := v.(*Dict)
		if !ok {
			return nil, newErr(ErrAttribute, "'%s' object has no attribute 'items'", typeName(v))
		}
		var parts []string
		for i, k := range d.keys {
			val := d.vals[i]
			if val == nil {
				continue
			}
			if _, ok := val.(Undefined); ok {
				continue
			}
			ks := toStr(k)
			if strings.ContainsAny(ks, " />=\t\n\f") {
				return nil, newErr(ErrValue, "Invalid character in attribute name: %s", pyQuote(ks))
			}
			parts = append(parts, htmlEscape(ks)+`="`+htmlEscape(toStr(val))+`"`)
		}
		s := strings.Join(parts, " ")
		if s != "" && truth(or(p[0], true)) {
			s = " " + s
		}
		return Markup(s), nil
	})
}

var (
	commentRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<!--.*?-->`) })
	tagRe     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<[^>]*>`) })
	wordRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[\p{L}\p{N}_]+`) })
)

func iterSeq(v any) ([]any, error) {
	if r, ok := v.(*rangeVal); ok {
		return r.items(), nil
	}
	return iterate(v)
}

func toFloatPy(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64, *big.Int, bool:
		return toFloat(x), true
	case string, Markup:
		s := strings.TrimFunc(strArg(x), isPySpace)
		s = strings.ReplaceAll(s, "_", "")
		ls := strings.ToLower(s)
		switch strings.TrimLeft(ls, "+-") {
		case "inf", "infinity":
			if strings.HasPrefix(ls, "-") {
				return math.Inf(-1), true
			}
			return math.Inf(1), true
		case "nan":
			return math.NaN(), true
		}
		if strings.ContainsAny(ls, "xp") {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return f, true
			}
			return 0, false
		}
		return f, true
	}
	return 0, false
}

func parsePyInt(s string, base int) (any, bool) {
	s = strings.TrimFunc(s, isPySpace)
	neg := false
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		neg = s[0] == '-'
		s = s[1:]
	}
	ls := strings.ToLower(s)
	if base == 16 && strings.HasPrefix(ls, "0x") || base == 8 && strings.HasPrefix(ls, "0o") || base == 2 && strings.HasPrefix(ls, "0b") {
		s = s[2:]
	} else if base == 0 {
		switch {
		case strings.HasPrefix(ls, "0x"):
			base, s = 16, s[2:]
		case strings.HasPrefix(ls, "0o"):
			base, s = 8, s[2:]
		case strings.HasPrefix(ls, "0b"):
			base, s = 2, s[2:]
		default:
			base = 10
		}
	}
	if s == "" || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") || base < 2 || base > 36 {
		return nil, false
	}
	b, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), base)
	if !ok {
		return nil, false
	}
	if neg {
		b.Neg(b)
	}
	return normInt(b), true
}

// pyRound rounds like Python's round(float, ndigits).
func pyRound(x float64, prec int64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	if prec > 300 {
		return x
	}
	if prec >= 0 {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', int(prec), 64), 64)
		return r
	}
	scale := math.Pow(10, float64(-prec))
	y := x / scale
	r := math.RoundToEven(y)
	if math.Abs(y-math.Trunc(y)) != 0.5 {
		r = math.Round(y)
	}
	return r * scale
}

func pyRoundInt(b *big.Int, prec int64) any {
	if prec < -1000 {
		return int64(0)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(-prec), nil)
	q, m := new(big.Int).DivMod(b, scale, new(big.Int))
	twice := new(big.Int).Mul(m, big.NewInt(2))
	c := twice.Cmp(scale)
	if c > 0 || c == 0 && q.Bit(0) == 1 {
		q.Add(q, big.NewInt(1))
	}
	return normInt(q.Mul(q, scale))
}

func jinjaTitle(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if start && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(unicode.ToUpper(r))
			start = false
			continue
		}
		if unicode.IsSpace(r) || strings.ContainsRune("-([{<", r) {
			b.WriteRune(r)
			start = true
			continue
		}
		if start {
			b.WriteRune(r)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// pyRepr is repr with dict keys sorted, as pprint prints them.
func pyRepr(v any, depth int) string { return pyReprS(v, nil) }

func pyReprS(v any, stack []any) string {
	if len(stack) > maxNest {
		return "..."
	}
	switch x := v.(type) {
	case *Dict:
		if onStack(stack, x) {
			return "{...}"
		}
		stack = append(stack, x)
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		n := 0
		for i, k := range keys {
			val, _ := x.Get(k)
			parts[i] = pyReprS(k, stack) + ": " + pyReprS(val, stack)
			if n += len(parts[i]); n > maxRepr {
				return "{...}"
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *List:
		if onStack(stack, x) {
			return "[...]"
		}
		stack = append(stack, x)
		parts := make([]string, len(x.Items))
		n := 0
		for i, e := range x.Items {
			parts[i] = pyReprS(e, stack)
			if n += len(parts[i]); n > maxRepr {
				return "[...]"
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case Tuple:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyReprS(e, stack)
		}
		if len(x) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return repr(v)
}

func sortedKeys(d *Dict) []any {
	keys := append([]any(nil), d.keys...)
	sort.SliceStable(keys, func(i, j int) bool {
		c, err := order(keys[i], keys[j], "lt")
		if err != nil {
			return typeName(keys[i]) < typeName(keys[j])
		}
		return c < 0
	})
	return keys
}

// pformat writes v as Python's pprint.pformat (width 80) does.
func pformat(b *strings.Builder, v any, indent, allowance, depth int) {
	rep := pyRepr(v, depth)
	if utf8.RuneCountInString(rep) <= 80-indent-allowance || depth > maxNest/4 || len(rep) > maxRepr {
		b.WriteString(rep)
		return
	}
	switch x := v.(type) {
	case *List:
		b.WriteByte('[')
		pformatItems(b, x.Items, indent, allowance+1, depth)
		b.WriteByte(']')
	case Tuple:
		end := ")"
		if len(x) == 1 {
			end = ",)"
		}
		b.WriteByte('(')
		pformatItems(b, x, indent, allowance+len(end), depth)
		b.WriteString(end)
	case *Dict:
		b.WriteByte('{')
		keys := sortedKeys(x)
		ind := indent + 1
		for i, k := range keys {
			last := i == len(keys)-1
			kr := pyRepr(k, depth+1)
			b.WriteString(kr + ": ")
			val, _ := x.Get(k)
			al := 1
			if last {
				al = allowance + 1
			}
			pformat(b, val, ind+utf8.RuneCountInString(kr)+2, al, depth+1)
			if !last {
				b.WriteString(",\n" + strings.Repeat(" ", ind))
			}
		}
		b.WriteByte('}')
	default:
		b.WriteString(rep)
	}
}

func pformatItems(b *strings.Builder, items []any, indent, allowance, depth int) {
	indent++
	for i, it := range items {
		if i > 0 {
			b.WriteString(",\n" + strings.Repeat(" ", indent))
		}
		al := 1
		if i == len(items)-1 {
			al = allowance
		}
		pformat(b, it, indent, al, depth+1)
	}
}

// attrGetter resolves "a.b.0" paths (or integer keys) as Jinja2's
// make_attrgetter does.
func attrGetter(st *state, attr any, def any) func(any) (any, error) {
	var parts []any
	if s, ok := attr.(string); ok {
		for _, p := range strings.Split(s, ".") {
			if n, err := strconv.Atoi(p); err == nil {
				parts = append(parts, int64(n))
			} else {
				parts = append(parts, p)
			}
		}
	} else {
		parts = []any{attr}
	}
	return func(x any) (any, error) {
		for _, p := range parts {
			var err error
			x, err = getitem(st, x, p)
			if err != nil {
				return nil, err
			}
			if _, ok := x.(Undefined); ok && def != missing {
				return def, nil
			}
		}
		return x, nil
	}
}

func sortKey(st *state, attr any, caseSensitive bool) (func(any) any, error) {
	var get func(any) (any, error)
	if attr != missing && attr != nil {
		get = attrGetter(st, attr, missing)
	}
	return func(x any) any {
		if get != nil {
			x, _ = get(x)
		}
		if !caseSensitive {
			if s, ok := x.(string); ok {
				return strings.ToLower(s)
			}
		}
		return x
	}, nil
}

func mapFunc(st *state, a *argv) (func(any) (any, error), error) {
	if len(a.args) == 0 {
		if at, ok := a.kwarg("attribute"); ok {
			def, hasDef := a.kwarg("default")
			if !hasDef {
				def = missing
			}
			get := attrGetter(st, at, def)
			return get, nil
		}
		return nil, newErr(ErrFilterArgument, "map requires a filter argument")
	}
	name := toStr(a.args[0])
	fl, ok := st.env.filter(name)
	if !ok {
		return nil, newErr(ErrTemplateRuntime, "No filter named %s.", pyQuote(name))
	}
	rest := &argv{args: a.args[1:], kw: a.kw}
	return func(x any) (any, error) { return fl(st, x, rest) }, nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", `"`, "&#34;").Replace(s)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&#34;", `"`, "&quot;", `"`, "&nbsp;", "\u00a0").Replace(s)
}

func urlQuote(s string, forPath bool) string {
	safe := "_.-~"
	if forPath {
		safe += "/"
	} else {
		return strings.ReplaceAll(urlQuote0(s, safe), "%20", "+")
	}
	return urlQuote0(s, safe)
}

func urlQuote0(s, safe string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	_ = url.QueryEscape
	return b.String()
}

var urlRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(https?://|www\.)[^\s<>"]+$|^[^\s@<>"]+@[^\s@<>"]+\.[a-zA-Z]+$`)
})

func urlize(s string, limit any, nofollow bool, target, rel any) string {
	words := regexp.MustCompile(`(\s+)`).Split(s, -1)
	spaces := regexp.MustCompile(`(\s+)`).FindAllString(s, -1)
	relAttr := ""
	relParts := []string{}
	if r := or(rel, nil); r != nil {
		relParts = append(relParts, toStr(r))
	}
	if nofollow {
		relParts = append(relParts, "nofollow")
	}
	relParts = append(relParts, "noopener")
	sort.Strings(relParts)
	relAttr = ` rel="` + htmlEscape(strings.Join(uniqStrings(relParts), " ")) + `"`
	tgt := ""
	if t := or(target, nil); t != nil {
		tgt = ` target="` + htmlEscape(toStr(t)) + `"`
	}
	var b strings.Builder
	for i, w := range words {
		head, mid, tail := "", w, ""
		for strings.HasSuffix(mid, ".") || strings.HasSuffix(mid, ",") || strings.HasSuffix(mid, ")") || strings.HasSuffix(mid, "!") {
			tail = mid[len(mid)-1:] + tail
			mid = mid[:len(mid)-1]
		}
		for strings.HasPrefix(mid, "(") || strings.HasPrefix(mid, "<") {
			head += mid[:1]
			mid = mid[1:]
		}
		display := mid
		if l := or(limit, nil); l != nil {
			if n, ok := l.(int64); ok && int64(len(display)) > n {
				display = display[:n] + "..."
			}
		}
		switch {
		case strings.HasPrefix(mid, "http://") || strings.HasPrefix(mid, "https://"):
			b.WriteString(htmlEscape(head) + `<a href="` + htmlEscape(mid) + `"` + relAttr + tgt + `>` + htmlEscape(display) + `</a>` + htmlEscape(tail))
		case strings.HasPrefix(mid, "www."):
			b.WriteString(htmlEscape(head) + `<a href="https://` + htmlEscape(mid) + `"` + relAttr + tgt + `>` + htmlEscape(display) + `</a>` + htmlEscape(tail))
		case urlRe().MatchString(mid) && strings.Contains(mid, "@") && !strings.Contains(mid, ":"):
			b.WriteString(htmlEscape(head) + `<a href="mailto:` + htmlEscape(mid) + `">` + htmlEscape(mid) + `</a>` + htmlEscape(tail))
		default:
			b.WriteString(htmlEscape(w))
		}
		if i < len(spaces) {
			b.WriteString(spaces[i])
		}
	}
	return b.String()
}

func uniqStrings(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// wordwrap is Jinja2's wordwrap: Python's textwrap.wrap on every line
// (no tab expansion, whitespace kept, whitespace dropped at line edges).
func wordwrap(s string, width int, breakLong bool, wrap string, hyphens bool) string {
	var out []string
	for _, line := range splitlines(s, false).Items {
		out = append(out, strings.Join(textwrap(line.(string), width, breakLong, hyphens), wrap))
	}
	return strings.Join(out, wrap)
}

func isWS(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
}

func isLetterPy(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isWordPy(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func isWordPunct(r rune) bool { return isWordPy(r) || strings.ContainsRune("!\"'&.,?", r) }

// textwrapChunks splits text as textwrap's wordsep_re (or, without hyphen
// breaking, wordsep_simple_re) does.
func textwrapChunks(text []rune, hyphens bool) [][]rune {
	var chunks [][]rune
	n := len(text)
	at := func(i int) rune {
		if i < 0 || i >= n {
			return 0
		}
		return text[i]
	}
	i := 0
	for i < n {
		start := i
		if isWS(text[i]) {
			for i < n && isWS(text[i]) {
				i++
			}
			chunks = append(chunks, text[start:i])
			continue
		}
		if !hyphens {
			for i < n && !isWS(text[i]) {
				i++
			}
			chunks = append(chunks, text[start:i])
			continue
		}
		// em-dash between words
		if text[i] == '-' && i > 0 && isWordPunct(at(i-1)) {
			j := i
			for j < n && text[j] == '-' {
				j++
			}
			if j-i >= 2 && j < n && isWordPy(text[j]) {
				chunks = append(chunks, text[i:j])
				i = j
				continue
			}
		}
		// a word, possibly ending at a hyphen
		k := i + 1
		for {
			if k >= n || isWS(text[k]) {
				break
			}
			if text[k] == '-' {
				behind := (isLetterPy(at(k-2)) && isLetterPy(at(k-1))) ||
					(isLetterPy(at(k-3)) && at(k-2) == '-' && isLetterPy(at(k-1)))
				ahead := isLetterPy(at(k+1)) && (isLetterPy(at(k+2)) || (at(k+2) == '-' && isLetterPy(at(k+3))))
				if behind && ahead {
					k++
					break
				}
			}
			if isWordPunct(at(k-1)) && at(k) == '-' && at(k+1) == '-' {
				j := k
				for j < n && text[j] == '-' {
					j++
				}
				if j < n && isWordPy(text[j]) {
					break
				}
			}
			k++
		}
		chunks = append(chunks, text[i:k])
		i = k
	}
	return chunks
}

func isBlank(c []rune) bool {
	for _, r := range c {
		if !isPySpace(r) {
			return false
		}
	}
	return true
}

// textwrap is Python's textwrap.wrap with Jinja2's settings.
func textwrap(line string, width int, breakLong, hyphens bool) []string {
	chunks := textwrapChunks([]rune(line), hyphens)
	for l, r := 0, len(chunks)-1; l < r; l, r = l+1, r-1 {
		chunks[l], chunks[r] = chunks[r], chunks[l]
	}
	var lines []string
	for len(chunks) > 0 {
		var cur [][]rune
		curLen := 0
		if isBlank(chunks[len(chunks)-1]) && len(lines) > 0 {
			chunks = chunks[:len(chunks)-1]
		}
		for len(chunks) > 0 {
			l := len(chunks[len(chunks)-1])
			if curLen+l <= width {
				cur = append(cur, chunks[len(chunks)-1])
				chunks = chunks[:len(chunks)-1]
				curLen += l
			} else {
				break
			}
		}
		if len(chunks) > 0 && len(chunks[len(chunks)-1]) > width {
			spaceLeft := width - curLen
			if width < 1 {
				spaceLeft = 1
			}
			chunk := chunks[len(chunks)-1]
			if breakLong {
				end := spaceLeft
				if hyphens && len(chunk) > spaceLeft {
					hy := -1
					for x := min(spaceLeft, len(chunk)) - 1; x >= 0; x-- {
						if chunk[x] == '-' {
							hy = x
							break
						}
					}
					if hy > 0 {
						for _, c := range chunk[:hy] {
							if c != '-' {
								end = hy + 1
								break
							}
						}
					}
				}
				cur = append(cur, chunk[:end])
				chunks[len(chunks)-1] = chunk[end:]
			} else if len(cur) == 0 {
				cur = append(cur, chunk)
				chunks = chunks[:len(chunks)-1]
			}
			curLen = 0
			for _, c := range cur {
				curLen += len(c)
			}
		}
		if len(cur) > 0 && isBlank(cur[len(cur)-1]) {
			cur = cur[:len(cur)-1]
		}
		if len(cur) > 0 {
			var b strings.Builder
			for _, c := range cur {
				b.WriteString(string(c))
			}
			lines = append(lines, b.String())
		}
	}
	return lines
}

// pyJSON writes v as Python's json.dumps(v, sort_keys=True) does.
func pyJSON(b *strings.Builder, v any, indent string, pretty bool, level int) error {
	return pyJSONS(b, v, indent, pretty, level, nil)
}

func pyJSONS(b *strings.Builder, v any, indent string, pretty bool, level int, stack []any) error {
	if level > maxNest || b.Len() > maxRepr {
		return newErr(ErrValue, "Circular reference detected")
	}
	switch x := v.(type) {
	case *List, *Dict:
		if onStack(stack, x) {
			return newErr(ErrValue, "Circular reference detected")
		}
		stack = append(stack, x)
	}
	nl := func(l int) {
		if pretty {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(indent, l))
		}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64, *big.Int:
		b.WriteString(toStr(x))
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("NaN")
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(formatFloat(x))
		}
	case string, Markup:
		s := strArg(x)
		var sb strings.Builder
		sb.WriteByte('"')
		for _, r := range s {
			switch {
			case r == '"':
				sb.WriteString(`\"`)
			case r == '\\':
				sb.WriteString(`\\`)
			case r == '\n':
				sb.WriteString(`\n`)
			case r == '\r':
				sb.WriteString(`\r`)
			case r == '\t':
				sb.WriteString(`\t`)
			case r == '\b':
				sb.WriteString(`\b`)
			case r == '\f':
				sb.WriteString(`\f`)
			case r < 0x20 || r > 0x7e:
				if r > 0xffff {
					r -= 0x10000
					fmt.Fprintf(&sb, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					fmt.Fprintf(&sb, `\u%04x`, r)
				}
			default:
				sb.WriteRune(r)
			}
		}
		sb.WriteByte('"')
		b.WriteString(sb.String())
	case *List, Tuple:
		items, _ := iterSeq(x)
		if len(items) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
				if !pretty {
					b.WriteByte(' ')
				}
			}
			nl(level + 1)
			if err := pyJSONS(b, it, indent, pretty, level+1, stack); err != nil {
				return err
			}
		}
		nl(level)
		b.WriteByte(']')
	case *Dict:
		if len(x.keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		type kv struct {
			k string
			v any
		}
		var kvs []kv
		for i, k := range x.keys {
			var ks string
			switch kk := k.(type) {
			case string:
				ks = kk
			case bool:
				ks = map[bool]string{true: "true", false: "false"}[kk]
			case nil:
				ks = "null"
			case int64, *big.Int, float64:
				ks = toStr(kk)
			default:
				return newErr(ErrType, "keys must be str, int, float, bool or None, not %s", typeName(k))
			}
			kvs = append(kvs, kv{ks, x.vals[i]})
		}
		for _, k := range x.keys {
			if _, ok := k.(string); !ok {
				return newErr(ErrType, "'<' not supported between instances")
			}
		}
		sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b.WriteByte('{')
		for i, e := range kvs {
			if i > 0 {
				b.WriteByte(',')
				if !pretty {
					b.WriteByte(' ')
				}
			}
			nl(level + 1)
			js, _ := json.Marshal(e.k)
			_ = js
			if err := pyJSONS(b, e.k, indent, pretty, level+1, stack); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := pyJSONS(b, e.v, indent, pretty, level+1, stack); err != nil {
				return err
			}
		}
		nl(level)
		b.WriteByte('}')
	case Undefined:
		return newErr(ErrType, "Object of type Undefined is not JSON serializable")
	default:
		return newErr(ErrType, "Object of type %s is not JSON serializable", typeName(v))
	}
	return nil
}

// ---- tests ----

var builtinTests map[string]testFn

func initTests() {
	t := map[string]testFn{}
	builtinTests = t
	one := func(name string, fn func(v any) bool) {
		t[name] = func(st *state, v any, a *argv) (bool, error) {
			if len(a.args) > 0 || len(a.kw) > 0 {
				return false, newErr(ErrType, "test_%s() takes 1 positional argument but %d were given", name, 1+len(a.args))
			}
			return fn(v), nil
		}
	}
	two := func(names []string, fn func(st *state, v, other any) (bool, error)) {
		for _, n := range names {
			name := n
			t[name] = func(st *state, v any, a *argv) (bool, error) {
				p, err := a.bind(name, []string{"other"}, 1)
				if err != nil {
					return false, err
				}
				return fn(st, v, p[0])
			}
		}
	}
	one("defined", func(v any) bool { _, u := v.(Undefined); return !u })
	one("undefined", func(v any) bool { _, u := v.(Undefined); return u })
	one("none", func(v any) bool { return v == nil })
	one("boolean", func(v any) bool { _, ok := v.(bool); return ok })
	one("true", func(v any) bool { b, ok := v.(bool); return ok && b })
	one("false", func(v any) bool { b, ok := v.(bool); return ok && !b })
	one("integer", func(v any) bool {
		switch v.(type) {
		case int64, *big.Int:
			return true
		}
		return false
	})
	one("float", func(v any) bool { _, ok := v.(float64); return ok })
	one("number", isNumber)
	one("string", isString)
	one("mapping", func(v any) bool { _, ok := v.(*Dict); return ok })
	one("iterable", func(v any) bool {
		switch v.(type) {
		case *rangeVal, *dictView, *genVal:
			return true
		}
		return isIterable(v)
	})
	one("sequence", func(v any) bool {
		switch v.(type) {
		case *List, Tuple, string, Markup, *Dict, *rangeVal, Undefined:
			return true
		}
		return false
	})
	one("callable", func(v any) bool {
		if _, ok := v.(Undefined); ok {
			return true
		}
		return isCallable(v) || func() bool { _, ok := v.(*joiner); return ok }()
	})
	one("escaped", func(v any) bool { _, ok := v.(Markup); return ok })
	one("lower", func(v any) bool { s := toStr(v); return hasCased(s) && strings.ToLower(s) == s })
	one("upper", func(v any) bool { s := toStr(v); return hasCased(s) && strings.ToUpper(s) == s })
	intTest := func(name string, want int64) {
		t[name] = func(st *state, v any, a *argv) (bool, error) {
			if len(a.args) > 0 {
				return false, newErr(ErrType, "test_%s() takes 1 positional argument", name)
			}
			m, err := binop(st, "%", v, int64(2))
			if err != nil {
				return false, err
			}
			return equal(m, want), nil
		}
	}
	intTest("odd", 1)
	intTest("even", 0)
	two([]string{"divisibleby"}, func(st *state, v, o any) (bool, error) {
		m, err := binop(st, "%", v, o)
		if err != nil {
			return false, err
		}
		return equal(m, int64(0)), nil
	})
	two([]string{"eq", "equalto", "=="}, func(st *state, v, o any) (bool, error) { return equal(v, o), nil })
	two([]string{"ne", "!="}, func(st *state, v, o any) (bool, error) { return !equal(v, o), nil })
	for _, c := range [][]string{{"lt", "lessthan", "<"}, {"le", "<="}, {"gt", "greaterthan", ">"}, {"ge", ">="}} {
		op := map[string]string{"lt": "lt", "le": "lteq", "gt": "gt", "ge": "gteq"}[c[0]]
		two(c, func(st *state, v, o any) (bool, error) { return compareOp(op, v, o) })
	}
	two([]string{"in"}, func(st *state, v, o any) (bool, error) { return contains(o, v) })
	two([]string{"sameas"}, func(st *state, v, o any) (bool, error) {
		switch x := v.(type) {
		case nil, bool:
			return v == o, nil
		case *List, *Dict, *Macro, *Namespace:
			return v == o, nil
		case int64:
			y, ok := o.(int64)
			return ok && x == y && x >= -5 && x <= 256, nil
		case string:
			y, ok := o.(string)
			return ok && x == y, nil
		case Undefined:
			return false, nil
		}
		return false, nil
	})
	t["filter"] = func(st *state, v any, a *argv) (bool, error) {
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		_, ok = st.env.filter(s)
		return ok, nil
	}
	t["test"] = func(st *state, v any, a *argv) (bool, error) {
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		_, ok = st.env.test(s)
		return ok, nil
	}
}
