"""Corpus-explorer scale: time and peak memory for 2k, 10k and 20k documents.

Documents are BBC News sentences (the bundled corpus split into sentences, so 20k distinct texts
exist). Each size runs in its own subprocess so peak memory is that size's alone; a sampler thread
records the peak resident memory of each stage. Ratios are against the smallest size measured in
the same run (linear scaling would be 5x and 10x).

    python benchmarks/cluster.py [--sizes 2000,10000,20000] [--model minilm]

Writes benchmarks/results/cluster.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakMemory:
    """Samples resident memory every 20 ms while a stage runs."""

    def __enter__(self):
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.start = time.perf_counter()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def sentences(n: int) -> list[str]:
    from benchmarks._common import bbc_sentences

    out = bbc_sentences()
    if len(out) < n:
        raise SystemExit(f"Only {len(out)} distinct sentences available, asked for {n}.")
    return out[:n]


def run_one(n: int, model_name: str) -> dict:
    from embedlab import load_model
    from embedlab.cache import CachedEmbedder, EmbeddingCache
    from embedlab.explorer.clustering import ClusterConfig, cluster
    from embedlab.explorer.projection import ProjectionConfig, project

    import numpy as np

    texts = sentences(n)
    inner = load_model(model_name, cache=False)
    row = {"documents": n}
    # UMAP and HDBSCAN compile with numba on first use in a process (~10-20 s); measure that once
    # on a tiny input so the stage timings below are the algorithms' own cost.
    with PeakMemory() as m:
        tiny = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
        project(tiny, ProjectionConfig(method="umap"))
        cluster(tiny, ClusterConfig(min_cluster_size=10))
    row["numba_warmup"] = (m.seconds, m.peak)
    row["baseline_rss_mb"] = round(rss_mb())
    with tempfile.TemporaryDirectory() as tmp:
        with PeakMemory() as m:
            vectors = CachedEmbedder(inner, EmbeddingCache(tmp)).encode(texts, batch_size=64)
        row["embed_cold"] = (m.seconds, m.peak)
        with PeakMemory() as m:
            CachedEmbedder(inner, EmbeddingCache(tmp)).encode(texts, batch_size=64)
        row["embed_cached"] = (m.seconds, m.peak)
    with PeakMemory() as m:
        project(vectors, ProjectionConfig(method="umap"))
    row["umap_2d"] = (m.seconds, m.peak)
    with PeakMemory() as m:
        project(vectors, ProjectionConfig(method="pca"))
    row["pca_2d"] = (m.seconds, m.peak)
    with PeakMemory() as m:
        labels = cluster(vectors, ClusterConfig(min_cluster_size=max(15, n // 200))).labels
    row["umap_5d_plus_hdbscan"] = (m.seconds, m.peak)
    row["clusters"] = int(labels.max() + 1)
    row["noise_share"] = float((labels == -1).mean())
    return {k: ({"seconds": round(v[0], 3), "peak_rss_mb": round(v[1])} if isinstance(v, tuple) else v)
            for k, v in row.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,10000,20000")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.model)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--model", args.model],
                              capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{n:6} docs | " + " | ".join(
            f"{stage} {r[stage]['seconds']:.1f}s {r[stage]['peak_rss_mb']}MB"
            for stage in ("embed_cold", "embed_cached", "umap_2d", "pca_2d", "umap_5d_plus_hdbscan"))
            + f" | {r['clusters']} clusters", flush=True)
    base = results[0]
    for r in results:
        r["ratio_to_smallest"] = {
            stage: round(r[stage]["seconds"] / max(base[stage]["seconds"], 1e-9), 2)
            for stage in ("embed_cold", "embed_cached", "umap_2d", "pca_2d", "umap_5d_plus_hdbscan")}
        r["cached_speedup"] = round(r["embed_cold"]["seconds"] / max(r["embed_cached"]["seconds"], 1e-9), 1)
        print(f"{r['documents']:6} docs: time vs {base['documents']} docs {r['ratio_to_smallest']}; "
              f"embedding cached is {r['cached_speedup']}x faster than cold")
    out = Path(__file__).parent / "results" / "cluster.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"model": args.model, "cpu_count": os.cpu_count(), "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
