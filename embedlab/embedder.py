"""The one interface every model exposes, and the encode helpers shared by all of them."""

from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from embedlab.errors import ModelLoadError, OptionError

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as texts are encoded, so a UI can draw a bar."""

ENCODE_FORMAT_VERSION = 1
"""Bump when a change to tokenisation, pooling or prompting changes vectors: old cache entries stop matching."""


@runtime_checkable
class Embedder(Protocol):
    """Anything with ``encode`` is an embedder; test fakes need no inheritance."""

    name: str
    dim: int

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: str = "document",
        batch_size: int = 32,
        progress: Progress | None = None,
        normalize: bool = True,
    ) -> np.ndarray:
        """Return (len(texts), dim) float32; rows are unit length when ``normalize``."""
        ...


def is_precomputed(model) -> bool:
    """True for vectors made elsewhere and uploaded (``embedlab.vectors.PrecomputedEmbedder``): nothing
    encodes, so there is no speed to measure or remember and no cache to fill."""
    return bool(getattr(model, "precomputed", False))


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def check_finite(vectors: np.ndarray, *, model: str, texts: Sequence[str]) -> np.ndarray:
    """``vectors`` unchanged if every value is a number; a model that gave NaN or infinity is broken
    (damaged weights, an overflow in its precision), and such a vector would poison every result."""
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1)) if len(vectors) else []
    if len(bad):
        first = texts[bad[0]]
        shown = first if len(first) <= 60 else first[:57] + "..."
        raise ModelLoadError(
            f"Model {model!r} gave NaN or infinite values for {len(bad)} of {len(vectors)} texts "
            f"(the first: {shown!r}). Its weights may be damaged: prepare or download it again, "
            "or use another model.")
    return vectors


def check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a list of texts, not a single string; wrap it in a list.")
    out = list(texts)
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"encode() needs strings; item {bad[0]} is {type(out[bad[0]]).__name__}.")
    return out


def check_batch_size(batch_size) -> int:
    """A whole number of texts per batch, at least 1 (every embedder's ``encode`` checks it)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise OptionError(f"batch_size must be a whole number of at least 1, got {batch_size!r}.")
    return int(batch_size)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches in order of decreasing length, so each batch pads to a similar length.

    Longest first: the most memory-hungry batch runs at once, so an out-of-memory shows up early.
    """
    check_batch_size(batch_size)
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
