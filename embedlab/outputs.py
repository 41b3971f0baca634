"""Writing results to a path the user gave: checked before any work, written atomically.

``check_output`` runs before a model loads, so a typo in ``--output`` costs nothing; ``atomic_write``
writes to a hidden temporary file beside the target and renames it into place, so an error, a full
disk or Ctrl-C leaves either the old file or no file, never half of one.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from embedlab.errors import DataError, OptionError

VECTOR_COLUMN = "embedding"


def check_output(path: str | Path, *, suffixes: Sequence[str]) -> Path:
    """The output path, if a file with one of ``suffixes`` can be written there; else a clear error."""
    text = str(path)
    out = Path(text)
    if text.endswith(("/", os.sep)) or out.is_dir():
        raise DataError(f"Output {text} is a folder; give a file name ending in {' or '.join(suffixes)}.")
    if out.suffix not in suffixes:
        raise OptionError(f"Output must end in {' or '.join(suffixes)}, got {out.name!r}.")
    folder = _nearest_existing(out.parent)
    if not folder.is_dir():
        raise DataError(f"Cannot write {out}: {folder} is a file, not a folder.")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise DataError(f"Cannot write {out}: {folder} is not writable ({exc.strerror}). "
                        "Pick another output folder.") from None
    return out


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` then rename ``tmp`` to ``path``; on any failure remove what this call created."""
    created = [p for p in reversed(path.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def check_vector_column(table: pd.DataFrame, source: str) -> None:
    """A Parquet output adds ``embedding``: refuse an input that already has one rather than overwrite it."""
    if VECTOR_COLUMN in table.columns:
        raise DataError(f"{source} already has a column named {VECTOR_COLUMN!r}, which the Parquet output would "
                        "overwrite. Rename that column, or write .npy instead.")


def write_vectors(path: Path, vectors: np.ndarray, table: pd.DataFrame | None = None) -> list[str]:
    """``.npy``: the matrix; ``.parquet``: ``table`` plus an ``embedding`` column. Returns notes about
    what had to be changed to write it (mixed-type columns written as text)."""
    if path.suffix == ".npy":
        atomic_write(path, lambda tmp: _save_npy(tmp, vectors))
        return []
    frame, notes = _arrow_safe(table if table is not None else pd.DataFrame(index=range(len(vectors))))
    frame = frame.assign(**{VECTOR_COLUMN: list(vectors)})
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return notes


def _save_npy(tmp: Path, vectors: np.ndarray) -> None:
    with tmp.open("wb") as fh:  # a handle: np.save would append .npy to the temporary name
        np.save(fh, vectors)


def _arrow_safe(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Columns Parquet cannot store as they are (mixed numbers and text, lists beside scalars) as text."""
    import pyarrow as pa

    notes, fixed = [], {}
    for name in table.columns[table.dtypes == object]:
        try:
            pa.array(table[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            fixed[name] = table[name].map(lambda v: None if v is None else str(v))
            notes.append(f"column {name!r} mixes types; written as text.")
    return (table.assign(**fixed) if fixed else table), notes


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder
