"""Pair classification task: are two texts a positive pair (duplicate, paraphrase)? As mteb scores it.

Follows mteb/_evaluators/pair_classification_evaluator.py (``PairClassificationEvaluator``: the
pair scores) and mteb/abstasks/pair_classification.py (``AbsTaskPairClassification``: the metrics).

Scores per pair: cosine = 1 - sklearn ``paired_cosine_distances``, sklearn's paired Manhattan and
Euclidean distances (smaller = more similar), and the dot product. mteb also scores a fifth
"similarity" row with the model's own pairwise similarity (``model.similarity_pairwise``). For a
cosine model that is the cosine row again, *up to floating-point rounding*: when rounding breaks
ties that sklearn's cosine keeps exact (identical vectors in a pair give exactly 1.0 there), its
average precision differs, and mteb's ``max_ap`` with it. Pass the model's own pairwise scores as
``similarity`` to reproduce that row; without it the row is left out.

Per score: average precision (sklearn, distances negated), the best accuracy and the best F1 over
thresholds placed midway between consecutive sorted scores (never inside a run of tied scores), and
the precision/recall at that best F1. ``max_*`` is the best over the rows. mteb's pair tasks use
``max_ap`` as their main score (not ``cosine_ap``); both are returned. mteb computes the thresholds
but drops them from its results; they are returned here as ``*_accuracy_threshold`` and
``*_f1_threshold``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.metrics.pairwise import (
    paired_cosine_distances,
    paired_euclidean_distances,
    paired_manhattan_distances,
)

from embedlab.errors import DataError
from embedlab.evaluation._checks import embedding_matrix, label_list, nonzero_rows

# (name, higher score = more similar) in mteb's order (mteb/abstasks/pair_classification.py)
SCORE_KINDS = (("cosine", True), ("manhattan", False), ("euclidean", False), ("dot", True))
MAX_METRICS = ("accuracy", "f1", "precision", "recall", "ap")


def pair_classification_scores(emb1: np.ndarray, emb2: np.ndarray, labels: Sequence[int], *,
                               similarity: Sequence[float] | None = None) -> dict[str, float]:
    """Score pairs ``(emb1[i], emb2[i])`` against 0/1 ``labels`` the way mteb does.

    ``similarity``: optional (n_pairs,) scores from the model's own pairwise similarity, scored as
    mteb's "similarity" row (higher = more similar) and included in the ``max_*`` values.

    Returns a flat dict: ``{kind}_{metric}`` for kind in cosine/manhattan/euclidean/dot (and
    similarity, when given) and metric in accuracy, accuracy_threshold, f1, f1_threshold,
    precision, recall, ap; ``max_{metric}`` for accuracy, f1, precision, recall, ap;
    ``main_score`` (= max_ap, as in mteb) and ``n_pairs``. Thresholds are on each kind's own
    scale: for manhattan/euclidean a distance, and pairs below it are predicted positive.
    """
    # 1. Validate
    a = embedding_matrix(emb1, "emb1")
    b = embedding_matrix(emb2, "emb2")
    if a.shape != b.shape:
        raise DataError(f"emb1 and emb2 must have the same shape, got {a.shape} and {b.shape}.")
    y = _binary_labels(label_list(labels, len(a), rows_name="emb1"))
    # sklearn's paired cosine treats a zero vector as cosine 0.5; mteb takes that, we refuse it.
    nonzero_rows(a, "emb1")
    nonzero_rows(b, "emb2")

    # 2. Pair scores (mteb/_evaluators/pair_classification_evaluator.py, __call__)
    scores = {
        "cosine": 1 - paired_cosine_distances(a, b),
        "manhattan": paired_manhattan_distances(a, b),
        "euclidean": paired_euclidean_distances(a, b),
        # row by row with np.dot, as mteb does, so the last bits (and hence ties) agree
        "dot": np.asarray([np.dot(a[i], b[i]) for i in range(len(a))]),
    }
    kinds = SCORE_KINDS
    if similarity is not None:
        scores["similarity"] = _similarity_row(similarity, len(y))
        kinds = (("similarity", True), *SCORE_KINDS)

    # 3. Metrics per kind, then the best of each (mteb/abstasks/pair_classification.py)
    out: dict[str, float] = {}
    for kind, higher_is_similar in kinds:
        for metric, value in _metrics(np.asarray(scores[kind], dtype=float), y, higher_is_similar).items():
            out[f"{kind}_{metric}"] = value
    for metric in MAX_METRICS:
        out[f"max_{metric}"] = max(out[f"{kind}_{metric}"] for kind, _ in kinds)
    out["main_score"] = out["max_ap"]
    out["n_pairs"] = len(y)
    return out


def _similarity_row(values: Sequence[float], n: int) -> np.ndarray:
    row = np.asarray(values, dtype=float)
    if row.shape != (n,):
        raise DataError(f"similarity must hold one score per pair ({n}), got shape {row.shape}.")
    if not np.all(np.isfinite(row)):
        raise DataError("similarity contains NaN or infinite values.")
    return row


def _binary_labels(values: list) -> np.ndarray:
    allowed = {0, 1}  # True/False compare equal to 1/0
    bad = [v for v in values if isinstance(v, str) or v not in allowed]
    if bad:
        raise DataError(f"Pair labels must be 0 (not a pair) or 1 (a pair); got {bad[0]!r}.")
    y = np.asarray(values, dtype=np.int64)
    if y.min() == y.max():
        raise DataError(f"All {len(y)} pair labels are {int(y[0])}; average precision and the best "
                        "threshold need both positive (1) and negative (0) pairs.")
    return y


def _metrics(scores: np.ndarray, labels: np.ndarray, higher_is_similar: bool) -> dict[str, float]:
    """mteb/abstasks/pair_classification.py ``_compute_metrics_values``."""
    order = np.argsort(scores, kind="stable")
    if higher_is_similar:
        order = order[::-1]
    # Order inside a run of tied scores is irrelevant: thresholds never split ties.
    ranked, ranked_labels = scores[order], labels[order]
    accuracy, accuracy_threshold = _best_accuracy(ranked, ranked_labels)
    f1, precision, recall, f1_threshold = _best_f1(ranked, ranked_labels)
    ap = average_precision_score(labels, scores * (1 if higher_is_similar else -1))
    return {"accuracy": accuracy, "accuracy_threshold": accuracy_threshold, "f1": f1,
            "f1_threshold": f1_threshold, "precision": precision, "recall": recall, "ap": float(ap)}


def _cut_points(ranked: np.ndarray) -> np.ndarray:
    """Positions i < n-1 after which a threshold can go: rows 0..i predicted positive.

    mteb never cuts after the last row, so "everything positive" is not a candidate (nor, for
    accuracy, "everything negative").
    """
    return np.flatnonzero(ranked[:-1] != ranked[1:])


def _best_accuracy(ranked: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """mteb ``_find_best_acc_and_threshold``: first strict maximum, starting from (0, -1)."""
    cuts = _cut_points(ranked)
    positives_above = np.cumsum(labels)[cuts]
    negatives_below = int(np.sum(labels == 0)) - (cuts + 1 - positives_above)
    accuracy = (positives_above + negatives_below) / len(labels)
    if len(cuts) == 0 or accuracy.max() <= 0:
        return 0.0, -1.0
    best = int(np.argmax(accuracy))  # argmax = first maximum = mteb's strict ">" update
    i = cuts[best]
    return float(accuracy[best]), float((ranked[i] + ranked[i + 1]) / 2)


def _best_f1(ranked: np.ndarray, labels: np.ndarray) -> tuple[float, float, float, float]:
    """mteb ``_find_best_f1_and_threshold``: (f1, precision, recall, threshold), first strict max."""
    cuts = _cut_points(ranked)
    correct = np.cumsum(labels)[cuts]
    cuts, correct = cuts[correct > 0], correct[correct > 0]
    if len(cuts) == 0:
        return 0.0, 0.0, 0.0, 0.0
    precision = correct / (cuts + 1)
    recall = correct / int(labels.sum())
    f1 = 2 * precision * recall / (precision + recall)
    best = int(np.argmax(f1))
    if f1[best] <= 0:
        return 0.0, 0.0, 0.0, 0.0
    i = cuts[best]
    return (float(f1[best]), float(precision[best]), float(recall[best]),
            float((ranked[i] + ranked[i + 1]) / 2))
