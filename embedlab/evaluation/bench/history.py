"""The running board: every model x task result already computed on this machine, from the results
cache, so a leaderboard does not forget the runs before the last one."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from embedlab.evaluation.bench.cache import ResultCache

TASKS_COLUMN = "tasks"
LAST_RUN_COLUMN = "last run"


@dataclass(frozen=True)
class PastResult:
    """One cached result: the model's name when it ran, the task, its main score and when it was saved."""

    model: str
    task: str
    main_metric: str | None
    score: float | None  # None: the task has no main score (dedup) or the record lacks it
    seconds: float | None
    saved: pd.Timestamp | None  # UTC; None for a record written before results carried the time

    @classmethod
    def from_record(cls, record: dict) -> PastResult | None:
        """None for a record that does not say which model and task it is."""
        task = record.get("task") if isinstance(record.get("task"), dict) else {}
        model, name = record.get("model"), task.get("name")
        if not isinstance(model, str) or not isinstance(name, str):
            return None
        metric = task.get("main_metric")
        value = record["metrics"].get(metric) if metric else None
        score = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        seconds = record.get("seconds")
        return cls(model, name, metric, None if score is None or math.isnan(score) else score,
                   float(seconds) if isinstance(seconds, (int, float)) else None, _timestamp(record.get("saved")))


def _timestamp(text) -> pd.Timestamp | None:
    if not isinstance(text, str):
        return None
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def past_results(store: ResultCache | None = None) -> list[PastResult]:
    """Every result in the cache that names its model and task, newest first (undated ones last)."""
    store = store or ResultCache()
    found = [r for r in (PastResult.from_record(rec) for rec in store.records()) if r is not None]
    oldest = pd.Timestamp.min.tz_localize("UTC")
    return sorted(found, key=lambda r: r.saved if r.saved is not None else oldest, reverse=True)


def history_table(results: Iterable[PastResult]) -> pd.DataFrame:
    """One row per result, newest first: model, task, metric, score, seconds, saved."""
    frame = pd.DataFrame([{"model": r.model, "task": r.task, "metric": r.main_metric, "score": r.score,
                           "seconds": r.seconds, "saved": r.saved} for r in results],
                         columns=["model", "task", "metric", "score", "seconds", "saved"])
    frame["score"] = frame["score"].astype(float)
    frame["saved"] = pd.to_datetime(frame["saved"], utc=True)  # a datetime column even when no row is dated
    return frame


def running_board(results: Iterable[PastResult]) -> pd.DataFrame:
    """One row per model name, one column per task: the model's latest main score on that task (a
    model re-registered or a task's data changed under the same name: the newest result wins), then
    how many tasks it has results for and when its newest result was saved. Rows newest first;
    tasks in the order they first ran."""
    table = history_table(results)
    if table.empty:
        return pd.DataFrame(columns=[TASKS_COLUMN, LAST_RUN_COLUMN], index=pd.Index([], name="model"))
    dated = table.assign(order=range(len(table)))  # past_results' order: newest first
    latest = dated.sort_values("order").drop_duplicates(["model", "task"], keep="first")
    scores = latest.pivot(index="model", columns="task", values="score")
    tasks = list(dict.fromkeys(reversed(table["task"].tolist())))  # by each task's first result (undated first)
    board = scores.reindex(columns=tasks).astype(float)
    board[TASKS_COLUMN] = latest.groupby("model")["task"].count()
    board[LAST_RUN_COLUMN] = latest.groupby("model")["saved"].max()
    newest = latest.groupby("model")["order"].min().sort_values()
    board = board.loc[newest.index]
    board.columns.name = None
    return board
