package jinja

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzRender parses and renders (as text and natively) arbitrary templates (seeded with the
// differential corpus) with the corpus context. It fails on a panic (the
// engine turns those into "internal error" errors) and on a render that
// outlives its deadline despite the step and output budgets.
func FuzzRender(f *testing.F) {
	c := loadCorpus(f)
	for _, cs := range c.Cases {
		f.Add(cs.Template)
	}
	opts := append(dbtTags(), WithLoader(MapLoader(c.Templates)), WithMaxDepth(100), WithMaxSteps(200000), WithMaxOutput(1<<20))
	env := New(opts...)
	base := &corpusCase{}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := env.Compile("fuzz", src)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("compile %q: %v", src, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = tmpl.Render(ctx, corpusVars(c, base))
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("render %q: %v", src, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("render %q did not finish in 5s", src)
		}
		_, err = tmpl.RenderNative(ctx, corpusVars(c, base))
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("native render %q: %v", src, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("native render %q did not finish in 5s", src)
		}
	})
}
