"""Density clustering with HDBSCAN, on a 5-D UMAP reduction (the BERTopic recipe) or the raw vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.errors import DataError, OptionError
from embedlab.explorer.knn import KnnGraph
from embedlab.explorer.projection import ProjectionConfig, reduce_dimensions

SPACES: tuple[str, ...] = ("umap-5d", "raw")
NOISE = -1
AUTO = 0  # a min_cluster_size of 0 asks for auto_min_cluster_size


def auto_min_cluster_size(n_docs: int) -> int:
    """Corpus size / 20, kept between 5 and 15: a small corpus still forms clusters, and a large one
    is not cut into hundreds of tiny ones."""
    return max(5, min(15, n_docs // 20))


def min_cluster_size_for(n_docs: int, requested: int = AUTO) -> int:
    """The min_cluster_size to use for ``n_docs`` documents (``AUTO``: ``auto_min_cluster_size``),
    checked before anything is embedded."""
    size = int(requested) or auto_min_cluster_size(n_docs)
    _check_corpus_size(n_docs, size)
    return size


def _check_corpus_size(n_docs: int, min_cluster_size: int) -> None:
    if n_docs < min_cluster_size:
        raise DataError(f"{n_docs} documents are fewer than min_cluster_size={min_cluster_size}; "
                        "lower it or use more documents.")


@dataclass(frozen=True)
class ClusterConfig:
    min_cluster_size: int = 15
    min_samples: int | None = None  # None: HDBSCAN uses min_cluster_size
    space: str = "umap-5d"
    umap_neighbors: int = 15
    seed: int = 42

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise OptionError(f"Unknown clustering space {self.space!r}. Valid spaces: {', '.join(SPACES)}.")
        if self.min_cluster_size < 2:
            raise OptionError(f"min_cluster_size must be at least 2, got {self.min_cluster_size}.")
        if self.min_samples is not None and self.min_samples < 1:
            raise OptionError(f"min_samples must be at least 1, got {self.min_samples}.")


@dataclass(frozen=True)
class Clustering:
    """Cluster labels and what HDBSCAN actually ran on."""

    labels: np.ndarray  # (n,) 0..k-1, NOISE (-1) for documents in no dense region
    space: str  # "umap-5d", "raw", or "pca-5d" when there were too few documents for UMAP
    notes: tuple[str, ...] = ()  # why ``space`` differs from the config's, when it does


def cluster(vectors: np.ndarray, config: ClusterConfig = ClusterConfig(), *, knn: KnnGraph | None = None) -> Clustering:
    """HDBSCAN labels; ``knn`` (cosine, at least ``umap_neighbors`` per point) spares the 5-D UMAP its own search."""
    import hdbscan

    _check_corpus_size(len(vectors), config.min_cluster_size)
    if config.space == "raw":
        # Unit vectors: Euclidean distance is a monotone function of cosine distance.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        points, space, notes = (vectors / np.maximum(norms, 1e-12)).astype(np.float64), "raw", ()
    else:
        # min_dist 0 packs dense regions tightly, which is what a density clusterer wants.
        reduced = reduce_dimensions(vectors, ProjectionConfig(
            method="umap", n_components=5, n_neighbors=config.umap_neighbors, min_dist=0.0, metric="cosine",
            seed=config.seed), knn=knn)
        points, space = reduced.coords.astype(np.float64), f"{reduced.method}-5d"
        notes = tuple(f"Clustering: {note}" for note in reduced.notes)
    model = hdbscan.HDBSCAN(min_cluster_size=config.min_cluster_size, min_samples=config.min_samples,
                            metric="euclidean", cluster_selection_method="eom")
    return Clustering(model.fit_predict(points).astype(int), space, notes)
