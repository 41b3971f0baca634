"""Retrieval pipelines over a RetrievalData: dense, BM25, hybrid (RRF), and reranking of a
first stage's top documents; each evaluated per query with the metrics in ``metrics``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from embedlab.embedder import Progress
from embedlab.retrieval import metrics
from embedlab.retrieval.corpus import RetrievalData
from embedlab.retrieval.search import BM25Index, DenseIndex, Hits, reciprocal_rank_fusion

TOP_K = 1000  # mteb retrieves the top 1000 per query (k_values up to 1000)


@dataclass
class Stage:
    """One pipeline's ranked lists for every query of a dataset."""

    name: str
    hits: Hits
    seconds: float
    ranked_scores: bool = True  # False: scores are only positions (fused or reranked lists)
    before: Hits | None = None  # for a rerank: the first stage it reordered
    details: dict = field(default_factory=dict)

    def run(self, data: RetrievalData) -> dict[str, dict[str, float]]:
        if self.ranked_scores:
            run = self.hits.run(data.query_ids, data.doc_ids)
        else:  # positions as scores (higher = earlier), so no ties and the order is kept exactly
            n = self.hits.indices.shape[1]
            run = {q: {data.doc_ids[d]: float(n - r) for r, d in enumerate(row)}
                   for q, row in zip(data.query_ids, self.hits.indices)}
        if data.ignore_identical_ids:  # mteb/_evaluators/retrieval_evaluator.py, RetrievalEvaluator.evaluate
            for qid, scores in run.items():
                scores.pop(qid, None)
        return run

    def evaluate(self, data: RetrievalData, names: Sequence[str] = metrics.DEFAULT_METRICS) -> pd.DataFrame:
        return metrics.per_query(self.run(data), data.qrels, names)


def dense_search(data: RetrievalData, model, *, k: int = TOP_K, progress: Progress | None = None,
                 stage: Callable[[str], None] | None = None) -> Stage:
    start = time.perf_counter()
    if stage:
        stage(f"{model.name}: embedding {len(data.doc_ids):,} documents")
    docs = model.encode(data.doc_texts, role="document", progress=progress)
    if stage:
        stage(f"{model.name}: embedding {len(data.queries):,} queries")
    queries = model.encode(data.queries, role="query", progress=progress)
    hits = DenseIndex(docs, normalized=True).search(queries, k)
    return Stage(model.name, hits, time.perf_counter() - start)


def bm25_search(data: RetrievalData, *, k: int = TOP_K) -> Stage:
    start = time.perf_counter()
    hits = BM25Index(data.doc_texts).search(data.queries, k)
    return Stage("BM25", hits, time.perf_counter() - start)


def hybrid(dense: Stage, lexical: Stage, *, k: int = TOP_K, c: int = 60) -> Stage:
    start = time.perf_counter()
    hits = reciprocal_rank_fusion([dense.hits, lexical.hits], k, c=c)
    return Stage(f"hybrid({dense.name} + {lexical.name})", hits, dense.seconds + lexical.seconds
                 + time.perf_counter() - start, ranked_scores=False)


def rerank(first: Stage, data: RetrievalData, reranker, *, depth: int = 100, progress: Progress | None = None) -> Stage:
    """Reorder each query's top ``depth`` by the reranker; the rest keep the first stage's order below them."""
    start = time.perf_counter()
    texts = data.doc_texts
    depth = min(depth, first.hits.indices.shape[1])
    indices = first.hits.indices.copy()
    scores = first.hits.scores.copy()
    for q, query in enumerate(data.queries):
        top = first.hits.indices[q, :depth]
        s = reranker.score(query, [texts[i] for i in top])
        order = np.argsort(-s, kind="stable")
        indices[q, :depth] = top[order]
        scores[q, :depth] = s[order]
        if progress:
            progress(q + 1, len(data.queries))
    return Stage(f"{first.name} → {reranker.name}@{depth}", Hits(indices, scores),
                 first.seconds + time.perf_counter() - start, ranked_scores=False, before=first.hits,
                 details={"depth": depth})


def summary_table(stages: Sequence[Stage], data: RetrievalData,
                  names: Sequence[str] = metrics.DEFAULT_METRICS) -> pd.DataFrame:
    rows = []
    for st in stages:
        per_q = st.evaluate(data, names)
        rows.append({"pipeline": st.name, **{m: float(per_q[m].mean()) for m in names},
                     "queries": len(per_q), "seconds": round(st.seconds, 1)})
    return pd.DataFrame(rows).set_index("pipeline")
