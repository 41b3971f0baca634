"""``run_bench`` as a background job (``embedlab.jobs.Job``) for the app: each model × task cell one
equal part of the progress bar, a stop honoured at the next progress report."""

from __future__ import annotations

from typing import Any, Collection, Mapping, Sequence

from embedlab.evaluation.bench import runner
from embedlab.evaluation.bench.runner import BenchProgress, run_bench
from embedlab.evaluation.bench.task import Task
from embedlab.jobs import Job, JobContext

KIND = "benchmark"


def bench_job(models: Sequence[str], tasks: Sequence[Task], *, settings: dict | None = None,
              ready: Mapping[str, Any] | None = None,
              model_tasks: Mapping[str, Collection[str]] | None = None) -> Job:
    """A not-yet-started job whose result is the ``Leaderboard`` of ``models`` (names to load) and
    ``ready`` (embedders made already, e.g. uploaded vectors, by name) on ``tasks``; ``model_tasks``
    limits a model to some tasks, as ``run_bench`` takes it."""
    ready = dict(ready or {})
    models, tasks = [*models, *ready], list(tasks)

    def load(name: str):
        return ready[name] if name in ready else runner.default_loader(name)

    def task(ctx: JobContext):
        at = {"cell": 0}

        def report(progress: BenchProgress) -> None:
            if progress.cell != at["cell"]:
                at["cell"] = progress.cell
                ctx.section((progress.cell - 1) / progress.cells, progress.cell / progress.cells,
                            f"{progress.model} on {progress.task} ({progress.cell}/{progress.cells})")
            ctx.progress(progress.done, progress.total)

        return run_bench(models, tasks, progress=report, loader=load, model_tasks=model_tasks)

    return Job(KIND, f"Benchmark ({len(models)} model{'s' * (len(models) != 1)} × {len(tasks)} "
                     f"task{'s' * (len(tasks) != 1)})", task, settings=settings or {})
