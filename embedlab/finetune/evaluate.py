"""Before/after evidence on the held-out split, for any embedder (or a bi-encoder + reranker).

- triplet accuracy: share of held-out rows with cos(anchor, positive) > cos(anchor, negative)
  (sentence-transformers' TripletEvaluator counts the same way);
- retrieval: every held-out anchor is a query, the corpus is every distinct held-out positive and
  negative, the anchor's own positive(s) are relevant; searched (and reranked) by
  embedlab.retrieval.pipeline, nDCG@10, MRR@10 and Recall@1/10 as in mteb/pytrec_eval;
- geometry: mean cosine of random pairs of distinct held-out texts (raw decoder states sit near 1);
- scored pairs: cosine Spearman against the scores, as MTEB's STS evaluator;
- decoders only: next-token perplexity on held-out positives (does the embedder still speak?).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from embedlab.finetune.perplexity import PERPLEXITY_TOKENS, perplexity
from embedlab.finetune.trainset import TrainSet
from embedlab.retrieval.corpus import RetrievalData
from embedlab.retrieval.pipeline import RetrievalPlan, run_plan

HELD_OUT_TOP_K = 100  # enough for nDCG@10 and Recall@10; held-out corpora are small
# At or above these on the held-out rows, the base leaves no room to show that training helped.
CEILING = {"nDCG@10": 0.98, "triplet accuracy": 1.0}
SUMMARY_METRICS = ("triplet accuracy", "nDCG@10", "MRR@10", "Recall@1", "Recall@10", "mean random-pair cosine",
                   "Spearman", "perplexity")
# Perplexity costs a forward pass over every text plus a 49k-wide LM head on every token: 50 texts of 256
# tokens took SmolLM2 ~30-60 s on two shared cores, so it is measured on a seeded sample, the same before and after.
PERPLEXITY_TEXTS = 50


@dataclass(frozen=True)
class Evaluation:
    scores: dict[str, float]
    positive_sims: np.ndarray  # cos(anchor, positive) per held-out row
    negative_sims: np.ndarray | None  # cos(anchor, negative) per held-out row
    doc_vectors: np.ndarray  # the held-out corpus, for maps
    doc_texts: list[str]
    doc_groups: list[str]
    seconds: float = 0.0
    per_query: pd.DataFrame | None = field(default=None, repr=False)  # indexed by query text
    notes: tuple[str, ...] = ()  # how a score was measured (perplexity: on what)


def held_out_corpus(data: TrainSet) -> tuple[list[str], list[str], list[str], dict[str, dict[str, int]]]:
    """Distinct queries (anchors), distinct documents (positives, then negatives), each document's
    group, and qrels ``q<query number>`` -> ``d<document number>`` of the anchor's positives."""
    group_of = {p: (data.groups[i] if data.groups else "positive") for i, p in enumerate(data.positives)}
    docs: dict[str, int] = {}
    for t in [*data.positives, *(data.negatives or [])]:
        docs.setdefault(t, len(docs))
    queries = {a: n for n, a in enumerate(pd.unique(pd.Series(data.anchors)))}
    qrels: dict[str, dict[str, int]] = {}
    for a, p in zip(data.anchors, data.positives):
        qrels.setdefault(f"q{queries[a]}", {})[f"d{docs[p]}"] = 1
    groups = [group_of.get(t, "negative only") for t in docs]
    return list(queries), list(docs), groups, qrels


def evaluate(model, data: TrainSet, *, reranker=None, rerank_depth: int = 20, seed: int = 0,
             progress=None, perplexity_texts: int = PERPLEXITY_TEXTS) -> Evaluation:
    """Score ``model`` (anything with ``encode(texts, role=...)``) on held-out ``data``.

    With ``reranker`` (``score(query, docs)``), retrieval is the model's top ``rerank_depth``
    reranked, and triplet accuracy compares the reranker's scores for positive and negative.
    A decoder also gets its perplexity on ``perplexity_texts`` held-out positives (0: not measured).
    """
    start = time.perf_counter()
    queries, docs, groups, qrels = held_out_corpus(data)
    q_vec = model.encode(queries, role="query")
    d_vec = model.encode(docs, role="document", progress=progress)
    doc_index = {t: i for i, t in enumerate(docs)}
    q_index = {a: i for i, a in enumerate(queries)}
    a_rows = np.array([q_index[a] for a in data.anchors])
    pos = np.einsum("ij,ij->i", q_vec[a_rows], d_vec[[doc_index[p] for p in data.positives]])
    neg = None
    if data.negatives is not None:
        neg = np.einsum("ij,ij->i", q_vec[a_rows], d_vec[[doc_index[n] for n in data.negatives]])

    # The held-out split as a retrieval set, searched (and reranked) by the retrieval pipeline.
    corpus = RetrievalData(data.name, [f"d{i}" for i in range(len(docs))], [""] * len(docs), docs,
                           [f"q{i}" for i in range(len(queries))], queries, qrels)
    name = getattr(model, "name", "model")
    plan = RetrievalPlan(models=(name,), rerankers=(reranker.name,) if reranker is not None else (),
                         depth=rerank_depth, top_k=HELD_OUT_TOP_K)
    encoded = _Encoded(name, {"query": q_vec, "document": d_vec})
    last = run_plan(plan, corpus, models={name: encoded},
                    rerankers={reranker.name: reranker} if reranker is not None else None)[-1]
    per_query = last.evaluate(corpus, ("nDCG@10", "MRR@10", "Recall@1", "Recall@10"))
    scores = {m: float(per_query[m].mean()) for m in per_query.columns}

    if reranker is not None and data.negatives is not None:
        pairs = [reranker.score(a, [p, n]) for a, p, n in zip(data.anchors, data.positives, data.negatives)]
        pos, neg = np.array([float(s[0]) for s in pairs]), np.array([float(s[1]) for s in pairs])
    if neg is not None:
        scores["triplet accuracy"] = float(np.mean(pos > neg))
    scores["mean random-pair cosine"] = random_pair_cosine(d_vec, seed=seed)
    if data.scores is not None:
        from scipy.stats import spearmanr

        scores["Spearman"] = float(spearmanr(pos, data.scores).statistic)
    notes = ()
    if perplexity_texts and _is_decoder(model):
        ppl = perplexity(model, perplexity_sample(data, perplexity_texts, seed=seed), max_tokens=PERPLEXITY_TOKENS)
        scores["perplexity"] = ppl.value
        notes = (f"perplexity: {ppl.description}; the texts are held-out positives, which no training row "
                 "has as its positive (so the next-token loss never saw them).",)
    ordered = {k: scores[k] for k in SUMMARY_METRICS if k in scores}
    per_query = per_query[["nDCG@10", "MRR@10"]]
    per_query.index = [queries[int(q[1:])] for q in per_query.index]
    per_query.index.name = "query"
    return Evaluation(ordered, pos, neg, d_vec, docs, groups, time.perf_counter() - start, per_query, notes)


def _is_decoder(model) -> bool:
    spec = getattr(getattr(model, "inner", model), "spec", None)
    return spec is not None and spec.kind == "decoder" and spec.backend == "torch"


def perplexity_sample(data: TrainSet, n: int, *, seed: int = 0) -> list[str]:
    """Up to ``n`` distinct held-out positives, a seeded random choice (the same for before and after)."""
    texts = list(dict.fromkeys(data.positives))
    rng = np.random.default_rng(seed)
    return [texts[i] for i in sorted(rng.permutation(len(texts))[:n])]


class _Encoded:
    """The held-out texts as already encoded above, so the pipeline searches with the same vectors
    instead of encoding every text a second time."""

    def __init__(self, name: str, vectors: dict[str, np.ndarray]) -> None:
        self.name = name
        self.vectors = vectors

    def encode(self, texts, *, role: str, progress=None) -> np.ndarray:
        if len(texts) != len(self.vectors[role]):
            raise RuntimeError(f"{len(texts)} {role} texts, {len(self.vectors[role])} encoded ones: not the same set.")
        return self.vectors[role]


def random_pair_cosine(vectors: np.ndarray, *, pairs: int = 5000, seed: int = 0) -> float:
    """Mean cosine over random pairs of distinct rows (all pairs when there are few)."""
    n = len(vectors)
    if n < 2:
        return float("nan")
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
    if n * (n - 1) // 2 <= pairs:
        i, j = np.triu_indices(n, 1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, pairs)
        j = (i + rng.integers(1, n, pairs)) % n  # never i itself
    return float(np.mean(np.einsum("ij,ij->i", unit[i], unit[j])))


def ceiling_warning(scores: dict[str, float], rows: int) -> str | None:
    """A warning when the base model's held-out ``scores`` are already at the ceiling (None: room left)."""
    at = [f"{metric} {scores[metric]:.3f}" for metric, limit in CEILING.items()
          if metric in scores and scores[metric] >= limit]
    if not at:
        return None
    return (f"The base model is already at the ceiling on the {rows} held-out rows ({', '.join(at)}): fine-tuning "
            "cannot show an improvement there, only noise or a loss. Hold out more rows (a larger held-out share or "
            "more data) or use harder pairs so the comparison can tell.")


def comparison(before: Evaluation, after: Evaluation) -> pd.DataFrame:
    rows = []
    for key in before.scores:
        if key in after.scores:
            b, a = before.scores[key], after.scores[key]
            rows.append({"metric": key, "before": b, "after": a, "change": a - b})
    return pd.DataFrame(rows).set_index("metric")
