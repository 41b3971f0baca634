"""Where embedlab keeps its data: prepared models, the embedding cache, fine-tuned models."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
