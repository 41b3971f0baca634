"""Similarity matrices and the geometry of an embedding space, as pure functions of arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from embedlab.embedder import l2_normalize
from embedlab.errors import DataError


def cosine_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """(n, m) cosine similarities; rows need not be normalised."""
    a = l2_normalize(np.asarray(a, dtype=np.float32))
    b = a if b is None else l2_normalize(np.asarray(b, dtype=np.float32))
    return np.clip(a @ b.T, -1.0, 1.0)


def center(vectors: np.ndarray) -> np.ndarray:
    """Subtract the mean vector: removes the common direction that makes everything look alike."""
    return vectors - vectors.mean(axis=0, keepdims=True)


def centered_cosine_matrix(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Cosine after subtracting the mean of ``reference`` (a sample of the same model's vectors, or
    ``vectors`` themselves), so the direction every text shares stops making all pairs look alike."""
    return cosine_matrix(np.asarray(vectors) - np.asarray(reference).mean(axis=0, keepdims=True))


def upper_triangle(matrix: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(matrix.shape[0], k=1)
    return matrix[i, j]


def matrix_spearman(m1: np.ndarray, m2: np.ndarray) -> float:
    """Spearman correlation between two models' judgements of the same pairs (off-diagonal)."""
    if m1.shape != m2.shape or m1.shape[0] < 3:
        raise DataError("Comparing two models' similarity matrices needs the same texts, at least 3 of them.")
    return float(spearmanr(upper_triangle(m1), upper_triangle(m2)).statistic)


@dataclass(frozen=True)
class Geometry:
    """How an embedding space uses its room.

    mean_cosine: mean cosine between distinct texts (anisotropy): near 0 is healthy, near 1 means
        every text points the same way. top_pc_share: share of variance on the first principal
        component. norm_mean / norm_cv: size of the raw pooled vectors and their spread (std/mean).
    """

    n: int
    mean_cosine: float
    top_pc_share: float
    norm_mean: float
    norm_cv: float


def geometry(raw: np.ndarray, *, centered: bool = False, max_pairs: int = 20000, seed: int = 0) -> Geometry:
    """Geometry of raw (un-normalised) vectors. Uses all pairs when few, a random sample otherwise."""
    raw = np.asarray(raw, dtype=np.float64)
    n = raw.shape[0]
    if n < 2:
        raise DataError("Geometry needs at least 2 texts.")
    norms = np.linalg.norm(raw, axis=1)
    vecs = center(raw) if centered else raw
    unit = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    if n * (n - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        i, j = rng.integers(0, n, max_pairs), rng.integers(0, n, max_pairs)
        keep = i != j
        i, j = i[keep], j[keep]
    mean_cos = float(np.mean(np.sum(unit[i] * unit[j], axis=1)))
    # Variance share of the top principal component of the unit vectors (what cosine sees).
    centred_unit = unit - unit.mean(axis=0, keepdims=True)
    singular = np.linalg.svd(centred_unit, compute_uv=False)
    var = singular**2
    top_share = float(var[0] / var.sum()) if var.sum() > 0 else 0.0
    return Geometry(n=n, mean_cosine=mean_cos, top_pc_share=top_share,
                    norm_mean=float(norms.mean()), norm_cv=float(norms.std() / max(norms.mean(), 1e-12)))


PAIR_KINDS: tuple[str, ...] = ("paraphrase", "same topic", "unrelated")  # as bundled.pair_kinds labels pairs


def kind_means(matrix: np.ndarray, kinds: np.ndarray) -> dict[str, float]:
    """Mean similarity per pair kind (e.g. paraphrase / same topic / unrelated), diagonal excluded."""
    out = {}
    upper = np.triu(np.ones_like(matrix, dtype=bool), k=1)
    for kind in PAIR_KINDS:
        sel = upper & (kinds == kind)
        if sel.any():
            out[kind] = float(matrix[sel].mean())
    return out


def paraphrase_hits(matrix: np.ndarray, kinds: np.ndarray) -> int:
    """How many texts that have a paraphrase find it as their nearest neighbour."""
    scores = matrix.astype(float).copy()
    np.fill_diagonal(scores, -np.inf)
    has_pair = (kinds == "paraphrase").any(axis=1)
    nearest = scores.argmax(axis=1)
    return int(sum(kinds[i, nearest[i]] == "paraphrase" for i in np.flatnonzero(has_pair)))


def texts_with_paraphrase(kinds: np.ndarray) -> int:
    """How many texts have a paraphrase among the others: the most ``paraphrase_hits`` can be."""
    return int((kinds == "paraphrase").any(axis=1).sum())
