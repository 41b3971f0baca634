"""Reduce embeddings to a few dimensions (UMAP, or PCA as the fast option) and align two maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
            raise ValueError(f"Unknown projection method {self.method!r}. Valid methods: {', '.join(METHODS)}.")
        if self.metric not in UMAP_METRICS:
            raise ValueError(f"Unknown metric {self.metric!r}. Valid metrics: {', '.join(UMAP_METRICS)}.")
        if self.n_components < 1:
            raise ValueError(f"n_components must be at least 1, got {self.n_components}.")
        if self.n_neighbors < 2:
            raise ValueError(f"n_neighbors must be at least 2, got {self.n_neighbors}.")
        if not 0.0 <= self.min_dist <= 1.0:
            raise ValueError(f"min_dist must be between 0 and 1, got {self.min_dist}.")


def project(vectors: np.ndarray, config: ProjectionConfig = ProjectionConfig()) -> np.ndarray:
    """(n, dim) -> (n, n_components) float32. Deterministic for a given seed."""
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n < 3:
        raise ValueError(f"Need at least 3 documents to make a map, got {n}.")
    if config.method == "pca" or n <= config.n_components + 1:
        return _pca(vectors, config.n_components)
    import umap

    reducer = umap.UMAP(
        n_components=config.n_components,
        # UMAP needs fewer neighbours than points; small uploads still get a map.
        n_neighbors=min(config.n_neighbors, n - 1),
        min_dist=config.min_dist,
        metric=config.metric,
        random_state=config.seed,
        n_jobs=1,  # a fixed seed forces one thread anyway; saying so silences UMAP's warning
        init="spectral" if n > config.n_components + 10 else "random",
    )
    return reducer.fit_transform(vectors).astype(np.float32)


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
        raise ValueError(f"Maps differ in shape: {ref.shape} vs {mov.shape}.")
    ref_mean, mov_mean = ref.mean(axis=0), mov.mean(axis=0)
    ref_c, mov_c = ref - ref_mean, mov - mov_mean
    rotation, _ = orthogonal_procrustes(mov_c, ref_c)
    rotated = mov_c @ rotation
    scale = np.sum(rotated * ref_c) / max(np.sum(rotated * rotated), 1e-12)
    return (rotated * scale + ref_mean).astype(np.float32)
