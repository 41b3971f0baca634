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


@dataclass(frozen=True)
class ClusterPair:
    """One row of a matching: cluster ``cluster`` of model A, ``original_b`` of model B (renumbered to
    ``cluster`` when matched), and how many documents they share. A side is None when unmatched."""

    cluster: int  # the number both maps show
    original_b: int | None  # B's own number; None: an A cluster no B cluster was matched to
    size_a: int
    size_b: int
    overlap: int  # documents in both

    @property
    def jaccard(self) -> float:
        union = self.size_a + self.size_b - self.overlap
        return self.overlap / union if union else 0.0


@dataclass(frozen=True)
class ClusterMatching:
    """Model B's clusters renumbered so that a B cluster matched to an A cluster carries A's number."""

    labels_b: np.ndarray  # (n,) B's labels in A's numbering; unmatched B clusters after A's largest; noise -1
    pairs: list[ClusterPair]  # A's clusters in order, then B's unmatched ones

    @property
    def matched(self) -> list[ClusterPair]:
        return [p for p in self.pairs if p.size_a and p.size_b and p.overlap]


def match_clusters(labels_a: np.ndarray, labels_b: np.ndarray, *, noise: int = -1) -> ClusterMatching:
    """Match B's clusters to A's by the Hungarian assignment on their overlap (the contingency table),
    so the same topic gets the same number (and colour) in both maps.

    Each A cluster gets at most one B cluster, maximising the documents the matched pairs share; a pair
    that shares no document is not a match. Unmatched B clusters get new numbers after A's largest, in
    order of size. Noise stays noise and takes part in no match.
    """
    from scipy.optimize import linear_sum_assignment

    labels_a, labels_b = np.asarray(labels_a, dtype=int), np.asarray(labels_b, dtype=int)
    if labels_a.shape != labels_b.shape:
        raise DataError(f"The two clusterings label different numbers of documents: "
                        f"{len(labels_a)} vs {len(labels_b)}.")
    # 1. The contingency table of the real clusters (noise left out): overlap[i, j] = |A_i ∩ B_j|.
    ids_a = np.unique(labels_a[labels_a != noise])
    ids_b = np.unique(labels_b[labels_b != noise])
    both = (labels_a != noise) & (labels_b != noise)
    overlap = np.zeros((len(ids_a), len(ids_b)), dtype=np.int64)
    np.add.at(overlap, (np.searchsorted(ids_a, labels_a[both]), np.searchsorted(ids_b, labels_b[both])), 1)
    # 2. The assignment sharing the most documents; a pair sharing none is no match.
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    b_of_a = {int(ids_a[r]): (int(ids_b[c]), int(overlap[r, c])) for r, c in zip(rows, cols) if overlap[r, c] > 0}
    # 3. Unmatched B clusters: new numbers after A's largest, the biggest first.
    size_a = {int(a): int(np.sum(labels_a == a)) for a in ids_a}
    size_b = {int(b): int(np.sum(labels_b == b)) for b in ids_b}
    matched_b = {b for b, _ in b_of_a.values()}
    unmatched = sorted((b for b in size_b if b not in matched_b), key=lambda b: (-size_b[b], b))
    start = int(ids_a.max()) + 1 if len(ids_a) else 0
    renumber = {b: a for a, (b, _) in b_of_a.items()} | {b: start + i for i, b in enumerate(unmatched)}
    renumbered = np.array([renumber.get(int(b), noise) for b in labels_b], dtype=int)
    # 4. The pairs: A's clusters in order (with their match, if any), then B's leftovers.
    pairs = []
    for a, size in size_a.items():
        b, shared = b_of_a.get(a, (None, 0))
        pairs.append(ClusterPair(a, b, size, size_b[b] if b is not None else 0, shared))
    pairs += [ClusterPair(renumber[b], b, 0, size_b[b], 0) for b in unmatched]
    return ClusterMatching(renumbered, pairs)
