"""Corpus-explorer map + clusters with cached embeddings: the path before issue 13 against today's.

"old": what ``explore`` ran before issue 13 (reproduced here as the baseline): two independent UMAP
fits (2-D map, 5-D clustering space), each with its own approximate NN-descent search, then HDBSCAN.
"new": ``explore`` as it stands: one neighbour graph handed to both UMAP fits (same seed, so still one
thread each): exact from blocked matrix products below 4,096 documents, UMAP's own NN-descent search
from 4,096 on (built once instead of once per fit); then HDBSCAN.

Documents are BBC News sentences (the bundled corpus split into sentences, so 20k distinct texts
exist), embedded once through the data folder's embedding cache (the explorer's "cached" case).
Every (size, path) runs in its own subprocess, so peak memory is that run's alone. Each subprocess
first warms numba up through its own path (timed apart, as the app now does in the background at
start; the old warm-up runs both of UMAP's search paths, below and above 4,096 points), then
times map + clusters. Clustering quality: V-measure against the 5 BBC topics for both paths on the
2,225 BBC articles (text column), with the explorer's automatic min_cluster_size.

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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PATHS = ("old", "new")
SEED, NEIGHBOURS = 42, 15


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


def old_path(vectors: np.ndarray, min_cluster_size: int) -> tuple[float, float, np.ndarray]:
    """The explorer's map and clusters before issue 13: (map seconds, cluster seconds, labels)."""
    import hdbscan
    import umap

    def fit(n_components: int, min_dist: float) -> np.ndarray:
        return umap.UMAP(n_components=n_components, n_neighbors=NEIGHBOURS, min_dist=min_dist, metric="cosine",
                         random_state=SEED, n_jobs=1, init="spectral").fit_transform(vectors)

    start = time.perf_counter()
    fit(2, 0.1)
    map_seconds = time.perf_counter() - start
    start = time.perf_counter()
    reduced = fit(5, 0.0).astype(np.float64)
    labels = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size, metric="euclidean",
                             cluster_selection_method="eom").fit_predict(reduced)
    return map_seconds, time.perf_counter() - start, labels


class Cached:
    """An embedder whose vectors are already known: ``explore`` then times only map and clusters."""

    name = "cached"

    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors

    def encode(self, texts, **_kwargs) -> np.ndarray:
        return self.vectors


def new_path(texts: list[str], vectors: np.ndarray, min_cluster_size: int) -> tuple[float, float, np.ndarray]:
    from embedlab.explorer.pipeline import explore, explore_config

    config = explore_config(len(texts), min_cluster_size=min_cluster_size, seed=SEED, n_neighbors=NEIGHBOURS)
    result = explore(texts, Cached(vectors), config)
    return result.seconds["map"], result.seconds["cluster"], result.labels


def warm_up(path: str) -> None:
    if path == "new":
        from embedlab.explorer.pipeline import warm_up as explorer_warm_up

        explorer_warm_up()
    else:  # UMAP takes another path from 4,096 points on (NN-descent): compile both here, not in the timed run
        for n in (300, 4100):
            old_path(np.random.default_rng(0).normal(size=(n, 16)).astype(np.float32), 10)


def run_one(path: str, corpus: Path, n: int) -> dict:
    from embedlab.explorer.clustering import auto_min_cluster_size
    from embedlab.explorer.compare import label_scores

    data = json.loads(corpus.with_suffix(".json").read_text())
    texts, labels = data["texts"][:n], data.get("labels")
    vectors = np.load(corpus.with_suffix(".npy"))[:n]
    min_cluster_size = auto_min_cluster_size(n) if labels else max(15, n // 200)
    with PeakMemory() as warm:
        warm_up(path)
    run = old_path if path == "old" else (lambda v, m: new_path(texts, v, m))
    with PeakMemory() as m:
        map_s, cluster_s, found = run(vectors, min_cluster_size)
    row = {"path": path, "documents": n, "warmup_seconds": round(warm.seconds, 2),
           "map_seconds": round(map_s, 2), "cluster_seconds": round(cluster_s, 2),
           "total_seconds": round(m.seconds, 2), "peak_rss_mb": round(m.peak),
           "clusters": int(found.max() + 1), "noise_share": round(float((found == -1).mean()), 3)}
    if labels:
        row["v_measure"] = round(label_scores(found, labels[:n]).v_measure, 4)
    return row


def embed_corpora(model_name: str, sizes: list[int], folder: Path) -> dict[str, Path]:
    """Vectors for the largest sentence set and for BBC articles, through the data folder's cache."""
    from benchmarks._common import bbc_sentences
    from embedlab import load_model
    from embedlab.bundled import bbc_news

    model = load_model(model_name)
    sentences = bbc_sentences()
    if len(sentences) < max(sizes):
        raise SystemExit(f"Only {len(sentences)} distinct sentences available, asked for {max(sizes)}.")
    bbc = bbc_news()
    corpora = {"sentences": {"texts": sentences[:max(sizes)]},
               "bbc": {"texts": bbc["text"].tolist(), "labels": bbc["label"].tolist()}}
    out = {}
    for name, data in corpora.items():
        out[name] = folder / name
        np.save(out[name].with_suffix(".npy"), model.encode(data["texts"], batch_size=64))
        out[name].with_suffix(".json").write_text(json.dumps(data))
    return out


def subprocess_row(path: str, corpus: Path, n: int, model: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", path, "--corpus", str(corpus), "--n", str(n),
                           "--model", model], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(rows: list[dict]) -> None:
    for r in rows:
        quality = f" | V-measure {r['v_measure']:.4f}" if "v_measure" in r else ""
        print(f"{r['documents']:6} docs {r['path']:3} | map {r['map_seconds']:6.1f}s + clusters "
              f"{r['cluster_seconds']:5.1f}s = {r['map_seconds'] + r['cluster_seconds']:6.1f}s | peak "
              f"{r['peak_rss_mb']} MB | warm-up {r['warmup_seconds']:.1f}s | {r['clusters']} clusters, "
              f"noise {r['noise_share']:.0%}{quality}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,10000,20000")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--one", choices=PATHS, help=argparse.SUPPRESS)  # internal: one run, print JSON
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.corpus, args.n)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    comparisons = []
    with tempfile.TemporaryDirectory() as tmp:
        corpora = embed_corpora(args.model, sizes, Path(tmp))
        runs = [("bbc", 2225)] + [("sentences", n) for n in sizes]
        for corpus, n in runs:
            rows = [subprocess_row(path, corpora[corpus], n, args.model) for path in PATHS]
            report(rows)
            old, new = rows
            total = {r["path"]: r["map_seconds"] + r["cluster_seconds"] for r in rows}
            entry = {"corpus": corpus, "documents": n, "old": old, "new": new,
                     "speedup": round(total["old"] / max(total["new"], 1e-9), 2)}
            if "v_measure" in new:
                entry["v_measure_change"] = round(new["v_measure"] - old["v_measure"], 4)
            print(f"{n:6} docs ({corpus}): new path {entry['speedup']}x faster than old (same run)"
                  + (f"; V-measure change {entry['v_measure_change']:+.4f}" if "v_measure_change" in entry else ""),
                  flush=True)
            comparisons.append(entry)
            write(args.model, comparisons)  # after each size, so a long run interrupted keeps what it measured


def write(model: str, comparisons: list[dict]) -> None:
    out = Path(__file__).parent / "results" / "cluster.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"model": model, "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
                               "comparisons": comparisons}, indent=2))
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    main()
