"""Cost on the leaderboard: the Pareto front (known answers), the speed measurement (a fake encoder
and a fake clock), and speeds stored with cached results, old results without one included."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from embedlab.cache import CachedEmbedder, EmbeddingCache
from embedlab.evaluation import bench as B
from embedlab.evaluation.bench.speed import SpeedMeter, speed_sample
from tests.fakes import CountingEmbedder


@pytest.fixture(autouse=True)
def home(tmp_home):
    return tmp_home


# ---- pareto_front -------------------------------------------------------------------------------------
@pytest.mark.parametrize("points, front", [
    ([], []),
    ([(5.0, 0.5)], [0]),  # a single point is its own front
    ([(1, 0.9), (10, 0.5), (5, 0.4), (100, 0.1)], [0, 1, 3]),  # (5, .4) is beaten by (10, .5)
    ([(1, 0.5), (2, 0.6), (3, 0.7)], [2]),  # one model faster and better than all others
    ([(2, 0.6), (2, 0.6), (1, 0.5)], [0, 1]),  # duplicates: neither beats the other, both stay
    ([(2, 0.6), (2, 0.5)], [0]),  # tie on speed: the better score wins
    ([(3, 0.5), (2, 0.5)], [0]),  # tie on score: the faster wins
    ([(1, 0.9), (3, 0.5), (2, 0.7)], [0, 2, 1]),  # rising speed, falling score: all, ordered by speed
    ([(1, float("nan")), (2, 0.5), (None, 0.9), (float("nan"), 1.0)], [1]),  # missing values never count
])
def test_pareto_front_known_answers(points, front):
    assert B.pareto_front(points) == front


def test_pareto_front_is_undominated_and_complete_on_random_points():
    rng = np.random.default_rng(0)
    points = [tuple(p) for p in rng.integers(0, 6, size=(40, 2)).astype(float)]
    front = set(B.pareto_front(points))
    for i, (x, y) in enumerate(points):
        beaten = any(a >= x and b >= y and (a, b) != (x, y) for a, b in points)
        assert (i in front) == (not beaten)


# ---- measuring ------------------------------------------------------------------------------------------
class Tokenising(CountingEmbedder):
    """Counts words as tokens; truncates at ``max_seq_length`` like a real tokenizer-based model."""

    max_seq_length = 3

    def token_lengths(self, texts, *, role="document"):
        return np.array([len(t.split()) for t in texts])


class Ticking:
    """A clock that advances ``step`` seconds on every reading."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_measure_speed_times_chunks_until_the_budget_and_counts_truncated_tokens():
    model = Tokenising()
    texts = [f"text number {i} has five" if i % 2 else f"short {i}" for i in range(100)]
    speed = B.measure_speed(model, texts, role="query", seconds=3.5, chunk=10, clock=Ticking(1.0))
    # Warm-up (2 texts, untimed), then every call "takes" 1 s: 4 texts (4/s, 2.5 s left: 10 fit, the
    # cap), 10 (7/s, 1.5 s left: 10 fit), 10 (8/s, 0.5 s left: 4 fit), 4; 4 s >= 3.5 s: stop.
    assert [len(c) for c in model.calls] == [2, 4, 10, 10, 4]
    assert speed.texts == 28 and speed.seconds == pytest.approx(4.0) and speed.role == "query"
    assert speed.texts_per_s == pytest.approx(7.0)
    assert speed.tokens == 14 * 2 + 14 * 3  # 2 words, or 5 words truncated to 3
    assert speed.tokens_per_s == pytest.approx(70 / 4)
    assert speed.memory in B.speed.MEMORY_METHODS and speed.peak_rss_mb > 10
    assert B.Speed.from_dict(json.loads(json.dumps(speed.to_dict()))) == speed


def test_speed_bypasses_the_embedding_cache_and_says_none_without_a_tokenizer(tmp_path):
    inner = CountingEmbedder()
    model = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb"))
    texts = ["a b", "c d", "e f"]
    model.encode(texts)
    inner.calls.clear()
    speed = B.measure_speed(model, texts, chunk=2)
    assert inner.calls[0] == ["a b", "c d"] and sum(inner.calls[1:], []) == texts  # every text really encoded
    assert max(len(c) for c in inner.calls) <= 2
    assert speed.texts == 3 and speed.tokens is None and speed.tokens_per_s is None
    assert B.measure_speed(model, []) is None


def test_speed_sample_is_distinct_capped_and_independent_of_order():
    texts = [f"t{i}" for i in range(300)] * 2
    sample = speed_sample(texts, 128)
    assert len(sample) == len(set(sample)) == 128
    assert speed_sample(list(reversed(texts)), 128) == sample
    clustering = B.clustering_task("c", texts[:300], [i % 3 for i in range(300)], run_size=100)
    dedup = B.dedup_task("d", list(reversed(texts)))
    assert clustering.speed_texts == dedup.speed_texts == speed_sample(texts)  # one measurement for both


@pytest.mark.parametrize("bad", [None, {}, {"texts": "x"}, [1, 2], {"texts": 1, "seconds": 1.0}])
def test_a_stored_speed_that_is_not_one_reads_as_none(bad):
    assert B.Speed.from_dict(bad) is None


# ---- the leaderboard ----------------------------------------------------------------------------------
def sts_tasks():
    pairs = {"first": (["one cat", "two dogs", "three birds"], ["a cat", "dogs", "no birds here"]),
             "second": (["red sky", "blue sea", "green field"], ["sky", "the sea", "a field of grass"])}
    return [B.sts_task(name, s1, s2, [3, 2, 1]) for name, (s1, s2) in pairs.items()]


def test_runner_records_speed_cost_columns_and_keeps_them_in_the_cache():
    tasks = sts_tasks()
    model = Tokenising(key="tok")
    board = B.run_bench(["m"], tasks, loader=lambda name: model)
    cells = board.results["m"]
    assert all(c.speed is not None and c.speed.texts == 6 for c in cells.values())
    row = board.table.loc["m"]
    rates = [c.speed.texts_per_s for c in cells.values()]
    assert row["texts/s"] == pytest.approx(math.sqrt(rates[0] * rates[1]))  # geometric mean over tasks
    assert row["tokens/s"] > 0 and row["peak MB"] > 0 and row["pareto"]
    assert math.isnan(row["params M"]) and math.isnan(row["weights MB"])  # a fake says nothing of its size

    again = Tokenising(key="tok")
    second = B.run_bench(["m"], tasks, loader=lambda name: again)
    assert again.calls == []  # scores and speed both from the results cache
    assert second.table.loc["m", "texts/s"] == pytest.approx(row["texts/s"])
    data = json.loads(second.to_json())
    assert data["leaderboard"][0]["speed"]["texts_per_s"] == pytest.approx(row["texts/s"])
    assert data["leaderboard"][0]["pareto"] is True and "geometric mean" in data["speed_method"]
    assert data["results"]["m"]["first"]["speed"]["tokens"] == cells["first"].speed.tokens


def test_old_cached_results_without_speed_load_and_get_it_measured(home):
    task = sts_tasks()[0]
    B.run_bench(["m"], [task], loader=lambda name: CountingEmbedder(key="old"), speed=False)
    (path,) = list((home / "cache" / "bench").rglob("*.json"))
    record = json.loads(path.read_text())
    del record["speed"]  # as written before speeds were stored
    path.write_text(json.dumps(record))

    without = B.run_bench(["m"], [task], loader=lambda name: CountingEmbedder(key="old"), speed=False)
    assert without.results["m"][task.name].cached and math.isnan(without.table.loc["m", "texts/s"])
    assert not without.table.loc["m", "pareto"]

    model = CountingEmbedder(key="old")
    measured = B.run_bench(["m"], [task], loader=lambda name: model)
    assert measured.results["m"][task.name].cached and measured.table.loc["m", "texts/s"] > 0
    sizes = [len(c) for c in model.calls]
    assert sizes[0] == 2 and sum(sizes[1:]) == 6  # warm-up and the sample: the scores were not recomputed
    assert json.loads(path.read_text())["speed"]["texts"] == 6  # added to the stored result


def test_pareto_column_marks_models_no_other_beats_on_score_and_speed(monkeypatch):
    from embedlab.evaluation.bench import runner

    rates = {"fast": 1000.0, "slow": 10.0}
    real = SpeedMeter.measure

    def fixed_rate(self, texts, role):
        speed = real(self, texts, role)
        return B.Speed(speed.texts, speed.texts / rates[self.model.name], None, role, None, "psutil")

    monkeypatch.setattr(SpeedMeter, "measure", fixed_rate)
    models = {name: CountingEmbedder(dim=dim, name=name, key=name) for name, dim in (("fast", 8), ("slow", 16))}
    board = runner.run_bench(list(rates), sts_tasks(), loader=models.get, cache=False)
    table = board.table
    assert table.loc["fast", "texts/s"] == pytest.approx(1000.0) and table.loc["slow", "texts/s"] == pytest.approx(10)
    better = table["average"].idxmax()
    expected = {"fast"} | ({better} if table.loc[better, "average"] > table.loc["fast", "average"] else set())
    assert set(table.index[table["pareto"]]) == expected


def test_cli_bench_prints_json_and_csv_the_cost_columns(capsys, monkeypatch, tmp_path):
    import pandas as pd

    from embedlab.cli import main
    from embedlab.evaluation.bench import runner

    models = {"small": Tokenising(dim=8, key="small"), "wide": Tokenising(dim=16, key="wide")}
    monkeypatch.setattr(runner, "default_loader", models.get)
    out_csv = tmp_path / "board.csv"
    assert main(["bench", "--models", "small,wide", "--tasks", "lee-sts", "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "lee-sts" in line and "average" in line)
    assert header.index("average") < header.index("texts/s") < header.index("tokens/s") < header.index("peak MB") \
        < header.index("params M") < header.index("weights MB") < header.index("pareto")
    csv = pd.read_csv(out_csv, index_col="model")
    assert list(csv.columns[-7:]) == [*B.COST_COLUMNS, "pareto", "error"]
    on_front = csv.index[csv["pareto"]].tolist()
    for model in csv.index:
        row = next(line for line in out.splitlines() if line.startswith(model + " "))
        assert f"{csv.loc[model, 'texts/s']:,.1f}" in row and f"{csv.loc[model, 'tokens/s']:,.0f}" in row
        assert row.rstrip().endswith("*") == (model in on_front)
    assert on_front and "Pareto front" in out and "psutil" in out

    assert main(["bench", "--models", "small,wide", "--tasks", "lee-sts", "--json"]) == 0
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)["leaderboard"]}
    for model, row in rows.items():
        assert row["speed"]["texts_per_s"] == pytest.approx(csv.loc[model, "texts/s"])  # the cached speed
        assert row["pareto"] == (model in on_front) and row["size"] == {"parameters": None, "weight_mb": None}
