package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dataopskit/dataops/warehouse"
)

// catalogType spells a column's type as the engine's dbt adapter puts it
// in catalog.json: PostgreSQL's format_type spelling as it is ("integer",
// "timestamp without time zone"), other engines' in upper case.
func catalogType(w *warehouse.Warehouse, native string) string {
	if w.Dialect().Name() == "postgres" {
		return native
	}
	return strings.ToUpper(native)
}

// catalogOwner is the role owning rel on PostgreSQL (dbt-postgres records
// it in the catalog), nil elsewhere or when it cannot be read.
func catalogOwner(ctx context.Context, w *warehouse.Warehouse, rel warehouse.Relation) *string {
	if w.Dialect().Name() != "postgres" {
		return nil
	}
	var owner string
	err := w.Get(ctx, &owner, `SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, rel.Schema, rel.Name)
	if err != nil {
		return nil
	}
	return &owner
}

// copyAssets copies the project's asset-paths (dbt_project.yml) into the
// target directory, as dbt's docs generate does for the documentation site;
// asset paths that do not exist are left out.
func copyAssets(projectDir, targetDir string) error {
	b, err := os.ReadFile(filepath.Join(projectDir, "dbt_project.yml"))
	if err != nil {
		return fmt.Errorf("asset-paths: %w", err)
	}
	var pf struct {
		AssetPaths []string `yaml:"asset-paths"`
	}
	if err := yaml.Unmarshal(b, &pf); err != nil {
		return nil // Load already reported a broken dbt_project.yml
	}
	for _, ap := range pf.AssetPaths {
		src := filepath.Join(projectDir, ap)
		if rel, err := filepath.Rel(projectDir, src); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("asset-paths: %q is not inside the project directory", ap)
		}
		if st, err := os.Stat(src); err != nil || !st.IsDir() {
			continue
		}
		dst := filepath.Join(targetDir, ap)
		if err := os.RemoveAll(dst); err != nil {
			return fmt.Errorf("asset-paths: %w", err)
		}
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("asset-paths: copying %s: %w", ap, err)
		}
	}
	return nil
}
