package transform

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// yamlCorpus is YAML that exercises the scalar forms, keys and structures
// where decoders disagree, plus every YAML file in testdata.
func yamlCorpus(t testing.TB) []string {
	scalars := []string{"yes", "no", "on", "off", "y", "n", "Y", "True", "TRUE", "true", "False", "false", "0o17", "017", "0x1f", "1_000", ".inf", "-.inf", ".nan", "~", "null", "Null", "NULL", "2024-01-01", "2024-01-01T10:00:00Z", "2024-01-01 10:00:00", "1e3", "1.5e-3", "+1", "-0", "0", "7", "-7", "12:30:00", "18446744073709551615", "18446744073709551616", "9223372036854775808", "-9223372036854775809", "1.0", "3.", ".5", "'quoted'", "\"dq \\u00e9 \\t \\\" x\"", "'it''s'", "''", "\"\"", "", "0b101", "+.inf", ".Inf", "0.", "-1", "00", "08", "1:2", "a: b", "=", "<<", "!!str 12", "!!int '12'", "&a x", "[1, 2]", "{a: 1, b: [x, y]}", "|\n  a\n  b\n", ">-\n  a\n  b\n", "\"{{ ref('x') }}\"", "{{ var('x') }}", "a #comment", "x  y", "'multi\n  line'", "plain\n  folded", "-", "- - a", "\"a\\nb\"", "'a\\nb'"}
	var docs []string
	for _, s := range scalars {
		docs = append(docs, "k: "+s+"\n", "- "+s+"\n", s+": v\n", "x:\n  - "+s+"\n", "x: {k: "+s+"}\n", "x: ["+s+"]\n")
	}
	docs = append(docs, "a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n", "---\na: 1\n---\nb: 2\n", "---\na: 1\n", "a: 1\n...\n", "a: 1\na: 2\n", "? [a, b]\n: c\n",
		"a:\n\t- b\n", "", "\n\n", "# only\n", "a:\n", "[1, 2]\n", "a: b: c\n", "a: 'x\n", "a:\n  - b\n - c\n", "1: a\n2: b\n", "true: x\n", "null: x\n", "a: !!binary aGk=\n", "a: !custom x\n", "%YAML 1.2\n---\na: 1\n", "a: [1, 2\n", "a: {b: 1\n", "\"a\": 1\n'b': 2\n", "a:\n  b:\n    c: [1, -2, x]\n  d: ~\n", "\ufeffa: 1\n", "a: 1 # c\nb: 2\n", "a:    \n  - b\n  -\n  - c\n")
	for _, root := range []string{"testdata", "/tmp/jaffle_shop"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
				if b, err := os.ReadFile(p); err == nil {
					docs = append(docs, string(b))
				}
			}
			return nil
		})
	}
	return docs
}

// TestFastYAMLMatchesGoccy: whatever the fast decoder accepts, it decodes
// to exactly the values (and Go types) goccy/go-yaml gives.
func TestFastYAMLMatchesGoccy(t *testing.T) {
	docs := yamlCorpus(t)
	fast := 0
	for _, d := range docs {
		checkFastYAML(t, d)
		if _, ok := fastYAML([]byte(d)); ok {
			fast++
		}
	}
	subset := 0
	for _, d := range docs {
		if _, ok := subsetYAML([]byte(d)); ok {
			subset++
		}
	}
	t.Logf("fast path: %d, subset decoder: %d of %d documents", fast, subset, len(docs))
	if fast < len(docs)/3 {
		t.Errorf("fast path took only %d of %d documents", fast, len(docs))
	}
	genDir := t.TempDir()
	genProject(t, genDir, 300)
	for _, f := range []string{"models/sources.yml", "models/staging/f000/schema.yml", "dbt_project.yml", "profiles.yml"} {
		b, err := os.ReadFile(filepath.Join(genDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := fastYAML(b); !ok {
			t.Errorf("%s: not on the fast path", f)
		}
		if _, ok := subsetYAML(b); !ok {
			t.Errorf("%s: not decoded by subsetYAML", f)
		}
		checkFastYAML(t, string(b))
	}
}

func checkFastYAML(t *testing.T, d string) {
	t.Helper()
	checkDecoder(t, d, "subset", subsetYAML)
	checkDecoder(t, d, "fast", fastYAML)
}

func checkDecoder(t *testing.T, d, name string, decode func([]byte) (any, bool)) {
	t.Helper()
	got, ok := decode([]byte(d))
	if !ok {
		return
	}
	var want any
	if err := yaml.Unmarshal([]byte(d), &want); err != nil {
		t.Errorf("%q: %s decoder accepted what goccy rejects: %v", d, name, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q:\n %s  %#v\n goccy %#v", d, name, got, want)
	}
}

func FuzzFastYAML(f *testing.F) {
	for _, d := range yamlCorpus(f) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		checkFastYAML(t, d)
	})
}
