"""Bring your own vectors: embeddings made elsewhere (an API, another tool) used as one more "model".

1. ``read_vectors`` reads the file: a ``.npy`` 2-D float array (one row per corpus row, in order), or a
   Parquet/JSONL/CSV table with a column of vectors (lists of numbers; JSON text such as "[0.1, 0.2]"
   in a CSV cell) and optionally an id column. Every problem is a ``DataError`` that names the file
   and the row: wrong shape, ragged or non-numeric vectors, NaN or infinity, all-zero rows.
2. ``align_vectors`` puts them in the order of the corpus' documents: by id when the file has an id
   column, else by row order (one vector per row of the corpus, or per document kept from it).
3. ``PrecomputedEmbedder`` serves them behind the ``Embedder`` protocol, looked up by text, so every
   pipeline that takes an embedder (maps, clusters, retrieval, benchmark tasks) takes them as they are.
   Nothing is encoded: there is no speed to measure, no embedding cache to fill, and no benchmark
   result cached under a fingerprint (it has no ``cache_key``).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from embedlab.embedder import Progress, check_batch_size, check_texts, l2_normalize
from embedlab.errors import DataError, OptionError
from embedlab.models.spec import ROLES

NAME_PREFIX = "vectors:"
NPY_EXTENSIONS = (".npy",)
TABLE_EXTENSIONS = (".parquet", ".pq", ".jsonl", ".ndjson", ".json", ".csv", ".tsv")
UPLOAD_TYPES = [e.lstrip(".") for e in (*NPY_EXTENSIONS, *TABLE_EXTENSIONS)]
_NPY_MAGIC = b"\x93NUMPY"


def model_name(filename: str) -> str:
    """What uploaded vectors are called beside the zoo's models: ``vectors:FILENAME``."""
    return NAME_PREFIX + Path(filename).name


@dataclass(frozen=True)
class UploadedVectors:
    """The vectors of one file, in the file's row order, checked (2-D, finite, no zero rows)."""

    source: str  # the file's name, for messages
    vectors: np.ndarray  # (rows, dim) float32, as uploaded (not normalised)
    ids: tuple[str, ...] | None = None  # one per row, when an id column says which document each is for
    column: str | None = None  # the table column they came from; None for a .npy array
    id_column: str | None = None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def describe(self) -> str:
        how = f"matched by the ids in {self.id_column!r}" if self.ids is not None else "matched by row order"
        return f"{len(self.vectors):,} vectors of {self.dim:,} dimensions, {how}"


# 1. Read ------------------------------------------------------------------------------------------
def is_table(filename: str) -> bool:
    """True for a file whose vectors are a column of a table (the user picks the column)."""
    return Path(filename).suffix.lower() in TABLE_EXTENSIONS


def read_vectors(data: bytes, *, filename: str, column: str | None = None,
                 id_column: str | None = None) -> UploadedVectors:
    """The vectors of an uploaded file (its bytes and name). ``column``/``id_column``: for a table,
    the column of vectors (None: the only one) and the optional column of document ids."""
    name = Path(filename).name
    suffix = Path(name).suffix.lower()
    if suffix in NPY_EXTENSIONS:
        return vectors_from_npy(data, name=name)
    if suffix in TABLE_EXTENSIONS:
        from embedlab.tables import read_table

        return vectors_from_table(read_table(data, filename=name), column, id_column=id_column)
    raise DataError(f"{name}: vectors are read from a .npy array or a table with a column of vectors "
                    f"({', '.join(TABLE_EXTENSIONS)}), not from a {suffix or 'file without an extension'}.")


def vectors_from_npy(data: bytes, *, name: str = "the array") -> UploadedVectors:
    """A ``numpy.save``d 2-D array of numbers, one row per document."""
    save_hint = "Save a 2-D float array with numpy.save(path, vectors), one row per document."
    if data[:2] == b"PK":
        raise DataError(f"{name} is a .npz archive or another zip file, not one .npy array. {save_hint}")
    if not data.startswith(_NPY_MAGIC):
        raise DataError(f"{name} is not a NumPy .npy file (it does not start with the .npy header). {save_hint} "
                        "Or upload Parquet/JSONL with a column of vectors.")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DataError(f"{name} holds Python objects (a pickled object array), not numbers. {save_hint}") from None
        raise DataError(f"{name} is damaged or cut short ({exc}). {save_hint}") from None
    except (EOFError, OSError) as exc:
        raise DataError(f"{name} is damaged or cut short ({exc or type(exc).__name__}). {save_hint}") from None
    return UploadedVectors(name, check_vectors(_numeric_matrix(array, name), source=name))


def _numeric_matrix(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype.kind not in "iuf":
        what = {"b": "true/false values", "U": "text", "S": "bytes", "c": "complex numbers", "V": "records",
                "M": "dates", "m": "time spans"}.get(array.dtype.kind, f"{array.dtype} values")
        raise DataError(f"{name} holds {what}, not numbers: vectors must be floats (or integers).")
    if array.ndim == 0:
        raise DataError(f"{name} holds a single number, not vectors: give a 2-D array, one row per document.")
    if array.ndim == 1:
        raise DataError(f"{name} holds a 1-D array of {len(array):,} numbers, which is one vector (or one number "
                        f"per document): give a 2-D array of shape (documents, dimensions), one row per document.")
    if array.ndim > 2:
        raise DataError(f"{name} holds a {array.ndim}-D array of shape {tuple(array.shape)}: give a 2-D array of "
                        "shape (documents, dimensions), one row per document.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise DataError(f"{name} holds an empty array of shape {tuple(array.shape)}: no vectors.")
    with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf, reported as such
        return array.astype(np.float32)


def vector_columns(table: pd.DataFrame) -> list[str]:
    """The columns whose first non-empty cell is a list of numbers: the choices for the vector column."""
    found = []
    for column in table.columns:
        first = next((v for v in table[column].tolist() if not _empty(v)), None)
        if _looks_like_vector(first):
            found.append(str(column))
    return found


def vectors_from_table(table: pd.DataFrame, column: str | None = None, *,
                       id_column: str | None = None) -> UploadedVectors:
    """The vectors of ``column`` (None: the table's only column of vectors), with ``id_column``'s ids."""
    name = table.attrs.get("source") or "the table"
    candidates = vector_columns(table)
    if column is None:
        if len(candidates) != 1:
            found = f"several ({', '.join(candidates)}): pick one" if candidates else "none"
            raise DataError(f"{name} must have one column of vectors (lists of numbers); it has {found}. "
                            f"Its columns: {', '.join(map(str, table.columns))}.")
        column = candidates[0]
    if column not in table.columns:
        raise DataError(f"{name} has no column {column!r}; its columns: {', '.join(map(str, table.columns))}.")
    rows = [_cell_vector(v, row, column, name) for row, v in enumerate(table[column].tolist(), start=1)]
    lengths = [len(r) for r in rows]
    if lengths[0] == 0:
        raise DataError(f"Row 1 of column {column!r} in {name} is an empty list: no vector.")
    odd = next((i for i, n in enumerate(lengths) if n != lengths[0]), None)
    if odd is not None:
        raise DataError(f"Row {odd + 1} of column {column!r} in {name} has {lengths[odd]:,} numbers where row 1 has "
                        f"{lengths[0]:,}: every vector must have the same length (the same model made them all).")
    ids = _ids(table, id_column, name) if id_column else None
    with np.errstate(over="ignore"):
        matrix = np.stack(rows).astype(np.float32)
    return UploadedVectors(name, check_vectors(matrix, source=f"column {column!r} in {name}", ids=ids), ids, column,
                           id_column if ids is not None else None)


def _empty(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _looks_like_vector(value) -> bool:
    if isinstance(value, str):
        return value.lstrip().startswith("[")
    return isinstance(value, (list, tuple, np.ndarray)) and len(value) > 0 and all(
        isinstance(x, (int, float, np.number)) and not isinstance(x, (bool, np.bool_)) for x in list(value)[:8])


def _cell_vector(value, row: int, column: str, name: str) -> np.ndarray:
    """One cell as a 1-D float64 array; an empty, textual, nested or non-numeric cell is a DataError."""
    where = f"Row {row} of column {column!r} in {name}"
    if _empty(value):
        raise DataError(f"{where} has no vector (the cell is empty): every row needs one.")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise DataError(f"{where} holds text ({shown!r}), not a list of numbers.") from None
    if isinstance(value, (int, float, np.number)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise DataError(f"{where} holds a single {type(value).__name__}, not a list of numbers: pick the column "
                        "that holds the vectors.")
    try:  # the usual case at C speed: a flat list or array of numbers
        array = np.asarray(value)
        if array.ndim == 1 and array.dtype.kind in "iuf":
            return array.astype(np.float64, copy=False)
    except (ValueError, TypeError):  # nested lists of different lengths: found below
        pass
    items = list(value)
    bad = next((x for x in items if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.number))), None)
    if bad is not None:
        what = "a list" if isinstance(bad, (list, tuple, np.ndarray)) else repr(bad)
        raise DataError(f"{where} holds {what} among its numbers: a vector must be a flat list of numbers.")
    return np.asarray(items, dtype=np.float64)


def _ids(table: pd.DataFrame, id_column: str, name: str) -> tuple[str, ...]:
    if id_column not in table.columns:
        raise DataError(f"{name} has no column {id_column!r} for the ids; its columns: "
                        f"{', '.join(map(str, table.columns))}.")
    values = table[id_column].tolist()
    empty = next((i for i, v in enumerate(values, start=1) if _empty(v) or not str(v).strip()), None)
    if empty is not None:
        raise DataError(f"Row {empty} of {name} has no id in column {id_column!r}: every vector needs one.")
    ids = tuple(str(v).strip() for v in values)
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DataError(f"The id {i!r} appears more than once in column {id_column!r} of {name}: each id must "
                            "name one document.")
        seen.add(i)
    return ids


def check_vectors(vectors: np.ndarray, *, source: str, ids: Sequence[str] | None = None) -> np.ndarray:
    """``vectors`` unchanged when every row is finite and not all zeros; else a DataError naming the row."""
    def which(row: int) -> str:
        return f"Row {row + 1}" + (f" (id {ids[row]!r})" if ids is not None else "")

    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if len(bad):
        more = f" ({len(bad):,} rows in all)" if len(bad) > 1 else ""
        raise DataError(f"{which(int(bad[0]))} of {source} has NaN or infinite values{more}: embeddings must be "
                        "finite numbers. Check how they were made, or drop those rows.")
    zero = np.flatnonzero(~vectors.any(axis=1))
    if len(zero):
        more = f" ({len(zero):,} rows in all)" if len(zero) > 1 else ""
        raise DataError(f"{which(int(zero[0]))} of {source} is all zeros{more}: a zero vector has no direction, so "
                        "its cosine similarity to anything is undefined. Re-embed or drop those rows.")
    return vectors


# 2. Align -----------------------------------------------------------------------------------------
def align_vectors(uploaded: UploadedVectors, *, ids: Sequence[str], rows: Sequence[int] | None = None,
                  table_rows: int | None = None, what: str = "corpus") -> np.ndarray:
    """One vector per document, in the documents' order. By id when the file has ids (``ids`` are the
    documents'); else by order: one vector per document, or one per row of the ``table_rows``-row table
    the documents were kept from (``rows``: their positions in it, so the vectors of skipped rows drop out)."""
    if uploaded.ids is not None:
        position = {d: i for i, d in enumerate(uploaded.ids)}
        lacking = [d for d in ids if d not in position]
        if lacking:
            raise DataError(f"{len(lacking):,} of the {len(ids):,} documents of the {what} have no vector in "
                            f"{uploaded.source} (the first: id {lacking[0]!r}); its ids must be the {what}'s ids.")
        return uploaded.vectors[[position[d] for d in ids]]
    n = len(uploaded.vectors)
    if n == len(ids):
        return uploaded.vectors
    if rows is not None and table_rows is not None and n == table_rows:
        return uploaded.vectors[list(rows)]
    has = (f"{table_rows:,} rows ({len(ids):,} of them documents with text)"
           if table_rows is not None and table_rows != len(ids) else f"{len(ids):,} rows")
    raise DataError(f"{uploaded.source} has {n:,} vectors but the {what} has {has}: give one vector per row, "
                    "in the same order, or a table with an id column to match them by id.")


# 3. Serve -----------------------------------------------------------------------------------------
class PrecomputedEmbedder:
    """Vectors made elsewhere, looked up by text: ``encode`` returns each text's uploaded vector.

    ``texts``/``vectors`` serve the document role; ``query_texts``/``query_vectors`` the query role
    (without them, queries are looked up among the documents: one space for both, as for symmetric
    tasks). A text given twice keeps its first vector (``notes`` says when its vectors differed).
    """

    precomputed = True  # see embedder.is_precomputed: nothing here encodes, so nothing has a speed

    def __init__(self, name: str, texts: Sequence[str], vectors: np.ndarray, *,
                 query_texts: Sequence[str] | None = None, query_vectors: np.ndarray | None = None) -> None:
        self.name = name
        documents = _Table.build(texts, vectors, what="document")
        queries = _Table.build(query_texts, query_vectors, what="query") if query_texts is not None else None
        if queries is not None and queries.dim != documents.dim:
            raise DataError(f"{name}: the document vectors have {documents.dim:,} dimensions and the query vectors "
                            f"{queries.dim:,}: both must come from the same model.")
        self.dim = documents.dim
        self._tables = {"document": documents, "query": queries or documents}
        self.notes = tuple(n for n in (documents.note, queries.note if queries else "") if n)
        digest = hashlib.sha256()
        for table in {id(t): t for t in self._tables.values()}.values():
            digest.update(table.matrix.tobytes())
            digest.update("\x1f".join(table.index).encode("utf-8", "surrogatepass"))
        self.fingerprint = digest.hexdigest()[:16]  # tells two uploads under the same file name apart

    def _table(self, role: str) -> _Table:
        if role not in self._tables:
            raise OptionError(f"Unknown role {role!r}. Valid roles: {', '.join(ROLES)}.")
        return self._tables[role]

    def missing(self, texts: Sequence[str], *, role: str = "document") -> list[str]:
        """The distinct texts without an uploaded vector (for ``estimate``: [] = all already embedded)."""
        index = self._table(role).index
        return [t for t in dict.fromkeys(texts) if t not in index]

    def encode(self, texts: Sequence[str], *, role: str = "document", batch_size: int = 32,
               progress: Progress | None = None, normalize: bool = True) -> np.ndarray:
        texts = check_texts(texts)
        check_batch_size(batch_size)
        table = self._table(role)
        lacking = self.missing(texts, role=role)
        if lacking:
            first = lacking[0] if len(lacking[0]) <= 60 else lacking[0][:57] + "..."
            raise DataError(f"{self.name} has no uploaded vector for {len(lacking):,} of the {len(set(texts)):,} "
                            f"distinct {role} texts asked for (the first: {first!r}). Uploaded vectors cover only "
                            "the texts they were uploaded with.")
        out = table.matrix[[table.index[t] for t in texts]] if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts), len(texts))
        return l2_normalize(out) if normalize else out.copy()


@dataclass(frozen=True)
class _Table:
    index: dict[str, int]  # text -> its row in ``matrix``
    matrix: np.ndarray  # (distinct texts, dim) float32
    note: str  # texts given more than once with different vectors, or ""

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @classmethod
    def build(cls, texts: Sequence[str] | None, vectors: np.ndarray | None, *, what: str) -> _Table:
        texts = check_texts(texts or [])
        vectors = np.asarray(vectors, dtype=np.float32) if vectors is not None else np.zeros((0, 0), np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts) or not texts:
            raise DataError(f"Give one {what} vector per {what} text: {len(texts):,} texts, vectors of shape "
                            f"{tuple(vectors.shape)}.")
        check_vectors(vectors, source=f"the {what} vectors")
        first: dict[str, int] = {}
        differ = 0
        for row, text in enumerate(texts):
            kept = first.setdefault(text, row)
            if kept != row and not np.allclose(vectors[kept], vectors[row], rtol=1e-4, atol=1e-6):
                differ += 1
        note = (f"{differ:,} {what} {'text appears' if differ == 1 else 'texts appear'} more than once with "
                "different vectors; each uses the vector of its first row." if differ else "")
        return cls({t: i for i, t in enumerate(first)}, vectors[list(first.values())], note)
