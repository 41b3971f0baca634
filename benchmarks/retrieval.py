"""First-stage search speed and memory: DenseIndex against naive numpy on the same vectors in the
same run, and BM25Index build/query time at two corpus sizes.

Dense: random unit vectors of dimension 384 (MiniLM's size). The baseline is what one writes
without an index: the full ``queries @ docs.T`` matrix, then a full ``np.argsort`` of every row.
Measured per size: building the index (L2 normalisation into DenseIndex, against normalising in
plain numpy), single-query latency (median over --single queries) and one batch of --batch
queries, for each k; the top-10 of both sides are compared; peak extra memory (tracemalloc: numpy
reports its buffers to it) of one batch search at the largest size, ours against the full matrix.

BM25: texts are single sentences from the bundled BBC News article bodies, drawn at random with
reuse to reach the larger size; queries are BBC titles. Ratios are against the smallest size.

    python benchmarks/retrieval.py [--sizes 10000,100000] [--dim 384] [--ks 10,100] [--single 50]
                                   [--batch 256] [--repeats 3] [--bm25-sizes 10000,100000]

Writes benchmarks/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import bbc_sentences, best_of  # noqa: E402
from embedlab.retrieval.search import BM25Index, DenseIndex  # noqa: E402


def median_each(items, fn) -> float:
    """Median time of fn(item) over the items (one call each, after one warm-up call)."""
    fn(items[0])
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_extra_mb(fn) -> float:
    """Peak memory allocated while fn runs, above what was allocated before (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return (peak - base) / 2**20


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


# The baseline, written the obvious way.
def naive_normalize(docs: np.ndarray) -> np.ndarray:
    return (docs / np.linalg.norm(docs, axis=1, keepdims=True)).astype(np.float32)


def naive_search(queries: np.ndarray, docs: np.ndarray, k: int) -> np.ndarray:
    sims = queries @ docs.T
    return np.argsort(-sims, axis=1)[:, :k]


def dense_rows(n: int, args, rng: np.random.Generator) -> tuple[list[dict], dict]:
    raw = rng.standard_normal((n, args.dim), dtype=np.float32) * 3.0  # not unit length: building normalises
    t_build = best_of(args.repeats, lambda: DenseIndex(raw))
    t_naive_build = best_of(args.repeats, lambda: naive_normalize(raw))
    index = DenseIndex(raw)
    del raw
    docs = index.vectors  # the same unit vectors for both sides
    queries = unit(rng, max(args.single, args.batch), args.dim)
    singles = [queries[i : i + 1] for i in range(args.single)]
    batch = queries[: args.batch]
    build = {"documents": n, "ours_s": t_build, "naive_s": t_naive_build}
    rows = []
    for k in args.ks:
        single_ours = median_each(singles, lambda q: index.search(q, k))
        single_naive = median_each(singles, lambda q: naive_search(q, docs, k))
        batch_ours = best_of(args.repeats, lambda: index.search(batch, k))
        batch_naive = best_of(args.repeats, lambda: naive_search(batch, docs, k))
        rows.append({"documents": n, "k": k, "single_ours_ms": single_ours * 1e3, "single_naive_ms": single_naive * 1e3,
                     "batch_ours_ms": batch_ours * 1e3, "batch_naive_ms": batch_naive * 1e3})
    ours10 = index.search(batch, 10).indices
    naive10 = naive_search(batch, docs, 10)
    build["top10_rows_identical"] = int((ours10 == naive10).all(axis=1).sum())
    build["top10_rows_same_set"] = int(sum(set(a) == set(b) for a, b in zip(ours10.tolist(), naive10.tolist())))
    build["queries_compared"] = len(batch)
    if n == max(args.sizes):
        gc.collect()
        build["memory_batch_k"] = max(args.ks)
        build["peak_extra_mb_ours"] = peak_extra_mb(lambda: index.search(batch, max(args.ks)))
        build["peak_extra_mb_naive"] = peak_extra_mb(lambda: naive_search(batch, docs, max(args.ks)))
        build["index_mb"] = docs.nbytes / 2**20
    return rows, build


def bm25_rows(args, rng: np.random.Generator) -> list[dict]:
    from embedlab.bundled import bbc_news

    pool = bbc_sentences()
    titles = bbc_news()["title"].sample(n=args.single, random_state=0).tolist()
    rows = []
    for n in args.bm25_sizes:
        texts = [pool[i] for i in rng.choice(len(pool), n, replace=n > len(pool))]
        start = time.perf_counter()
        index = BM25Index(texts)
        t_build = time.perf_counter() - start
        single = {k: median_each(titles, lambda q: index.search([q], k)) for k in args.ks}
        rows.append({"documents": n, "distinct_sentences": min(n, len(pool)), "build_s": t_build,
                     **{f"single_k{k}_ms": t * 1e3 for k, t in single.items()}})
        del index
        gc.collect()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000", help="dense corpus sizes")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--ks", default="10,100")
    parser.add_argument("--single", type=int, default=50, help="single queries timed (median)")
    parser.add_argument("--batch", type=int, default=256, help="queries in the batch")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many for builds and batches")
    parser.add_argument("--bm25-sizes", default="10000,100000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.ks = [int(k) for k in args.ks.split(",")]
    args.bm25_sizes = [int(s) for s in args.bm25_sizes.split(",") if s]
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    dense, builds = [], []
    for n in args.sizes:
        rows, build = dense_rows(n, args, rng)
        dense += rows
        builds.append(build)
        gc.collect()
    print(f"Dense search, dim {args.dim}, float32; 'naive' = full queries @ docs.T then np.argsort per row "
          f"(same data, same run). ours/naive < 1 means ours is faster.")
    print(f"{'docs':>8} {'k':>4} | {'single query (median of ' + str(args.single) + ')':^36} | "
          f"{'batch of ' + str(args.batch) + ' queries':^36}")
    print(f"{'':>8} {'':>4} | {'ours ms':>10} {'naive ms':>10} {'ours/naive':>12} | "
          f"{'ours ms':>10} {'naive ms':>10} {'ours/naive':>12}")
    for r in dense:
        r["single_ratio_ours_over_naive"] = r["single_ours_ms"] / r["single_naive_ms"]
        r["batch_ratio_ours_over_naive"] = r["batch_ours_ms"] / r["batch_naive_ms"]
        print(f"{r['documents']:>8,} {r['k']:>4} | {r['single_ours_ms']:10.2f} {r['single_naive_ms']:10.2f} "
              f"{r['single_ratio_ours_over_naive']:12.2f} | {r['batch_ours_ms']:10.1f} {r['batch_naive_ms']:10.1f} "
              f"{r['batch_ratio_ours_over_naive']:12.2f}")
    print()
    for b in builds:
        b["ratio_ours_over_naive"] = b["ours_s"] / b["naive_s"]
        print(f"build {b['documents']:>8,} docs: DenseIndex {b['ours_s'] * 1e3:7.1f} ms, numpy normalise "
              f"{b['naive_s'] * 1e3:7.1f} ms (ours/naive {b['ratio_ours_over_naive']:.2f}); top-10 of "
              f"{b['queries_compared']} queries: {b['top10_rows_identical']} identical in order, "
              f"{b['top10_rows_same_set']} same set")
        if "peak_extra_mb_ours" in b:
            b["memory_ratio_ours_over_naive"] = b["peak_extra_mb_ours"] / b["peak_extra_mb_naive"]
            print(f"peak extra memory, {args.batch} queries x {b['documents']:,} docs, k={b['memory_batch_k']}: "
                  f"DenseIndex {b['peak_extra_mb_ours']:.0f} MB, naive {b['peak_extra_mb_naive']:.0f} MB "
                  f"(ours/naive {b['memory_ratio_ours_over_naive']:.2f}; the index itself is {b['index_mb']:.0f} MB)")

    bm25 = bm25_rows(args, rng) if args.bm25_sizes else []
    if bm25:
        print()
        print("BM25Index (bm25s, English stop words, Snowball stemming) over single BBC sentences; "
              f"queries: {args.single} BBC titles, median single-query latency")
        base = bm25[0]
        for r in bm25:
            r["ratio_to_smallest"] = {key: r[key] / base[key] for key in r if key.endswith(("_s", "_ms"))}
            lat = "  ".join(f"k={k} {r[f'single_k{k}_ms']:6.2f} ms" for k in args.ks)
            ratios = ", ".join(f"{key} {v:.1f}x" for key, v in r["ratio_to_smallest"].items())
            print(f"{r['documents']:>8,} texts ({r['distinct_sentences']:,} distinct): build {r['build_s']:6.2f} s  "
                  f"{lat}  | vs {base['documents']:,}: {ratios}")

    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f} s")
    out = Path(__file__).parent / "results" / "retrieval.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({
        "dim": args.dim, "ks": args.ks, "single_queries": args.single, "batch": args.batch, "repeats": args.repeats,
        "cpu_count": os.cpu_count(), "machine": platform.machine(), "numpy": np.__version__,
        "dense": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in dense],
        "dense_build": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in b.items()} for b in builds],
        "bm25": [{k: ({kk: round(vv, 3) for kk, vv in v.items()} if isinstance(v, dict) else
                      round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in bm25],
        "seconds": round(total, 1),
    }, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
