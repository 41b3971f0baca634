"""Export explorer results: one table of documents, and embeddings as .npy or Parquet bytes."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd


def safe(name: str) -> str:
    """A file-name-safe version of a model name (``minilm@cls`` -> ``minilm_cls``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def documents_frame(ids: list[str], texts: list[str], labels, maps: dict) -> pd.DataFrame:
    """One row per document; per model its cluster, map coordinates and cluster keywords."""
    frame = pd.DataFrame({"id": ids, "text": texts})
    if labels is not None:
        frame["label"] = labels
    for name, model_map in maps.items():
        tag = safe(name)
        frame[f"cluster_{tag}"] = model_map.labels
        frame[f"x_{tag}"] = model_map.coords[:, 0]
        frame[f"y_{tag}"] = model_map.coords[:, 1]
        keywords = {c.cluster: ", ".join(c.keywords) for c in model_map.clusters}
        frame[f"keywords_{tag}"] = [keywords.get(int(l), "") for l in model_map.labels]
    return frame


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def to_npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float32))
    return buffer.getvalue()


def embeddings_parquet_bytes(ids: list[str], vectors: np.ndarray) -> bytes:
    return to_parquet_bytes(pd.DataFrame({"id": ids, "embedding": list(np.asarray(vectors, dtype=np.float32))}))
