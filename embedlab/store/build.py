"""``index``: add an input's rows to a collection and embed what is missing, with the local engine (this
process) or the ray engine (Ray Data on a local or remote cluster). Same rows, same vectors either way.

Order matters for "nothing lost": everything the user gave is checked (files, columns, ids, models,
dimensions) before the first write; rows are added in one commit; vectors are written in chunks as they
are made, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa

from embedlab.errors import OptionError
from embedlab.store.collection import HASH, ID, TEXT, AddReport, Collection, ModelEntry, entry_for, matrix
from embedlab.store.reading import check_ids, input_spec, keep_first_text, plan_columns, read_local, shape_rows

log = logging.getLogger(__name__)
ENGINES = ("local", "ray")
CHUNK = 2_048  # texts embedded between two writes: what an interruption can cost

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class ModelRun:
    name: str
    embedded: int  # texts encoded in this run
    reused: int  # rows whose text already had a vector in the collection
    seconds: float

    @property
    def texts_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class IndexReport:
    collection: str
    engine: str
    input_rows: int
    added: AddReport
    models: list[ModelRun]
    index_seconds: dict[str, float]
    seconds: float
    peak_rss_mb: float  # this process (the ray engine's workers are other processes)
    workers: int = 1
    notes: list[str] = field(default_factory=list)


def index(uri: str, pattern: str, models: Sequence[str], *, text_column: str | None = None,
          id_column: str | None = None, engine: str = "local", ray_address: str | None = None,
          workers: int | None = None, batch_size: int = 32, num_cpus: int | None = None,
          progress: Progress | None = None) -> IndexReport:
    start = time.perf_counter()
    if engine not in ENGINES:
        raise OptionError(f"Unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}.")
    if not models:
        raise OptionError("Give at least one model (--model NAME[,NAME]).")
    # 1. Everything the user gave, checked before anything is written.
    spec = input_spec(pattern, text_column=text_column, id_column=id_column)
    collection = Collection.open(uri, create=True)
    try:
        loaded = _load(models)
        entries = [entry_for(m) for m in loaded]
        for entry in entries:
            collection.check_entry(entry)
        if engine == "local":
            return _finish(collection, spec, entries, loaded, engine="local", start=start, batch_size=batch_size,
                           progress=progress)
        from embedlab.store import ray_engine

        with ray_engine.cluster(ray_address, num_cpus=num_cpus) as resources:
            pool = workers or ray_engine.default_workers(resources)
            return _finish(collection, spec, entries, loaded, engine="ray", start=start, batch_size=batch_size,
                           progress=progress, workers=pool)
    except BaseException:
        collection.discard_if_unused()  # a new collection refused before its first row: no empty folder left
        raise


def _finish(collection: Collection, spec, entries, loaded, *, engine: str, start: float, batch_size: int,
            progress: Progress | None, workers: int = 1) -> IndexReport:
    # 2. Read and shape the rows (pyarrow here, Ray Data for the ray engine), still writing nothing.
    if engine == "ray":
        from embedlab.store import ray_engine

        rows, notes = ray_engine.read_rows(spec)
    else:
        table = read_local(spec)
        id_col, text_col, beir, notes = plan_columns(spec, table.column_names)
        rows = keep_first_text(shape_rows(table, id_col=id_col, text_col=text_col, beir=beir), id_col)
    check_ids(rows)
    collection.check_rows(rows)
    # 3. Rows in (one commit), 4. each model's missing vectors, 5. indexes.
    added = collection.add_rows(rows)
    runs = []
    for entry, model in zip(entries, loaded):
        entry = collection.register(entry)
        if engine == "ray":
            runs.append(_embed_ray(collection, entry, workers=workers, batch_size=batch_size, progress=progress))
        else:
            runs.append(_embed_local(collection, entry, model, batch_size=batch_size, progress=progress))
    index_seconds = collection.build_indexes([collection.model(e.name) for e in entries])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return IndexReport(collection.uri, engine, rows.num_rows, added, runs, index_seconds,
                       time.perf_counter() - start, peak, workers, notes)


def _load(names: Sequence[str]) -> list:
    from embedlab.models import load_model

    return [load_model(name, cache=False) for name in names]


def _by_hash(todo: pa.Table) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for i, h in zip(todo[ID].to_pylist(), todo[HASH].to_pylist()):
        ids.setdefault(h, []).append(i)
    return ids


def _split_known(collection: Collection, entry: ModelEntry, todo: pa.Table):
    """Rows whose text already has a vector in the collection get it now; returns (ids by text hash,
    rows given a stored vector, the distinct texts still to embed by hash)."""
    ids_of = _by_hash(todo)
    known = collection.vectors_for_hashes(entry, list(ids_of))
    if known:
        ids = [i for h in known for i in ids_of[h]]
        collection.write_vectors(entry, ids, np.stack([known[h] for h in known for _ in ids_of[h]]))
    first_text = dict(zip(todo[HASH].to_pylist(), todo[TEXT].to_pylist()))
    need = {h: first_text[h] for h in ids_of if h not in known}
    return ids_of, sum(len(ids_of[h]) for h in known), need


def _write_encoded(collection: Collection, entry: ModelEntry, hashes: Sequence[str], vectors: np.ndarray,
                   ids_of: dict[str, list[str]]) -> int:
    """Each text's vector to every row holding that text; returns the rows written."""
    ids = [i for h in hashes for i in ids_of[h]]
    collection.write_vectors(entry, ids, np.repeat(vectors, [len(ids_of[h]) for h in hashes], axis=0))
    return len(ids)


def _embed_local(collection: Collection, entry: ModelEntry, model, *, batch_size: int,
                 progress: Progress | None) -> ModelRun:
    start = time.perf_counter()
    total, done, embedded, reused = collection.missing(entry), 0, 0, 0
    for part in collection.todo(entry, batch_rows=CHUNK):
        ids_of, given, need = _split_known(collection, entry, part)
        reused += given
        if need:
            vectors = model.encode(list(need.values()), batch_size=batch_size)
            _write_encoded(collection, entry, list(need), vectors, ids_of)
            embedded += len(need)
        done += part.num_rows
        if progress:
            progress(f"embedding with {entry.name}", done, total)
    return ModelRun(entry.name, embedded, reused, time.perf_counter() - start)


def _embed_ray(collection: Collection, entry: ModelEntry, *, workers: int, batch_size: int,
               progress: Progress | None) -> ModelRun:
    from embedlab.store import ray_engine

    start = time.perf_counter()
    parts = list(collection.todo(entry, batch_rows=65_536))
    if not parts or not sum(p.num_rows for p in parts):
        return ModelRun(entry.name, 0, 0, time.perf_counter() - start)
    todo = pa.concat_tables(parts)
    ids_of, reused, need = _split_known(collection, entry, todo)
    texts = pa.table({HASH: pa.array(list(need), pa.string()), TEXT: pa.array(list(need.values()), pa.string())})
    done = reused
    for batch in ray_engine.encode(texts, spec_json=entry.spec, fingerprint=entry.fingerprint, workers=workers,
                                   batch_size=batch_size, chunk=CHUNK):
        hashes = batch[HASH].to_pylist()
        done += _write_encoded(collection, entry, hashes, matrix(batch["vector"], entry.dim), ids_of)
        if progress:
            progress(f"embedding with {entry.name} on Ray ({workers} workers)", done, todo.num_rows)
    return ModelRun(entry.name, len(need), reused, time.perf_counter() - start)
