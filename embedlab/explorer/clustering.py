"""Density clustering with HDBSCAN, on a 5-D UMAP reduction (the BERTopic recipe) or the raw vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.explorer.projection import ProjectionConfig, project

SPACES: tuple[str, ...] = ("umap-5d", "raw")
NOISE = -1


@dataclass(frozen=True)
class ClusterConfig:
    min_cluster_size: int = 15
    min_samples: int | None = None  # None: HDBSCAN uses min_cluster_size
    space: str = "umap-5d"
    umap_neighbors: int = 15
    seed: int = 42

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise ValueError(f"Unknown clustering space {self.space!r}. Valid spaces: {', '.join(SPACES)}.")
        if self.min_cluster_size < 2:
            raise ValueError(f"min_cluster_size must be at least 2, got {self.min_cluster_size}.")
        if self.min_samples is not None and self.min_samples < 1:
            raise ValueError(f"min_samples must be at least 1, got {self.min_samples}.")


def reduce_for_clustering(vectors: np.ndarray, config: ClusterConfig) -> np.ndarray:
    if config.space == "raw":
        # Unit vectors: Euclidean distance is a monotone function of cosine distance.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float64)
    # min_dist 0 packs dense regions tightly, which is what a density clusterer wants.
    reduced = project(vectors, ProjectionConfig(method="umap", n_components=5, n_neighbors=config.umap_neighbors,
                                                min_dist=0.0, metric="cosine", seed=config.seed))
    return reduced.astype(np.float64)


def cluster(vectors: np.ndarray, config: ClusterConfig = ClusterConfig()) -> np.ndarray:
    """Cluster labels 0..k-1 per document, NOISE (-1) for documents in no dense region."""
    import hdbscan

    n = len(vectors)
    if n < config.min_cluster_size:
        raise ValueError(f"{n} documents are fewer than min_cluster_size={config.min_cluster_size}; lower it.")
    points = reduce_for_clustering(vectors, config)
    model = hdbscan.HDBSCAN(min_cluster_size=config.min_cluster_size, min_samples=config.min_samples,
                            metric="euclidean", cluster_selection_method="eom")
    return model.fit_predict(points).astype(int)
