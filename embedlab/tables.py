"""Reading user data: CSV, TSV, JSONL, Parquet and plain text, with errors a user can act on."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from embedlab.errors import DataError

FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet", "txt")
MAX_ROWS = 100_000
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
               ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".txt": "txt"}


def detect_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise DataError(
            f"Cannot tell the format of {Path(filename).name!r} from its extension. "
            f"Use one of: {', '.join(sorted(_EXTENSIONS))}."
        )
    return _EXTENSIONS[suffix]


def read_table(source: str | Path | bytes | BinaryIO, *, filename: str | None = None,
               fmt: str | None = None, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Read a table from a path, raw bytes or a file object (e.g. a Streamlit upload).

    Plain text gives one row per non-empty line in a column named ``text``.
    """
    if isinstance(source, (str, Path)):
        filename = filename or str(source)
        path = Path(source)
        if not path.exists():
            raise DataError(f"File not found: {path}")
        raw = path.read_bytes()
    elif isinstance(source, bytes):
        raw = source
    else:
        raw = source.read()
    name = filename or "upload"
    fmt = fmt or detect_format(name)
    if fmt not in FORMATS:
        raise DataError(f"Unknown format {fmt!r}. Valid formats: {', '.join(FORMATS)}.")
    if not raw.strip():
        raise DataError(f"{Path(name).name} is empty.")
    try:
        df = _parse(raw, fmt)
    except DataError:
        raise
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Could not read {Path(name).name} as {fmt.upper()}: {first}") from None
    if df.empty or len(df.columns) == 0:
        raise DataError(f"{Path(name).name} has no rows.")
    if len(df) > max_rows:
        raise DataError(f"{Path(name).name} has {len(df):,} rows; the limit is {max_rows:,}. Sample it first.")
    df.columns = [str(c) for c in df.columns]
    return df


def _parse(raw: bytes, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(raw))
    text = raw.decode("utf-8-sig")
    if fmt == "txt":
        lines = [line.strip() for line in text.splitlines()]
        return pd.DataFrame({"text": [line for line in lines if line]})
    if fmt == "jsonl":
        # dtype=False: keep JSON strings as strings, as CSV does (dtype=str). pandas' default inference
        # turns "007" into 7 and "2020" into 2020, so ids stop matching qrels and texts become numbers.
        stripped = text.lstrip()
        if stripped.startswith("["):  # a JSON array is a common near-miss for JSONL; accept it
            return pd.read_json(io.StringIO(text), dtype=False)
        return pd.read_json(io.StringIO(text), lines=True, dtype=False)
    sep = "\t" if fmt == "tsv" else ","
    # on_bad_lines="error" turns a ragged row into a ParserError naming the line.
    return pd.read_csv(io.StringIO(text), sep=sep, on_bad_lines="error", dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class TextColumn:
    """The usable texts of a column, and which rows were left out and why."""

    texts: list[str]
    rows: list[int]  # row positions in the table, aligned with ``texts``
    skipped_empty: list[int]
    skipped_non_text: list[int]

    @property
    def report(self) -> str:
        parts = []
        if self.skipped_empty:
            parts.append(f"{len(self.skipped_empty)} empty")
        if self.skipped_non_text:
            parts.append(f"{len(self.skipped_non_text)} non-text")
        return f"Skipped {' and '.join(parts)} row(s)." if parts else ""


def require_columns(df: pd.DataFrame, columns: list[str], *, what: str = "file") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"Column(s) {', '.join(map(repr, missing))} not found in the {what}. "
            f"Its columns are: {', '.join(map(str, df.columns))}."
        )


def text_column(df: pd.DataFrame, column: str) -> TextColumn:
    """Texts of ``column``; empty and non-text cells are reported and skipped, never fatal
    unless nothing is left."""
    require_columns(df, [column])
    texts, rows, empty, non_text = [], [], [], []
    for pos, value in enumerate(df[column].tolist()):
        if value is None or (isinstance(value, float) and pd.isna(value)):
            empty.append(pos)
        elif not isinstance(value, str):
            non_text.append(pos)
        elif not value.strip():
            empty.append(pos)
        else:
            texts.append(value)
            rows.append(pos)
    if not texts:
        raise DataError(f"Column {column!r} has no usable text ({len(empty)} empty, {len(non_text)} non-text cells).")
    return TextColumn(texts, rows, empty, non_text)


@dataclass(frozen=True)
class Documents:
    """A table's usable rows as documents: texts, ids, and labels when the table has a label column."""

    texts: list[str]
    ids: list[str]  # the id column's values, or the 1-based row number when there is no id column
    labels: np.ndarray | None
    column: TextColumn  # which rows were kept and which were skipped

    @property
    def key(self) -> str:
        """A hash of the texts: results computed for one corpus are not shown for another."""
        return hashlib.sha256("\x1f".join(self.texts).encode()).hexdigest()


def table_documents(df: pd.DataFrame, text_col: str, *, label_col: str | None = None,
                    id_col: str | None = None) -> Documents:
    """The documents of ``text_col`` (empty and non-text cells skipped), with their labels and ids."""
    require_columns(df, [c for c in (text_col, label_col, id_col) if c])
    column = text_column(df, text_col)
    kept = df.iloc[column.rows].reset_index(drop=True)
    labels = kept[label_col].astype(str).to_numpy() if label_col else None
    ids = kept[id_col].astype(str).tolist() if id_col else [str(r + 1) for r in column.rows]
    return Documents(column.texts, ids, labels, column)


def numeric_column(df: pd.DataFrame, column: str) -> pd.Series:
    require_columns(df, [column])
    values = pd.to_numeric(df[column], errors="coerce")
    bad = int(values.isna().sum())
    if bad:
        first = int(values.isna().to_numpy().nonzero()[0][0])
        raise DataError(f"Column {column!r} must be numeric; {bad} value(s) are not (first at row {first + 1}: {df[column].iloc[first]!r}).")
    return values.astype(float)
