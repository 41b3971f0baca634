"""What each bundled reranker costs per query on this machine, and how well the Retrieval lab's
estimate (depth / the model's measured articles per second, the Models page's "long texts/s") predicts it.

For each reranker: a fresh instance (MaxSim's token cache empty), BBC News title queries, each
query's top ``--depth`` BM25 results reranked, one query at a time as the search tab does; the model
it runs on is measured the way the Models page measures it (``measure_throughput`` on ``--sample``
titles and articles). Wall and CPU seconds are both recorded: the machine may be shared.

    python benchmarks/rerank_cost.py [--rerankers maxsim:minilm,qlm:smollm2,llm:smollm2] [--queries 8]
                                     [--depth 20] [--sample 32]

Writes benchmarks/results/rerank_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from embedlab import load_model
from embedlab.models.throughput import measure_throughput, sample_texts
from embedlab.retrieval.corpus import bbc_title_to_article
from embedlab.retrieval.rerank import load_reranker
from embedlab.retrieval.rerank_cost import (
    TimedReranker,
    estimate_cost,
    underlying_model,
)
from embedlab.retrieval.search import BM25Index


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rerankers", default="maxsim:minilm,qlm:smollm2,llm:smollm2")
    parser.add_argument("--queries", type=int, default=8)
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--sample", type=int, default=32)
    args = parser.parse_args()

    data = bbc_title_to_article()
    queries = data.queries[: args.queries]
    hits = BM25Index(list(data.doc_texts)).search(queries, args.depth)
    rows = []
    for name in args.rerankers.split(","):
        model_name = underlying_model(name)
        rate = measure_throughput(load_model(model_name, cache=False), *sample_texts(args.sample)).long_per_s
        timed = TimedReranker(load_reranker(name))
        wall, cpu = time.perf_counter(), cpu_seconds()
        for q, query in enumerate(queries):
            timed.score(query, [data.doc_texts[i] for i in hits.indices[q]])
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        estimate = estimate_cost(name, articles_per_s={model_name: rate})
        row = {"reranker": name, "queries": len(queries), "depth": args.depth,
               "seconds_per_query": wall / len(queries), "cpu_seconds_per_query": cpu / len(queries),
               "model": model_name, "model_articles_per_s": rate,
               "estimated_seconds_per_query": estimate.per_query(args.depth),
               "load_average": os.getloadavg()[0]}
        row["estimate_over_measured"] = row["estimated_seconds_per_query"] / row["seconds_per_query"]
        rows.append(row)
        print(f"{name:16s} {row['seconds_per_query']:6.2f} s/query (cpu {row['cpu_seconds_per_query']:.2f}) at depth "
              f"{args.depth}; estimate from {model_name}'s {rate:.1f} articles/s: "
              f"{row['estimated_seconds_per_query']:.2f} s (x{row['estimate_over_measured']:.2f}); "
              f"load {row['load_average']:.1f}", flush=True)
    out = Path(__file__).resolve().parent / "results" / "rerank_cost.json"
    out.write_text(json.dumps({"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "rows": rows}, indent=2)
                   + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
