package selector

import "strings"

// hasGlob reports whether s holds one of the wildcards dbt recognises in
// selector values (*, ?, [ and ]).
func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[]") }

// fnmatch reports whether name matches the shell pattern pat as Python's
// fnmatch.fnmatchcase does: '*' matches any run of characters (including '/'
// and '.'), '?' one character, "[seq]" one character of seq, "[!seq]" one
// character not in seq. A '[' without a closing ']' matches itself.
func fnmatch(name, pat string) bool {
	if pat == "*" {
		return true
	}
	if !hasGlob(pat) {
		return name == pat
	}
	n := []rune(name)
	p := []rune(pat)
	// Iterative matcher with single-star backtracking, as for globs.
	ni, pi := 0, 0
	starP, starN := -1, 0
	for ni < len(n) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				starP, starN = pi, ni
				pi++
				continue
			case '?':
				ni++
				pi++
				continue
			case '[':
				if ok, width, valid := matchClass(p[pi:], n[ni]); valid {
					if ok {
						ni++
						pi += width
						continue
					}
				} else if n[ni] == '[' {
					ni++
					pi++
					continue
				}
			default:
				if p[pi] == n[ni] {
					ni++
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starN++
		ni = starN
		pi = starP + 1
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches c against the bracket expression that starts p (p[0] is
// '['). It returns whether c matched, the width of the expression and whether
// the expression is well formed (has a closing ']').
func matchClass(p []rune, c rune) (matched bool, width int, valid bool) {
	i := 1
	negate := false
	if i < len(p) && p[i] == '!' {
		negate = true
		i++
	}
	start := i
	// A ']' right after '[' or '[!' is a literal member, as in Python.
	if i < len(p) && p[i] == ']' {
		i++
	}
	for i < len(p) && p[i] != ']' {
		i++
	}
	if i >= len(p) {
		return false, 0, false
	}
	set := p[start:i]
	for j := 0; j < len(set); j++ {
		if j+2 < len(set) && set[j+1] == '-' {
			if set[j] <= c && c <= set[j+2] {
				matched = true
			}
			j += 2
			continue
		}
		if set[j] == c {
			matched = true
		}
	}
	if negate {
		matched = !matched
	}
	return matched, i + 1, true
}
