"""A collection: documents and their vectors in a LanceDB database (embedded, no server).

One LanceDB database (a folder, or any URI LanceDB accepts: ``s3://…``, ``gs://…``) holds two tables:

- ``docs``: ``id``, ``text``, ``text_hash`` (sha1 of the text), the user's other columns (as strings),
  and one vector column per model, ``vec_<model>`` (fixed-size float32, unit length; null until embedded);
- ``models``: one row per vector column: the model's name, spec, fingerprint (its cache key: weights,
  pooling, prompt, max length), backend, dimension.

Writes are LanceDB commits: a reader (another process too) sees the version before a write or the one
after, never half of it. Rows are added before they are embedded, and vectors are written in chunks,
so an interrupted build keeps what it finished and the next build embeds only rows still without vectors.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa

from embedlab.errors import DataError

DOCS, MODELS = "docs", "models"
ID, TEXT, HASH = "id", "text", "text_hash"
RESERVED = (ID, TEXT, HASH)
VECTOR_PREFIX = "vec_"
ANN_MIN_ROWS = 1_000  # below this an IVF index has too few rows per partition to train; search is exact
_MODEL_FIELDS = [("name", pa.string()), ("column", pa.string()), ("fingerprint", pa.string()),
                 ("dim", pa.int32()), ("kind", pa.string()), ("pooling", pa.string()),
                 ("backend", pa.string()), ("spec", pa.string()), ("added", pa.float64())]
MODELS_SCHEMA = pa.schema([pa.field(n, t) for n, t in _MODEL_FIELDS])


@dataclass(frozen=True)
class ModelEntry:
    """What made one vector column: enough to refuse vectors from another model under the same name."""

    name: str
    column: str
    fingerprint: str
    dim: int
    kind: str
    pooling: str
    backend: str
    spec: str  # the ModelSpec as JSON, so a worker elsewhere loads the very same model
    added: float


@dataclass(frozen=True)
class AddReport:
    inserted: int
    changed: int  # same id, new text: its vectors were cleared, to be embedded again
    unchanged: int


def column_for(model_name: str) -> str:
    """``minilm@cls`` -> ``vec_minilm_cls``: a column name SQL filters can use unquoted."""
    return VECTOR_PREFIX + re.sub(r"[^a-z0-9]+", "_", model_name.lower()).strip("_")


def resolve(name_or_uri: str | Path) -> str:
    """A bare name (``support``) is a folder under the data folder's ``collections/``; a path or a URI
    (``s3://bucket/x``) is used as given."""
    text = str(name_or_uri).strip()
    if not text:
        raise DataError("Give a collection: a name, a folder or a URI.")
    if "://" in text or "/" in text or "\\" in text or text.startswith((".", "~")):
        return text
    from embedlab.paths import collections_dir

    return str(collections_dir() / text)


def known_collections() -> list[str]:
    """Collections under the data folder's ``collections/``, by name."""
    from embedlab.paths import collections_dir

    return sorted(p.name for p in collections_dir().iterdir() if (p / f"{DOCS}.lance").is_dir())


def _is_local(uri: str) -> bool:
    return "://" not in uri


class Collection:
    """Open with ``Collection.open(uri)``; ``create=True`` makes an empty one if nothing is there."""

    def __init__(self, uri: str, db, *, made: bool = False) -> None:
        self.uri = uri
        self.db = db
        self.made = made  # this open created the (local) folder

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, uri: str | Path, *, create: bool = False) -> "Collection":
        import lancedb

        uri = resolve(uri)
        made = False
        if _is_local(uri):
            path = Path(uri).expanduser()
            made = create and not path.exists()
            if path.exists() and not path.is_dir():
                raise DataError(f"{path} is a file, not a collection: give a folder (new or existing).")
            if not create and not (path / f"{DOCS}.lance").is_dir():
                raise DataError(f"No collection at {path}: build one with `embedlab index --collection {path} "
                                "--input FILE --model NAME`.")
            uri = str(path)
        db = lancedb.connect(uri)
        found = cls(uri, db, made=made)
        if not create and DOCS not in found._tables():
            raise DataError(f"No collection at {uri}: it has no '{DOCS}' table.")
        return found

    def discard_if_unused(self) -> None:
        """Remove the folder this open created if nothing was written into it: a refused first build
        leaves nothing behind (an interrupted one keeps its rows, to resume)."""
        if self.made and not self.exists:
            try:
                Path(self.uri).rmdir()  # only ever an empty folder
            except OSError:
                pass

    def _tables(self) -> list[str]:
        return list(self.db.list_tables().tables)

    @property
    def exists(self) -> bool:
        return DOCS in self._tables()

    def docs(self):
        return self.db.open_table(DOCS)

    # --- what it holds -----------------------------------------------------------------------

    def count(self, where: str | None = None) -> int:
        return self.docs().count_rows(where) if self.exists else 0

    def models(self) -> dict[str, ModelEntry]:
        if MODELS not in self._tables():
            return {}
        rows = self.db.open_table(MODELS).to_arrow().to_pylist()
        return {r["name"]: ModelEntry(**r) for r in sorted(rows, key=lambda r: r["added"])}

    def model(self, name: str) -> ModelEntry:
        entries = self.models()
        if name not in entries:
            known = ", ".join(entries) or "none yet"
            raise DataError(f"Collection {self.uri} has no vectors from model {name!r} (it has: {known}). "
                            f"Add them with `embedlab index --collection {self.uri} --model {name}`.")
        return entries[name]

    def extra_columns(self) -> list[str]:
        if not self.exists:
            return []
        return [f.name for f in self.docs().schema if f.name not in RESERVED
                and not f.name.startswith(VECTOR_PREFIX)]

    def missing(self, entry: ModelEntry) -> int:
        """Rows without a vector from ``entry``'s model."""
        return self.count(f"{entry.column} IS NULL")

    def disk_bytes(self) -> int | None:
        if not _is_local(self.uri):
            return None
        return sum(p.stat().st_size for p in Path(self.uri).rglob("*") if p.is_file())

    def summary(self) -> dict:
        entries = self.models()
        return {"uri": self.uri, "documents": self.count(), "columns": self.extra_columns(),
                "models": {n: {"dim": e.dim, "pooling": e.pooling, "backend": e.backend,
                               "embedded": self.count() - self.missing(e), "ann_index": self.has_ann(e)}
                           for n, e in entries.items()},
                "full_text_index": self.has_fts(), "disk_bytes": self.disk_bytes()}

    # --- adding rows -------------------------------------------------------------------------

    def check_rows(self, rows: pa.Table) -> pa.Table:
        """``rows`` (id, text, other columns) shaped for ``docs``: extras as strings, columns the
        collection lacks refused before anything is written."""
        rows = _strings(rows)
        if self.exists:
            known = set(self.extra_columns())
            new = [c for c in rows.column_names if c not in RESERVED and c not in known]
            if new and self.count():
                raise DataError(f"The input has columns the collection does not: {', '.join(new)}. "
                                f"Its other columns are: {', '.join(sorted(known)) or 'none'}. Drop them or "
                                "start a new collection.")
        return rows

    def add_rows(self, rows: pa.Table) -> AddReport:
        """Insert new ids; an id whose text changed gets the new text and loses its stale vectors."""
        rows = self.check_rows(rows)
        if not self.exists:
            self._create(rows)
        table = self.docs()
        rows = _conform(rows, table.schema)
        result = (table.merge_insert(ID).when_matched_update_all(where=f"target.{HASH} != source.{HASH}")
                  .when_not_matched_insert_all().execute(rows, on_bad_vectors="null"))
        inserted, changed = int(result.num_inserted_rows), int(result.num_updated_rows)
        return AddReport(inserted, changed, len(rows) - inserted - changed)

    def _create(self, rows: pa.Table) -> None:
        fields = [pa.field(ID, pa.string()), pa.field(TEXT, pa.string()), pa.field(HASH, pa.string())]
        fields += [pa.field(c, pa.string()) for c in rows.column_names if c not in RESERVED]
        self.db.create_table(DOCS, schema=pa.schema(fields), exist_ok=True)

    # --- models and vectors ------------------------------------------------------------------

    def check_entry(self, entry: ModelEntry) -> ModelEntry | None:
        """The stored record of ``entry``'s model if it has one; raises if that record is another model's
        (another dimension or fingerprint) or another name already uses its column. Writes nothing."""
        known = self.models().get(entry.name)
        if known:
            if known.dim != entry.dim:
                raise DataError(f"Collection {self.uri} holds {known.dim}-dimensional vectors from {entry.name!r}; "
                                f"this model gives {entry.dim}. Use another name for it, or a new collection.")
            if known.fingerprint != entry.fingerprint:
                raise DataError(f"The collection's {entry.name!r} vectors were made by other weights or settings "
                                f"(fingerprint {known.fingerprint[:12]}, this model {entry.fingerprint[:12]}): "
                                "mixing them would make scores meaningless. Register the new model under "
                                "another name, or start a new collection.")
            return known
        clash = [e.name for e in self.models().values() if e.column == entry.column]
        if clash:
            raise DataError(f"Model names {clash[0]!r} and {entry.name!r} map to the same column {entry.column}; "
                            "rename one of them.")
        return None

    def register(self, entry: ModelEntry) -> ModelEntry:
        """Add ``entry``'s vector column, or return the existing record of the same model."""
        known = self.check_entry(entry)
        if known:
            return known
        table = self.docs()
        if entry.column not in table.schema.names:
            table.add_columns(pa.field(entry.column, pa.list_(pa.float32(), entry.dim)))
        meta = pa.Table.from_pylist([entry.__dict__], schema=MODELS_SCHEMA)
        if MODELS in self._tables():
            self.db.open_table(MODELS).add(meta)
        else:
            self.db.create_table(MODELS, data=meta)
        return entry

    def todo(self, entry: ModelEntry, *, batch_rows: int = 8_192) -> Iterator[pa.Table]:
        """Rows (id, text, text_hash) still without a vector from ``entry``'s model."""
        query = self.docs().search().where(f"{entry.column} IS NULL").select([ID, TEXT, HASH]).limit(None)
        pending: list[pa.RecordBatch] = []
        for batch in query.to_batches(batch_rows):  # the reader's batches may be smaller: regroup
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= batch_rows:
                table = pa.Table.from_batches(pending)
                yield table.slice(0, batch_rows)
                rest = table.slice(batch_rows)
                pending = rest.to_batches() if rest.num_rows else []
        if pending:
            yield pa.Table.from_batches(pending)

    def vectors_for_hashes(self, entry: ModelEntry, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already in the collection for these texts (by content hash): not embedded again."""
        found: dict[str, np.ndarray] = {}
        table = self.docs()
        unique = sorted(set(hashes))
        for start in range(0, len(unique), 500):
            part = ", ".join(f"'{h}'" for h in unique[start:start + 500])
            got = (table.search().where(f"{HASH} IN ({part}) AND {entry.column} IS NOT NULL")
                   .select([HASH, entry.column]).limit(None).to_arrow())
            if got.num_rows:
                vecs = matrix(got[entry.column], entry.dim)
                found.update(zip(got[HASH].to_pylist(), vecs))
        return found

    def write_vectors(self, entry: ModelEntry, ids: Sequence[str], vectors: np.ndarray) -> int:
        """Set ``entry``'s vector for these ids (one commit)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), entry.dim):
            raise DataError(f"Expected {len(ids)} x {entry.dim} vectors for {entry.name!r}, got {vectors.shape}.")
        update = pa.table({ID: pa.array(list(ids), pa.string()), entry.column: vector_column(vectors)})
        result = self.docs().merge_insert(ID).when_matched_update_all().execute(update)
        return int(result.num_updated_rows)

    # --- indexes -----------------------------------------------------------------------------

    def has_ann(self, entry: ModelEntry) -> bool:
        return any(entry.column in i.columns for i in self.docs().list_indices()) if self.exists else False

    def has_fts(self) -> bool:
        return self.exists and any(TEXT in i.columns and any(k in str(i.index_type).upper() for k in ("FTS", "INVERTED"))
                                   for i in self.docs().list_indices())

    def build_indexes(self, entries: Sequence[ModelEntry]) -> dict[str, float]:
        """An ANN index per vector column (once the collection has ``ANN_MIN_ROWS``), a full-text index
        on the text; rows added after an index was built join it here. Returns seconds per index."""
        table = self.docs()
        seconds: dict[str, float] = {}
        n = self.count()
        for entry in entries:
            start = time.perf_counter()
            if self.has_ann(entry):
                table.optimize()
            elif n >= ANN_MIN_ROWS:
                table.create_index(metric="cosine", vector_column_name=entry.column, index_type="IVF_HNSW_SQ",
                                   num_partitions=max(1, round(n ** 0.5 / 4)))
            else:
                continue
            seconds[entry.column] = time.perf_counter() - start
        start = time.perf_counter()
        table.create_fts_index(TEXT, replace=True)
        seconds["full-text"] = time.perf_counter() - start
        return seconds


def _strings(rows: pa.Table) -> pa.Table:
    """Every column a string: a collection fed from CSV today and Parquet tomorrow keeps one schema."""
    out = {}
    for name in rows.column_names:
        col = rows[name]
        out[name] = col if pa.types.is_string(col.type) else col.cast(pa.string())
    return pa.table(out)


def _conform(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """``rows`` with the table's columns in its order: missing extras null, vectors null (to embed)."""
    columns = {}
    for field in schema:
        if field.name in rows.column_names:
            columns[field.name] = rows[field.name].cast(field.type)
        else:
            columns[field.name] = pa.nulls(rows.num_rows, field.type)
    return pa.table(columns, schema=schema)


def vector_column(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """(rows, dim) floats as the fixed-size float32 list column LanceDB indexes."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])


def matrix(column, dim: int) -> np.ndarray:
    """A fixed-size list column (array or chunked) as a (rows, dim) float32 matrix."""
    flat = column.combine_chunks().flatten() if isinstance(column, pa.ChunkedArray) else column.flatten()
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, dim)


def entry_for(model) -> ModelEntry:
    """The record of a loaded model (an Embedder with ``spec`` and ``cache_key``)."""
    import dataclasses

    spec = model.spec
    return ModelEntry(name=spec.name, column=column_for(spec.name), fingerprint=model.cache_key("document"),
                      dim=int(model.dim), kind=spec.kind, pooling=spec.pooling, backend=spec.backend,
                      spec=json.dumps(dataclasses.asdict(spec), default=str), added=time.time())
