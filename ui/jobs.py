"""Per-process registries of background jobs (fine-tuning, benchmark runs), kept so they survive reruns and page switches.

A job runs in a daemon thread (embedlab.finetune.job.FinetuneJob); the page only reads its
monitor. Jobs do not survive a server restart, but what they saved does (the data folder).
"""

from __future__ import annotations

import threading

from embedlab.evaluation.bench.job import BenchJob
from embedlab.finetune.job import FinetuneJob

_JOBS: dict[str, FinetuneJob] = {}
_LOCK = threading.Lock()


def start(job: FinetuneJob) -> str:
    with _LOCK:
        if running():
            raise RuntimeError("A fine-tuning run is already going; wait for it or stop it first.")
        key = f"{job.name}-{int(job.started * 1000)}"
        _JOBS[key] = job.start()
        return key


def get(key: str | None) -> FinetuneJob | None:
    return _JOBS.get(key) if key else None


def running() -> FinetuneJob | None:
    """The job that is training now, if any: one at a time, the machine has two cores."""
    return next((j for j in _JOBS.values() if j.running), None)


_BENCH: dict[str, BenchJob] = {}


def start_bench(job: BenchJob) -> str:
    """Start ``job`` (one benchmark at a time, as for fine-tuning) and return its key."""
    with _LOCK:
        if any(j.running for j in _BENCH.values()):
            raise RuntimeError("A benchmark is already running; wait for it to finish.")
        key = f"bench-{int(job.started * 1000)}"
        _BENCH[key] = job.start()
        return key


def get_bench(key: str | None) -> BenchJob | None:
    return _BENCH.get(key) if key else None
