"""Test-wide settings: never touch a model hub; keep prepared models between runs."""

import os
from pathlib import Path

import platformdirs
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# Prepared models (MPNet unzipped, SmolLM2 converted) are reused across runs; tests that check
# caching use their own temporary folders.
os.environ.setdefault("EMBEDLAB_HOME", str(Path(platformdirs.user_cache_dir("embedlab-test"))))


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """An empty data folder for tests that write registries or caches."""
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
