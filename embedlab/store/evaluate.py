"""Retrieval evaluation over a collection: queries and qrels from files, documents from the collection,
scored with the same metrics as ``eval retrieval`` (retrieval/metrics.py, mteb's definitions).

Through the ANN index, the same queries are also run exactly, so the report says what the index costs
in quality (recall@10 of the ANN results against the exact ones, and both nDCG@10s) and what it
saves in time (per-query latency, p50 and p95).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from embedlab.errors import DataError
from embedlab.retrieval import metrics
from embedlab.retrieval.corpus import read_qrels, read_queries
from embedlab.retrieval.search import fuse_ranks
from embedlab.store.collection import ID, Collection
from embedlab.store.search import check_model, text_search, vector_search

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CollectionEval:
    collection: str
    model: str
    documents: int
    queries: int
    ann_index: bool
    results: dict[str, dict[str, float]]  # pipeline -> metric -> value
    latency_ms: dict[str, dict[str, float]]  # pipeline -> p50 / p95 / mean
    recall_at_10_vs_exact: float | None  # ANN top 10 against exact top 10, mean over queries
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per pipeline: every metric, then its p50 and p95 latency in milliseconds."""
        frame = pd.DataFrame(self.results).T
        frame["p50 ms"] = [self.latency_ms[p]["p50"] for p in frame.index]
        frame["p95 ms"] = [self.latency_ms[p]["p95"] for p in frame.index]
        frame.index.name = "pipeline"
        return frame


def judged_queries(queries_source, qrels_source, *, max_queries: int = 0, seed: int = 0):
    """(query ids, texts, qrels) for the queries that have a relevant judgement, as BEIR/mteb evaluate."""
    qids, texts = read_queries(queries_source)
    qrels = read_qrels(qrels_source)
    keep = [i for i, q in enumerate(qids) if q in qrels and any(s > 0 for s in qrels[q].values())]
    if not keep:
        raise DataError("No query has a relevant document in the qrels: check that the query ids match.")
    if max_queries and max_queries < len(keep):
        keep = sorted(np.random.default_rng(seed).choice(keep, max_queries, replace=False).tolist())
    return [qids[i] for i in keep], [texts[i] for i in keep], {qids[i]: qrels[qids[i]] for i in keep}


def judged_documents(collection: Collection, qrels: dict[str, dict[str, int]]) -> list[str]:
    """Notes on the relevant documents the collection lacks; an error when it has none of them (the
    qrels belong to another corpus, or the collection was built with other ids), not a score of 0."""
    relevant = sorted({d for docs in qrels.values() for d, s in docs.items() if s > 0})
    found = 0
    for start in range(0, len(relevant), 500):
        part = ", ".join("'" + d.replace("'", "''") + "'" for d in relevant[start:start + 500])
        found += collection.count(f"{ID} IN ({part})")
    if not found:
        raise DataError(f"None of the {len(relevant):,} relevant documents in the qrels is in the collection "
                        f"(e.g. {relevant[0]!r}): the qrels must use the collection's ids.")
    if found < len(relevant):
        return [(f"{len(relevant) - found:,} of the {len(relevant):,} relevant documents are not in the "
                 "collection: the queries that need them cannot find them.")]
    return []


def evaluate_collection(collection: Collection, model, queries_source, qrels_source, *, top_k: int = 100,
                        exact: bool = False, hybrid: bool = False, ignore_identical_ids: bool = False,
                        max_queries: int = 0, progress: Progress | None = None) -> CollectionEval:
    # 1. The model must be the one that made the collection's vectors; the queries must be judged.
    entry = check_model(collection, model)
    qids, texts, qrels = judged_queries(queries_source, qrels_source, max_queries=max_queries)
    notes = judged_documents(collection, qrels)
    ann = collection.has_ann(entry) and not exact
    if not collection.has_ann(entry) and not exact:
        notes.append("The collection has no ANN index for this model (too few rows): searched exactly.")
    # 2. Embed the queries, 3. search each one (timed alone: that is a user's latency).
    vectors = model.encode(texts, role="query",
                           progress=(lambda done, total: progress("embedding the queries", done, total))
                           if progress else None)
    table = collection.docs()
    name = f"{entry.name} ({'ANN' if ann else 'exact'})"
    runs: dict[str, dict] = {name: {}}
    times: dict[str, list[float]] = {name: []}
    if ann:
        runs[f"{entry.name} (exact)"], times[f"{entry.name} (exact)"] = {}, []
    if hybrid:
        runs[f"hybrid({entry.name} + full-text)"], times[f"hybrid({entry.name} + full-text)"] = {}, []
    overlap = []
    for n, (qid, text, vector) in enumerate(zip(qids, texts, vectors)):
        found, found_seconds = vector_search(collection, entry, vector, top_k, exact=not ann, table=table)
        runs[name][qid] = dict(zip(found[ID], found["score"]))
        times[name].append(found_seconds)
        if ann:
            truth, seconds = vector_search(collection, entry, vector, top_k, exact=True, table=table)
            runs[f"{entry.name} (exact)"][qid] = dict(zip(truth[ID], truth["score"]))
            times[f"{entry.name} (exact)"].append(seconds)
            overlap.append(len(set(found[ID][:10]) & set(truth[ID][:10])) / max(1, min(10, len(truth))))
        if hybrid:
            lexical, lex_seconds = text_search(collection, text, top_k, table=table)
            fused = fuse_ranks([found[ID].tolist(), lexical[ID].tolist()], top_k)
            key = f"hybrid({entry.name} + full-text)"
            runs[key][qid] = {d: float(len(fused) - r) for r, (d, _) in enumerate(fused)}  # positions as scores
            times[key].append(found_seconds + lex_seconds)
        if progress:
            progress("searching the collection", n + 1, len(qids))
    # 4. Score every pipeline the way eval retrieval does.
    results = {}
    for pipeline, run in runs.items():
        if ignore_identical_ids:
            for qid, scores in run.items():
                scores.pop(qid, None)
        results[pipeline] = metrics.evaluate(run, qrels, metrics.DEFAULT_METRICS)
    latency = {p: {"p50": float(np.percentile(t, 50) * 1000), "p95": float(np.percentile(t, 95) * 1000),
                   "mean": float(np.mean(t) * 1000)} for p, t in times.items()}
    return CollectionEval(collection.uri, entry.name, collection.count(), len(qids), ann, results, latency,
                          float(np.mean(overlap)) if overlap else None, notes)
