package main

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dataopskit/dataops/transform"
	"github.com/dataopskit/dataops/warehouse"
)

// shop is the quickstart's dbt project: a plain dbt project that dbt-core
// with dbt-duckdb would build unchanged.
//
//go:embed all:shop
var shop embed.FS

// transformStep writes the shop dbt project to <dir>/shop and builds it on
// the warehouse, as `dataops build` would: the countries seed, staging views
// over the raw tables staging landed, the dimensions, the fact and a monthly
// mart, each followed by its tests. It reports dbt's counts and the rows of
// the marts.
func transformStep(ctx context.Context, out io.Writer, w *warehouse.Warehouse, dir, dbPath string) error {
	project := filepath.Join(dir, "shop")
	if err := writeProject(project); err != nil {
		return err
	}
	p, err := transform.Load(ctx, project,
		transform.WithProfilesDir(project),
		transform.WithEnv(func(name string) (string, bool) {
			if name == "SHOP_DUCKDB_PATH" {
				return dbPath, true
			}
			return os.LookupEnv(name)
		}))
	if err != nil {
		return err
	}
	res, err := p.Run(ctx, w, transform.RunOptions{Command: transform.CommandBuild})
	if err != nil {
		return err
	}
	counts := res.Counts()
	fmt.Fprintf(out, "dbt build   PASS=%d WARN=%d ERROR=%d SKIP=%d TOTAL=%d in %s  (again by hand: cd %s && dataops build --profiles-dir .)\n",
		counts[transform.StatusSuccess]+counts[transform.StatusPass], counts[transform.StatusWarn],
		counts[transform.StatusError]+counts[transform.StatusFail], counts[transform.StatusSkipped],
		len(res.Results), res.Elapsed.Round(1e6), project)
	if res.Failed() {
		for _, r := range res.Results {
			if r.Status == transform.StatusError || r.Status == transform.StatusFail {
				fmt.Fprintf(out, "  %s %s: %s\n", r.Status, r.UniqueID, r.Message)
			}
		}
		return fmt.Errorf("dbt build of %s failed", project)
	}
	var marts []warehouse.Relation
	for _, r := range res.Results {
		if n := r.Node; n != nil && n.ResourceType == transform.ResourceModel && n.Config.Materialized == "table" {
			marts = append(marts, warehouse.Rel(n.Schema, n.Alias))
		}
	}
	slices.SortFunc(marts, func(a, b warehouse.Relation) int { return strings.Compare(a.String(), b.String()) })
	for _, rel := range marts {
		var n int64
		if err := w.Get(ctx, &n, "SELECT count(*) FROM "+w.Dialect().QuoteRelation(rel)); err != nil {
			return err
		}
		fmt.Fprintf(out, "%-28s %8d rows\n", rel, n)
	}
	return nil
}

// writeProject copies the embedded project to dir, replacing older copies of
// its files (target/ and anything else there is left alone).
func writeProject(dir string) error {
	return fs.WalkDir(shop, "shop", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path[len("shop"):]))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := shop.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
