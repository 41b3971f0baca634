"""Input files for a collection: one file or a glob of CSV/TSV/JSONL/Parquet files, read with pyarrow
(the local engine) or Ray Data (the ray engine); both give the same rows through ``shape_rows``.

A BEIR ``corpus.jsonl`` (an ``_id`` column) is read as ``eval retrieval`` reads it: id = ``_id``,
text = title + " " + text, so a collection built from it is searched with the same documents.
"""

from __future__ import annotations

import glob as globbing
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from embedlab.errors import DataError
from embedlab.store.collection import HASH, ID, TEXT

FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "json", ".ndjson": "json",
           ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class InputSpec:
    """Which files, and which of their columns are the id and the text."""

    files: tuple[str, ...]
    fmt: str
    text_column: str | None = None  # None: "text" (BEIR: title + text)
    id_column: str | None = None  # None: "_id" or "id" if present, else the text's hash
    notes: list[str] = field(default_factory=list, compare=False)


def input_spec(pattern: str, *, text_column: str | None = None, id_column: str | None = None) -> InputSpec:
    """Resolve ``pattern`` (a path or a glob) to files of one format; refuse what cannot be read.
    A URI (``s3://…``) is passed on as it is: Ray Data's readers open it (the ray engine)."""
    if "://" in pattern:
        fmt = FORMATS.get(Path(pattern.split("?")[0]).suffix.lower())
        if fmt is None:
            raise DataError(f"Cannot tell the format of {pattern!r}; use one of {', '.join(sorted(FORMATS))}.")
        return InputSpec((pattern,), fmt, text_column, id_column)
    if any(ch in pattern for ch in "*?["):
        files = sorted(globbing.glob(pattern))
        if not files:
            raise DataError(f"No file matches {pattern!r}.")
    else:
        path = Path(pattern).expanduser()
        if path.is_dir():
            raise DataError(f"{path} is a folder: give a file or a glob such as '{path}/*.jsonl'.")
        if not path.is_file():
            raise DataError(f"Input file not found: {path}")
        files = [str(path)]
    kinds = {FORMATS.get(Path(f).suffix.lower()) for f in files}
    if None in kinds:
        bad = next(f for f in files if Path(f).suffix.lower() not in FORMATS)
        raise DataError(f"Cannot tell the format of {Path(bad).name!r}; use one of {', '.join(sorted(FORMATS))}.")
    if len(kinds) > 1:
        raise DataError(f"{pattern!r} matches files of different formats ({', '.join(sorted(kinds))}); "
                        "index them one format at a time.")
    empty = [f for f in files if Path(f).stat().st_size == 0]
    if empty:
        raise DataError(f"{Path(empty[0]).name} is empty.")
    return InputSpec(tuple(files), kinds.pop(), text_column, id_column)


def read_local(spec: InputSpec) -> pa.Table:
    """All files as one Arrow table (pyarrow readers; the ray engine uses Ray Data's)."""
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    if any("://" in f for f in spec.files):
        raise DataError("An input URI is read by Ray Data: add --engine ray (the local engine reads local files).")
    parts = []
    for f in spec.files:
        try:
            if spec.fmt == "parquet":
                parts.append(pq.read_table(f))
            elif spec.fmt == "json":
                parts.append(pjson.read_json(f))
            else:
                opts = pcsv.ParseOptions(delimiter="\t" if spec.fmt == "tsv" else ",", newlines_in_values=True)
                parts.append(pcsv.read_csv(f, parse_options=opts))
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"Could not read {Path(f).name} as {spec.fmt.upper()}: "
                            f"{str(exc).strip().splitlines()[0][:200]}") from None
    try:
        return pa.concat_tables(parts, promote_options="permissive")
    except pa.ArrowInvalid as exc:
        raise DataError(f"The input files do not share their columns: {str(exc)[:200]}") from None


def plan_columns(spec: InputSpec, names: list[str]) -> tuple[str | None, str, bool, list[str]]:
    """(id column or None, text column, BEIR title+text, notes) for a file with columns ``names``."""
    notes = []
    beir = spec.text_column is None and "_id" in names and "text" in names
    if spec.id_column is not None:
        if spec.id_column not in names:
            raise DataError(f"No id column {spec.id_column!r} in the input (its columns: {', '.join(names)}).")
        id_col = spec.id_column
    else:
        id_col = next((c for c in ("_id", "id") if c in names), None)
        if id_col is None:
            notes.append("No id column: rows are identified by their text's hash (identical texts are kept once).")
    text_col = spec.text_column or "text"
    if text_col not in names:
        raise DataError(f"No text column {text_col!r} in the input (its columns: {', '.join(names)}); "
                        "name it with --text-column.")
    if beir:
        notes.append("BEIR corpus: id = _id, text = title + ' ' + text (as eval retrieval reads it).")
    return id_col, text_col, beir, notes


def shape_rows(batch: pa.Table, *, id_col: str | None, text_col: str, beir: bool) -> pa.Table:
    """Input rows -> (id, text, text_hash, other columns), rows with empty text dropped."""
    names = batch.column_names
    texts = [("" if t is None else str(t)) for t in batch[text_col].to_pylist()]
    if beir and "title" in names:
        titles = [("" if t is None else str(t)) for t in batch["title"].to_pylist()]
        texts = [(t + " " + b).strip() if t else b.strip() for t, b in zip(titles, texts)]
    keep = [i for i, t in enumerate(texts) if t.strip()]
    texts = [texts[i] for i in keep]
    hashes = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    if id_col is None:
        ids = hashes
    else:
        raw = batch[id_col].to_pylist()
        ids = [("" if raw[i] is None else str(raw[i]).strip()) for i in keep]
    skip = {id_col, text_col} | ({"title"} if beir else set())
    columns = {ID: pa.array(ids, pa.string()), TEXT: pa.array(texts, pa.string()), HASH: pa.array(hashes, pa.string())}
    taken = pa.array(keep, pa.int64())
    for name in names:
        if name in skip or name in columns:
            continue
        columns[name] = batch[name].take(taken).cast(pa.string())
    return pa.table(columns)


def keep_first_text(rows: pa.Table, id_col: str | None) -> pa.Table:
    """Rows identified by their text's hash (no id column): a repeated text is one document, kept once
    (its first row), not a repeated id. Rows with ids of their own are left for ``check_ids``."""
    if id_col is not None:
        return rows
    first: dict[str, int] = {}
    for i, h in enumerate(rows[ID].to_pylist()):
        first.setdefault(h, i)
    return rows if len(first) == rows.num_rows else rows.take(pa.array(sorted(first.values()), pa.int64()))


def check_ids(rows: pa.Table) -> None:
    ids = rows[ID]
    if rows.num_rows == 0:
        raise DataError("The input has no row with text.")
    if pc.any(pc.equal(ids, "")).as_py():
        raise DataError("Some rows have an empty id.")
    unique = pc.count_distinct(ids).as_py()
    if unique < rows.num_rows:
        counts = pc.value_counts(ids)
        repeated = [c["values"] for c in counts.to_pylist() if c["counts"] > 1][:5]
        raise DataError(f"Ids must be unique in the input; repeated: {', '.join(map(str, repeated))}.")
