"""JSON that is always valid: numpy values become Python ones and NaN/inf become null.

``json.dumps`` writes a bare ``NaN`` for a float NaN, which is not JSON (jq, JavaScript and most
parsers refuse it); every ``--json`` output and saved record goes through ``dumps``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np


def plain(value):
    """JSON-ready: numpy scalars/arrays to Python, tuples to lists, NaN/inf to None, paths to str."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(data, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``data`` (raises on a value it cannot represent instead of writing NaN)."""
    return json.dumps(plain(data), indent=indent, allow_nan=False, default=str)
