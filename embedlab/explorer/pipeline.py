"""The corpus-explorer pipeline, as named roles: embed -> reduce (2-D map) -> cluster -> describe."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from embedlab.embedder import Embedder, Progress
from embedlab.explorer.clustering import (
    AUTO,
    ClusterConfig,
    cluster,
    min_cluster_size_for,
)
from embedlab.explorer.knn import EXACT_BELOW, KnnGraph, neighbour_graph
from embedlab.explorer.projection import ProjectionConfig, reduce_dimensions
from embedlab.explorer.topics import ClusterSummary, describe_clusters

STEPS: tuple[str, ...] = ("embed", "map", "cluster", "describe")
StepNote = Callable[[str, str], None]
"""``note(step, message)``: called as each step of the pipeline starts (``step`` one of ``STEPS``), so a
UI can say what is running and move its progress bar."""


@dataclass(frozen=True)
class ExploreConfig:
    projection: ProjectionConfig = ProjectionConfig()
    clustering: ClusterConfig = ClusterConfig()
    top_words: int = 8
    batch_size: int = 32


_MAP, _CLUSTERS = ProjectionConfig(), ClusterConfig()


def explore_config(n_docs: int, *, map_method: str = _MAP.method, n_neighbors: int = _MAP.n_neighbors,
                   min_dist: float = _MAP.min_dist, metric: str = _MAP.metric, min_cluster_size: int = AUTO,
                   min_samples: int = 0, space: str = _CLUSTERS.space, seed: int = _CLUSTERS.seed) -> ExploreConfig:
    """The settings the explorer page and ``embedlab cluster`` offer, checked against the corpus size.

    ``min_cluster_size`` 0 = automatic (``auto_min_cluster_size``); ``min_samples`` 0 = the same as
    min_cluster_size. UMAP's ``n_neighbors`` serves both the 2-D map and the 5-D clustering reduction.
    """
    return ExploreConfig(
        projection=ProjectionConfig(method=map_method, n_neighbors=n_neighbors, min_dist=min_dist, metric=metric,
                                    seed=seed),
        clustering=ClusterConfig(min_cluster_size=min_cluster_size_for(n_docs, min_cluster_size),
                                 min_samples=int(min_samples) or None, space=space, umap_neighbors=n_neighbors,
                                 seed=seed),
    )


@dataclass(frozen=True)
class ModelMap:
    """One model's view of a corpus. Rows align with the input texts."""

    model: str
    vectors: np.ndarray  # (n, dim), unit length
    coords: np.ndarray  # (n, 2)
    labels: np.ndarray  # (n,), -1 = noise
    clusters: list[ClusterSummary]
    seconds: dict[str, float]  # per step: embed, map, cluster
    map_method: str  # what drew the 2-D map: "umap" or "pca"
    cluster_space: str  # what HDBSCAN ran on: "umap-5d", "pca-5d" or "raw"
    notes: tuple[str, ...] = ()  # where the map or the clustering used something other than what was asked

    def keywords_of(self, label: int) -> str:
        for c in self.clusters:
            if c.cluster == label:
                return ", ".join(c.keywords[:5])
        return ""


def explore(texts: list[str], embedder: Embedder, config: ExploreConfig = ExploreConfig(), *,
            progress: Progress | None = None, note: StepNote | None = None) -> ModelMap:
    say = note or (lambda _step, _msg: None)
    name = getattr(embedder, "name", "model")

    # 1. Embed (cached on disk by the embedder, so re-runs with new map settings are cheap).
    say("embed", f"{name}: embedding {len(texts):,} documents")
    start = time.perf_counter()
    vectors = embedder.encode(texts, batch_size=config.batch_size, progress=progress)
    return map_vectors(texts, vectors, config, name=name, note=note, embed_seconds=time.perf_counter() - start)


def map_vectors(texts: list[str], vectors: np.ndarray, config: ExploreConfig = ExploreConfig(), *, name: str,
                note: StepNote | None = None, embed_seconds: float = 0.0) -> ModelMap:
    """Steps 2-5 of ``explore`` on vectors made already (e.g. read from a collection)."""
    say = note or (lambda _step, _msg: None)
    seconds = {"embed": embed_seconds}

    # 2. One neighbour graph for both UMAP reductions (counted in the map's time).
    start = time.perf_counter()
    knn = shared_graph(vectors, config)

    # 3. Reduce to a 2-D map.
    say("map", f"{name}: {config.projection.method.upper()} map")
    projection = reduce_dimensions(vectors, config.projection, knn=knn)
    seconds["map"] = time.perf_counter() - start

    # 4. Cluster (HDBSCAN on its own 5-D reduction or the raw vectors, not on the 2-D picture).
    say("cluster", f"{name}: clustering ({config.clustering.space})")
    start = time.perf_counter()
    clustering = cluster(vectors, config.clustering, knn=knn)
    seconds["cluster"] = time.perf_counter() - start

    # 5. Describe each cluster.
    say("describe", f"{name}: describing clusters")
    summaries = describe_clusters(texts, vectors, clustering.labels, top_words=config.top_words)
    return ModelMap(name, vectors, projection.coords, clustering.labels, summaries, seconds,
                    map_method=projection.method, cluster_space=clustering.space,
                    notes=(*projection.notes, *clustering.notes))


def shared_graph(vectors: np.ndarray, config: ExploreConfig) -> KnnGraph | None:
    """The neighbour graph both UMAP reductions can start from (exact for small corpora, NN-descent for large
    ones), or None when at most one would use it (that reduction then builds what it needs itself)."""
    users = [(p.metric, p.n_neighbors) for p in [config.projection] if p.method == "umap"]
    if config.clustering.space == "umap-5d":
        users.append(("cosine", config.clustering.umap_neighbors))
    metrics = {metric for metric, _ in users}
    if len(users) < 2 or len(metrics) != 1:
        return None
    k = min(max(n for _, n in users), len(vectors) - 1)
    return neighbour_graph(vectors, k, metric=metrics.pop(), seed=config.projection.seed) if k >= 1 else None


def warm_up() -> None:
    """Run tiny random corpora through the map and clustering steps so numba compiles UMAP's kernels
    now, not during a user's first map (UMAP does not cache them on disk). Both of UMAP's neighbour
    searches are warmed: the exact graph below ``EXACT_BELOW`` documents, NN-descent from there on."""
    rng = np.random.default_rng(0)
    config = ExploreConfig(clustering=ClusterConfig(min_cluster_size=10))
    for n in (300, EXACT_BELOW):
        tiny = rng.normal(size=(n, 16)).astype(np.float32)
        knn = shared_graph(tiny, config)
        reduce_dimensions(tiny, config.projection, knn=knn)
        if n < EXACT_BELOW:  # the 5-D reduction shares the map's kernels and search; HDBSCAN needs no compile
            cluster(tiny, config.clustering, knn=knn)
