"""Near-duplicate groups at a cosine threshold, and where two models disagree about them.

Not an mteb task. ``dedup_groups`` links every two rows whose cosine similarity is at least the
threshold and returns the connected components of that graph with two or more members: linking is
transitive, so A~B and B~C put A and C in one group even when cos(A, C) is below the threshold
(single-linkage). ``dedup_disagreement`` compares two such groupings of the same rows, e.g. from two
models at their own thresholds, pair by pair: a pair counts as "duplicates" for a model when both
rows are in the same group.
"""

from __future__ import annotations

from itertools import combinations
from typing import Iterable, Sequence, TypedDict

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from embedlab.errors import DataError
from embedlab.evaluation._checks import embedding_matrix, nonzero_rows, positive_int

# Cosines are computed in float64; a pair of identical vectors can come out at 1 - 1e-16, so a
# threshold of exactly 1.0 would miss exact duplicates without this allowance.
ROUNDING_ALLOWANCE = 1e-9
_BLOCK_ELEMENTS = 4_000_000  # float64 similarities per block: 32 MB


class Disagreement(TypedDict):
    only_a: list[tuple[int, int]]  # (i, j), i < j: duplicates for A, not for B
    only_b: list[tuple[int, int]]
    n_both: int  # pairs both call duplicates


def dedup_groups(embeddings: np.ndarray, threshold: float, *,
                 chunk_size: int | None = None) -> list[list[int]]:
    """Groups of row indices (each sorted, groups ordered by first index) linked at cosine >= threshold.

    Rows without a near-duplicate are in no group. Similarities are computed one block of
    ``chunk_size`` rows at a time (by default as many rows as keep a block near 32 MB), and the
    links found are folded into components whenever they outnumber the rows, so memory stays
    O(n * chunk_size) however low the threshold.
    """
    # 1. Validate and normalise
    x = embedding_matrix(embeddings).astype(np.float64)
    _check_threshold(threshold)
    nonzero_rows(x, "embeddings")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    n = len(x)
    rows_per_block = (max(1, _BLOCK_ELEMENTS // n) if chunk_size is None
                      else positive_int(chunk_size, "chunk_size"))

    # 2. Links from each row to later rows, one block of rows at a time
    links = _Links(n)
    for start in range(0, n, rows_per_block):
        block = x[start:start + rows_per_block] @ x.T  # (rows_per_block, n)
        rows, cols = np.nonzero(block >= threshold - ROUNDING_ALLOWANCE)
        rows += start
        later = cols > rows
        links.add(rows[later], cols[later])

    # 3. Components with at least two members
    return _groups_from_labels(links.components())


class _Links:
    """Edges of the duplicate graph, compressed to one star per component when they pile up."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.src, self.dst = [np.arange(n)], [np.arange(n)]  # self-loops: every row is a node
        self.pending = 0

    def add(self, src: np.ndarray, dst: np.ndarray) -> None:
        if len(src) == 0:
            return
        self.src.append(src)
        self.dst.append(dst)
        self.pending += len(src)
        if self.pending > self.n:
            self.components()

    def components(self) -> np.ndarray:
        """Component label per row; replaces the edges by row -> first row of its component."""
        src, dst = np.concatenate(self.src), np.concatenate(self.dst)
        graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(self.n, self.n))
        _, labels = connected_components(graph, directed=False)
        first = np.full(labels.max() + 1, self.n)
        np.minimum.at(first, labels, np.arange(self.n))
        self.src, self.dst, self.pending = [np.arange(self.n)], [first[labels]], 0
        return labels


def dedup_disagreement(groups_a: Iterable[Sequence[int]], groups_b: Iterable[Sequence[int]]) -> Disagreement:
    """Pairs that one grouping calls duplicates and the other does not.

    Every pair inside a group counts, so a group of m rows contributes m(m-1)/2 pairs; meant for
    near-duplicate groups, which are small.
    """
    pairs_a = _pairs(groups_a, "groups_a")
    pairs_b = _pairs(groups_b, "groups_b")
    return Disagreement(only_a=sorted(pairs_a - pairs_b), only_b=sorted(pairs_b - pairs_a),
                        n_both=len(pairs_a & pairs_b))


def _check_threshold(threshold: float) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating, np.integer)):
        raise DataError(f"threshold must be a number, got {threshold!r}.")
    if not -1.0 <= float(threshold) <= 1.0:
        raise DataError(f"threshold is a cosine similarity and must be within [-1, 1], got {threshold}.")


def _groups_from_labels(labels: np.ndarray) -> list[list[int]]:
    order = np.argsort(labels, kind="stable")  # rows of one component, ascending
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [g.tolist() for g in np.split(order, bounds) if len(g) > 1]
    return sorted(groups, key=lambda g: g[0])


def _pairs(groups: Iterable[Sequence[int]], name: str) -> set[tuple[int, int]]:
    seen: set[int] = set()
    pairs: set[tuple[int, int]] = set()
    for group in groups:
        members = []
        for index in group:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
                raise DataError(f"{name} must hold non-negative row indices, got {index!r}.")
            members.append(int(index))
        if len(set(members)) != len(members):
            raise DataError(f"{name} has a group listing a row twice: {sorted(members)}.")
        overlap = seen.intersection(members)
        if overlap:
            raise DataError(f"{name} puts row {min(overlap)} in two groups; groups must not overlap.")
        seen.update(members)
        pairs.update(combinations(sorted(members), 2))
    return pairs
