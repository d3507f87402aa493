package transform

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// genericTestNames names a generic test as dbt-core does
// (synthesize_generic_test_names): "<test>_<target>_<args>", where args are
// the test's arguments but the model, sorted by name, each flattened (a
// list to its items, a mapping to its values) and written as Python's
// str() writes them, every run of characters other than letters, digits
// and _ replaced by _, joined by "__". full names the node (unique_id,
// fqn); short is full, or when full has 64 characters or more, the first
// 30 of "<test>_<target>" and the MD5 of full (the compiled file and the
// alias). test carries the namespace and, for a source's test, "source_".
//
// A mapping's values follow its keys' order in the YAML file in dbt; the
// loader's mappings have none, so they follow the keys' sorted order.
func genericTestNames(test, target string, args map[string]any) (short, full string) {
	keys := make([]string, 0, len(args))
	for k := range args {
		if k != "model" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var flat []string
	for _, k := range keys {
		switch v := args[k].(type) {
		case map[string]any:
			for _, vk := range sortedKeys(v) {
				flat = append(flat, replaceNonWord(pyStr(v[vk])))
			}
		case []any:
			for _, x := range v {
				flat = append(flat, replaceNonWord(pyStr(x)))
			}
		case []string:
			for _, x := range v {
				flat = append(flat, replaceNonWord(x))
			}
		default:
			flat = append(flat, replaceNonWord(pyStr(v)))
		}
	}
	ident := test + "_" + target
	full = ident + "_" + strings.Join(flat, "__")
	if len(full) < 64 {
		return full, full
	}
	sum := md5.Sum([]byte(full))
	return ident[:min(30, len(ident))] + "_" + hex.EncodeToString(sum[:]), full
}

// genericTestHash is the 10 hex digits that end a generic test's unique_id
// in dbt-core: the last ten of the MD5 of its name followed by Python's
// repr of its test metadata (namespace, name, kwargs) with every mapping's
// keys sorted and every scalar turned into its str().
func genericTestHash(name, test, namespace string, kwargs map[string]any) string {
	var ns any
	if namespace != "" {
		ns = namespace
	}
	var b strings.Builder
	b.WriteString(name)
	writeHashable(&b, map[string]any{"namespace": ns, "name": test, "kwargs": kwargs})
	sum := md5.Sum([]byte(b.String()))
	h := hex.EncodeToString(sum[:])
	return h[len(h)-10:]
}

// writeHashable writes repr(get_hashable_md(v)) of dbt-core.
func writeHashable(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(k))
			b.WriteString(": ")
			writeHashable(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeHashable(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(e))
		}
		b.WriteByte(']')
	default:
		b.WriteString(pyRepr(pyStr(v)))
	}
}

// pyStr writes a YAML value as Python's str() does.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return pyFloat(x)
	case []any, []string, map[string]any:
		return pyRepr(x)
	}
	return asString(v)
}

// pyRepr writes a value as Python's repr() does: strings quoted, lists
// and mappings (keys in sorted order) of reprs.
func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		return pyQuote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyQuote(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, pyQuote(k)+": "+pyRepr(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return pyStr(v)
}

// pyQuote is Python's repr of a string: single quotes unless the string
// holds a single quote and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x` + hex.EncodeToString([]byte{s[i]}))
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteString(`\x` + hex.EncodeToString([]byte{byte(r)}))
		case r > 0x7f && !unicode.IsPrint(r):
			if r <= 0xffff {
				b.WriteString(`\u` + leftPad(strconv.FormatInt(int64(r), 16), 4))
			} else {
				b.WriteString(`\U` + leftPad(strconv.FormatInt(int64(r), 16), 8))
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte(q)
	return b.String()
}

func leftPad(s string, n int) string {
	return strings.Repeat("0", max(0, n-len(s))) + s
}

// pyFloat is Python's repr of a float: the shortest digits that read back,
// fixed notation for exponents from -4 to 15, else 1e+16 style.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
