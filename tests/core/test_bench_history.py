"""The running board: every model x task result in the results cache, the newest per cell, with when
it was computed; known answers on hand-written records and on two real (fake-model) benchmark runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from embedlab.evaluation import bench as B
from embedlab.evaluation.bench.cache import ResultCache
from embedlab.evaluation.bench.history import (
    LAST_RUN_COLUMN,
    TASKS_COLUMN,
    PastResult,
    history_table,
    past_results,
    running_board,
)
from tests.fakes import CountingEmbedder


@pytest.fixture(autouse=True)
def home(tmp_home):
    return tmp_home


def record(model, task, score, saved, *, metric="main_score", seconds=1.5):
    rec = {"metrics": {metric: score, "other": 0.1}, "seconds": seconds, "model": model,
           "task": {"name": task, "kind": "sts", "main_metric": metric}}
    if saved is not None:
        rec["saved"] = saved
    return rec


def put_all(records):
    store = ResultCache()
    for n, rec in enumerate(records):
        store.put(f"{n:02d}" + "f" * 62, rec)
    return store


def test_board_keeps_the_newest_result_per_model_and_task(caplog):
    store = put_all([
        record("a", "t1", 0.5, "2024-01-01T10:00:00+00:00"),
        record("a", "t1", 0.7, "2024-03-01T10:00:00+00:00"),  # a later run of the same cell wins
        record("a", "t2", 0.3, "2024-02-01T10:00:00+00:00"),
        record("b", "t1", 0.9, "2024-04-01T12:30:00+00:00"),
        record("c", "dup", None, "2023-12-01T08:00:00+00:00", metric="duplicate_share"),  # no main score
        record("old", "t2", 0.25, None),  # written before results carried their time
    ])
    (store.root / "zz").mkdir()
    (store.root / "zz" / "broken.json").write_text("{not json", encoding="utf-8")  # a miss, never a crash
    store.put("ab" + "0" * 62, {"metrics": {"main_score": 1.0}})  # says neither model nor task: left out

    results = past_results(store)
    assert "Ignoring unreadable bench result" in caplog.text and "broken.json" in caplog.text
    assert [(r.model, r.task) for r in results] == [("b", "t1"), ("a", "t1"), ("a", "t2"), ("a", "t1"),
                                                    ("c", "dup"), ("old", "t2")]
    board = running_board(results)
    assert list(board.index) == ["b", "a", "c", "old"]  # newest result first
    # Tasks in the order of their first result: the undated one counts as oldest.
    assert list(board.columns) == ["t2", "dup", "t1", TASKS_COLUMN, LAST_RUN_COLUMN]
    assert board.loc["a", "t1"] == 0.7 and board.loc["a", "t2"] == 0.3 and board.loc["b", "t1"] == 0.9
    assert math.isnan(board.loc["b", "t2"]) and math.isnan(board.loc["c", "dup"])
    assert board[TASKS_COLUMN].to_dict() == {"b": 1, "a": 2, "c": 1, "old": 1}
    assert board.loc["a", LAST_RUN_COLUMN] == pd.Timestamp("2024-03-01T10:00:00", tz="UTC")
    assert pd.isna(board.loc["old", LAST_RUN_COLUMN])


def test_history_rows_newest_first_and_naive_times_read_as_utc():
    store = put_all([record("a", "t1", 0.5, "2024-01-01T10:00:00"), record("a", "t2", 0.6, "2024-01-02T09:00:00+02:00")])
    table = history_table(past_results(store))
    assert table[["task", "score", "seconds"]].values.tolist() == [["t2", 0.6, 1.5], ["t1", 0.5, 1.5]]
    assert table["saved"].tolist() == [pd.Timestamp("2024-01-02T07:00", tz="UTC"),
                                       pd.Timestamp("2024-01-01T10:00", tz="UTC")]


def test_an_empty_cache_gives_an_empty_board():
    assert past_results() == []
    board = running_board([])
    assert board.empty and list(board.columns) == [TASKS_COLUMN, LAST_RUN_COLUMN]
    assert isinstance(history_table([])["saved"].dtype, pd.DatetimeTZDtype)  # .dt works on it


def test_a_record_without_model_or_task_name_is_not_a_result():
    assert PastResult.from_record({"metrics": {}, "task": {"name": "t"}}) is None
    assert PastResult.from_record({"metrics": {}, "model": "m", "task": "t"}) is None
    nan = PastResult.from_record(record("m", "t", float("nan"), None))
    assert nan is not None and nan.score is None


class Spread(CountingEmbedder):
    """Each STS pair's cosine set by the pair's index: a known Spearman of +1 (or -1 if ``reverse``)."""

    def __init__(self, name, *, reverse=False):
        super().__init__(dim=2, name=name, key=name)
        self.reverse = reverse

    def vector(self, text):
        i = int(text[1:])
        angle = 0.0 if text[0] == "a" else 0.3 * ((3 - i) if self.reverse else i)
        return np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)


def test_two_runs_with_different_models_both_stay_on_the_board():
    task = B.sts_task("toy-sts", ["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"], [4, 3, 2, 1])
    models = {"good": Spread("good"), "bad": Spread("bad", reverse=True)}
    first = B.run_bench(["good"], [task], loader=models.get, speed=False)
    second = B.run_bench(["bad"], [task], loader=models.get, speed=False)
    assert list(first.table.index) == ["good"] and list(second.table.index) == ["bad"]  # each run alone
    board = running_board(past_results())
    assert set(board.index) == {"good", "bad"}
    assert board.loc["good", "toy-sts"] == pytest.approx(1.0) and board.loc["bad", "toy-sts"] == pytest.approx(-1.0)
    assert board.loc["bad", LAST_RUN_COLUMN] >= board.loc["good", LAST_RUN_COLUMN]
