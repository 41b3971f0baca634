"""Running tasks: one result (``run_task``, cached), or every model on every task as a
``Leaderboard`` (``run_bench``), with structured progress."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from embedlab.embedder import Progress, is_precomputed
from embedlab.errors import DataError, EmbedlabError
from embedlab.evaluation.bench import cache as results_cache
from embedlab.evaluation.bench.cache import ResultCache, result_key, result_store
from embedlab.evaluation.bench.pareto import pareto_front
from embedlab.evaluation.bench.speed import SPEED_METHOD, Speed, SpeedMeter, model_size
from embedlab.evaluation.bench.task import Task
from embedlab.jobs import Stopped
from embedlab.jsonio import dumps, plain

log = logging.getLogger(__name__)

COST_COLUMNS = ("texts/s", "tokens/s", "peak MB", "params M", "weights MB")
"""The leaderboard's cost columns, after the scores: encoding speed on each task's own texts
(geometric mean over the tasks), the peak RSS while encoding, and the model's size."""
PARETO_COLUMN = "pareto"  # True for the models no other model beats on both average and texts/s


@dataclass(frozen=True)
class TaskResult:
    """One model on one task: metrics, or the error that stopped it."""

    model: str
    task: str
    metrics: dict | None
    seconds: float | None  # wall time of the computation (for a cached result: when it was computed)
    cached: bool = False
    error: str | None = None
    speed: Speed | None = None  # encoding speed on the task's sample (None: not measured)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {"model": self.model, "task": self.task, "metrics": self.metrics, "seconds": self.seconds,
                "cached": self.cached, "error": self.error,
                "speed": self.speed.to_dict() if self.speed is not None else None}


@dataclass(frozen=True)
class BenchProgress:
    """Where a benchmark run is: cell ``cell`` of ``cells`` (model × task, 1-based), ``done`` of
    ``total`` texts encoded for it (``done == total == 1`` once the cell is finished)."""

    model: str
    task: str
    cell: int
    cells: int
    done: int = 0
    total: int = 1
    cached: bool = False

    @property
    def cells_done(self) -> int:
        return self.cell if self.done >= self.total else self.cell - 1

    @property
    def label(self) -> str:
        return f"{self.model} · {self.task} ({self.cell}/{self.cells})" + (" (cached)" if self.cached else "")


def run_task(model, task: Task, *, name: str | None = None, progress: Progress | None = None,
             cache: bool | ResultCache = True, meter: SpeedMeter | None = None) -> TaskResult:
    """Run one task, or return its cached result. Errors propagate (``run_bench`` records them).

    With a ``meter``, the model's encoding speed on the task's sample is measured after the task
    (outside its ``seconds``) and stored with the result; a cached result from before speeds were
    stored (or from ``embedlab eval``, which measures none) gets it measured and added."""
    name = name or getattr(model, "name", "model")
    store = result_store(cache)
    key = result_key(model, task) if store else None
    hit = store.get(key) if key else None
    if hit is not None:
        speed = Speed.from_dict(hit.get("speed"))
        if speed is None and meter is not None and task.speed_texts:
            speed = meter.measure(task.speed_texts, task.speed_role)
            if speed is not None:
                store.put(key, {**hit, "speed": speed.to_dict()})
        return TaskResult(name, task.name, hit["metrics"], hit.get("seconds"), cached=True, speed=speed)
    start = time.perf_counter()
    metrics = task.run(model, progress)
    seconds = time.perf_counter() - start
    speed = meter.measure(task.speed_texts, task.speed_role) if meter is not None and task.speed_texts else None
    if key:
        store.put(key, {"metrics": metrics, "seconds": seconds, "task": task.info(), "model": name,
                        "speed": speed.to_dict() if speed is not None else None,
                        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return TaskResult(name, task.name, metrics, seconds, speed=speed)


def default_loader(name: str):
    """``load_model(name)`` with the embedding cache (tests replace this to inject fakes)."""
    from embedlab.models import load_model

    return load_model(name)


@dataclass(frozen=True)
class Leaderboard:
    """``table``: one row per model (best average first; models with errors last), one column per
    task (its leaderboard metric), ``average`` (mean over the averaged tasks; NaN unless the model
    has all of them) and ``seconds`` (sum of the task times). ``results[model][task]`` holds every
    metric; ``errors[model]`` maps ``"load"`` or a task name to what went wrong. The cost columns
    (``COST_COLUMNS``) and ``pareto`` follow; ``sizes[model]`` is ``speed.model_size``."""

    table: pd.DataFrame
    tasks: list[Task]
    results: dict[str, dict[str, TaskResult]]
    errors: dict[str, dict[str, str]]
    load_seconds: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, dict] = field(default_factory=dict)

    @property
    def n_cached(self) -> int:
        return sum(r.cached for cells in self.results.values() for r in cells.values())

    @property
    def n_results(self) -> int:
        return sum(len(cells) for cells in self.results.values())

    def to_dict(self) -> dict:
        rows = []
        for model, row in self.table.iterrows():
            rows.append({"model": model, "scores": {t.name: row[t.name] for t in self.tasks},
                         "average": row["average"], "seconds": row["seconds"],
                         "speed": {"texts_per_s": row["texts/s"], "tokens_per_s": row["tokens/s"],
                                   "peak_rss_mb": row["peak MB"]},
                         "size": self.sizes.get(model), "pareto": bool(row[PARETO_COLUMN]),
                         "errors": self.errors.get(model, {})})
        return plain({
            "bench_version": results_cache.BENCH_VERSION,
            "tasks": [t.info() for t in self.tasks],
            "leaderboard": rows,
            "results": {m: {t: r.to_dict() for t, r in cells.items()} for m, cells in self.results.items()},
            "load_seconds": self.load_seconds,
            "speed_method": SPEED_METHOD,
        })

    def to_json(self) -> str:
        return dumps(self.to_dict())

    def to_csv(self, path: str | Path | None = None) -> str:
        """The table plus an ``error`` column (empty when the model ran every task)."""
        frame = self.table.copy()
        frame["error"] = ["; ".join(f"{where}: {msg}" for where, msg in self.errors.get(m, {}).items())
                          for m in frame.index]
        text = frame.to_csv()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def run_bench(models: Sequence[str], tasks: Sequence[Task], *,
              progress: Callable[[BenchProgress], None] | None = None,
              cache: bool | ResultCache = True, loader: Callable[[str], Any] | None = None,
              speed: bool = True, model_tasks: Mapping[str, Collection[str]] | None = None) -> Leaderboard:
    """Score every model on every task: each model is loaded once (``loader``, default
    ``load_model``), each result comes from the results cache when it is there (``cache=False``
    neither reads nor writes it). A model that fails to load, or fails a task, gets an error entry;
    the other models and tasks still run. ``speed`` measures each model's encoding speed on each
    task's sample (a few seconds per model; see ``speed.py``) unless its cached result has it;
    uploaded vectors (``embedder.is_precomputed``) encode nothing and get no speed. ``model_tasks``
    limits a model to the tasks named for it (uploaded vectors cover one task's texts); its other
    cells stay empty, so it has no average unless every averaged task is among them."""
    names, tasks = _check_run(models, tasks)
    load = loader or default_loader
    store = result_store(cache)
    results: dict[str, dict[str, TaskResult]] = {}
    errors: dict[str, dict[str, str]] = {}
    load_seconds: dict[str, float] = {}
    sizes: dict[str, dict] = {}
    runs = {name: _tasks_of(name, tasks, model_tasks) for name in names}
    cells = sum(len(t) for t in runs.values())
    first_cells = dict(zip(names, np.cumsum([1] + [len(runs[n]) for n in names[:-1]]).tolist()))

    for name in names:
        start = time.perf_counter()
        try:
            model = load(name)
        except Exception as exc:  # noqa: BLE001 - one bad model must not stop the others
            errors[name] = {"load": _describe(exc)}
            results[name] = {}
            log.info("bench: model %s did not load: %s", name, errors[name]["load"])
            continue
        load_seconds[name] = time.perf_counter() - start
        sizes[name] = model_size(model)
        meter = SpeedMeter(model) if speed and not is_precomputed(model) else None
        results[name] = _run_model(model, name, runs[name], first_cell=first_cells[name], cells=cells,
                                   store=store, progress=progress, meter=meter)
        failed = {task: r.error for task, r in results[name].items() if not r.ok}
        if failed:
            errors[name] = failed
        del model  # one model in memory at a time

    return Leaderboard(_table(names, tasks, results, sizes), tasks, results, errors, load_seconds, sizes)


def _tasks_of(name: str, tasks: list[Task], model_tasks: Mapping[str, Collection[str]] | None) -> list[Task]:
    if not model_tasks or name not in model_tasks:
        return tasks
    unknown = sorted(set(model_tasks[name]) - {t.name for t in tasks})
    if unknown:
        raise DataError(f"{name} is limited to task(s) not in this run: {', '.join(unknown)}.")
    return [t for t in tasks if t.name in model_tasks[name]]


def _check_run(models: Sequence[str], tasks: Sequence[Task]) -> tuple[list[str], list[Task]]:
    names = list(dict.fromkeys(m.strip() for m in models if m and m.strip()))
    if not names:
        raise DataError("No model given: name at least one model (comma-separated for several).")
    tasks = list(tasks)
    if not tasks:
        raise DataError("No task given.")
    seen = [t.name for t in tasks]
    if len(set(seen)) != len(seen):
        raise DataError(f"Task names must be unique; repeated: {sorted({n for n in seen if seen.count(n) > 1})}.")
    return names, tasks


def _run_model(model, name: str, tasks: list[Task], *, first_cell: int, cells: int,
               store: ResultCache | None, progress, meter: SpeedMeter | None) -> dict[str, TaskResult]:
    """Every task on one loaded model; a failing task is an error result, the others still run."""
    results = {}
    for cell, task in enumerate(tasks, start=first_cell):
        relay = (lambda done, total, cell=cell, task=task: progress(BenchProgress(
            name, task.name, cell, cells, done, total))) if progress else None
        try:
            result = run_task(model, task, name=name, progress=relay, cache=store or False, meter=meter)
        except Stopped:  # the user stopped the run: not this task's failure
            raise
        except Exception as exc:  # noqa: BLE001
            result = TaskResult(name, task.name, None, None, error=_describe(exc))
            log.info("bench: %s failed on %s: %s", name, task.name, result.error)
        results[task.name] = result
        if progress:
            progress(BenchProgress(name, task.name, cell, cells, 1, 1, cached=result.cached))
    return results


def _table(names: list[str], tasks: list[Task], results: dict[str, dict[str, TaskResult]],
           sizes: dict[str, dict]) -> pd.DataFrame:
    rows = {}
    for name in names:
        cells = results.get(name, {})
        row = {}
        for task in tasks:
            cell = cells.get(task.name)
            value = cell.metrics.get(task.main_metric) if cell is not None and cell.ok else None
            row[task.name] = float(value) if value is not None else math.nan
        averaged = [row[t.name] for t in tasks if t.averaged]
        row["average"] = float(np.mean(averaged)) if averaged and all(np.isfinite(averaged)) else math.nan
        times = [c.seconds for c in cells.values() if c.ok and c.seconds is not None]
        row["seconds"] = float(sum(times)) if cells else math.nan
        rows[name] = {**row, **_cost(cells, sizes.get(name) or {})}
    columns = [*[t.name for t in tasks], "average", "seconds", *COST_COLUMNS]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index.name = "model"
    front = set(pareto_front(list(zip(table["texts/s"], table["average"]))))
    table[PARETO_COLUMN] = [i in front for i in range(len(table))]
    return table.sort_values("average", ascending=False, na_position="last", kind="stable")


def _cost(cells: dict[str, TaskResult], size: dict) -> dict:
    """One model's cost columns. Speeds differ by task (titles vs articles), so the row shows their
    geometric mean: no one task's scale dominates, and a model twice as fast on every task shows
    twice the rate. Tokens/s only when every measured task could count its tokens."""
    speeds = [c.speed for c in cells.values() if c.ok and c.speed is not None and c.speed.texts_per_s]
    token_rates = [s.tokens_per_s for s in speeds]
    peaks = [s.peak_rss_mb for s in speeds if s.peak_rss_mb is not None]
    params, weight_mb = size.get("parameters"), size.get("weight_mb")
    return {"texts/s": _geometric_mean([s.texts_per_s for s in speeds]),
            "tokens/s": _geometric_mean(token_rates) if None not in token_rates else math.nan,
            "peak MB": max(peaks) if peaks else math.nan,
            "params M": params / 1e6 if params is not None else math.nan,
            "weights MB": weight_mb if weight_mb is not None else math.nan}


def _geometric_mean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values)))) if values else math.nan


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (EmbedlabError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
