"""Per-process registries of background jobs, kept so they survive reruns, page switches and reloads.

Every long task runs in a daemon thread (``embedlab.jobs.Job``; fine-tuning and benchmark runs
have their own job classes with richer monitors); pages only read them. The registry is the
server process's, not a browser session's: the app serves one user on this machine (it listens on
127.0.0.1), so a reloaded tab finds its running or finished jobs, and the settings they were
started with, again. Jobs do not survive a server restart, but what they saved does (the data folder).
"""

from __future__ import annotations

import threading

from embedlab.finetune.job import FinetuneJob
from embedlab.jobs import Job

_LATEST: dict[str, Job] = {}  # kind -> the latest job of that kind


def submit(job: Job) -> Job:
    """Start ``job`` unless one of its kind is still running (then say so)."""
    with _LOCK:
        current = _LATEST.get(job.kind)
        if current is not None and current.running:
            raise RuntimeError(f"{current.title} is still running; wait for it or stop it first.")
        _LATEST[job.kind] = job.start()
        return job


def latest(kind: str) -> Job | None:
    return _LATEST.get(kind)


def all_latest() -> list:
    """The latest job of every kind, the latest fine-tuning run included."""
    tuned = latest_finetune()
    return [*_LATEST.values(), *([tuned] if tuned else [])]


def wait_all(timeout: float | None = None) -> None:
    """Wait for every running job of the registry to end."""
    for job in all_latest():
        job.wait(timeout)


def forget_finished() -> None:
    """Drop the jobs that have ended (their results and settings go with them)."""
    with _LOCK:
        for kind in [k for k, j in _LATEST.items() if not j.running]:
            del _LATEST[kind]
        for key in [k for k, j in _JOBS.items() if not j.running]:
            del _JOBS[key]


def busy_elsewhere(kind: str) -> list[str]:
    """Titles of the other jobs running now: they share this machine's cores with a new one."""
    titles = [j.title for k, j in _LATEST.items() if k != kind and j.running]
    titles += [f"fine-tuning {j.name}" for j in _JOBS.values() if j.running]
    return titles


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


def latest_finetune(*, two_stage: bool | None = None) -> FinetuneJob | None:
    """The fine-tuning run started last (a reloaded tab shows it); only one-run or only two-stage
    runs when ``two_stage`` says so."""
    from embedlab.finetune.stages import TwoStageJob

    runs = [j for j in _JOBS.values() if two_stage is None or isinstance(j, TwoStageJob) == two_stage]
    return max(runs, key=lambda j: j.started, default=None)


def running() -> FinetuneJob | None:
    """The job that is training now, if any: one at a time, the machine has two cores."""
    return next((j for j in _JOBS.values() if j.running), None)
