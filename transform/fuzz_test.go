package transform

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPropertyYAML loads a project whose property file is arbitrary: Load
// must return a project or an error, never panic.
func FuzzPropertyYAML(f *testing.F) {
	f.Add("version: 2\nmodels:\n  - name: m\n    columns:\n      - name: id\n        tests: [unique, {accepted_values: {values: [1, 2]}}]\n")
	f.Add("version: 2\nsources:\n  - name: raw\n    schema: \"{{ target.schema }}\"\n    tables: [{name: t, identifier: \"{{ 'x' ~ 1 }}\"}]\n")
	f.Add("unit_tests:\n  - name: u\n    model: m\n    given: [{input: ref('m'), rows: [{id: 1}]}]\n    expect: {rows: [{id: 1}]}\n")
	f.Add("models: [{name: m, config: {materialized: [1]}, tests: [{relationships: {to: \"ref('m')\", field: id}}]}]\n")
	f.Add("exposures: [{name: e, depends_on: [\"ref('m')\"]}]\nsnapshots: [{name: s, relation: \"ref('m')\"}]\n")
	base := f.TempDir()
	files := map[string]string{
		"dbt_project.yml": "name: proj\nprofile: p\n",
		"profiles.yml":    "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
		"models/m.sql":    "select 1 as id",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Join(base, filepath.Dir(name)), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, name), []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, yml string) {
		if err := os.WriteFile(filepath.Join(base, "models", "schema.yml"), []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(context.Background(), base, WithProfilesDir(base))
		if err == nil && p.Nodes["model.proj.m"] == nil {
			t.Fatal("model m vanished without an error")
		}
	})
}
