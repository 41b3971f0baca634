"""The benchmark results cache: one JSON file per (model, task) result, keyed by the model's
fingerprint, the task's name, kind and data key, and ``BENCH_VERSION``."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from embedlab.evaluation.bench.task import Task
from embedlab.paths import atomic_write_json

log = logging.getLogger(__name__)

BENCH_VERSION = 1
"""Bump when a change to a task's computation changes its numbers: cached results stop matching.
Not bumped for the ``speed`` record added to results (speed.py): it does not change the scores, and a
result stored without one still loads; the benchmark measures its speed and adds it."""


def model_fingerprint(model) -> dict | None:
    """What decides the model's vectors, as JSON-ready data; None if the model cannot tell.

    ``cache_key(role)`` (every embedlab model has it: weights fingerprint, pooling, prompt, max
    length, EOS, encode format version) for both roles, plus the spec when there is one. A model
    without ``cache_key`` (a bare test fake) has no fingerprint and its results are never cached.
    """
    key_of = getattr(model, "cache_key", None)
    if not callable(key_of):
        return None
    parts: dict = {"encode": {role: key_of(role) for role in ("query", "document")}}
    spec = getattr(model, "spec", None)
    if spec is not None and hasattr(spec, "to_json"):
        parts["spec"] = json.loads(spec.to_json())
    return parts


def result_key(model, task: Task) -> str | None:
    """SHA-256 of {model fingerprint, task name, kind, data key, BENCH_VERSION}; None = do not cache."""
    fingerprint = model_fingerprint(model)
    if fingerprint is None:
        return None
    parts = {"bench_version": BENCH_VERSION, "model": fingerprint, "task": task.name, "kind": task.kind,
             "data_key": task.data_key}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class ResultCache:
    """One JSON file per (model, task) result: ``<cache_dir>/bench/<key[:2]>/<key>.json``, written atomically.
    An unreadable file is a miss, never a crash."""

    @property
    def root(self) -> Path:
        from embedlab.paths import cache_dir

        return cache_dir() / "bench"  # looked up on each use: the data folder can change (tests move it)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        return self._read(self.path(key))

    @staticmethod
    def _read(path: Path) -> dict | None:
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict):
                raise ValueError("not a result record")
            return record
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable bench result %s: %s", path, exc)
            return None

    def put(self, key: str, record: dict) -> None:
        atomic_write_json(self.path(key), record)

    def records(self) -> Iterator[dict]:
        """Every readable result record in the cache (in no particular order); unreadable ones are
        skipped, as ``get`` treats them."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/*.json")):
            record = self._read(path)
            if record is not None:
                yield record


def result_store(cache: bool | ResultCache) -> ResultCache | None:
    """``cache`` as a store: a given ``ResultCache``, the default one for True, None for False."""
    if not cache:
        return None
    return cache if isinstance(cache, ResultCache) else ResultCache()
