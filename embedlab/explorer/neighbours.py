"""One document's nearest neighbours in each model, side by side: which documents each model puts
next to it, how close, and which of them the other models agree on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from embedlab.errors import DataError, OptionError


@dataclass(frozen=True)
class Neighbour:
    index: int  # row of the neighbouring document
    cosine: float
    shared_with: tuple[str, ...]  # the other models whose k nearest also hold this document


def nearest(vectors: np.ndarray, index: int, *, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosines) of the ``k`` documents nearest document ``index`` by cosine, nearest first,
    itself left out; equal cosines in row order."""
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    if not 0 <= index < n:
        raise OptionError(f"Document {index} does not exist; there are {n} documents.")
    if not 1 <= k < n:
        raise OptionError(f"k must be between 1 and {n - 1} for {n} documents, got {k}.")
    norms = np.maximum(np.linalg.norm(x, axis=1), 1e-12)
    cosines = (x @ x[index]) / (norms * norms[index])  # (n,)
    order = [i for i in np.argsort(-cosines, kind="stable") if i != index][:k]
    return np.array(order, dtype=int), cosines[order]


def neighbours_by_model(vectors: Mapping[str, np.ndarray], index: int, *, k: int = 10) -> dict[str, list[Neighbour]]:
    """For each model, the ``k`` nearest neighbours of document ``index`` (``nearest``), each marked
    with the other models that also count it among their ``k`` nearest."""
    sizes = {name: len(v) for name, v in vectors.items()}
    if len(set(sizes.values())) > 1:
        raise DataError(f"The models embedded different numbers of documents: {sizes}.")
    found = {name: nearest(v, index, k=k) for name, v in vectors.items()}
    members = {name: set(idx.tolist()) for name, (idx, _) in found.items()}
    return {name: [Neighbour(int(i), float(c), tuple(o for o in found if o != name and int(i) in members[o]))
                   for i, c in zip(idx, cos)]
            for name, (idx, cos) in found.items()}
