"""A benchmark ``Task``: one evaluation (kind, data, parameters) that turns a model into metrics,
and what the task builders share (encoding each distinct text once, the data key, JSON-ready values)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from embedlab.embedder import Progress
from embedlab.errors import DataError, OptionError
from embedlab.jsonio import plain

TASK_KINDS = ("sts", "retrieval", "clustering", "classification", "pair-classification", "dedup")


@dataclass(frozen=True, eq=False)
class Task:
    """One evaluation. ``run(model)`` returns its metrics; ``data_key`` hashes everything (data and
    parameters) that decides them, so it can key a results cache."""

    name: str
    kind: str
    description: str
    data_key: str
    main_metric: str  # the metric shown in the leaderboard column ("main_score" where there is one)
    compute: Callable[[Any, Progress | None], dict] = field(repr=False)
    averaged: bool = True  # counts towards the leaderboard's average
    size: dict = field(default_factory=dict)  # what the task holds, e.g. {"texts": 2225, "labels": 5}
    # The fixed sample of the task's own texts its speed is measured on (``speed.speed_sample``),
    # and the role they are encoded with; no texts = no speed.
    speed_texts: tuple[str, ...] = field(default=(), repr=False)
    speed_role: str = "document"

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise OptionError(f"Unknown task kind {self.kind!r}. Valid kinds: {', '.join(TASK_KINDS)}.")
        if not self.name or not self.name.strip():
            raise DataError("A task needs a non-empty name.")

    def run(self, model, progress: Progress | None = None) -> dict:
        """Embed this task's texts with ``model`` and score them; a plain, JSON-ready dict
        (NaN becomes None) with ``main_score`` (None for dedup)."""
        metrics = plain(self.compute(model, progress))
        return metrics if "main_score" in metrics else {**metrics, "main_score": None}

    def info(self) -> dict:
        return {"name": self.name, "kind": self.kind, "description": self.description,
                "main_metric": self.main_metric, "averaged": self.averaged, "data_key": self.data_key,
                "size": dict(self.size)}


def one_thread():
    """Score with one BLAS/OpenMP thread. The probe and MiniBatchKMeans work in small pieces, and
    their threads spend more time waiting for each other than computing, badly so when the cores are
    busy: on a loaded 2-core machine BBC clustering took 46 s with two threads and 1.2 s with one.
    The numbers are the same (tests compare them with the pure functions run with default threads)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def embed_once(model, texts: list[str], role: str, progress: Progress | None) -> np.ndarray:
    """Each distinct text encoded once, rows in ``texts`` order."""
    unique = list(dict.fromkeys(texts))
    vectors = np.asarray(model.encode(unique, role=role, progress=progress))
    if len(unique) == len(texts):
        return vectors
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]]


def data_key(kind: str, payload: dict) -> str:
    """SHA-256 of the task's kind, data and parameters (the format existing cached results use)."""
    text = json.dumps({"kind": kind, **payload}, sort_keys=True, ensure_ascii=False, default=_json_default)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
