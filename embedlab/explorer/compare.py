"""Compare two models on the same documents: neighbourhoods, clusterings, and agreement with labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.errors import DataError, OptionError
from embedlab.explorer.knn import nearest_neighbours


def knn_indices(vectors: np.ndarray, k: int, *, chunk: int = 2048) -> np.ndarray:
    """(n, k) indices of each document's k nearest neighbours by cosine, itself excluded.

    Chunked so 20k+ documents never materialise an n x n matrix.
    """
    n = len(vectors)
    if not 1 <= k < n:
        raise OptionError(f"k must be between 1 and {n - 1} for {n} documents, got {k}.")
    return nearest_neighbours(vectors, k + 1, metric="cosine", block=chunk).indices[:, 1:]


def neighbourhood_agreement(a: np.ndarray, b: np.ndarray, *, k: int = 10) -> np.ndarray:
    """Per document, Jaccard overlap of its k nearest neighbours in model A's space and in B's."""
    if len(a) != len(b):
        raise DataError(f"The two models embedded different numbers of documents: {len(a)} vs {len(b)}.")
    na, nb = knn_indices(a, k), knn_indices(b, k)
    out = np.empty(len(a), dtype=np.float32)
    for i in range(len(a)):
        shared = len(set(na[i].tolist()) & set(nb[i].tolist()))
        out[i] = shared / (2 * k - shared)
    return out


@dataclass(frozen=True)
class Agreement:
    ari: float
    nmi: float


def cluster_agreement(labels_a: np.ndarray, labels_b: np.ndarray) -> Agreement:
    """ARI and NMI between two labelings; noise (-1) counts as one more group."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return Agreement(float(adjusted_rand_score(labels_a, labels_b)),
                     float(normalized_mutual_info_score(labels_a, labels_b)))


@dataclass(frozen=True)
class LabelScores:
    v_measure: float
    ari: float
    noise_share: float


def label_scores(clusters: np.ndarray, truth) -> LabelScores:
    """How well clusters recover known labels. Noise counts as its own cluster (it is a real
    outcome of HDBSCAN and hiding it would flatter the score)."""
    from sklearn.metrics import adjusted_rand_score, v_measure_score

    clusters = np.asarray(clusters)
    return LabelScores(float(v_measure_score(truth, clusters)), float(adjusted_rand_score(truth, clusters)),
                       float(np.mean(clusters == -1)))


def majority_labels(clusters: np.ndarray, truth) -> dict[int, tuple[str, float]]:
    """Per cluster (noise included): the label most of its documents carry, and their share."""
    clusters, truth = np.asarray(clusters), np.asarray(truth)
    out = {}
    for c in np.unique(clusters).tolist():
        values, counts = np.unique(truth[clusters == c], return_counts=True)
        out[int(c)] = (str(values[counts.argmax()]), float(counts.max() / counts.sum()))
    return out
