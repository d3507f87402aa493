package artifacts

import (
	"fmt"

	"github.com/dataopskit/dataops/internal/jsonscan"
)

// filterKeys (used by reflectNodeJSON, the reference the node encoder is
// tested against) rewrites the JSON object obj, keeping its top-level members in
// order, dropping those drop says to drop, and replacing the values of those
// in replace. One pass over the bytes: no decode into a map and no second
// encode (a 10,000-model manifest spent most of its write doing that).
func filterKeys(obj []byte, drop func(key string) bool, replace map[string][]byte) ([]byte, error) {
	bad := func(i int) error { return fmt.Errorf("artifacts: malformed JSON object at byte %d", i) }
	i := jsonscan.SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, bad(i)
	}
	out := make([]byte, 0, len(obj))
	out = append(out, '{')
	i = jsonscan.SkipSpace(obj, i+1)
	first := true
	for i < len(obj) && obj[i] != '}' {
		keyStart := i
		if obj[i] != '"' {
			return nil, bad(i)
		}
		keyEnd := jsonscan.String(obj, i)
		if keyEnd < 0 {
			return nil, bad(i)
		}
		// Member names of our structs need no unescaping.
		key := string(obj[keyStart+1 : keyEnd-1])
		i = jsonscan.SkipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return nil, bad(i)
		}
		valStart := jsonscan.SkipSpace(obj, i+1)
		valEnd := jsonscan.Value(obj, valStart, 1)
		if valEnd < 0 {
			return nil, bad(valStart)
		}
		if !drop(key) {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = append(out, obj[keyStart:keyEnd]...)
			out = append(out, ':')
			if v, ok := replace[key]; ok {
				out = append(out, v...)
			} else {
				out = append(out, obj[valStart:valEnd]...)
			}
		}
		i = jsonscan.SkipSpace(obj, valEnd)
		if i < len(obj) && obj[i] == ',' {
			i = jsonscan.SkipSpace(obj, i+1)
		}
	}
	if i >= len(obj) {
		return nil, bad(i)
	}
	return append(out, '}'), nil
}
