"""The corpus-explorer pipeline, as named roles: embed -> reduce (2-D map) -> cluster -> describe."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from embedlab.explorer.clustering import ClusterConfig, cluster
from embedlab.embedder import Embedder, Progress
from embedlab.explorer.projection import ProjectionConfig, project
from embedlab.explorer.topics import ClusterSummary, describe_clusters

Stage = Callable[[str], None]


@dataclass(frozen=True)
class ExploreConfig:
    projection: ProjectionConfig = ProjectionConfig()
    clustering: ClusterConfig = ClusterConfig()
    top_words: int = 8
    batch_size: int = 32


@dataclass
class ModelMap:
    """One model's view of a corpus. Rows align with the input texts."""

    model: str
    vectors: np.ndarray  # (n, dim), unit length
    coords: np.ndarray  # (n, 2)
    labels: np.ndarray  # (n,), -1 = noise
    clusters: list[ClusterSummary]
    seconds: dict[str, float] = field(default_factory=dict)

    def keywords_of(self, label: int) -> str:
        for c in self.clusters:
            if c.cluster == label:
                return ", ".join(c.keywords[:5])
        return ""


def explore(texts: list[str], embedder: Embedder, config: ExploreConfig = ExploreConfig(), *,
            progress: Progress | None = None, stage: Stage | None = None) -> ModelMap:
    say = stage or (lambda _msg: None)
    name = getattr(embedder, "name", "model")
    seconds = {}

    # 1. Embed (cached on disk by the embedder, so re-runs with new map settings are cheap).
    say(f"{name}: embedding {len(texts):,} documents")
    start = time.perf_counter()
    vectors = embedder.encode(texts, batch_size=config.batch_size, progress=progress)
    seconds["embed"] = time.perf_counter() - start

    # 2. Reduce to a 2-D map.
    say(f"{name}: {config.projection.method.upper()} map")
    start = time.perf_counter()
    coords = project(vectors, config.projection)
    seconds["map"] = time.perf_counter() - start

    # 3. Cluster (HDBSCAN on its own 5-D reduction or the raw vectors, not on the 2-D picture).
    say(f"{name}: clustering ({config.clustering.space})")
    start = time.perf_counter()
    labels = cluster(vectors, config.clustering)
    seconds["cluster"] = time.perf_counter() - start

    # 4. Describe each cluster.
    say(f"{name}: describing clusters")
    summaries = describe_clusters(texts, vectors, labels, top_words=config.top_words)
    return ModelMap(name, vectors, coords, labels, summaries, seconds)
