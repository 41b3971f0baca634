"""Long work in a background thread that anyone can watch, stop, and come back to.

A ``Job`` runs ``task(ctx)`` in a daemon thread. The task reports through its ``JobContext``:
``ctx.section(start, end, text)`` names the part of the run in progress and the share of the whole
it covers, ``ctx.progress(done, total)`` moves the bar inside that section, and both raise
``Stopped`` once ``Job.stop()`` was called, so a stop takes effect at the task's next report
(a step that cannot report, such as one UMAP fit, finishes first). Whoever watches reads
``snapshot()``: one consistent view of status, fraction, text, elapsed time and an ETA.

The ETA comes from the run's own pace once a tenth of it is done, and before that from the
``estimate_seconds`` the caller computed from throughput measured on this machine (or none).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from embedlab.errors import EmbedlabError

log = logging.getLogger(__name__)

STATUSES = ("running", "stopping", "done", "stopped", "failed")


class Stopped(EmbedlabError):
    """Raised inside a task when the user asked its job to stop."""


@dataclass(frozen=True)
class JobSnapshot:
    status: str  # one of STATUSES
    fraction: float  # 0..1 of the whole run
    text: str  # what is running now (or how it ended)
    elapsed: float  # seconds since the start (until the end, once finished)
    eta: float | None  # seconds left, None when unknown or finished
    log: tuple[str, ...] = ()  # every section started, and notes the task added

    @property
    def running(self) -> bool:
        return self.status in ("running", "stopping")


class JobContext:
    """What a task sees of its job: report progress, add notes, notice a stop."""

    def __init__(self, job: "Job") -> None:
        self._job = job
        self._start, self._end = 0.0, 1.0

    def section(self, start: float, end: float, text: str) -> None:
        """The run is now in the part that covers fractions ``start``..``end`` of the whole."""
        self.check()
        self._start, self._end = max(0.0, start), min(1.0, max(start, end))
        self._job._update(self._start, text, note=True)

    def progress(self, done: int, total: int, text: str | None = None) -> None:
        """``done`` of ``total`` units of the current section are finished."""
        self.check()
        share = min(max(done / total, 0.0), 1.0) if total else 1.0
        self._job._update(self._start + share * (self._end - self._start), text)

    def phases(self) -> Callable[[str, int, int], None]:
        """A ``progress(phase, done, total)`` callback for work whose number of phases is not known
        ahead: each new phase takes half of the bar still left, so the bar always moves on."""
        seen: list[str] = []

        def report(phase: str, done: int, total: int) -> None:
            if phase not in seen:
                seen.append(phase)
                start = self._job.snapshot().fraction
                self.section(start, start + (1.0 - start) / 2, phase)
            self.progress(done, total, f"{phase}: {done:,}/{total:,}" if total > 1 else phase)

        return report

    def note(self, text: str) -> None:
        self._job._note(text)

    def check(self) -> None:
        if self._job.stop_requested:
            raise Stopped("Stopped by the user.")


@dataclass
class Job:
    """One long task. ``settings`` records what it was started with (shown, and restored by the app);
    ``result`` holds what the task returned, ``error`` why it failed."""

    kind: str
    title: str
    task: Callable[[JobContext], Any]
    settings: dict = field(default_factory=dict)
    estimate_seconds: float | None = None

    def __post_init__(self) -> None:
        self.started: float | None = None
        self.finished: float | None = None
        self.result: Any = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._fraction, self._text, self._log = 0.0, "Starting…", []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=f"job-{self.kind}", daemon=True)

    # -- control -------------------------------------------------------------------------------
    def start(self) -> "Job":
        self.started = time.time()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> "Job":
        self._thread.join(timeout)
        return self

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    # -- what watchers read --------------------------------------------------------------------
    @property
    def status(self) -> str:
        if self.running or (self.started is not None and self.finished is None):
            return "stopping" if self.stop_requested else "running"
        if self.error:
            return "failed"
        return "stopped" if self._stopped else "done"

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            fraction, text, notes = self._fraction, self._text, tuple(self._log)
        now = self.finished or time.time()
        elapsed = now - self.started if self.started else 0.0
        status = self.status
        return JobSnapshot(status, 1.0 if status == "done" else fraction, text, elapsed,
                           self._eta(fraction, elapsed) if status in ("running", "stopping") else None, notes)

    def _eta(self, fraction: float, elapsed: float) -> float | None:
        if fraction >= 0.1:
            return elapsed / fraction * (1.0 - fraction)
        if self.estimate_seconds is not None:
            return max(self.estimate_seconds - elapsed, 0.0)
        return None

    # -- the thread ----------------------------------------------------------------------------
    def _update(self, fraction: float, text: str | None, *, note: bool = False) -> None:
        with self._lock:
            self._fraction = max(self._fraction, fraction)  # the bar never goes back
            if text:
                self._text = text
                if note:
                    self._log.append(text)

    def _note(self, text: str) -> None:
        with self._lock:
            self._log.append(text)

    def _run(self) -> None:
        try:
            self.result = self.task(JobContext(self))
            self._stopped = self.stop_requested  # a task may return what it finished before the stop
        except Stopped:
            self._stopped = True
        except EmbedlabError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - shown to the user; the traceback goes to the log
            log.exception("Job %s failed", self.title)
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._text = ("Failed: " + self.error if self.error else "Stopped" if self._stopped else "Done")
            self.finished = time.time()
