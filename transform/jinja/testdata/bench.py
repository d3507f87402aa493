#!/usr/bin/env python3
"""Time Python's Jinja2 on the differential corpus and on a typical dbt model.

The Go benchmarks (BenchmarkCorpus, BenchmarkRenderModel) do the same work;
this script is their baseline on the same machine. It writes
testdata/bench_python.json, which the Go benchmarks read to report their
speed-up.

Run:  python3 testdata/bench.py
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402  (same environment as the corpus: dbt's configuration)

HERE = os.path.dirname(os.path.abspath(__file__))


def model_context():
    cfg = {}

    def config(**kw):
        cfg.update(kw)
        return ""

    def ref(name, v=None):
        return '"analytics"."main"."%s"' % name

    def source(src, table):
        return '"raw"."%s"."%s"' % (src, table)

    def is_incremental():
        return True

    return {"config": config, "ref": ref, "source": source, "is_incremental": is_incremental,
            "this": '"analytics"."main"."orders"'}


def best(fn, rounds, inner):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return min(times)


def main():
    with open(os.path.join(HERE, "corpus.json"), encoding="utf-8") as fh:
        corpus = json.load(fh)
    env = gen.make_env()
    cases = corpus["cases"]
    base = corpus["context"]

    def corpus_pass():
        for c in cases:
            ctx = json.loads(json.dumps(base))  # the Go side also builds a fresh context per case
            ctx.update(c.get("context", {}))
            try:
                env.from_string(c["template"]).render(ctx)
            except Exception:  # noqa: BLE001 - error cases are part of the corpus
                pass

    corpus_s = best(corpus_pass, 5, 1)

    with open(os.path.join(HERE, "bench_model.sql"), encoding="utf-8") as fh:
        model_src = fh.read()
    tmpl = env.from_string(model_src)
    mctx = model_context()
    render_s = best(lambda: tmpl.render(mctx), 5, 2000)
    compile_render_s = best(lambda: env.from_string(model_src).render(mctx), 5, 50)

    out = {
        "jinja2": gen.jinja2.__version__,
        "python": sys.version.split()[0],
        "corpus_cases": len(cases),
        "corpus_parse_render_ns": round(corpus_s * 1e9),
        "model_render_ns": round(render_s * 1e9),
        "model_parse_render_ns": round(compile_render_s * 1e9),
    }
    with open(os.path.join(HERE, "bench_python.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
