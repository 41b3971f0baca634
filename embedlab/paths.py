"""Where embedlab keeps its data: prepared models, the embedding cache, fine-tuned models."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

from embedlab.jsonio import dumps

ENV_HOME = "EMBEDLAB_HOME"


def data_home() -> Path:
    """The data folder: ``$EMBEDLAB_HOME`` if set, else the user's cache dir."""
    configured = os.environ.get(ENV_HOME)
    home = Path(configured).expanduser() if configured else Path(platformdirs.user_cache_dir("embedlab"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def models_dir() -> Path:
    path = data_home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    path = data_home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def collections_dir() -> Path:
    """Where a collection given by a bare name (``--collection support``) lives."""
    path = data_home() / "collections"
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_json(path: Path, data, *, indent: int | None = None) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place: a reader sees the
    old file or the new one, never half of one; a failed write leaves no temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps(data, indent=indent))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
