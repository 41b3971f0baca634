"""Retrieval pipelines over a RetrievalData: dense, BM25, hybrid (RRF), and reranking of a
first-stage ranking's top documents; each evaluated per query with the metrics in ``metrics``.

A ``RetrievalPlan`` says which pipelines to run and ``run_plan`` runs them. The Retrieval lab, the
``eval retrieval`` command and the fine-tuning held-out evaluation all build their pipelines here,
so the same description gives the same names and the same numbers everywhere."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from embedlab.embedder import Embedder, Progress
from embedlab.errors import OptionError
from embedlab.retrieval import metrics
from embedlab.retrieval.corpus import RetrievalData
from embedlab.retrieval.search import (
    BM25Index,
    DenseIndex,
    Hits,
    reciprocal_rank_fusion,
)

TOP_K = 1000  # mteb retrieves the top 1000 per query (k_values up to 1000)
TOP_K_CHOICES = (10, 100, 1000)  # results kept per query; Recall@100 and MAP@100 need at least 100
RERANK_DEPTH = 100  # first-stage results a reranker reorders
# A quicker look (the Retrieval lab's defaults): Recall@100 and MAP@100 still count, and a reranker,
# which runs once per query, reorders only the top 20.
QUICK_TOP_K = 100
QUICK_RERANK_DEPTH = 20
BM25 = "BM25"

if TYPE_CHECKING:
    from embedlab.retrieval.rerank import Reranker

LabelledProgress = Callable[[str, int, int], None]  # (what is running, done, total)


def hybrid_name(dense: str, lexical: str = BM25) -> str:
    return f"hybrid({dense} + {lexical})"


@dataclass(frozen=True)
class Ranking:
    """One pipeline's ranked lists for every query of a dataset."""

    name: str
    hits: Hits
    seconds: float
    ranked_scores: bool = True  # False: scores are only positions (fused or reranked lists)
    before: Hits | None = None  # for a rerank: the ranking it reordered

    def run(self, data: RetrievalData) -> dict[str, dict[str, float]]:
        """The trec-style run: query id -> {document id: score}."""
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


@dataclass(frozen=True)
class RetrievalPlan:
    """Which pipelines to run: BM25, each dense model, each model fused with BM25 (``hybrid``), and
    each reranker over the first stages in ``rerank_of`` (model names or "BM25"; by default every
    dense model, or BM25 when there is no model), reordering the top ``depth`` of ``top_k`` kept."""

    models: tuple[str, ...] = ()
    bm25: bool = False
    hybrid: bool = False
    rerankers: tuple[str, ...] = ()
    rerank_of: tuple[str, ...] | None = None
    depth: int = RERANK_DEPTH
    top_k: int = TOP_K

    def __post_init__(self) -> None:
        if not self.models and not self.bm25:
            raise OptionError("Nothing to evaluate: pick at least one model, or BM25.")
        for what, value in (("depth", self.depth), ("top_k", self.top_k)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise OptionError(f"{what} must be a whole number of at least 1, not {value!r}.")
        unknown = [b for b in self.reranked if b not in self.rerankable]
        if self.rerankers and unknown:
            raise OptionError(f"Cannot rerank {', '.join(unknown)}: not a first stage here; "
                              f"choose from {', '.join(self.rerankable)}.")

    @property
    def rerankable(self) -> tuple[str, ...]:
        """First stages a reranker can reorder."""
        return (*self.models, *((BM25,) if self.bm25 else ()))

    @property
    def reranked(self) -> tuple[str, ...]:
        """First stages the rerankers reorder."""
        if self.rerank_of is not None:
            return tuple(self.rerank_of)
        return self.models or (BM25,)


def without_models(plan: RetrievalPlan, names: Sequence[str]) -> RetrievalPlan | None:
    """``plan`` without the models ``names`` (and without its reranking when that reordered one of them);
    None when nothing would be left to run."""
    models = tuple(m for m in plan.models if m not in names)
    if not models and not plan.bm25:
        return None
    rerank = bool(plan.rerankers) and not set(plan.reranked) & set(names)
    return dataclasses.replace(plan, models=models, rerankers=plan.rerankers if rerank else (),
                               rerank_of=plan.rerank_of if rerank else None)


def check_names(plan: RetrievalPlan) -> None:
    """Fail on an unknown model or a malformed reranker name before anything is loaded."""
    from embedlab.models.registry import resolve_spec
    from embedlab.retrieval.rerank import parse_reranker_name

    for name in plan.rerankers:
        parse_reranker_name(name)
    for name in plan.models:
        resolve_spec(name)


def run_plan(plan: RetrievalPlan, data: RetrievalData, *, models: Mapping[str, Embedder],
             rerankers: Mapping[str, Reranker] | None = None,
             progress: LabelledProgress | None = None) -> list[Ranking]:
    """Every pipeline of ``plan`` over ``data``, in table order: BM25, each model then its hybrid,
    then each reranking. ``models`` and ``rerankers`` are the loaded ones, by the plan's names."""
    rerankers = rerankers or {}
    missing = [n for n in plan.models if n not in models] + [r for r in plan.rerankers if r not in rerankers]
    if missing:
        raise OptionError(f"Not loaded: {', '.join(missing)}; pass every model and reranker the plan names.")
    firsts: dict[str, Ranking] = {}
    out: list[Ranking] = []
    lexical = None
    if plan.bm25 or plan.hybrid:
        if progress:
            progress(BM25, 0, 1)
        lexical = bm25_search(data, k=plan.top_k)
        if plan.bm25:
            firsts[BM25] = lexical
            out.append(lexical)
    for name in plan.models:
        report = _labelled(progress, f"{name}: embedding")
        firsts[name] = dense = dense_search(data, models[name], k=plan.top_k, progress=report)
        out.append(dense)
        if plan.hybrid:
            out.append(hybrid(dense, lexical, k=plan.top_k))
    for base in (plan.reranked if plan.rerankers else ()):
        for key in plan.rerankers:
            reranker = rerankers[key]
            report = _labelled(progress, f"Reranking {firsts[base].name} with {reranker.name}")
            out.append(rerank(firsts[base], data, reranker, depth=plan.depth, progress=report))
    return out


def _labelled(progress: LabelledProgress | None, label: str) -> Progress | None:
    return None if progress is None else (lambda done, total: progress(label, done, total))


def dense_search(data: RetrievalData, model: Embedder, *, k: int = TOP_K, progress: Progress | None = None) -> Ranking:
    start = time.perf_counter()
    docs = model.encode(data.doc_texts, role="document", progress=progress)
    queries = model.encode(data.queries, role="query", progress=progress)
    hits = DenseIndex(docs, normalized=True).search(queries, k)
    return Ranking(model.name, hits, time.perf_counter() - start)


def bm25_search(data: RetrievalData, *, k: int = TOP_K) -> Ranking:
    start = time.perf_counter()
    hits = BM25Index(data.doc_texts).search(data.queries, k)
    return Ranking(BM25, hits, time.perf_counter() - start)


def hybrid(dense: Ranking, lexical: Ranking, *, k: int = TOP_K, c: int = 60) -> Ranking:
    start = time.perf_counter()
    hits = reciprocal_rank_fusion([dense.hits, lexical.hits], k, c=c)
    return Ranking(hybrid_name(dense.name, lexical.name), hits, dense.seconds + lexical.seconds
                   + time.perf_counter() - start, ranked_scores=False)


def first_stage_hits(plan: RetrievalPlan, dense: Mapping[str, Hits], lexical: Hits | None,
                     k: int) -> dict[str, Hits]:
    """The plan's first stages for queries searched elsewhere (the lab searches cached indexes):
    ``dense`` by model name, ``lexical`` the BM25 hits, fused as ``hybrid`` fuses them."""
    hits = {name: dense[name] for name in plan.models}
    if plan.bm25:
        hits[BM25] = lexical
    if plan.hybrid:
        for name in plan.models:
            hits[hybrid_name(name)] = reciprocal_rank_fusion([dense[name], lexical], k)
    return hits


def rerank_hits(hits: Hits, queries: Sequence[str], doc_texts: Sequence[str], reranker: Reranker, *, depth: int,
                progress: Progress | None = None) -> Hits:
    """Each query's top ``depth`` reordered by the reranker's scores; the rest keep their order below."""
    indices, scores = hits.indices.copy(), hits.scores.copy()
    for q, query in enumerate(queries):
        top = hits.indices[q, :depth]
        s = reranker.score(query, [doc_texts[i] for i in top])
        order = np.argsort(-s, kind="stable")
        indices[q, :depth] = top[order]
        scores[q, :depth] = s[order]
        if progress:
            progress(q + 1, len(queries))
    return Hits(indices, scores)


def rerank(first: Ranking, data: RetrievalData, reranker: Reranker, *, depth: int = RERANK_DEPTH,
           progress: Progress | None = None) -> Ranking:
    """Reorder each query's top ``depth`` by the reranker; the rest keep the first ranking's order below them."""
    start = time.perf_counter()
    depth = min(depth, first.hits.indices.shape[1])
    hits = rerank_hits(first.hits, data.queries, data.doc_texts, reranker, depth=depth, progress=progress)
    return Ranking(f"{first.name} → {reranker.name}@{depth}", hits, first.seconds + time.perf_counter() - start,
                   ranked_scores=False, before=first.hits)


def summary_table(rankings: Sequence[Ranking], data: RetrievalData,
                  names: Sequence[str] = metrics.DEFAULT_METRICS) -> pd.DataFrame:
    rows = []
    for ranking in rankings:
        per_q = ranking.evaluate(data, names)
        rows.append({"pipeline": ranking.name, **{m: float(per_q[m].mean()) for m in names},
                     "queries": len(per_q), "seconds": round(ranking.seconds, 1)})
    return pd.DataFrame(rows).set_index("pipeline")
