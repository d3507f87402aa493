package jinja

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// pythonBaseline is what testdata/bench.py measured for Python's Jinja2 on
// this machine (absent until the script has run).
type pythonBaseline struct {
	CorpusParseRenderNs float64 `json:"corpus_parse_render_ns"`
	ModelRenderNs       float64 `json:"model_render_ns"`
	ModelParseRenderNs  float64 `json:"model_parse_render_ns"`
}

func loadBaseline(b *testing.B) *pythonBaseline {
	raw, err := os.ReadFile("testdata/bench_python.json")
	if err != nil {
		b.Logf("no Python baseline (run python3 testdata/bench.py): %v", err)
		return nil
	}
	var p pythonBaseline
	if err := json.Unmarshal(raw, &p); err != nil {
		b.Fatalf("bench_python.json: %v", err)
	}
	return &p
}

// reportSpeedup reports how many times faster than Python one op was.
func reportSpeedup(b *testing.B, pythonNs float64) {
	if pythonNs <= 0 || b.N == 0 {
		return
	}
	goNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(pythonNs/goNs, "x_python")
}

// BenchmarkCorpus parses and renders every corpus case (one op = the whole
// corpus), building each case's context afresh, as testdata/bench.py does.
func BenchmarkCorpus(b *testing.B) {
	c := loadCorpus(b)
	env := corpusEnv(c)
	base := loadBaseline(b)
	b.ResetTimer()
	for b.Loop() {
		for i := range c.Cases {
			_, _ = runCase(env, c, &c.Cases[i])
		}
	}
	if base != nil {
		reportSpeedup(b, base.CorpusParseRenderNs)
	}
}

func modelVars() map[string]any {
	cfg := map[string]any{}
	return map[string]any{
		"config": Func(func(args []any, kw map[string]any) (any, error) {
			for k, v := range kw {
				cfg[k] = v
			}
			return "", nil
		}),
		"ref": Func(func(args []any, kw map[string]any) (any, error) {
			return `"analytics"."main"."` + args[0].(string) + `"`, nil
		}),
		"source": Func(func(args []any, kw map[string]any) (any, error) {
			return `"raw"."` + args[0].(string) + `"."` + args[1].(string) + `"`, nil
		}),
		"is_incremental": Func(func(args []any, kw map[string]any) (any, error) { return true, nil }),
		"this":           `"analytics"."main"."orders"`,
	}
}

func modelSource(b *testing.B) string {
	src, err := os.ReadFile("testdata/bench_model.sql")
	if err != nil {
		b.Fatal(err)
	}
	return string(src)
}

// BenchmarkRenderModel renders a typical dbt model (compiled once) — the
// figure the 20 µs goal is about.
func BenchmarkRenderModel(b *testing.B) {
	tmpl, err := New().Compile("orders.sql", modelSource(b))
	if err != nil {
		b.Fatal(err)
	}
	vars := modelVars()
	base := loadBaseline(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tmpl.Render(ctx, vars); err != nil {
			b.Fatal(err)
		}
	}
	if base != nil {
		reportSpeedup(b, base.ModelRenderNs)
	}
}

// BenchmarkParseRenderModel compiles and renders the model each time.
func BenchmarkParseRenderModel(b *testing.B) {
	src := modelSource(b)
	env := New()
	vars := modelVars()
	base := loadBaseline(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tmpl, err := env.Compile("orders.sql", src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tmpl.Render(ctx, vars); err != nil {
			b.Fatal(err)
		}
	}
	if base != nil {
		reportSpeedup(b, base.ModelParseRenderNs)
	}
}

// TestModelRenders checks the benchmark's model renders what dbt would.
func TestModelRenders(t *testing.T) {
	src, err := os.ReadFile("testdata/bench_model.sql")
	if err != nil {
		t.Fatal(err)
	}
	out := render(t, mustCompile(t, New(), "orders.sql", string(src)), modelVars())
	for _, want := range []string{
		`select * from "analytics"."main"."stg_orders"`,
		`select * from "raw"."stripe"."payments"`,
		"where created_at > (select max(created_at) from \"analytics\".\"main\".\"orders\")",
		"sum(case when payment_method = 'gift_card' then amount else 0 end) as gift_card_amount,\n        sum(amount) as total_amount",
		"order_payments.gift_card_amount,\n        order_payments.total_amount as amount",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("model output lacks %q:\n%s", want, out)
		}
	}
}
