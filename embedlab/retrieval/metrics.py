"""Retrieval metrics, computed the way mteb does it.

mteb (mteb/_evaluators/retrieval_metrics.py, ``calculate_retrieval_scores``) hands the run to
pytrec_eval (trec_eval's definitions: ndcg_cut, map_cut, recall, P) and computes MRR@k itself
(``mrr`` in the same file). Both order a query's documents by score, ties broken by document id,
descending. A query is scored when it has judgements and a result list; the mean is over those.
tests/core/test_retrieval_metrics.py checks these against pytrec_eval and a hand computation.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import pandas as pd

from embedlab.errors import DataError, OptionError
from embedlab.retrieval.corpus import Qrels

Run = Mapping[str, Mapping[str, float]]  # query id -> {doc id: score}
DEFAULT_METRICS = ("nDCG@10", "MRR@10", "Recall@1", "Recall@10", "Recall@100", "MAP@100")


def ranked(scores: Mapping[str, float]) -> list[str]:
    """Document ids best first: score descending, then id descending (pytrec_eval's order)."""
    return [d for d, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)]


def ndcg_at(order: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """trec_eval ndcg_cut: gain = the relevance value, discount log2(rank + 1); ideal from all judgements."""
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(order[:k]) if judged.get(d, 0) > 0)
    ideal = sorted((r for r in judged.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def map_at(order: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """trec_eval map_cut: precision at each relevant hit within k, divided by all relevant judgements."""
    relevant = {d for d, r in judged.items() if r >= 1}
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for i, d in enumerate(order[:k]):
        if d in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / len(relevant)


def recall_at(order: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in judged.items() if r >= 1}
    return len(relevant.intersection(order[:k])) / len(relevant) if relevant else 0.0


def precision_at(order: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    return sum(1 for d in order[:k] if judged.get(d, 0) >= 1) / k


def mrr_at(order: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """mteb's own MRR: 1 / rank of the first document with relevance > 0 within k, else 0."""
    for i, d in enumerate(order[:k]):
        if judged.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


FUNCTIONS = {"nDCG": ndcg_at, "MAP": map_at, "Recall": recall_at, "P": precision_at, "MRR": mrr_at}


def _metric(name: str):
    kind, _, k = name.partition("@")
    if kind not in FUNCTIONS or not k.isdigit():
        raise OptionError(f"Unknown metric {name!r}; use e.g. nDCG@10, MRR@10, Recall@100, MAP@100, P@5.")
    return FUNCTIONS[kind], int(k)


def per_query(run: Run, qrels: Qrels, metrics: Sequence[str] = DEFAULT_METRICS) -> pd.DataFrame:
    """One row per evaluated query (judged and with results), one column per metric."""
    funcs = [(m, *_metric(m)) for m in metrics]
    rows = {}
    for qid, scores in run.items():
        if qid not in qrels:
            continue
        order = ranked(scores)
        rows[qid] = {m: f(order, qrels[qid], k) for m, f, k in funcs}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(metrics))


def evaluate(run: Run, qrels: Qrels, metrics: Sequence[str] = DEFAULT_METRICS) -> dict[str, float]:
    table = per_query(run, qrels, metrics)
    if table.empty:
        raise DataError("No query in the run has judgements: nothing to evaluate; check that the run's query ids "
                        "match the qrels'.")
    return {m: float(table[m].mean()) for m in metrics}
