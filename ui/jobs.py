"""Background fine-tuning jobs, kept per server process so they survive reruns and page switches.

A job runs in a daemon thread (embedlab.finetune.job.FinetuneJob); the page only reads its
monitor. Jobs do not survive a server restart, but what they saved does (the data folder).
"""

from __future__ import annotations

import threading

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
