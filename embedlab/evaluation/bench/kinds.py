"""Task builders, one per kind: each checks its data and parameters once, when the task is built
(before any model loads), and returns a ``Task`` whose ``compute`` scores a model as mteb does."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from embedlab.errors import DataError
from embedlab.evaluation._checks import (
    label_list,
    positive_int,
    require_classes,
    same_length,
    text_list,
)
from embedlab.evaluation.bench.speed import speed_sample
from embedlab.evaluation.bench.task import Task, data_key, embed_once, one_thread
from embedlab.jsonio import plain

RETRIEVAL_METRICS = ("nDCG@1", "nDCG@10", "nDCG@100", "MRR@10", "MAP@100", "Recall@1", "Recall@10",
                     "Recall@100", "Recall@1000", "P@1", "P@10")
RETRIEVAL_TOP_K = 1000  # mteb keeps the top max(k_values) = 1000 per query


def sts_task(name: str, sentences1: Sequence[str], sentences2: Sequence[str], scores: Sequence[float], *,
             description: str = "") -> Task:
    """STS: cosine of each pair's embeddings against gold scores; main score = cosine Spearman."""
    from embedlab.evaluation.sts import check_pairs

    s1, s2, gold = check_pairs(sentences1, sentences2, scores)

    def compute(model, progress):
        from embedlab.evaluation.sts import evaluate_sts

        result = evaluate_sts(model, s1, s2, gold, progress=progress)
        return {"main_score": result.cosine_spearman, "cosine_spearman": result.cosine_spearman,
                "cosine_pearson": result.cosine_pearson, "n_pairs": result.n_pairs}

    key = data_key("sts", {"sentences1": s1, "sentences2": s2, "scores": gold})
    return Task(name, "sts", description or f"STS on {len(gold):,} scored pairs: cosine Spearman.", key,
                "main_score", compute, size={"pairs": len(gold)}, speed_texts=speed_sample([*s1, *s2]))


def clustering_task(name: str, texts: Sequence[str], labels: Sequence, *, seed: int = 42, n_runs: int = 10,
                    run_size: int = 16_384, kmeans_batch_size: int = 512, max_fraction: float | None = None,
                    max_documents: int | None = None, description: str = "") -> Task:
    """Clustering: MiniBatchKMeans with k = number of labels, V-measure over ``n_runs`` bootstrap
    samples of ``run_size`` texts (mteb's fast ``AbsTaskClustering`` and its defaults)."""
    from embedlab.evaluation.clustering_task import MISSING_LABEL, check_subsample

    docs = text_list(texts, "texts")
    y = plain(label_list(labels, len(docs), rows_name="texts"))
    require_classes([v for v in y if v != MISSING_LABEL], name="labels (ignoring -1)")
    for value, what in ((n_runs, "n_runs"), (run_size, "run_size"), (kmeans_batch_size, "kmeans_batch_size")):
        positive_int(value, what)
    check_subsample(max_fraction, max_documents)
    params = {"seed": seed, "n_runs": n_runs, "run_size": run_size, "kmeans_batch_size": kmeans_batch_size,
              "max_fraction": max_fraction, "max_documents": max_documents}

    def compute(model, progress):
        from embedlab.evaluation.clustering_task import clustering_scores

        vectors = embed_once(model, docs, "document", progress)
        with one_thread():
            return dict(clustering_scores(vectors, y, **params))

    key = data_key("clustering", {"texts": docs, "labels": y, **params})
    n_labels = len({v for v in y if v != MISSING_LABEL})
    return Task(name, "clustering", description or f"Clustering {len(docs):,} texts into {n_labels} labels: "
                "V-measure of MiniBatchKMeans (mteb).", key, "main_score", compute,
                size={"texts": len(docs), "labels": n_labels}, speed_texts=speed_sample(docs))


def classification_task(name: str, texts: Sequence[str], labels: Sequence, *,
                        test_texts: Sequence[str] | None = None, test_labels: Sequence | None = None,
                        test_size: float = 0.5, seed: int = 42, n_experiments: int = 10,
                        samples_per_label: int = 8, description: str = "") -> Task:
    """Classification: mteb's logistic-regression probe, accuracy averaged over experiments.

    With ``test_texts``/``test_labels`` the first set trains and the second tests; otherwise one
    labelled set is split with ``train_test_split_for_probe(labels, seed=seed, test_size=test_size)``
    (stratified, seeded). ``samples_per_label`` and ``n_experiments`` default to mteb's class defaults.
    """
    from embedlab.evaluation.classification_task import (
        check_probe_labels,
        train_test_split_for_probe,
    )

    docs = text_list(texts, "texts")
    y = plain(label_list(labels, len(docs), rows_name="texts"))
    if (test_texts is None) != (test_labels is None):
        raise DataError("Give both test_texts and test_labels, or neither (then the set is split).")
    if test_texts is None:
        train_idx, test_idx = train_test_split_for_probe(y, seed=seed, test_size=test_size)
        train, y_train = [docs[i] for i in train_idx], [y[i] for i in train_idx]
        test, y_test = [docs[i] for i in test_idx], [y[i] for i in test_idx]
        split = {"split": "stratified", "test_size": test_size}
    else:
        train, y_train = docs, y
        test = text_list(test_texts, "test_texts")
        y_test = plain(label_list(test_labels, len(test), name="test_labels", rows_name="test_texts"))
        split = {"split": "given"}
    check_probe_labels(y_train, y_test)
    positive_int(n_experiments, "n_experiments")
    positive_int(samples_per_label, "samples_per_label")
    params = {"seed": seed, "n_experiments": n_experiments, "samples_per_label": samples_per_label}

    def compute(model, progress):
        from embedlab.evaluation.classification_task import classification_scores

        vectors = embed_once(model, [*train, *test], "document", progress)
        with one_thread():
            scores = classification_scores(vectors[:len(train)], y_train, vectors[len(train):], y_test, **params)
        return {**scores, "n_train": len(train), "n_test": len(test)}

    key = data_key("classification", {"train": train, "train_labels": y_train, "test": test,
                                      "test_labels": y_test, **params, **split})
    n_labels = len(set(y_train))
    how = (f"a seeded stratified split ({len(train):,} train / {len(test):,} test)" if test_texts is None
           else f"{len(train):,} train / {len(test):,} test texts")
    return Task(name, "classification", description or f"Classification into {n_labels} labels on {how}: "
                f"accuracy of mteb's logistic-regression probe ({samples_per_label} per label, "
                f"{n_experiments} experiments).", key, "main_score", compute,
                size={"train": len(train), "test": len(test), "labels": n_labels},
                speed_texts=speed_sample([*train, *test]))


def pair_classification_task(name: str, sentences1: Sequence[str], sentences2: Sequence[str],
                             labels: Sequence[int], *, description: str = "") -> Task:
    """Pair classification: AP and best-threshold accuracy/F1 of pair similarities against 0/1
    labels; main score = max AP over cosine, manhattan, euclidean and dot (mteb's ``max_ap``)."""
    s1 = text_list(sentences1, "sentences1")
    s2 = text_list(sentences2, "sentences2")
    y = plain(list(labels.tolist() if isinstance(labels, np.ndarray) else labels))
    same_length(("sentences1", s1), ("sentences2", s2), ("labels", y))
    bad = [v for v in y if isinstance(v, str) or v not in (0, 1)]
    if bad:
        raise DataError(f"Pair labels must be 0 (not a pair) or 1 (a pair); got {bad[0]!r}.")
    y = [int(v) for v in y]
    if len(set(y)) < 2:
        raise DataError(f"All {len(y)} pair labels are {y[0]}; average precision needs both 0 and 1.")

    def compute(model, progress):
        from embedlab.evaluation.pair_classification_task import (
            pair_classification_scores,
        )

        vectors = embed_once(model, [*s1, *s2], "document", progress)
        with one_thread():
            return pair_classification_scores(vectors[:len(s1)], vectors[len(s1):], y)

    key = data_key("pair-classification", {"sentences1": s1, "sentences2": s2, "labels": y})
    return Task(name, "pair-classification", description or f"Pair classification on {len(y):,} pairs "
                f"({sum(y):,} positive): max AP (mteb).", key, "main_score", compute,
                size={"pairs": len(y), "positive": sum(y)}, speed_texts=speed_sample([*s1, *s2]))


def dedup_task(name: str, texts: Sequence[str], threshold: float = 0.9, *, description: str = "") -> Task:
    """Near-duplicate groups: texts linked at cosine >= ``threshold``, connected components.

    No main score (not an mteb task; more or fewer duplicates is not better or worse). The
    leaderboard shows ``duplicate_share`` = (texts in groups - groups) / texts, the share of texts
    that keeping one text per group would remove, and leaves it out of the average.
    """
    docs = text_list(texts, "texts")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not -1.0 <= float(threshold) <= 1.0 or math.isnan(float(threshold)):
        raise DataError(f"threshold is a cosine similarity and must be a number within [-1, 1], got {threshold!r}.")
    threshold = float(threshold)

    def compute(model, progress):
        from embedlab.evaluation.dedup import dedup_groups

        groups = dedup_groups(embed_once(model, docs, "document", progress), threshold)
        in_groups = sum(len(g) for g in groups)
        return {"main_score": None, "duplicate_share": (in_groups - len(groups)) / len(docs),
                "n_groups": len(groups), "n_in_groups": in_groups, "n_texts": len(docs),
                "largest_group": max((len(g) for g in groups), default=0), "threshold": threshold,
                "groups": groups}

    key = data_key("dedup", {"texts": docs, "threshold": threshold})
    return Task(name, "dedup", description or f"Near-duplicate groups among {len(docs):,} texts at cosine "
                f">= {threshold:g} (no main score).", key, "duplicate_share", compute, averaged=False,
                size={"texts": len(docs)}, speed_texts=speed_sample(docs))


def retrieval_task(name: str, data, *, top_k: int = RETRIEVAL_TOP_K,
                   metrics: Sequence[str] = RETRIEVAL_METRICS, description: str = "") -> Task:
    """Retrieval on a ``RetrievalData``: exact cosine top ``top_k`` per query (queries with the
    ``query`` role, ``title + " " + text`` documents with the ``document`` role), trec_eval metrics
    averaged over the judged queries; main score = nDCG@10."""
    from embedlab.retrieval.metrics import _metric

    for m in metrics:
        _metric(m)  # raises on an unknown name
    if "nDCG@10" not in metrics:
        metrics = ("nDCG@10", *metrics)
    if not data.query_ids or not data.doc_ids:
        raise DataError(f"Retrieval data {data.name!r} has no queries or no documents.")
    top_k = positive_int(top_k, "top_k")

    def compute(model, progress):
        from embedlab.retrieval.pipeline import dense_search

        searched = dense_search(data, model, k=top_k, progress=progress)
        per_query = searched.evaluate(data, metrics)
        if per_query.empty:
            raise DataError("No judged query got results: nothing to evaluate.")
        means = {m: float(per_query[m].mean()) for m in metrics}
        return {"main_score": means["nDCG@10"], **means, "n_queries": len(per_query),
                "n_documents": len(data.doc_ids), "top_k": top_k}

    qrels = {q: dict(sorted(v.items())) for q, v in sorted(data.qrels.items())}
    key = data_key("retrieval", {"doc_ids": data.doc_ids, "titles": data.titles, "bodies": data.bodies,
                                 "query_ids": data.query_ids, "queries": data.queries, "qrels": qrels,
                                 "ignore_identical_ids": data.ignore_identical_ids, "top_k": top_k,
                                 "metrics": list(metrics)})
    return Task(name, "retrieval", description or f"Retrieval over {len(data.doc_ids):,} documents for "
                f"{len(data.query_ids):,} queries: nDCG@10 of the top {top_k}.", key, "main_score", compute,
                size={"documents": len(data.doc_ids), "queries": len(data.query_ids)},
                speed_texts=speed_sample(data.doc_texts))
