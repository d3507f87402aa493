package transform

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/dataopskit/dataops/transform/jinja"
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
	var b strings.Builder
	b.Grow(len(name) + 256)
	b.WriteString(name)
	// repr of {'kwargs': …, 'name': …, 'namespace': …}, keys sorted.
	b.WriteString("{'kwargs': ")
	writeHashable(&b, kwargs)
	b.WriteString(", 'name': ")
	writeHashable(&b, test)
	b.WriteString(", 'namespace': ")
	if namespace == "" {
		writeHashable(&b, nil)
	} else {
		writeHashable(&b, namespace)
	}
	b.WriteByte('}')
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
			writeQuoted(b, k)
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
			writeQuoted(b, e)
		}
		b.WriteByte(']')
	case string:
		writeQuoted(b, x)
	default:
		writeQuoted(b, pyStr(v))
	}
}

// writeQuoted writes Python's repr of s: plain printable ASCII without
// quotes or backslashes directly, anything else through jinja.PyRepr.
func writeQuoted(b *strings.Builder, s string) {
	single, double := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f || c == '\\':
			b.WriteString(pyRepr(s))
			return
		case c == '\'':
			single = true
		case c == '"':
			double = true
		}
	}
	q := byte('\'')
	switch {
	case single && double:
		b.WriteString(pyRepr(s)) // Python escapes the single quotes
		return
	case single:
		q = '"' // as Python quotes "ref('x')"
	}
	b.WriteByte(q)
	b.WriteString(s)
	b.WriteByte(q)
}

// pyStr is Python's str() of a YAML value; pyRepr its repr().
func pyStr(v any) string  { return jinja.PyStr(v) }
func pyRepr(v any) string { return jinja.PyRepr(v) }
