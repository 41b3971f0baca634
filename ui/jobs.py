"""Background fine-tuning jobs, kept per server process so they survive reruns and page switches.

A job runs in a daemon thread (embedlab.finetune.job.FinetuneJob); the page only reads its
monitor. Jobs do not survive a server restart, but what they saved does (the data folder).
"""

from __future__ import annotations

import re
import threading
import time

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


class BenchJob:
    """``run_bench`` in a daemon thread, with the latest progress for the page to poll."""

    def __init__(self, models: list[str], tasks: list) -> None:
        self.models, self.tasks = models, tasks
        self.label, self.done, self.total = "starting", 0, 1
        self.step, self.steps = 0, len(models) * len(tasks)
        self.result = None
        self.error: str | None = None
        self.started = time.time()
        self.finished: float | None = None
        self.thread = threading.Thread(target=self._run, name="bench", daemon=True)

    def _progress(self, label: str, done: int, total: int) -> None:
        """label = "MODEL · TASK (i/n)"; (label, 1, 1) once the cell is finished."""
        self.label, self.done, self.total = label, done, total
        found = re.search(r"\((\d+)/(\d+)\)", label)
        if found:
            self.step, self.steps = int(found[1]) - (0 if done >= total else 1), int(found[2])

    def _run(self) -> None:
        from embedlab.evaluation.bench import run_bench

        try:
            self.result = run_bench(self.models, self.tasks, progress=self._progress)
        except Exception as exc:  # noqa: BLE001 - shown on the page
            self.error = str(exc)
        finally:
            self.finished = time.time()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


_BENCH: dict[str, BenchJob] = {}


def start_bench(job: BenchJob) -> str:
    with _LOCK:
        if any(j.running for j in _BENCH.values()):
            raise RuntimeError("A benchmark is already running; wait for it to finish.")
        key = f"bench-{int(job.started * 1000)}"
        _BENCH[key] = job
        job.thread.start()
        return key


def get_bench(key: str | None) -> BenchJob | None:
    return _BENCH.get(key) if key else None
