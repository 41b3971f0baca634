"""k-nearest-neighbour graphs in UMAP's format: exact from blocked matrix products, or NN-descent.

Both reductions of the explorer (the 2-D map and the 5-D clustering space) start from the same
neighbour graph, built once instead of once per UMAP fit. Small corpora get it exactly (a few BLAS
calls, no missed neighbour); from ``EXACT_BELOW`` documents on, UMAP's own NN-descent search builds
it (the same call UMAP makes inside ``fit``), which is cheaper there than n^2 products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.errors import OptionError

EXACT_METRICS: tuple[str, ...] = ("cosine", "correlation", "euclidean")
"""Metrics whose distances a matrix product gives; UMAP searches the others itself."""

EXACT_BELOW = 4096
"""Corpus size from which NN-descent builds the graph instead. Below it UMAP computes every pairwise
distance itself (slower than this, ~3x on map + clusters at 2k documents in benchmarks/cluster.py); at 20k
documents the exact graph took 6 s where NN-descent took 1 s (recall 0.93), so large corpora use NN-descent."""


@dataclass(frozen=True)
class KnnGraph:
    """Each row's k nearest points, UMAP's convention: the point itself first, at distance 0."""

    indices: np.ndarray  # (n, k) int32, ascending distance, column 0 = the row's own index
    distances: np.ndarray  # (n, k) float32, column 0 = 0
    metric: str

    @property
    def n_neighbors(self) -> int:
        return self.indices.shape[1]

    def for_umap(self, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """``precomputed_knn`` for ``umap.UMAP``: fresh copies, because UMAP writes into them
        (it marks neighbours beyond the metric's disconnection distance with -1)."""
        if n_neighbors > self.n_neighbors:
            raise OptionError(f"This graph has {self.n_neighbors} neighbours per point; {n_neighbors} were asked.")
        return (np.ascontiguousarray(self.indices[:, :n_neighbors]),
                np.ascontiguousarray(self.distances[:, :n_neighbors]))


def nearest_neighbours(vectors: np.ndarray, n_neighbors: int, *, metric: str = "cosine",
                       block: int = 1024) -> KnnGraph:
    """The exact ``n_neighbors`` nearest points of every row (itself included, first).

    Blocks of ``block`` rows are compared with all rows at once, so memory stays at block x n.
    """
    if metric not in EXACT_METRICS:
        raise OptionError(f"No exact search for metric {metric!r}. Exact metrics: {', '.join(EXACT_METRICS)}.")
    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    if not 1 <= n_neighbors <= n:
        raise OptionError(f"n_neighbors must be between 1 and {n} for {n} points, got {n_neighbors}.")
    if metric == "correlation":  # correlation distance is the cosine distance of centred rows
        x = x - x.mean(axis=1, keepdims=True)
    if metric == "euclidean":
        sq = np.einsum("ij,ij->i", x, x)
    else:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    indices = np.empty((n, n_neighbors), dtype=np.int32)
    for start in range(0, n, block):
        # 1. Score the block against every row; larger score = nearer.
        scores = x[start:start + block] @ x.T  # (block, n)
        if metric == "euclidean":  # -|a-b|^2 up to the block row's own |a|^2, which cannot change its order
            scores *= 2
            scores -= sq
        rows = np.arange(len(scores))
        scores[rows, start + rows] = np.inf  # itself first, even beside an exact duplicate
        # 2. Keep the k best per row, then order those k.
        best = np.argpartition(scores, n - n_neighbors, axis=1)[:, n - n_neighbors:]
        order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
        indices[start:start + block] = np.take_along_axis(best, order, axis=1)
    return KnnGraph(indices, _distances(x, indices, metric), metric)


def _distances(x: np.ndarray, indices: np.ndarray, metric: str) -> np.ndarray:
    """Distances to the chosen neighbours, recomputed pairwise (no cancellation from the block products)."""
    out = np.empty(indices.shape, dtype=np.float32)
    for j in range(indices.shape[1]):
        diff_or_dot = x[indices[:, j]]
        if metric == "euclidean":
            out[:, j] = np.linalg.norm(x - diff_or_dot, axis=1)
        else:
            out[:, j] = 1.0 - np.einsum("ij,ij->i", x, diff_or_dot)
    out[:, 0] = 0.0
    return np.maximum(out, 0.0)


def approximate_neighbours(vectors: np.ndarray, n_neighbors: int, *, metric: str = "cosine",
                           seed: int = 42) -> KnnGraph:
    """The ``n_neighbors`` nearest points of every row by NN-descent, exactly as ``umap.UMAP.fit``
    would search them itself (UMAP's ``nearest_neighbors``, low-memory, one thread)."""
    from umap.umap_ import nearest_neighbors

    x = np.asarray(vectors, dtype=np.float32)
    if not 1 <= n_neighbors <= len(x):
        raise OptionError(f"n_neighbors must be between 1 and {len(x)} for {len(x)} points, got {n_neighbors}.")
    indices, distances, _ = nearest_neighbors(x, n_neighbors, metric, {}, False, np.random.RandomState(seed),
                                              low_memory=True, use_pynndescent=True, n_jobs=1)
    return KnnGraph(indices.astype(np.int32), distances.astype(np.float32), metric)


def neighbour_graph(vectors: np.ndarray, n_neighbors: int, *, metric: str = "cosine", seed: int = 42) -> KnnGraph:
    """Exact below ``EXACT_BELOW`` points for a metric a matrix product gives, NN-descent otherwise."""
    if metric in EXACT_METRICS and len(vectors) < EXACT_BELOW:
        return nearest_neighbours(vectors, n_neighbors, metric=metric)
    return approximate_neighbours(vectors, n_neighbors, metric=metric, seed=seed)
