"""Search a collection: ANN through LanceDB's index (exact with ``exact=True``), full-text (LanceDB's
BM25 index) and hybrid (reciprocal rank fusion of the two, as the in-memory hybrid does); and
retrieval evaluation over a collection, with the ANN's recall against exact search and its latency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from embedlab.errors import DataError
from embedlab.retrieval.search import fuse_ranks
from embedlab.store.collection import ID, TEXT, Collection, ModelEntry

NPROBES = 32  # IVF partitions visited per query (of about sqrt(rows) / 4); the benchmark measures the recall
REFINE = 4  # re-score refine x k candidates with the stored vectors: SQ quantisation error, undone


@dataclass(frozen=True)
class Found:
    """One query's results, best first: ids, scores (cosine, or BM25 / fused rank score) and seconds."""

    ids: list[str]
    scores: list[float]
    seconds: float


def check_model(collection: Collection, model) -> ModelEntry:
    """The collection's record of ``model``, refusing a model whose vectors would not be comparable."""
    entry = collection.model(model.spec.name)
    if entry.fingerprint != model.cache_key("document"):
        raise DataError(f"The collection's {entry.name!r} vectors were made by other weights or settings than the "
                        f"model loaded now (fingerprint {entry.fingerprint[:12]} vs "
                        f"{model.cache_key('document')[:12]}): re-index with this model, or load the original.")
    return entry


def vector_search(collection: Collection, entry: ModelEntry, vector: np.ndarray, k: int, *, exact: bool = False,
                  columns: Sequence[str] = (ID,), where: str | None = None, table=None) -> tuple[pd.DataFrame, float]:
    table = table if table is not None else collection.docs()
    start = time.perf_counter()
    query = table.search(np.asarray(vector, np.float32), vector_column_name=entry.column).distance_type("cosine")
    if exact:
        query = query.bypass_vector_index()
    else:
        query = query.nprobes(NPROBES).refine_factor(REFINE)
    if where:
        query = query.where(where, prefilter=True)
    frame = query.limit(k).select([*columns, "_distance"]).to_pandas()
    seconds = time.perf_counter() - start
    frame["score"] = 1.0 - frame.pop("_distance")  # cosine similarity
    return frame, seconds


def text_search(collection: Collection, query: str, k: int, *, columns: Sequence[str] = (ID,), table=None
                ) -> tuple[pd.DataFrame, float]:
    if not collection.has_fts():
        raise DataError("The collection has no full-text index yet: run `embedlab index` on it once more.")
    table = table if table is not None else collection.docs()
    start = time.perf_counter()
    # No select(): LanceDB 0.40 warns about a select without _score and refuses one with it.
    frame = table.search(query, query_type="fts", fts_columns=TEXT).limit(k).to_pandas()
    seconds = time.perf_counter() - start
    frame = frame[list(columns)].assign(score=frame["_score"])
    return frame, seconds


def search(collection: Collection, model, queries: Sequence[str], *, k: int = 10, hybrid: bool = False,
           exact: bool = False, columns: Sequence[str] = (ID, TEXT)) -> list[pd.DataFrame]:
    """Top ``k`` per query with the given columns and a ``score``; hybrid fuses the vector and the
    full-text ranking (each taken ``depth`` deep) by reciprocal rank."""
    entry = check_model(collection, model)
    vectors = model.encode(list(queries), role="query")
    table = collection.docs()
    out = []
    for query, vector in zip(queries, vectors):
        if not hybrid:
            out.append(vector_search(collection, entry, vector, k, exact=exact, columns=columns, table=table)[0])
            continue
        depth = max(k, 100)
        dense, _ = vector_search(collection, entry, vector, depth, exact=exact, columns=columns, table=table)
        lexical, _ = text_search(collection, query, depth, columns=columns, table=table)
        fused = fuse_ranks([dense[ID].tolist(), lexical[ID].tolist()], k)
        rows = pd.concat([dense, lexical]).drop_duplicates(ID).set_index(ID)
        frame = rows.loc[[d for d, _ in fused]].reset_index()
        frame["score"] = [s for _, s in fused]
        out.append(frame)
    return out
