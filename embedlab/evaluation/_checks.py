"""Input checks shared by the evaluation tasks: each failure is a DataError that says what to fix."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from embedlab.errors import DataError


def embedding_matrix(values, name: str = "embeddings") -> np.ndarray:
    """A non-empty 2-D array of finite numbers, returned without a dtype change.

    The dtype is kept so that the numbers we compute are the ones mteb computes on the same array.
    """
    array = np.asarray(values)
    if array.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (one row per text), got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise DataError(f"{name} is empty (shape {array.shape}).")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"{name} must hold real numbers, got dtype {array.dtype}.")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} contains NaN or infinite values; re-embed those texts.")
    return array


def label_list(labels: Sequence, n_rows: int, *, name: str = "labels",
               rows_name: str = "embeddings") -> list:
    """Labels as a plain list (mteb reads them from a datasets column, i.e. a list), one per row."""
    if isinstance(labels, (str, bytes)):
        raise DataError(f"{name} must be a sequence of labels, not a single string.")
    values = np.asarray(labels).tolist() if isinstance(labels, np.ndarray) else list(labels)
    if len(values) != n_rows:
        raise DataError(f"{name} has {len(values)} entries but {rows_name} has {n_rows} rows; "
                        "they must match one to one.")
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
        raise DataError(f"{name} contains missing values (None/NaN); drop or fill those rows.")
    return values


def require_classes(labels: list, *, minimum: int = 2, name: str = "labels") -> Counter:
    counts = Counter(labels)
    if len(counts) < minimum:
        raise DataError(f"{name} must contain at least {minimum} different values, "
                        f"got {len(counts)} ({_preview(counts)}).")
    return counts


def nonzero_rows(array: np.ndarray, name: str) -> None:
    zero = np.flatnonzero(~np.any(array != 0, axis=1))
    if len(zero):
        raise DataError(f"{name} has all-zero rows (e.g. row {int(zero[0])}); cosine similarity is "
                        "undefined for them. Drop those texts or re-embed them.")


def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _preview(counts: Counter, limit: int = 5) -> str:
    shown = ", ".join(f"{k!r}: {v}" for k, v in list(counts.items())[:limit])
    return shown + (", ..." if len(counts) > limit else "") if counts else "none"


def text_list(values: Sequence[str], name: str) -> list[str]:
    """Non-empty texts as a plain list; an empty or non-text entry is named by its position."""
    if isinstance(values, str):
        raise DataError(f"{name} must be a list of texts, not a single string.")
    texts = values.tolist() if hasattr(values, "tolist") else list(values)
    if not texts:
        raise DataError(f"{name} is empty.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"{name}[{i}] is {type(text).__name__}, not text.")
        if not text.strip():
            raise DataError(f"{name}[{i}] is empty; drop empty texts first.")
    return texts


def number_list(values: Sequence[float], name: str) -> list[float]:
    """Finite numbers as a plain list of floats."""
    try:
        numbers = [float(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]
    except (TypeError, ValueError):
        raise DataError(f"{name} must be numbers.") from None
    if not all(np.isfinite(numbers)):
        raise DataError(f"{name} contains NaN or infinite values.")
    return numbers


def same_length(*named: tuple[str, Sequence]) -> None:
    """One entry per pair in every named sequence."""
    lengths = {name: len(values) for name, values in named}
    if len(set(lengths.values())) > 1:
        raise DataError("These must have one entry per pair: "
                        + ", ".join(f"{k} has {v}" for k, v in lengths.items()) + ".")
