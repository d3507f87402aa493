package artifacts

import (
	"bytes"
	"fmt"
)

// filterKeys rewrites the JSON object obj, which encoding/json produced,
// keeping its top-level members in order, dropping those drop says to drop,
// and replacing the values of those in replace. One pass over the bytes:
// no decode into a map and no second encode (a 10,000-model manifest spent
// most of its write doing that).
func filterKeys(obj []byte, drop func(key string) bool, replace map[string][]byte) ([]byte, error) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, fmt.Errorf("artifacts: not a JSON object")
	}
	out := make([]byte, 0, len(obj))
	out = append(out, '{')
	i = skipSpace(obj, i+1)
	first := true
	for i < len(obj) && obj[i] != '}' {
		keyStart := i
		keyEnd, err := skipString(obj, i)
		if err != nil {
			return nil, err
		}
		// Member names of our structs need no unescaping.
		key := string(obj[keyStart+1 : keyEnd-1])
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return nil, fmt.Errorf("artifacts: bad JSON object at byte %d", i)
		}
		valStart := skipSpace(obj, i+1)
		valEnd, err := skipValue(obj, valStart)
		if err != nil {
			return nil, err
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
		i = skipSpace(obj, valEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return append(out, '}'), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, fmt.Errorf("artifacts: expected a JSON string at byte %d", i)
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("artifacts: unterminated JSON string at byte %d", i)
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("artifacts: missing JSON value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("artifacts: unterminated JSON value at byte %d", i)
	default:
		j := bytes.IndexAny(b[i:], ",}] \n\t\r")
		if j < 0 {
			return len(b), nil
		}
		return i + j, nil
	}
}
