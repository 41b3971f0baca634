"""Search a collection: ANN through LanceDB's index (exact with ``exact=True``), full-text (LanceDB's
BM25 index) and hybrid (reciprocal rank fusion of the two, as the in-memory hybrid does); and
retrieval evaluation over a collection, with the ANN's recall against exact search and its latency.
"""

from __future__ import annotations

import dataclasses
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


def pipeline_name(collection: Collection, entry: ModelEntry, *, hybrid: bool = False, exact: bool = False) -> str:
    """What a search runs: ``ANN`` through the index, ``exact`` (asked for, or no index yet), either fused
    with the full-text ranking for hybrid."""
    dense = "ANN" if collection.has_ann(entry) and not exact else "exact"
    return f"hybrid ({dense} + full-text)" if hybrid else dense


@dataclass(frozen=True)
class Searched:
    """One query's results, best first (the columns asked for and ``score``: cosine, or the fused rank
    score for hybrid), what ran, how long the collection took, and the query's share of the embedding time."""

    frame: pd.DataFrame
    pipeline: str
    seconds: float
    embed_seconds: float = 0.0


def search_vector(collection: Collection, entry: ModelEntry, query: str, vector: np.ndarray, *, k: int = 10,
                  hybrid: bool = False, exact: bool = False, columns: Sequence[str] = (ID, TEXT),
                  table=None) -> Searched:
    """Top ``k`` for one embedded query; hybrid fuses the vector and the full-text ranking (each taken
    ``max(k, 100)`` deep) by reciprocal rank."""
    table = table if table is not None else collection.docs()
    columns = list(dict.fromkeys([ID, *columns]))
    name = pipeline_name(collection, entry, hybrid=hybrid, exact=exact)
    if not hybrid:
        frame, seconds = vector_search(collection, entry, vector, k, exact=exact, columns=columns, table=table)
        return Searched(frame, name, seconds)
    depth = max(k, 100)
    dense, dense_seconds = vector_search(collection, entry, vector, depth, exact=exact, columns=columns, table=table)
    lexical, lexical_seconds = text_search(collection, query, depth, columns=columns, table=table)
    start = time.perf_counter()
    fused = fuse_ranks([dense[ID].tolist(), lexical[ID].tolist()], k)
    rows = pd.concat([dense, lexical]).drop_duplicates(ID).set_index(ID)
    frame = rows.loc[[d for d, _ in fused]].reset_index()
    frame["score"] = [s for _, s in fused]
    return Searched(frame, name, dense_seconds + lexical_seconds + time.perf_counter() - start)


def search_timed(collection: Collection, model, queries: Sequence[str], *, k: int = 10, hybrid: bool = False,
                 exact: bool = False, columns: Sequence[str] = (ID, TEXT)) -> list[Searched]:
    """``search_vector`` for each query, embedded with ``model`` (which must be the collection's)."""
    entry = check_model(collection, model)
    start = time.perf_counter()
    vectors = model.encode(list(queries), role="query")
    embed_seconds = (time.perf_counter() - start) / max(1, len(queries))
    table = collection.docs()
    return [dataclasses.replace(search_vector(collection, entry, query, vector, k=k, hybrid=hybrid, exact=exact,
                                              columns=columns, table=table), embed_seconds=embed_seconds)
            for query, vector in zip(queries, vectors)]


def search(collection: Collection, model, queries: Sequence[str], *, k: int = 10, hybrid: bool = False,
           exact: bool = False, columns: Sequence[str] = (ID, TEXT)) -> list[pd.DataFrame]:
    """Top ``k`` per query with the given columns and a ``score`` (``search_timed`` without the times)."""
    return [s.frame for s in search_timed(collection, model, queries, k=k, hybrid=hybrid, exact=exact,
                                          columns=columns)]
