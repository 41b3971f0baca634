"""Reduce embeddings to a few dimensions (UMAP, or PCA as the fast option) and align two maps."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from embedlab.errors import DataError, OptionError
from embedlab.explorer.knn import (
    EXACT_BELOW,
    EXACT_METRICS,
    KnnGraph,
    nearest_neighbours,
)

METHODS: tuple[str, ...] = ("umap", "pca")
UMAP_METRICS: tuple[str, ...] = ("cosine", "euclidean", "manhattan", "correlation")


@dataclass(frozen=True)
class ProjectionConfig:
    method: str = "umap"
    n_components: int = 2
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "cosine"
    seed: int = 42

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise OptionError(f"Unknown projection method {self.method!r}. Valid methods: {', '.join(METHODS)}.")
        if self.metric not in UMAP_METRICS:
            raise OptionError(f"Unknown metric {self.metric!r}. Valid metrics: {', '.join(UMAP_METRICS)}.")
        if self.n_components < 1:
            raise OptionError(f"n_components must be at least 1, got {self.n_components}.")
        if self.n_neighbors < 2:
            raise OptionError(f"n_neighbors must be at least 2, got {self.n_neighbors}.")
        if not 0.0 <= self.min_dist <= 1.0:
            raise OptionError(f"min_dist must be between 0 and 1, got {self.min_dist}.")


@dataclass(frozen=True)
class Projection:
    """Reduced coordinates and how they were made: ``method`` is the one actually used, and ``notes``
    say where that (or a UMAP setting) differs from what the config asked for, and why."""

    coords: np.ndarray  # (n, n_components) float32
    method: str
    notes: tuple[str, ...] = ()


def reduce_dimensions(vectors: np.ndarray, config: ProjectionConfig = ProjectionConfig(), *,
                      knn: KnnGraph | None = None) -> Projection:
    """(n, dim) -> (n, n_components). Deterministic for a given seed.

    UMAP starts from ``knn`` when it was built with the config's metric and enough neighbours (the
    explorer builds one graph for the map and the clustering); otherwise from an exact graph built
    here, or, from ``EXACT_BELOW`` documents on or for a metric no matrix product gives, from UMAP's own search.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n < 3:
        raise DataError(f"Need at least 3 documents to make a map, got {n}.")
    if config.method == "pca":
        return Projection(_pca(vectors, config.n_components), "pca")
    if n <= config.n_components + 1:  # UMAP's spectral layout cannot embed so few points
        note = (f"PCA was used instead of UMAP: UMAP needs more than {config.n_components + 1} documents "
                f"for a {config.n_components}-D reduction, and there are {n}.")
        return Projection(_pca(vectors, config.n_components), "pca", (note,))
    import umap

    # UMAP needs fewer neighbours than points; small uploads still get a map.
    neighbors = min(config.n_neighbors, n - 1)
    notes = () if neighbors == config.n_neighbors else (
        f"UMAP used n_neighbors={neighbors} instead of {config.n_neighbors}: there are only {n} documents.",)
    reducer = umap.UMAP(
        precomputed_knn=_graph_for(vectors, config.metric, neighbors, knn),
        n_components=config.n_components,
        n_neighbors=neighbors,
        min_dist=config.min_dist,
        metric=config.metric,
        random_state=config.seed,
        n_jobs=1,  # a fixed seed forces one thread anyway; saying so silences UMAP's warning
        init="spectral" if n > config.n_components + 10 else "random",
    )
    with warnings.catch_warnings():
        # Given a graph without a search index, UMAP warns that ``transform`` cannot run: never called here.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
        coords = reducer.fit_transform(vectors)
    return Projection(coords.astype(np.float32), "umap", notes)


def _graph_for(vectors: np.ndarray, metric: str, n_neighbors: int, knn: KnnGraph | None) -> tuple:
    if knn is not None and knn.metric == metric and knn.n_neighbors >= n_neighbors and len(knn.indices) == len(vectors):
        return knn.for_umap(n_neighbors)
    if metric in EXACT_METRICS and len(vectors) < EXACT_BELOW:
        return nearest_neighbours(vectors, n_neighbors, metric=metric).for_umap(n_neighbors)
    return (None, None, None)


def project(vectors: np.ndarray, config: ProjectionConfig = ProjectionConfig()) -> np.ndarray:
    """The coordinates alone, for a caller that has nowhere to show ``reduce_dimensions``' notes."""
    return reduce_dimensions(vectors, config).coords


def _pca(vectors: np.ndarray, n_components: int) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    k = min(n_components, *centred.shape)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt[:k].T
    if k < n_components:  # fewer samples than requested dimensions: pad with zeros
        out = np.pad(out, ((0, 0), (0, n_components - k)))
    # SVD signs are arbitrary; fix them so the same data always gives the same picture.
    signs = np.sign(out[np.abs(out).argmax(axis=0), range(out.shape[1])])
    return (out * np.where(signs == 0, 1, signs)).astype(np.float32)


def procrustes_align(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Rotate, reflect, scale and shift ``moving`` onto ``reference`` (same rows, same documents).

    Two UMAP runs are only defined up to such transforms; aligning them lets the eye compare
    where documents sit instead of how each map happens to be oriented.
    """
    from scipy.linalg import orthogonal_procrustes

    ref = np.asarray(reference, dtype=np.float64)
    mov = np.asarray(moving, dtype=np.float64)
    if ref.shape != mov.shape:
        raise DataError(f"Maps differ in shape: {ref.shape} vs {mov.shape}.")
    ref_mean, mov_mean = ref.mean(axis=0), mov.mean(axis=0)
    ref_c, mov_c = ref - ref_mean, mov - mov_mean
    rotation, _ = orthogonal_procrustes(mov_c, ref_c)
    rotated = mov_c @ rotation
    scale = np.sum(rotated * ref_c) / max(np.sum(rotated * rotated), 1e-12)
    return (rotated * scale + ref_mean).astype(np.float32)
