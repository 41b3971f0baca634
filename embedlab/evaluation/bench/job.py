"""``run_bench`` in a background thread, for the app: the page polls ``progress`` and ``result``."""

from __future__ import annotations

import threading
import time
from typing import Sequence

from embedlab.evaluation.bench.runner import BenchProgress, Leaderboard, run_bench
from embedlab.evaluation.bench.task import Task


class BenchJob:
    """One benchmark run in a daemon thread. ``progress`` is the latest ``BenchProgress`` (None
    before the first), then ``result`` (a ``Leaderboard``) or ``error`` once it has finished."""

    def __init__(self, models: Sequence[str], tasks: Sequence[Task]) -> None:
        self.models, self.tasks = list(models), list(tasks)
        self.progress: BenchProgress | None = None
        self.result: Leaderboard | None = None
        self.error: str | None = None
        self.started = time.time()
        self.finished: float | None = None
        self._thread = threading.Thread(target=self._run, name="bench", daemon=True)

    def start(self) -> BenchJob:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def cells(self) -> int:
        """Model × task cells in the run."""
        return self.progress.cells if self.progress else len(self.models) * len(self.tasks)

    @property
    def cells_done(self) -> int:
        return self.progress.cells_done if self.progress else 0

    def _report(self, progress: BenchProgress) -> None:
        self.progress = progress  # one reference swap: the page never sees half an update

    def _run(self) -> None:
        try:
            self.result = run_bench(self.models, self.tasks, progress=self._report)
        except Exception as exc:  # noqa: BLE001 - shown on the page
            self.error = str(exc)
        finally:
            self.finished = time.time()
