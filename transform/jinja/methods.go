package jinja

import (
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// bind maps call arguments onto named parameters; required is the number
// of leading parameters that must be given. Missing optional parameters are
// returned as the missing sentinel.
type missingT struct{}

var missing = missingT{}

func (a *argv) bind(fn string, names []string, required int) ([]any, error) {
	if len(a.args) > len(names) {
		return nil, newErr(ErrType, "%s() takes at most %d arguments (%d given)", fn, len(names), len(a.args))
	}
	out := make([]any, len(names))
	for i := range out {
		out[i] = missing
	}
	copy(out, a.args)
	for _, kv := range a.kw {
		found := false
		for i, n := range names {
			if n == kv.name {
				if i < len(a.args) {
					return nil, newErr(ErrType, "%s() got multiple values for argument '%s'", fn, n)
				}
				out[i] = kv.val
				found = true
			}
		}
		if !found {
			return nil, newErr(ErrType, "%s() got an unexpected keyword argument '%s'", fn, kv.name)
		}
	}
	for i := 0; i < required; i++ {
		if out[i] == missing {
			return nil, newErr(ErrType, "%s() missing required argument: '%s'", fn, names[i])
		}
	}
	return out, nil
}

func or(v, def any) any {
	if v == missing {
		return def
	}
	return v
}

func argStr(fn string, v any) (string, error) {
	if s, ok := strOf(v); ok {
		return s, nil
	}
	return "", newErr(ErrType, "%s() argument must be str, not %s", fn, typeName(v))
}

func argInt(fn string, v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *big.Int:
		return 0, newErr(ErrOverflow, "Python int too large to convert to C ssize_t")
	}
	return 0, newErr(ErrType, "'%s' object cannot be interpreted as an integer", typeName(v))
}

func callMethod(st *state, m *boundMethod, a *argv) (any, error) {
	switch r := m.recv.(type) {
	case string:
		return strMethod(st, r, m.name, a)
	case *List:
		return listMethod(st, r, m.name, a)
	case Tuple:
		return seqMethod(r, m.name, a)
	case *Dict:
		return dictMethod(r, m.name, a)
	case *cycler:
		if m.name == "next" {
			v := r.items[r.pos]
			r.pos = (r.pos + 1) % len(r.items)
			return v, nil
		}
		r.pos = 0
		return nil, nil
	case *rangeVal:
		return seqMethod(r.items(), m.name, a)
	case float64:
		return float64(int64(r)) == r, nil
	}
	return nil, newErr(ErrType, "unsupported method %s", m.name)
}

func seqMethod(items []any, name string, a *argv) (any, error) {
	switch name {
	case "count":
		p, err := a.bind("count", []string{"x"}, 1)
		if err != nil {
			return nil, err
		}
		n := int64(0)
		for _, it := range items {
			if equal(it, p[0]) {
				n++
			}
		}
		return n, nil
	case "index":
		p, err := a.bind("index", []string{"x", "start", "stop"}, 1)
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			if equal(it, p[0]) {
				return int64(i), nil
			}
		}
		return nil, newErr(ErrValue, "%s is not in list", repr(p[0]))
	}
	return nil, newErr(ErrType, "unsupported method %s", name)
}

func listMethod(st *state, l *List, name string, a *argv) (any, error) {
	switch name {
	case "append":
		p, err := a.bind("append", []string{"object"}, 1)
		if err != nil {
			return nil, err
		}
		if len(l.Items) >= maxRepeat {
			return nil, newErr(ErrMemory, "list too large")
		}
		l.Items = append(l.Items, p[0])
		return nil, nil
	case "extend":
		p, err := a.bind("extend", []string{"iterable"}, 1)
		if err != nil {
			return nil, err
		}
		items, err := iterate(p[0])
		if err != nil {
			return nil, err
		}
		if len(l.Items)+len(items) > maxRepeat {
			return nil, newErr(ErrMemory, "list too large")
		}
		l.Items = append(l.Items, append([]any(nil), items...)...)
		return nil, nil
	case "insert":
		p, err := a.bind("insert", []string{"index", "object"}, 2)
		if err != nil {
			return nil, err
		}
		i, err := argInt("insert", p[0])
		if err != nil {
			return nil, err
		}
		n := int64(len(l.Items))
		if i < 0 {
			i += n
			if i < 0 {
				i = 0
			}
		}
		if i > n {
			i = n
		}
		l.Items = append(l.Items, nil)
		copy(l.Items[i+1:], l.Items[i:])
		l.Items[i] = p[1]
		return nil, nil
	case "pop":
		p, err := a.bind("pop", []string{"index"}, 0)
		if err != nil {
			return nil, err
		}
		if len(l.Items) == 0 {
			return nil, newErr(ErrIndex, "pop from empty list")
		}
		i := int64(len(l.Items) - 1)
		if p[0] != missing {
			i, err = argInt("pop", p[0])
			if err != nil {
				return nil, err
			}
			if i < 0 {
				i += int64(len(l.Items))
			}
			if i < 0 || i >= int64(len(l.Items)) {
				return nil, newErr(ErrIndex, "pop index out of range")
			}
		}
		v := l.Items[i]
		l.Items = append(l.Items[:i:i], l.Items[i+1:]...)
		return v, nil
	case "remove":
		p, err := a.bind("remove", []string{"value"}, 1)
		if err != nil {
			return nil, err
		}
		for i, it := range l.Items {
			if equal(it, p[0]) {
				l.Items = append(l.Items[:i:i], l.Items[i+1:]...)
				return nil, nil
			}
		}
		return nil, newErr(ErrValue, "list.remove(x): x not in list")
	case "reverse":
		for i, j := 0, len(l.Items)-1; i < j; i, j = i+1, j-1 {
			l.Items[i], l.Items[j] = l.Items[j], l.Items[i]
		}
		return nil, nil
	case "sort":
		p, err := a.bind("sort", []string{"key", "reverse"}, 0)
		if err != nil {
			return nil, err
		}
		var key func(any) any
		if f := or(p[0], nil); f != nil {
			var kerr error
			key = func(v any) any {
				r, err := st.call(f, &argv{args: []any{v}}, pos{})
				if err != nil && kerr == nil {
					kerr = err
				}
				return r
			}
			if err := sortValues(l.Items, key, truth(or(p[1], false))); err != nil {
				return nil, err
			}
			return nil, kerr
		}
		return nil, sortValues(l.Items, nil, truth(or(p[1], false)))
	case "copy":
		return &List{Items: append([]any(nil), l.Items...)}, nil
	case "clear":
		l.Items = nil
		return nil, nil
	}
	return seqMethod(l.Items, name, a)
}

func dictMethod(d *Dict, name string, a *argv) (any, error) {
	switch name {
	case "items", "keys", "values":
		if len(a.args)+len(a.kw) > 0 {
			return nil, newErr(ErrType, "dict.%s() takes no arguments", name)
		}
		return &dictView{kind: name, d: d}, nil
	case "get":
		p, err := a.bind("get", []string{"key", "default"}, 1)
		if err != nil {
			return nil, err
		}
		if _, err := hashKey(p[0]); err != nil {
			return nil, err
		}
		if v, ok := d.Get(p[0]); ok {
			return v, nil
		}
		return or(p[1], nil), nil
	case "setdefault":
		p, err := a.bind("setdefault", []string{"key", "default"}, 1)
		if err != nil {
			return nil, err
		}
		if v, ok := d.Get(p[0]); ok {
			return v, nil
		}
		v := or(p[1], nil)
		return v, d.Set(p[0], v)
	case "update":
		if len(a.args) > 1 {
			return nil, newErr(ErrType, "update expected at most 1 argument, got %d", len(a.args))
		}
		if len(a.args) == 1 {
			switch x := a.args[0].(type) {
			case *Dict:
				for i, k := range x.keys {
					d.Set(k, x.vals[i])
				}
			default:
				items, err := iterate(x)
				if err != nil {
					return nil, err
				}
				for _, it := range items {
					pair, err := iterate(it)
					if err != nil || len(pair) != 2 {
						return nil, newErr(ErrValue, "dictionary update sequence element has wrong length")
					}
					if err := d.Set(pair[0], pair[1]); err != nil {
						return nil, err
					}
				}
			}
		}
		for _, kv := range a.kw {
			d.setStr(kv.name, kv.val)
		}
		return nil, nil
	case "pop":
		p, err := a.bind("pop", []string{"key", "default"}, 1)
		if err != nil {
			return nil, err
		}
		if v, ok := d.delete(p[0]); ok {
			return v, nil
		}
		if p[1] != missing {
			return p[1], nil
		}
		return nil, newErr(ErrKey, "%s", repr(p[0]))
	case "popitem":
		if len(d.keys) == 0 {
			return nil, newErr(ErrKey, "'popitem(): dictionary is empty'")
		}
		k := d.keys[len(d.keys)-1]
		v, _ := d.delete(k)
		return Tuple{k, v}, nil
	case "copy":
		return d.copy(), nil
	case "clear":
		*d = *NewDict()
		return nil, nil
	}
	return nil, newErr(ErrType, "unsupported method %s", name)
}

func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85:
		return true
	}
	return r > 0x7f && unicode.IsSpace(r)
}

func pyStrip(s string, chars any, left, right bool) (string, error) {
	if chars == missing || chars == nil {
		if left {
			s = strings.TrimLeftFunc(s, isPySpace)
		}
		if right {
			s = strings.TrimRightFunc(s, isPySpace)
		}
		return s, nil
	}
	cs, ok := strOf(chars)
	if !ok {
		return "", newErr(ErrType, "strip arg must be None or str")
	}
	if left {
		s = strings.TrimLeft(s, cs)
	}
	if right {
		s = strings.TrimRight(s, cs)
	}
	return s, nil
}

// pySplit is str.split / rsplit.
func pySplit(s string, sep any, maxsplit int64, right bool) (*List, error) {
	out := &List{}
	if sep == missing || sep == nil {
		fields := []string{}
		if maxsplit < 0 {
			for _, f := range strings.FieldsFunc(s, isPySpace) {
				fields = append(fields, f)
			}
		} else if !right {
			rest := strings.TrimLeftFunc(s, isPySpace)
			for rest != "" {
				if int64(len(fields)) == maxsplit {
					fields = append(fields, rest)
					break
				}
				i := strings.IndexFunc(rest, isPySpace)
				if i < 0 {
					fields = append(fields, rest)
					break
				}
				fields = append(fields, rest[:i])
				rest = strings.TrimLeftFunc(rest[i:], isPySpace)
			}
		} else {
			rest := strings.TrimRightFunc(s, isPySpace)
			for rest != "" {
				if int64(len(fields)) == maxsplit {
					fields = append(fields, rest)
					break
				}
				i := strings.LastIndexFunc(rest, isPySpace)
				if i < 0 {
					fields = append(fields, rest)
					break
				}
				_, n := utf8.DecodeRuneInString(rest[i:])
				fields = append(fields, rest[i+n:])
				rest = strings.TrimRightFunc(rest[:i], isPySpace)
			}
			for i, j := 0, len(fields)-1; i < j; i, j = i+1, j-1 {
				fields[i], fields[j] = fields[j], fields[i]
			}
		}
		for _, f := range fields {
			out.Items = append(out.Items, f)
		}
		return out, nil
	}
	sp, ok := strOf(sep)
	if !ok {
		return nil, newErr(ErrType, "must be str or None, not %s", typeName(sep))
	}
	if sp == "" {
		return nil, newErr(ErrValue, "empty separator")
	}
	var parts []string
	if maxsplit < 0 {
		parts = strings.Split(s, sp)
	} else if !right {
		parts = strings.SplitN(s, sp, int(min(maxsplit, 1<<30))+1)
	} else {
		rest := s
		for int64(len(parts)) < maxsplit {
			i := strings.LastIndex(rest, sp)
			if i < 0 {
				break
			}
			parts = append(parts, rest[i+len(sp):])
			rest = rest[:i]
		}
		parts = append(parts, rest)
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	for _, p := range parts {
		out.Items = append(out.Items, p)
	}
	return out, nil
}

// runeIndex converts a byte offset to a rune index.
func runeIndex(s string, b int) int64 { return int64(utf8.RuneCountInString(s[:b])) }

func substrRange(s string, p []any, from int) (string, int, error) {
	// returns the substring s[start:end] (in runes) and the byte offset of start
	r := []rune(s)
	n := int64(len(r))
	start, end := int64(0), n
	if v := or(p[from], nil); v != nil {
		i, err := argInt("slice", v)
		if err != nil {
			return "", 0, err
		}
		start = i
	}
	if v := or(p[from+1], nil); v != nil {
		i, err := argInt("slice", v)
		if err != nil {
			return "", 0, err
		}
		end = i
	}
	if start < 0 {
		start = max(start+n, 0)
	}
	if end < 0 {
		end = max(end+n, 0)
	}
	start, end = min(start, n), min(end, n)
	if start > end {
		return "", -1, nil
	}
	return string(r[start:end]), int(start), nil
}

func strMethod(st *state, s, name string, a *argv) (any, error) {
	switch name {
	case "upper":
		return pyUpper(s), nil
	case "lower":
		return pyLower(s), nil
	case "casefold":
		return strings.ReplaceAll(pyLower(s), "ß", "ss"), nil
	case "strip", "lstrip", "rstrip":
		p, err := a.bind(name, []string{"chars"}, 0)
		if err != nil {
			return nil, err
		}
		return pyStrip(s, p[0], name != "rstrip", name != "lstrip")
	case "split", "rsplit":
		p, err := a.bind(name, []string{"sep", "maxsplit"}, 0)
		if err != nil {
			return nil, err
		}
		ms := int64(-1)
		if p[1] != missing {
			ms, err = argInt(name, p[1])
			if err != nil {
				return nil, err
			}
		}
		return pySplit(s, p[0], ms, name == "rsplit")
	case "splitlines":
		p, err := a.bind(name, []string{"keepends"}, 0)
		if err != nil {
			return nil, err
		}
		return splitlines(s, truth(or(p[0], false))), nil
	case "join":
		p, err := a.bind(name, []string{"iterable"}, 1)
		if err != nil {
			return nil, err
		}
		items, err := iterate(p[0])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		for i, it := range items {
			x, ok := strOf(it)
			if !ok {
				return nil, newErr(ErrType, "sequence item %d: expected str instance, %s found", i, typeName(it))
			}
			parts[i] = x
		}
		return strings.Join(parts, s), nil
	case "replace":
		p, err := a.bind(name, []string{"old", "new", "count"}, 2)
		if err != nil {
			return nil, err
		}
		o, err := argStr("replace", p[0])
		if err != nil {
			return nil, err
		}
		nw, err := argStr("replace", p[1])
		if err != nil {
			return nil, err
		}
		n := int64(-1)
		if p[2] != missing {
			n, err = argInt("replace", p[2])
			if err != nil {
				return nil, err
			}
		}
		if o == "" && n < 0 && int64(len(s)+1)*int64(len(nw)) > maxRepeat {
			return nil, newErr(ErrMemory, "result too large")
		}
		return strings.Replace(s, o, nw, int(max(min(n, 1<<30), -1))), nil
	case "startswith", "endswith":
		p, err := a.bind(name, []string{"prefix", "start", "end"}, 1)
		if err != nil {
			return nil, err
		}
		sub, off, err := substrRange(s, p, 1)
		if err != nil {
			return nil, err
		}
		var cands []any
		if t, ok := p[0].(Tuple); ok {
			cands = t
		} else {
			cands = []any{p[0]}
		}
		for _, c := range cands {
			cs, ok := strOf(c)
			if !ok {
				return nil, newErr(ErrType, "%s first arg must be str or a tuple of str, not %s", name, typeName(c))
			}
			if off < 0 {
				continue
			}
			if name == "startswith" && strings.HasPrefix(sub, cs) || name == "endswith" && strings.HasSuffix(sub, cs) {
				return true, nil
			}
		}
		return false, nil
	case "find", "rfind", "index", "rindex", "count":
		p, err := a.bind(name, []string{"sub", "start", "end"}, 1)
		if err != nil {
			return nil, err
		}
		sub, err := argStr(name, p[0])
		if err != nil {
			return nil, err
		}
		hay, off, err := substrRange(s, p, 1)
		if err != nil {
			return nil, err
		}
		if name == "count" {
			if off < 0 {
				return int64(0), nil
			}
			if sub == "" {
				return int64(utf8.RuneCountInString(hay) + 1), nil
			}
			return int64(strings.Count(hay, sub)), nil
		}
		i := -1
		if off >= 0 {
			if name[0] == 'r' {
				i = strings.LastIndex(hay, sub)
			} else {
				i = strings.Index(hay, sub)
			}
		}
		if i < 0 {
			if name == "index" || name == "rindex" {
				return nil, newErr(ErrValue, "substring not found")
			}
			return int64(-1), nil
		}
		return runeIndex(hay, i) + int64(off), nil
	case "capitalize":
		return capitalize(s), nil
	case "title":
		return title(s), nil
	case "swapcase":
		var b strings.Builder
		for _, r := range s {
			if unicode.IsUpper(r) {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
		}
		return b.String(), nil
	case "center", "ljust", "rjust":
		p, err := a.bind(name, []string{"width", "fillchar"}, 1)
		if err != nil {
			return nil, err
		}
		w, err := argInt(name, p[0])
		if err != nil {
			return nil, err
		}
		fill := " "
		if p[1] != missing {
			fill, _ = strOf(p[1])
		}
		return justify(s, name, w, fill)
	case "zfill":
		p, err := a.bind(name, []string{"width"}, 1)
		if err != nil {
			return nil, err
		}
		w, err := argInt(name, p[0])
		if err != nil {
			return nil, err
		}
		n := int64(utf8.RuneCountInString(s))
		if w <= n {
			return s, nil
		}
		if w > maxRepeat {
			return nil, newErr(ErrMemory, "too large")
		}
		sign := ""
		if s != "" && (s[0] == '-' || s[0] == '+') {
			sign, s = s[:1], s[1:]
		}
		return sign + strings.Repeat("0", int(w-n)) + s, nil
	case "partition", "rpartition":
		p, err := a.bind(name, []string{"sep"}, 1)
		if err != nil {
			return nil, err
		}
		sep, err := argStr(name, p[0])
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, newErr(ErrValue, "empty separator")
		}
		var i int
		if name == "partition" {
			i = strings.Index(s, sep)
			if i < 0 {
				return Tuple{s, "", ""}, nil
			}
		} else {
			i = strings.LastIndex(s, sep)
			if i < 0 {
				return Tuple{"", "", s}, nil
			}
		}
		return Tuple{s[:i], sep, s[i+len(sep):]}, nil
	case "removeprefix":
		p, err := a.bind(name, []string{"prefix"}, 1)
		if err != nil {
			return nil, err
		}
		x, err := argStr(name, p[0])
		return strings.TrimPrefix(s, x), err
	case "removesuffix":
		p, err := a.bind(name, []string{"suffix"}, 1)
		if err != nil {
			return nil, err
		}
		x, err := argStr(name, p[0])
		return strings.TrimSuffix(s, x), err
	case "isdigit", "isdecimal", "isnumeric":
		return s != "" && allRunes(s, unicode.IsDigit), nil
	case "isalpha":
		return s != "" && allRunes(s, unicode.IsLetter), nil
	case "isalnum":
		return s != "" && allRunes(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }), nil
	case "isspace":
		return s != "" && allRunes(s, isPySpace), nil
	case "islower":
		return hasCased(s) && strings.ToLower(s) == s, nil
	case "isupper":
		return hasCased(s) && strings.ToUpper(s) == s, nil
	case "istitle":
		return hasCased(s) && title(s) == s, nil
	case "isidentifier":
		if s == "" {
			return false, nil
		}
		for i, r := range s {
			if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
				return false, nil
			}
		}
		return true, nil
	case "expandtabs":
		return strings.ReplaceAll(s, "\t", "        "), nil
	case "format":
		return strFormat(st, s, a.args, a.kw)
	case "format_map":
		p, err := a.bind(name, []string{"mapping"}, 1)
		if err != nil {
			return nil, err
		}
		d, ok := p[0].(*Dict)
		if !ok {
			return nil, newErr(ErrType, "format_map() argument must be a mapping")
		}
		var kw []kwPair
		for i, k := range d.keys {
			kw = append(kw, kwPair{toStr(k), d.vals[i]})
		}
		return strFormat(st, s, nil, kw)
	case "encode":
		return s, nil
	}
	return nil, newErr(ErrType, "unsupported method %s", name)
}

// pyUpper is str.upper with the full case mappings Go's ToUpper lacks.
func pyUpper(s string) string {
	u := strings.ToUpper(s)
	if strings.ContainsAny(u, "ßﬀﬁﬂﬃﬄﬅﬆ") {
		u = strings.NewReplacer("ß", "SS", "ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST").Replace(u)
	}
	return u
}

// pyLower is str.lower with the one multi-rune mapping Go lacks.
func pyLower(s string) string {
	if strings.ContainsRune(s, 'İ') {
		s = strings.ReplaceAll(s, "İ", "i\u0307")
	}
	return strings.ToLower(s)
}

func allRunes(s string, f func(rune) bool) bool {
	for _, r := range s {
		if !f(r) {
			return false
		}
	}
	return true
}

func hasCased(s string) bool {
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsLower(r) {
			return true
		}
	}
	return false
}

func justify(s, how string, w int64, fill string) (string, error) {
	if utf8.RuneCountInString(fill) != 1 {
		return "", newErr(ErrType, "The fill character must be exactly one character long")
	}
	n := int64(utf8.RuneCountInString(s))
	if w <= n {
		return s, nil
	}
	if w > maxRepeat {
		return "", newErr(ErrMemory, "too large")
	}
	total := w - n
	switch how {
	case "ljust":
		return s + strings.Repeat(fill, int(total)), nil
	case "rjust":
		return strings.Repeat(fill, int(total)) + s, nil
	}
	left := total / 2
	if total%2 == 1 && w%2 == 1 {
		left++
	}
	return strings.Repeat(fill, int(left)) + s + strings.Repeat(fill, int(total-left)), nil
}

func capitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	return titleRune(r[0]) + strings.ToLower(string(r[1:]))
}

// titleRune is the title-case mapping of r, including the multi-letter
// ones Python applies.
func titleRune(r rune) string {
	if r == 'ß' {
		return "Ss"
	}
	return string(unicode.ToTitle(r))
}

// title is Python's str.title: letters after a non-letter are upper-cased.
func title(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prevCased {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteString(titleRune(r))
			}
			prevCased = true
		} else {
			b.WriteRune(r)
			prevCased = false
		}
	}
	return b.String()
}

func splitlines(s string, keep bool) *List {
	out := &List{}
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end := i
			if r == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			if keep {
				out.Items = append(out.Items, string(rs[start:i+1]))
			} else {
				out.Items = append(out.Items, string(rs[start:end]))
			}
			start = i + 1
		}
	}
	if start < len(rs) {
		out.Items = append(out.Items, string(rs[start:]))
	}
	return out
}

// ---- str.format ----

func strFormat(st *state, f string, args []any, kw []kwPair) (any, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return nil, newErr(ErrValue, "Single '}' encountered in format string")
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		// find matching }
		depth := 1
		j := i + 1
		for j < len(f) && depth > 0 {
			if f[j] == '{' {
				depth++
			} else if f[j] == '}' {
				depth--
			}
			j++
		}
		if depth > 0 {
			return nil, newErr(ErrValue, "expected '}' before end of string")
		}
		field := f[i+1 : j-1]
		i = j - 1
		spec := ""
		conv := byte(0)
		if k := strings.IndexByte(field, ':'); k >= 0 {
			field, spec = field[:k], field[k+1:]
		}
		if k := strings.IndexByte(field, '!'); k >= 0 {
			if k+2 != len(field) {
				return nil, newErr(ErrValue, "expected ':' after conversion specifier")
			}
			conv = field[k+1]
			field = field[:k]
		}
		// nested fields in spec
		if strings.Contains(spec, "{") {
			r, err := strFormat(st, spec, args, kw)
			if err != nil {
				return nil, err
			}
			spec = r.(string)
		}
		first := field
		rest := ""
		if k := strings.IndexAny(field, ".["); k >= 0 {
			first, rest = field[:k], field[k:]
		}
		var v any
		if first == "" {
			if auto < 0 {
				return nil, newErr(ErrValue, "cannot switch from manual field specification to automatic field numbering")
			}
			if auto >= len(args) {
				return nil, newErr(ErrIndex, "Replacement index %d out of range for positional args tuple", auto)
			}
			v = args[auto]
			auto++
		} else if n, err := strconv.Atoi(first); err == nil {
			if auto > 0 {
				return nil, newErr(ErrValue, "cannot switch from automatic field numbering to manual field specification")
			}
			auto = -1
			if n >= len(args) {
				return nil, newErr(ErrIndex, "Replacement index %d out of range for positional args tuple", n)
			}
			v = args[n]
		} else {
			found := false
			for _, p := range kw {
				if p.name == first {
					v, found = p.val, true
				}
			}
			if !found {
				return nil, newErr(ErrKey, "%s", pyQuote(first))
			}
		}
		for rest != "" {
			if rest[0] == '.' {
				k := strings.IndexAny(rest[1:], ".[")
				name := rest[1:]
				if k >= 0 {
					name, rest = rest[1:k+1], rest[k+1:]
				} else {
					rest = ""
				}
				if strings.HasPrefix(name, "_") {
					return nil, newErr(ErrSecurity, "access to attribute %s of %s object is unsafe.", pyQuote(name), pyQuote(typeName(v)))
				}
				nv, err := getattr(st, v, name)
				if err != nil {
					return nil, err
				}
				v = nv
			} else {
				k := strings.IndexByte(rest, ']')
				if k < 0 {
					return nil, newErr(ErrValue, "Missing ']' in format string")
				}
				key := rest[1:k]
				rest = rest[k+1:]
				var kv any = key
				if n, err := strconv.Atoi(key); err == nil {
					kv = int64(n)
				}
				nv, err := getitem(st, v, kv)
				if err != nil {
					return nil, err
				}
				v = nv
			}
		}
		switch conv {
		case 'r', 'a':
			v = repr(v)
		case 's':
			v = toStr(v)
		case 0:
		default:
			return nil, newErr(ErrValue, "Unknown conversion specifier %c", conv)
		}
		s, err := formatSpec(v, spec)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// formatSpec implements Python's format(v, spec) for str, int and float.
func formatSpec(v any, spec string) (string, error) {
	if spec == "" {
		return toStr(v), nil
	}
	fill, align := " ", byte(0)
	i := 0
	rs := []rune(spec)
	if len(rs) >= 2 && strings.ContainsRune("<>=^", rs[1]) {
		fill, align = string(rs[0]), byte(rs[1])
		spec = string(rs[2:])
	} else if len(spec) >= 1 && strings.IndexByte("<>=^", spec[0]) >= 0 {
		align = spec[0]
		spec = spec[1:]
	}
	sign := byte('-')
	if i < len(spec) && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ') {
		sign = spec[i]
		i++
	}
	alt := false
	if i < len(spec) && spec[i] == '#' {
		alt = true
		i++
	}
	zero := false
	if i < len(spec) && spec[i] == '0' {
		zero = true
		i++
	}
	width := 0
	for i < len(spec) && spec[i] >= '0' && spec[i] <= '9' {
		width = width*10 + int(spec[i]-'0')
		i++
	}
	if width > maxRepeat || width < 0 {
		return "", newErr(ErrValue, "Too many decimal digits in format string")
	}
	grouping := byte(0)
	if i < len(spec) && (spec[i] == ',' || spec[i] == '_') {
		grouping = spec[i]
		i++
	}
	prec := -1
	if i < len(spec) && spec[i] == '.' {
		i++
		prec = 0
		for i < len(spec) && spec[i] >= '0' && spec[i] <= '9' {
			prec = prec*10 + int(spec[i]-'0')
			i++
		}
	}
	if prec > 10000 || prec < -1 {
		return "", newErr(ErrValue, "Too many decimal digits in format string")
	}
	typ := byte(0)
	if i < len(spec) {
		typ = spec[i]
		i++
	}
	if i != len(spec) {
		return "", newErr(ErrValue, "Invalid format specifier")
	}
	if zero && align == 0 {
		fill, align = "0", '='
	}
	var body string
	numeric := false
	switch x := v.(type) {
	case string, Markup:
		s, _ := strOf(x)
		if typ != 0 && typ != 's' {
			return "", newErr(ErrValue, "Unknown format code '%c' for object of type 'str'", typ)
		}
		if sign != '-' || alt {
			return "", newErr(ErrValue, "Sign not allowed in string format specifier")
		}
		if prec >= 0 && utf8.RuneCountInString(s) > prec {
			s = string([]rune(s)[:prec])
		}
		body = s
		if align == 0 {
			align = '<'
		}
	case int64, *big.Int, bool, float64:
		numeric = true
		if align == 0 {
			align = '>'
		}
		isF := false
		if _, ok := x.(float64); ok {
			isF = true
		}
		t := typ
		switch {
		case t == 0 && !isF || t == 'd':
			if isF {
				return "", newErr(ErrValue, "Unknown format code 'd' for object of type 'float'")
			}
			body = toBig(x).String()
		case t == 'x' || t == 'X' || t == 'o' || t == 'b':
			if isF {
				return "", newErr(ErrValue, "Unknown format code '%c' for object of type 'float'", t)
			}
			base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'b': 2}[t]
			bi := toBig(x)
			body = new(big.Int).Abs(bi).Text(base)
			if t == 'X' {
				body = strings.ToUpper(body)
			}
			if alt {
				body = "0" + string(t) + body
			}
			if bi.Sign() < 0 {
				body = "-" + body
			}
		case t == 'c':
			if isF {
				return "", newErr(ErrValue, "Unknown format code 'c' for object of type 'float'")
			}
			body = string(rune(toBig(x).Int64()))
		case t == 0 && isF:
			f := x.(float64)
			if prec >= 0 {
				body = formatFloatSpec(f, 'g', max(prec, 1), alt)
				if !strings.ContainsAny(body, ".einf") {
					// Python's "" float format with precision keeps g rules
				}
			} else {
				body = formatFloat(f)
			}
		case strings.IndexByte("eEfFgG%", t) >= 0:
			f := toFloat(x)
			p := prec
			if p < 0 {
				p = 6
			}
			if t == '%' {
				body = strconv.FormatFloat(f*100, 'f', p, 64) + "%"
			} else {
				body = formatFloatSpec(f, t, p, alt)
			}
		case t == 'n':
			body = toStr(x)
		default:
			return "", newErr(ErrValue, "Unknown format code '%c' for object of type '%s'", t, typeName(x))
		}
		if grouping != 0 {
			body = group(body, grouping)
		}
		if sign == '+' && !strings.HasPrefix(body, "-") {
			body = "+" + body
		} else if sign == ' ' && !strings.HasPrefix(body, "-") {
			body = " " + body
		}
	default:
		body = toStr(v)
		if align == 0 {
			align = '<'
		}
	}
	n := utf8.RuneCountInString(body)
	if n >= width {
		return body, nil
	}
	padN := width - n
	switch align {
	case '<':
		return body + strings.Repeat(fill, padN), nil
	case '>':
		return strings.Repeat(fill, padN) + body, nil
	case '^':
		l := padN / 2
		return strings.Repeat(fill, l) + body + strings.Repeat(fill, padN-l), nil
	case '=':
		if !numeric {
			return "", newErr(ErrValue, "'=' alignment not allowed in string format specifier")
		}
		pre := ""
		if body != "" && (body[0] == '-' || body[0] == '+' || body[0] == ' ') {
			pre, body = body[:1], body[1:]
		}
		if len(body) > 1 && body[0] == '0' && strings.IndexByte("xXob", body[1]) >= 0 {
			pre, body = pre+body[:2], body[2:]
		}
		return pre + strings.Repeat(fill, padN) + body, nil
	}
	return body, nil
}

func group(s string, sep byte) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac := s, ""
	if k := strings.IndexAny(s, ".e%"); k >= 0 {
		intPart, frac = s[:k], s[k:]
	}
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(sep)
		}
		b.WriteRune(c)
	}
	out := b.String() + frac
	if neg {
		out = "-" + out
	}
	return out
}
