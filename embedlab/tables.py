"""Reading user data: CSV, TSV, JSONL, Parquet and plain text, with errors a user can act on."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
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

    Plain text gives one row per non-empty line in a column named ``text``. Every error names the
    file; ``attrs["source"]`` keeps its name for later messages, ``attrs["notes"]`` what reading chose
    (e.g. another delimiter than the extension's).
    """
    # 1. The bytes, and the name every message uses
    raw, name = _raw_bytes(source, filename)
    fmt = fmt or detect_format(name)
    if fmt not in FORMATS:
        raise DataError(f"Unknown format {fmt!r} for {name}. Valid formats: {', '.join(FORMATS)}.")
    if not raw.strip():
        raise DataError(f"{name} is empty.")
    # 2. Parse; a parser's own error becomes one line naming the file
    try:
        df = _parse(raw, fmt, name)
    except DataError:
        raise
    except (ValueError, TypeError, UnicodeDecodeError, pd.errors.ParserError, csv.Error, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Could not read {name} as {fmt.upper()}: {first}") from None
    # 3. What pandas would pass over silently
    if df.empty or len(df.columns) == 0:
        raise DataError(f"{name} has no rows.")
    if len(df) > max_rows:
        raise DataError(f"{name} has {len(df):,} rows; the limit is {max_rows:,}. Sample it first.")
    df.columns = [str(c) for c in df.columns]
    _refuse_duplicates(list(df.columns), name)
    df.attrs["source"] = name
    return df


def _raw_bytes(source: str | Path | bytes | BinaryIO, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, Path(filename or "upload").name
    if not isinstance(source, (str, Path)):
        return source.read(), Path(filename or getattr(source, "name", None) or "upload").name
    return file_bytes(source), Path(filename or source).name


def file_bytes(path: str | Path) -> bytes:
    """The bytes of a user's file; a folder, a missing or an unreadable file is a DataError naming it."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a file: give the path of a CSV, TSV, JSONL, Parquet or "
                        "text file inside it.")
    if not path.exists():
        raise DataError(f"File not found: {path}. Check the path and the file name.")
    try:
        return path.read_bytes()
    except PermissionError:
        raise DataError(f"Cannot read {path}: permission denied. Check the file's permissions.") from None
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _parse(raw: bytes, fmt: str, name: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(raw))
    text = decode_text(raw, name)
    if not text.strip():
        raise DataError(f"{name} is empty.")
    if fmt == "txt":
        lines = [line.strip() for line in text.splitlines()]
        return pd.DataFrame({"text": [line for line in lines if line]})
    if fmt == "jsonl":
        return _parse_jsonl(text, name)
    return _parse_delimited(text, "\t" if fmt == "tsv" else ",", name)


# UTF-32's byte-order marks begin with UTF-16's, so they are tried first.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8, or what a byte-order mark says. Anything else is refused, not guessed: Latin-1 decodes
    every byte string, so reading with it would turn a wrongly guessed file into quiet mojibake."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                raise DataError(f"{name} starts with a {encoding.upper()} byte-order mark but is not valid "
                                f"{encoding.upper()} text. Save it as UTF-8.") from None
    if b"\x00" in raw[:8192]:
        raise DataError(f"{name} looks like a binary file, not text (or UTF-16 without a byte-order mark). "
                        "Save it as UTF-8 text: CSV, TSV, JSONL or one document per line.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); it is probably "
                        "Latin-1 or Windows-1252. Open it in a text editor or spreadsheet and save it as UTF-8.") from None


def _parse_jsonl(text: str, name: str) -> pd.DataFrame:
    # dtype=False: keep JSON strings as strings, as CSV does (dtype=str). pandas' default inference
    # turns "007" into 7 and "2020" into 2020, so ids stop matching qrels and texts become numbers.
    try:
        if text.lstrip().startswith("["):  # a JSON array is a common near-miss for JSONL; accept it
            return pd.read_json(io.StringIO(text), dtype=False)
        return pd.read_json(io.StringIO(text), lines=True, dtype=False)
    except (ValueError, TypeError):
        problem = _jsonl_problem(text)
        if problem is None:
            raise
        raise DataError(f"Could not read {name} as JSONL: {problem}") from None


def _jsonl_problem(text: str) -> str | None:
    """Which line breaks the file, found by reading it line by line (only once pandas has failed)."""
    if text.lstrip().startswith("["):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return f"line {exc.lineno} is not valid JSON ({exc.msg})."
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            try:
                whole = json.loads(text)
            except json.JSONDecodeError:
                whole = None
            if isinstance(whole, dict):
                return "it is one JSON object over several lines; JSONL needs one object per line."
            where = f"column {exc.colno}" if exc.msg.endswith(" at") else f"at column {exc.colno}"
            return f"line {number} is not valid JSON ({exc.msg} {where}). Each line must be one object."
        if not isinstance(value, dict):
            return (f"line {number} is not a JSON object but a {type(value).__name__}. "
                    'Each line must be one object, e.g. {"text": "..."}.')
    return None


_DELIMITERS = ",;\t|"


def _parse_delimited(text: str, default: str, name: str) -> pd.DataFrame:
    sep = _delimiter(text, default)
    header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    _refuse_duplicates(header, name)
    # on_bad_lines="error" turns a ragged row into a ParserError naming the line.
    df = pd.read_csv(io.StringIO(text), sep=sep, on_bad_lines="error", dtype=str, keep_default_na=False)
    if sep != default:
        df.attrs["notes"] = [f"Read {name} as {sep!r}-separated, not {default!r}-separated."]
    return df


def _delimiter(text: str, default: str) -> str:
    """The extension's delimiter unless the header lacks it and csv.Sniffer finds another one that
    the header has and the first rows use consistently (a spreadsheet's ';' CSV, a tab file as .csv)."""
    lines = text[:65536].splitlines()[:21]
    if len(lines) > 1 and len(text) > 65536:
        lines = lines[:-1]  # the last may be cut in the middle
    header = lines[0] if lines else ""
    if default in header:
        return default
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return default
    return found if found in header else default


def _refuse_duplicates(header: list[str], name: str) -> None:
    # pandas would rename the second 'text' to 'text.1', and the wrong column would be read silently.
    seen, dupes = set(), []
    for column in header:
        if column.strip() and column in seen and column not in dupes:
            dupes.append(column)
        seen.add(column)
    if dupes:
        raise DataError(f"{name} has the column header {dupes[0]!r} twice"
                        + (f" (and {', '.join(map(repr, dupes[1:]))})" if dupes[1:] else "")
                        + "; rename the repeated columns so each has its own name.")


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
    if not missing:
        return
    message = (f"Column(s) {', '.join(map(repr, missing))} not found in {_where(df, what)}. "
               f"Its columns are: {', '.join(map(str, df.columns))}.")
    if len(df.columns) == 1:  # one column whose name holds a delimiter: the file was split on the wrong one
        seen = [d for d in _DELIMITERS if d in str(df.columns[0])]
        if seen:
            message += (f" The file seems to be separated by {seen[0]!r}, which its rows did not confirm; "
                        "save it with ',' between columns (or tabs, as .tsv).")
    raise DataError(message)


def _where(df: pd.DataFrame, what: str = "file") -> str:
    return df.attrs.get("source") or f"the {what}"


def text_column(df: pd.DataFrame, column: str) -> TextColumn:
    """Texts of ``column``; empty and non-text cells are reported and skipped, never fatal
    unless nothing is left. A column of numbers (or true/false) is refused: it is not text."""
    require_columns(df, [column])
    refuse_numbers(df, column)
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
        raise DataError(f"Column {column!r} of {_where(df)} has no usable text "
                        f"({len(empty)} empty, {len(non_text)} non-text cells).")
    return TextColumn(texts, rows, empty, non_text)


def refuse_numbers(df: pd.DataFrame, column: str) -> None:
    """A DataError when every non-empty cell of ``column`` is a number or true/false: embedding
    '3.5' as a text is never what the user meant, and nothing later would notice."""
    cells = [v for v in df[column].tolist()
             if not (v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip()))]
    if cells and all(number_like(v) for v in cells):
        others = [str(c) for c in df.columns if c != column and _holds_text(df[c])]
        pick = f"pick a text column: {', '.join(others)}." if others else f"{_where(df)} has no column of text."
        raise DataError(f"Column {column!r} of {_where(df)} holds numbers, not text; {pick}")


def number_like(value) -> bool:
    """A number or true/false, given as one or as a string (CSV cells are all strings)."""
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return True
    if not isinstance(value, str):
        return False
    value = value.strip()
    if value.lower() in ("true", "false"):
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _holds_text(values: pd.Series) -> bool:
    return any(isinstance(v, str) and v.strip() and not number_like(v) for v in values.tolist())


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
