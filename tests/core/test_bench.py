"""MTEB on your data: tasks (known answers through ``Task.run``), the leaderboard, the results cache,
error entries, and the CLI commands; fake encoders and synthetic data, plus one wordllama smoke test."""

from __future__ import annotations

import dataclasses
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from embedlab.cache import CachedEmbedder, EmbeddingCache
from embedlab.cli import main
from embedlab.errors import DataError, ModelLoadError, OptionError
from embedlab.evaluation import bench as B
from embedlab.evaluation.bench import cache as bench_cache
from embedlab.evaluation.bench import runner
from embedlab.evaluation.tasks import (
    classification_scores,
    clustering_scores,
    train_test_split_for_probe,
)
from embedlab.retrieval.corpus import RetrievalData
from tests.fakes import CountingEmbedder, TableEmbedder, topic_corpus

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")  # random fakes

TOL = 1e-9
TOPIC_WORDS = {  # the word lists of tests.fakes.topic_corpus
    "cooking": {"chef", "oven", "recipe", "garlic", "sauce", "bake", "flour", "butter", "soup", "pasta"},
    "football": {"striker", "goal", "referee", "penalty", "league", "midfield", "keeper", "coach", "match", "fans"},
    "astronomy": {"telescope", "galaxy", "orbit", "comet", "planet", "nebula", "star", "eclipse", "moon", "asteroid"},
}


@pytest.fixture(autouse=True)
def home(tmp_home):
    """Every test gets an empty data folder, so the results cache starts empty."""
    return tmp_home


class TopicEmbedder(CountingEmbedder):
    """Counts of each topic's words (x10) plus a little per-text noise: topics are perfectly separable."""

    def __init__(self, name: str = "topic", key: str = "topic") -> None:
        super().__init__(dim=8, name=name, key=key)

    def vector(self, text: str) -> np.ndarray:
        words = set(text.lower().replace(".", "").split())
        v = 0.03 * super().vector(text)
        v[:3] += [10.0 * len(words & TOPIC_WORDS[t]) for t in ("cooking", "football", "astronomy")]
        return v.astype(np.float32)


class RoleRecorder(CountingEmbedder):
    """Records (role, texts) for every encode call."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.roles: list[tuple[str, list[str]]] = []

    def encode(self, texts, *, role="document", **kw):
        self.roles.append((role, list(texts)))
        return super().encode(texts, role=role, **kw)


class Exploding(CountingEmbedder):
    """Fails on any text containing "boom"."""

    def encode(self, texts, **kw):
        if any("boom" in t for t in texts):
            raise RuntimeError("the GPU caught fire")
        return super().encode(texts, **kw)


def unit(deg: float) -> list[float]:
    a = math.radians(deg)
    return [math.cos(a), math.sin(a)]


def n_encoded(model) -> int:
    return sum(len(c) for c in model.calls)


def corpus():
    frame = topic_corpus()
    return frame["text"].tolist(), frame["label"].tolist()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---- known answers through Task.run ----------------------------------------------------------------
def test_sts_task_spearman_and_pearson_known_answer():
    # cos(a_i, b_i) = cos(20° * i): strictly decreasing; gold swaps the last two ranks
    table = {f"a{i}": [1.0, 0.0] for i in range(5)} | {f"b{i}": unit(20 * i) for i in range(5)}
    gold = [5, 4, 3, 1, 2]
    task = B.sts_task("toy", [f"a{i}" for i in range(5)], [f"b{i}" for i in range(5)], gold)
    metrics = task.run(TableEmbedder(table))
    # Spearman = 1 - 6 * sum(d^2) / (n (n^2 - 1)) with d = (0, 0, 0, 1, 1)
    assert metrics["main_score"] == pytest.approx(1 - 6 * 2 / (5 * 24), abs=TOL)
    assert metrics["cosine_spearman"] == metrics["main_score"]
    cosines = [math.cos(math.radians(20 * i)) for i in range(5)]
    assert metrics["cosine_pearson"] == pytest.approx(pearsonr(gold, cosines).statistic, abs=1e-6)
    assert metrics["n_pairs"] == 5 and task.kind == "sts" and task.size == {"pairs": 5}


def test_retrieval_task_ndcg_mrr_recall_known_answer():
    data = RetrievalData("toy", ["d1", "d2", "d3"], ["", "", ""], ["doc one", "doc two", "doc three"],
                         ["q1", "q2"], ["query one", "query two"], {"q1": {"d1": 1}, "q2": {"d2": 1}})
    table = {"doc one": unit(30), "doc two": unit(0), "doc three": unit(90),
             "query one": unit(0),  # q1: d2 (cos 1), then d1 (cos .87): the relevant one is 2nd
             "query two": unit(-5)}  # q2: d2 first
    fake = RoleRecorder(dim=2)
    fake.vector = lambda text: np.array(table[text], dtype=np.float32)
    metrics = B.retrieval_task("toy", data).run(fake)
    assert metrics["main_score"] == pytest.approx((1 / math.log2(3) + 1) / 2, abs=1e-6)
    assert metrics["nDCG@10"] == metrics["main_score"]
    assert metrics["MRR@10"] == pytest.approx(0.75) and metrics["Recall@1"] == pytest.approx(0.5)
    assert metrics["Recall@10"] == 1.0 and metrics["P@1"] == pytest.approx(0.5)
    assert metrics["n_queries"] == 2 and metrics["n_documents"] == 3 and metrics["top_k"] == 1000
    assert sorted(role for role, _ in fake.roles) == ["document", "query"]  # as mteb: both prompt types
    assert dict(fake.roles)["query"] == ["query one", "query two"]


def test_clustering_task_perfect_topics_and_equal_to_the_pure_function():
    texts, labels = corpus()
    task = B.clustering_task("topics", texts, labels, run_size=300)
    metrics = task.run(TopicEmbedder())
    assert metrics["main_score"] == pytest.approx(1.0) and metrics["v_measure"] == metrics["main_score"]
    assert metrics["n_clusters"] == 3 and metrics["n_runs"] == 10 and metrics["run_size"] == 300
    # A random encoder: the task computes exactly clustering_scores on the encoder's vectors (the
    # task scores with one thread, this call with the default threads: the numbers must not differ)
    fake = CountingEmbedder()
    metrics = B.clustering_task("topics", texts, labels, run_size=300, n_runs=3).run(fake)
    expected = clustering_scores(CountingEmbedder().encode(texts), labels, run_size=300, n_runs=3)
    assert metrics["main_score"] == pytest.approx(expected["main_score"], abs=TOL) and metrics["main_score"] < 0.5
    assert metrics["v_measures"] == pytest.approx(expected["v_measures"], abs=TOL)
    assert fake.calls == [list(dict.fromkeys(texts))]  # each distinct text encoded once


def test_classification_task_split_given_test_and_known_accuracy():
    texts, labels = corpus()
    task = B.classification_task("topics", texts, labels)
    assert task.size == {"train": 30, "test": 30, "labels": 3}
    metrics = task.run(TopicEmbedder())
    assert metrics["main_score"] == 1.0 and metrics["accuracy"] == 1.0
    assert metrics["n_train"] == 30 and metrics["n_test"] == 30 and len(metrics["scores_per_experiment"]) == 10
    assert metrics["ap"] is None  # multiclass: mteb has no AP; NaN becomes None (JSON-ready)
    # Same split and probe as calling the pure functions directly (random encoder: neither 0 nor 1)
    metrics = task.run(CountingEmbedder())
    train, test = train_test_split_for_probe(labels, seed=42)
    x = CountingEmbedder().encode(texts)
    expected = classification_scores(x[train], [labels[i] for i in train], x[test], [labels[i] for i in test])
    assert metrics["main_score"] == pytest.approx(expected["main_score"], abs=TOL)
    # A given test set with one deliberately wrong label: every experiment scores exactly 3/4
    test_texts = ["The chef bakes garlic bread in the oven.", "The striker scored a goal in the match.",
                  "The telescope saw a comet near the moon.", "The keeper saved the penalty from the fans."]
    given = B.classification_task("given", texts, labels, test_texts=test_texts,
                                  test_labels=["cooking", "football", "astronomy", "cooking"])
    metrics = given.run(TopicEmbedder())
    assert metrics["main_score"] == 0.75 and metrics["n_test"] == 4 and metrics["n_train"] == 60


def test_pair_classification_task_known_answer():
    cosines = [0.9, 0.8, 0.3, 0.2]
    table = {f"s{i}": [1.0, 0.0] for i in range(4)}
    table |= {f"t{i}": [c, math.sqrt(1 - c * c)] for i, c in enumerate(cosines)}
    task = B.pair_classification_task("toy", [f"s{i}" for i in range(4)], [f"t{i}" for i in range(4)], [1, 0, 1, 0])
    metrics = task.run(TableEmbedder(table))
    # AP of ranking (1, 0, 1, 0) = (1/1 + 2/3) / 2; every row ranks the pairs the same way
    assert metrics["main_score"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-6)
    assert metrics["max_ap"] == metrics["main_score"] and metrics["cosine_ap"] == pytest.approx(metrics["max_ap"])
    assert metrics["cosine_accuracy"] == pytest.approx(0.75)  # first best cut: after the top pair
    assert metrics["cosine_accuracy_threshold"] == pytest.approx(0.85, abs=1e-6)
    assert metrics["n_pairs"] == 4 and task.size == {"pairs": 4, "positive": 2}


def test_dedup_task_groups_share_and_no_main_score():
    table = {"a": unit(0), "b": unit(10), "c": unit(90), "d": unit(180), "e": unit(185)}  # cos(a, b) = .985
    texts = list(table)
    task = B.dedup_task("toy", texts, 0.95)
    metrics = task.run(TableEmbedder(table))
    assert metrics["groups"] == [[0, 1], [3, 4]] and metrics["n_groups"] == 2 and metrics["n_in_groups"] == 4
    assert metrics["duplicate_share"] == pytest.approx(2 / 5) and metrics["largest_group"] == 2
    assert metrics["main_score"] is None and task.main_metric == "duplicate_share" and not task.averaged
    assert B.dedup_task("toy", texts, 0.99).run(TableEmbedder(table))["groups"] == [[3, 4]]  # cos(d, e) = .996
    # A repeated text is encoded once and still fills both rows
    fake = TableEmbedder(table)
    assert B.dedup_task("toy", ["a", "c", "a", "d"], 0.999).run(fake)["groups"] == [[0, 2]]
    assert fake.calls == [["a", "c", "d"]]


@pytest.mark.parametrize("make, message", [
    (lambda: B.sts_task("x", ["a", "b", "c"], ["d", "e"], [1, 2, 3]), "one entry per pair"),
    (lambda: B.sts_task("x", ["a", "b", "c"], ["d", "e", "f"], [1, 1, 1]), "All gold scores are equal"),
    (lambda: B.sts_task("x", ["a", " ", "c"], ["d", "e", "f"], [1, 2, 3]), "sentences1[1] is empty"),
    (lambda: B.clustering_task("x", ["a", "b"], ["p", "p"]), "at least 2 different values"),
    (lambda: B.clustering_task("x", ["a", "b"], ["p"]), "labels has 1 entries but texts has 2"),
    (lambda: B.classification_task("x", ["a", "b", "c", "d", "e"], [1, 1, 2, 2, 3]), "single example"),
    (lambda: B.classification_task("x", ["a", "b", "c", "d"], [1, 1, 2, 2], test_texts=["e"], test_labels=[3]),
     "never shows"),
    (lambda: B.classification_task("x", ["a", "b"], [1, 2], test_texts=["c"]), "both test_texts and test_labels"),
    (lambda: B.pair_classification_task("x", ["a", "b"], ["c", "d"], [1, 2]), "must be 0 (not a pair) or 1"),
    (lambda: B.pair_classification_task("x", ["a", "b"], ["c", "d"], [1, 1]), "needs both 0 and 1"),
    (lambda: B.dedup_task("x", ["a", "b"], 1.5), "within [-1, 1]"),
    (lambda: B.dedup_task("x", "ab", 0.9), "not a single string"),
    (lambda: B.bundled_task("mteb-all"), "Unknown task 'mteb-all'"),
    (lambda: B.bundled_tasks("lee-sts,nope"), "Unknown task(s) 'nope'"),
])
def test_bad_task_input_is_a_clear_data_error(make, message):
    with pytest.raises(DataError, match=None) as info:
        make()
    assert message in str(info.value)


def test_data_key_follows_data_and_parameters():
    texts, labels = corpus()
    key = B.clustering_task("a", texts, labels).data_key
    assert B.clustering_task("renamed", texts, labels).data_key == key  # the name is not data
    assert B.clustering_task("a", [texts[0] + "!", *texts[1:]], labels).data_key != key
    assert B.clustering_task("a", texts, [*labels[:-1], labels[0]]).data_key != key
    assert B.clustering_task("a", texts, labels, seed=7).data_key != key
    assert B.dedup_task("a", texts, 0.9).data_key != B.dedup_task("a", texts, 0.8).data_key


def test_bundled_tasks_describe_their_data():
    tasks = {t.name: t for t in B.bundled_tasks()}
    assert list(tasks) == ["lee-sts", "bbc-clustering", "bbc-classification", "bbc-retrieval"]
    assert tasks["lee-sts"].size == {"pairs": 1225} and tasks["lee-sts"].kind == "sts"
    assert tasks["bbc-clustering"].size == {"texts": 2225, "labels": 5}
    assert tasks["bbc-classification"].size == {"train": 1112, "test": 1113, "labels": 5}
    assert tasks["bbc-retrieval"].size == {"documents": 2089, "queries": 2125}
    assert all(t.main_metric == "main_score" and t.averaged and len(t.data_key) == 64 for t in tasks.values())
    assert B.bundled_task("lee-sts").data_key == tasks["lee-sts"].data_key  # stable across builds


def test_bbc_tasks_embed_each_article_once_through_the_embedding_cache(tmp_path):
    from embedlab.bundled import bbc_news

    inner = RoleRecorder(dim=8)
    model = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb"))
    board = B.run_bench(["fake"], B.bundled_tasks("bbc-classification,bbc-retrieval,bbc-clustering"),
                        loader=lambda name: model, speed=False)  # speed bypasses the cache: tested in test_pareto
    assert not board.errors and board.table.shape == (1, 5 + len(B.COST_COLUMNS) + 1)
    documents = [t for role, texts in inner.roles if role == "document" for t in texts]
    bodies = set(bbc_news()["text"])
    assert len(documents) == len(set(documents)) == len(bodies)  # 2,089 distinct bodies, each encoded once
    assert set(documents) == bodies
    titles = [t for role, texts in inner.roles if role == "query" for t in texts]
    assert sorted(titles) == sorted(set(bbc_news()["title"]))  # each distinct title once, as a query
    clustering = board.results["fake"]["bbc-clustering"]
    assert clustering.ok and clustering.metrics["n_documents"] == 2225 and clustering.metrics["run_size"] == 16_384


# ---- leaderboard ------------------------------------------------------------------------------------
def toy_tasks():
    texts, labels = corpus()
    sts = B.sts_task("sts", ["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"], [4, 3, 2, 1])
    return [B.clustering_task("clu", texts, labels, run_size=300), B.classification_task("cls", texts, labels),
            B.dedup_task("dup", texts, 0.999), sts]


class ToyEmbedder(TopicEmbedder):
    """TopicEmbedder for the corpus; the STS pair texts a_i/b_i get vectors whose cosine falls with i,
    or (``reverse``) rises with i."""

    def __init__(self, reverse: bool = False, **kw) -> None:
        super().__init__(**kw)
        self.reverse = reverse

    def vector(self, text: str) -> np.ndarray:
        if text[0] in "ab" and text[1:].isdigit():
            i = int(text[1:])
            v = np.zeros(self.dim, dtype=np.float32)
            v[3:5] = unit(0) if text[0] == "a" else unit(20 * (3 - i if self.reverse else i))
            return v
        return super().vector(text)


def test_leaderboard_shape_average_order_and_seconds():
    tasks = toy_tasks()
    models = {"reversed": ToyEmbedder(reverse=True, key="r"), "random": CountingEmbedder(key="x"),
              "good": ToyEmbedder(key="g")}
    loads = []

    def loader(name):
        loads.append(name)
        return models[name]

    events = []
    board = B.run_bench(["reversed", "random", "good"], tasks, loader=loader, progress=events.append)
    table = board.table
    assert loads == ["reversed", "random", "good"]  # each model loaded once for all four tasks
    assert list(table.columns) == ["clu", "cls", "dup", "sts", "average", "seconds", *B.COST_COLUMNS, "pareto"]
    assert table.index[0] == "good" and list(table["average"]) == sorted(table["average"], reverse=True)
    assert table.loc["good", "sts"] == pytest.approx(1.0) and table.loc["reversed", "sts"] == pytest.approx(-1.0)
    assert table.loc["good", "clu"] == pytest.approx(1.0) and table.loc["good", "cls"] == 1.0
    for model in table.index:  # the average leaves dedup out
        row = table.loc[model]
        assert row["average"] == pytest.approx(np.mean([row["clu"], row["cls"], row["sts"]]), abs=TOL)
        cells = board.results[model]
        assert row["dup"] == cells["dup"].metrics["duplicate_share"]
        assert row["seconds"] == pytest.approx(sum(c.seconds for c in cells.values())) and row["seconds"] > 0
    assert table.loc["good", "average"] == pytest.approx(1.0)
    # Same-topic texts differ only by small noise (cosine > .999): one group per topic, 57 of 60 removable
    assert table.loc["good", "dup"] == pytest.approx(57 / 60) and table.loc["random", "dup"] == 0.0
    assert B.BenchProgress("good", "sts", 12, 12, 1, 1) in events and any(e.total > 1 for e in events)
    assert events[-1].label == "good · sts (12/12)" and events[-1].cells_done == 12
    done = [e.cells_done for e in events]
    assert done == sorted(done) and set(done) == set(range(1, 13))  # what the page's bar shows, never backwards

    data = json.loads(board.to_json())
    assert [row["model"] for row in data["leaderboard"]] == list(table.index)
    assert data["leaderboard"][0]["scores"]["sts"] == pytest.approx(1.0)
    assert [t["name"] for t in data["tasks"]] == ["clu", "cls", "dup", "sts"]
    assert data["tasks"][2]["averaged"] is False and data["tasks"][2]["main_metric"] == "duplicate_share"
    assert data["results"]["good"]["clu"]["metrics"]["n_clusters"] == 3
    csv = pd.read_csv(io.StringIO(board.to_csv()), index_col="model", keep_default_na=False)
    assert list(csv.index) == list(table.index) and (csv["error"] == "").all()
    assert csv.loc["reversed", "sts"] == pytest.approx(-1.0)


def test_a_bad_model_or_a_failing_task_is_an_error_entry_not_a_crash():
    texts, labels = corpus()
    tasks = [B.clustering_task("clu", texts, labels, run_size=300),
             B.sts_task("boom", ["boom one", "boom two", "three"], ["x", "y", "z"], [1, 2, 3])]

    def loader(name):
        if name == "nope":
            raise ModelLoadError("Unknown model 'nope'.")
        return Exploding(key=name) if name == "fragile" else TopicEmbedder()

    board = B.run_bench(["nope", "fragile", "good"], tasks, loader=loader)
    assert board.errors["nope"] == {"load": "Unknown model 'nope'."}
    assert board.errors["fragile"] == {"boom": "RuntimeError: the GPU caught fire"}
    assert "good" not in board.errors and board.table.loc["good", "clu"] == pytest.approx(1.0)
    assert list(board.table.index) == ["good", "nope", "fragile"]  # no average: last, in input order
    assert board.table.loc["nope"].drop("pareto").isna().all() and not board.table.loc["nope", "pareto"]
    fragile = board.table.loc["fragile"]
    assert np.isfinite(fragile["clu"]) and math.isnan(fragile["boom"]) and math.isnan(fragile["average"])
    assert board.results["fragile"]["boom"].error and board.results["nope"] == {}

    data = json.loads(board.to_json(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    rows = {r["model"]: r for r in data["leaderboard"]}
    assert rows["nope"]["errors"] == {"load": "Unknown model 'nope'."} and rows["nope"]["average"] is None
    assert data["results"]["fragile"]["boom"]["error"] == "RuntimeError: the GPU caught fire"
    csv = board.to_csv()
    assert "load: Unknown model 'nope'." in csv and "boom: RuntimeError: the GPU caught fire" in csv


def test_results_are_frozen_once_built():
    board = B.run_bench(["m"], toy_tasks()[3:], loader=lambda name: ToyEmbedder())
    with pytest.raises(dataclasses.FrozenInstanceError):
        board.results["m"]["sts"].metrics = {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        board.errors = {}


def test_bench_job_runs_in_the_background_with_one_section_per_cell(monkeypatch):
    from embedlab.evaluation.bench.job import bench_job

    monkeypatch.setattr(runner, "default_loader", lambda name: ToyEmbedder(key=name))
    job = bench_job(["a", "b"], toy_tasks())
    assert not job.running and job.title == "Benchmark (2 models × 4 tasks)"
    job.start().wait(60)
    snap = job.snapshot()
    assert (snap.status, snap.fraction, job.error) == ("done", 1.0, None)
    assert len(snap.log) == 8 and snap.log[-1] == "b on sts (8/8)"
    assert set(job.result.table.index) == {"a", "b"}
    failing = bench_job([" "], toy_tasks()).start().wait(60)
    assert failing.result is None and "No model given" in failing.error


def test_a_stopped_bench_job_stops_instead_of_recording_a_failed_task(monkeypatch):
    from embedlab.evaluation.bench.job import bench_job

    monkeypatch.setattr(runner, "default_loader", lambda name: ToyEmbedder(key=name))
    job = bench_job(["a", "b"], toy_tasks())
    job.stop()  # asked before the first report: the first progress report raises
    job.start().wait(60)
    assert job.snapshot().status == "stopped" and job.result is None and job.error is None


# ---- tasks from a table -------------------------------------------------------------------------------
def test_task_from_table_picks_columns_and_skips_unusable_rows():
    frame = topic_corpus()
    table = pd.concat([frame, pd.DataFrame({"text": [None, "A galaxy and a comet."], "label": ["cooking", " "]})],
                      ignore_index=True).rename(columns={"label": "topic"})
    built = B.task_from_table(table, "clustering", name="t", columns={"label": "topic"}, run_size=300)
    assert built.report == "Skipped 2 row(s) without text in 'text' or without a label in 'topic'."
    assert built.texts == frame["text"].tolist() and built.rows == list(range(len(frame)))
    assert built.task.data_key == B.clustering_task("t", *corpus(), run_size=300).data_key
    classification = B.task_from_table(table, "classification", name="c", columns={"label": "topic"})
    assert classification.task.size == {"train": 30, "test": 30, "labels": 3}

    dedup = B.task_from_table(pd.DataFrame({"body": ["a", "", "b"]}), "dedup", name="d",
                              columns={"text": "body"}, threshold=0.5)
    assert dedup.rows == [0, 2] and dedup.texts == ["a", "b"] and "1 empty" in dedup.report
    assert dedup.task.data_key == B.dedup_task("d", ["a", "b"], 0.5).data_key

    pairs = pd.DataFrame({"l": ["x", "y", "z", "w"], "r": ["p", "q", "r", "s"], "g": ["1", 2, 3, 4.5]})
    sts = B.task_from_table(pairs, "sts", name="s", columns={"sentence1": "l", "sentence2": "r", "score": "g"})
    assert sts.task.data_key == B.sts_task("s", ["x", "y", "z", "w"], ["p", "q", "r", "s"], [1, 2, 3, 4.5]).data_key
    assert sts.report == "" and sts.texts == []


@pytest.mark.parametrize("table, kind, message", [
    ({"sentence1": ["a", None], "sentence2": ["c", "d"], "label": [1, 0]}, "pair-classification",
     "1 pair(s) have an empty sentence (first at row 2)"),
    ({"sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": [1, 0.5]}, "pair-classification",
     "must be 0 (not a pair) or 1"),
    ({"sentence1": ["a", "b", "e"], "sentence2": ["c", "d", "f"], "score": [1, "high", 2]}, "sts",
     "Column 'score' must be numeric"),
    ({"text": ["a", "b"]}, "clustering", "'label' not found"),
    ({"text": ["a", "b"], "label": [None, " "]}, "classification", "No row has both a text"),
])
def test_task_from_table_bad_tables_are_data_errors(table, kind, message):
    with pytest.raises(DataError) as info:
        B.task_from_table(pd.DataFrame(table), kind, name="x")
    assert message in str(info.value)


def test_task_from_table_bad_kind_or_column_role_is_an_option_error():
    with pytest.raises(OptionError, match="Valid kinds: sts, clustering"):
        B.task_from_table(pd.DataFrame({"text": ["a"]}), "retrieval", name="x")
    with pytest.raises(OptionError, match="no column role 'score'"):
        B.task_from_table(pd.DataFrame({"text": ["a"]}), "dedup", name="x", columns={"score": "s"})


def test_run_bench_refuses_nothing_to_do():
    with pytest.raises(DataError, match="No model"):
        B.run_bench([" "], toy_tasks(), loader=lambda n: TopicEmbedder())
    with pytest.raises(DataError, match="No task"):
        B.run_bench(["a"], [], loader=lambda n: TopicEmbedder())
    task = toy_tasks()[0]
    with pytest.raises(DataError, match="unique"):
        B.run_bench(["a"], [task, task], loader=lambda n: TopicEmbedder())


# ---- results cache -------------------------------------------------------------------------------
def bench_once(model, tasks, **kw):
    kw.setdefault("speed", False)  # the encode counts below are the tasks' own; speed: test_pareto.py
    return B.run_bench(["m"], tasks, loader=lambda name: model, **kw)


def test_second_run_is_served_from_the_cache_without_encoding(home):
    tasks = toy_tasks()
    first_model = ToyEmbedder(key="same")
    first = bench_once(first_model, tasks)
    assert n_encoded(first_model) > 0 and not any(c.cached for c in first.results["m"].values())
    files = list((home / "cache" / "bench").rglob("*.json"))
    assert len(files) == len(tasks)

    again = ToyEmbedder(key="same")  # a fresh instance of the same model
    second = bench_once(again, tasks)
    assert again.calls == []  # nothing encoded
    assert all(c.cached for c in second.results["m"].values())
    for name, cell in second.results["m"].items():
        assert cell.metrics == first.results["m"][name].metrics
        assert cell.seconds == pytest.approx(first.results["m"][name].seconds)  # the original compute time
    pd.testing.assert_frame_equal(second.table, first.table)


def test_changed_data_model_or_version_miss_the_cache(monkeypatch):
    texts, labels = corpus()
    task = B.clustering_task("clu", texts, labels, run_size=300)
    bench_once(TopicEmbedder(key="v1"), [task])

    same = TopicEmbedder(key="v1")
    bench_once(same, [task])
    assert same.calls == []

    changed_data = B.clustering_task("clu", [texts[0] + " Extra.", *texts[1:]], labels, run_size=300)
    model = TopicEmbedder(key="v1")
    board = bench_once(model, [changed_data])
    assert n_encoded(model) == len(set(texts)) and not board.results["m"]["clu"].cached

    other_model = TopicEmbedder(key="v2")  # e.g. other weights or pooling: another cache_key
    bench_once(other_model, [task])
    assert n_encoded(other_model) == len(set(texts))

    monkeypatch.setattr(bench_cache, "BENCH_VERSION", B.BENCH_VERSION + 1)
    after_upgrade = TopicEmbedder(key="v1")
    bench_once(after_upgrade, [task])
    assert n_encoded(after_upgrade) == len(set(texts))


def test_spec_is_part_of_the_model_fingerprint():
    from embedlab.models.spec import ModelSpec

    a, b = TopicEmbedder(key="k"), TopicEmbedder(key="k")
    a.spec = ModelSpec("m", "encoder", "local", "/x", "mean")
    b.spec = ModelSpec("m", "encoder", "local", "/x", "mean", max_seq_length=128)
    task = toy_tasks()[0]
    assert B.result_key(a, task) != B.result_key(b, task)
    assert B.model_fingerprint(a)["spec"]["pooling"] == "mean"


def test_cache_off_uncacheable_models_and_unreadable_files(home):
    task = toy_tasks()[3]  # sts
    model = ToyEmbedder(key="k")
    bench_once(model, [task], cache=False)
    assert not (home / "cache" / "bench").exists() or not list((home / "cache" / "bench").rglob("*.json"))

    table = TableEmbedder({f"a{i}": [1.0, 0.0] for i in range(4)} | {f"b{i}": [1.0, float(i)] for i in range(4)})
    assert not hasattr(table, "cache_key")
    assert B.result_key(table, task) is None
    bench_once(table, [task])
    bench_once(table, [task])
    assert len(table.calls) == 2  # never cached

    bench_once(ToyEmbedder(key="k"), [task])
    (path,) = list((home / "cache" / "bench").rglob("*.json"))
    path.write_text("{not json")
    again = ToyEmbedder(key="k")
    board = bench_once(again, [task])
    assert n_encoded(again) == 8 and board.results["m"]["sts"].metrics["main_score"] == pytest.approx(1.0)
    assert json.loads(path.read_text())["metrics"]["main_score"] == pytest.approx(1.0)  # rewritten


# ---- CLI ----------------------------------------------------------------------------------------------
@pytest.fixture
def fakes(monkeypatch):
    """Models by name for the CLI: the loader is replaced, unknown names fail like load_model."""
    models = {"topic": TopicEmbedder(), "random": CountingEmbedder(key="random"),
              "random16": CountingEmbedder(dim=16, key="random16")}

    def loader(name):
        if name not in models:
            raise ModelLoadError(f"Unknown model {name!r}.")
        return models[name]

    monkeypatch.setattr(runner, "default_loader", loader)
    return models


@pytest.fixture
def topics_file(tmp_path):
    path = tmp_path / "topics.csv"
    frame = topic_corpus()
    frame.loc[len(frame)] = {"text": "", "label": "cooking"}  # skipped: no text
    frame.loc[len(frame)] = {"text": "A galaxy and a comet.", "label": ""}  # skipped: no label
    frame.rename(columns={"label": "topic"}).to_csv(path, index=False)
    return path


def test_cli_eval_clustering(capsys, fakes, topics_file):
    code, out, err = run(capsys, "eval", "clustering", "--model", "topic", "--data", topics_file,
                         "--label-column", "topic", "--run-size", 300, "--json")
    record = json.loads(out)
    assert code == 0 and "Skipped 2 row(s)" in err
    assert record["metrics"]["main_score"] == pytest.approx(1.0) and record["metrics"]["n_documents"] == 60
    assert record["task"]["kind"] == "clustering" and record["data"] == "topics.csv" and record["cached"] is False
    code, out, _ = run(capsys, "eval", "clustering", "--model", "random", "--data", topics_file,
                       "--label-column", "topic", "--run-size", 300, "--runs", 3, "--json")
    texts, labels = corpus()
    expected = clustering_scores(CountingEmbedder().encode(texts), labels, run_size=300, n_runs=3)
    assert json.loads(out)["metrics"]["n_runs"] == 3
    assert json.loads(out)["metrics"]["v_measure"] == pytest.approx(expected["v_measure"], abs=TOL)
    code, out, _ = run(capsys, "eval", "clustering", "--model", "topic", "--data", topics_file,
                       "--label-column", "topic", "--run-size", 300)
    assert code == 0 and "V-measure  1.0000" in out and "(cached result)" in out


def test_cli_eval_classification_file_test_file_and_bbc(capsys, fakes, topics_file, tmp_path):
    code, out, _ = run(capsys, "eval", "classification", "--model", "topic", "--data", topics_file,
                       "--label-column", "topic", "--json")
    record = json.loads(out)
    assert code == 0 and record["metrics"]["accuracy"] == 1.0 and record["task"]["size"]["train"] == 30
    test_file = tmp_path / "test.jsonl"
    pd.DataFrame({"text": ["The chef bakes garlic bread in the oven.", "The keeper saved the penalty."],
                  "topic": ["cooking", "astronomy"]}).to_json(test_file, orient="records", lines=True)
    code, out, _ = run(capsys, "eval", "classification", "--model", "topic", "--data", topics_file,
                       "--label-column", "topic", "--test-data", test_file)
    assert code == 0 and "accuracy         0.5000" in out  # the football text labelled astronomy is wrong
    code, out, _ = run(capsys, "eval", "classification", "--model", "random", "--data", "bbc", "--json")
    record = json.loads(out)
    assert code == 0 and record["task"]["name"] == "bbc-classification"
    assert record["task"]["data_key"] == B.bundled_task("bbc-classification").data_key  # shares the bench cache
    assert 0.1 < record["metrics"]["accuracy"] < 0.5  # a random encoder is near chance (5 topics)


def test_cli_eval_pair_classification(capsys, monkeypatch, tmp_path):
    cosines = [0.9, 0.8, 0.3, 0.2]
    table = {f"s{i}": [1.0, 0.0] for i in range(4)} | {f"t{i}": [c, math.sqrt(1 - c * c)] for i, c in enumerate(cosines)}
    monkeypatch.setattr(runner, "default_loader", lambda name: TableEmbedder(table, name=name))
    path = tmp_path / "pairs.tsv"
    pd.DataFrame({"left": [f"s{i}" for i in range(4)], "right": [f"t{i}" for i in range(4)],
                  "dup": [1, 0, 1, 0]}).to_csv(path, sep="\t", index=False)
    code, out, _ = run(capsys, "eval", "pair-classification", "--model", "t", "--data", path, "--col1", "left",
                       "--col2", "right", "--label", "dup", "--json")
    record = json.loads(out)
    assert code == 0 and record["metrics"]["main_score"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-6)
    assert record["metrics"]["cosine_accuracy"] == pytest.approx(0.75) and record["task"]["size"]["pairs"] == 4
    code, out, _ = run(capsys, "eval", "pair-classification", "--model", "t", "--data", path, "--col1", "left",
                       "--col2", "right", "--label", "dup")
    assert code == 0 and "max AP   0.8333" in out


def test_cli_eval_dedup(capsys, monkeypatch, tmp_path):
    table = {"a": unit(0), "b": unit(10), "c": unit(90), "d": unit(180), "e": unit(185)}
    monkeypatch.setattr(runner, "default_loader", lambda name: TableEmbedder(table, name=name))
    path = tmp_path / "docs.csv"
    pd.DataFrame({"body": ["a", "b", "", "c", "d", "e"]}).to_csv(path, index=False)  # row 2 is empty
    code, out, err = run(capsys, "eval", "dedup", "--model", "t", "--data", path, "--text-column", "body",
                         "--threshold", 0.95, "--json")
    record = json.loads(out)
    assert code == 0 and "1 empty" in err
    assert record["metrics"]["groups"] == [[0, 1], [3, 4]] and record["metrics"]["duplicate_share"] == pytest.approx(0.4)
    assert record["groups"] == [{"rows": [0, 1], "texts": ["a", "b"]}, {"rows": [4, 5], "texts": ["d", "e"]}]
    code, out, _ = run(capsys, "eval", "dedup", "--model", "t", "--data", path, "--text-column", "body",
                       "--threshold", 0.95, "--show", 1)
    assert code == 0 and "2 group(s) at cosine >= 0.95" in out and "rows 0, 1" in out and "rows 4, 5" not in out
    assert "1 more group(s)" in out


def test_cli_bench_table_json_csv_and_cache(capsys, fakes, tmp_path):
    from embedlab.bundled import lee_sts
    from embedlab.evaluation.sts import evaluate_sts

    lee = lee_sts()
    expected = {name: evaluate_sts(CountingEmbedder(dim=dim), lee.sentences1, lee.sentences2, lee.scores).cosine_spearman
                for name, dim in (("random", 8), ("random16", 16))}
    assert expected["random"] != expected["random16"]
    out_csv = tmp_path / "board.csv"
    code, out, _ = run(capsys, "bench", "--models", "random,random16", "--tasks", "lee-sts", "--json", "--csv", out_csv)
    data = json.loads(out)
    assert code == 0 and [t["name"] for t in data["tasks"]] == ["lee-sts"]
    scores = {row["model"]: row["scores"]["lee-sts"] for row in data["leaderboard"]}
    assert scores == pytest.approx(expected, abs=1e-9)
    assert [row["model"] for row in data["leaderboard"]] == sorted(expected, key=expected.get, reverse=True)
    assert all(row["average"] == row["scores"]["lee-sts"] and row["errors"] == {} for row in data["leaderboard"])
    assert data["results"]["random"]["lee-sts"]["metrics"]["n_pairs"] == 1225
    csv = pd.read_csv(out_csv, index_col="model")
    assert csv.loc["random", "lee-sts"] == pytest.approx(expected["random"]) and "seconds" in csv.columns

    fakes["random"].calls.clear()
    code, out, _ = run(capsys, "bench", "--models", "random,random16", "--tasks", "lee-sts")
    assert code == 0 and "(2 of 2 results from the cache)" in out and fakes["random"].calls == []
    assert f"{expected['random']:.4f}" in out and "lee-sts" in out


def test_cli_bench_partial_failure_prints_results_and_exits_2(capsys, fakes):
    code, out, err = run(capsys, "bench", "--models", "random,ghost", "--tasks", "lee-sts", "--json")
    data = json.loads(out)
    assert code == 2
    assert [row["model"] for row in data["leaderboard"]] == ["random", "ghost"]
    assert data["leaderboard"][1]["errors"] == {"load": "Unknown model 'ghost'."}
    assert err.strip() == "error: ghost: loading: Unknown model 'ghost'."


@pytest.mark.parametrize("argv, message", [
    (["bench", "--models", "random", "--tasks", "lee-sts,mteb"], "Unknown task(s) 'mteb'"),
    (["bench", "--models", " , ", "--tasks", "lee-sts"], "No model given: name at least one model"),
    (["eval", "clustering", "--model", "topic", "--data", "missing.csv"], "File not found"),
    (["eval", "clustering", "--model", "topic", "--data", "{topics}"], "'label' not found"),
    (["eval", "clustering", "--model", "ghost", "--data", "{topics}", "--label-column", "topic"], "Unknown model 'ghost'"),
    (["eval", "classification", "--model", "topic", "--data", "{topics}", "--label-column", "topic",
      "--test-size", "1.5"], "strictly between 0 and 1"),
    (["eval", "pair-classification", "--model", "topic", "--data", "{pairs}"], "must be 0 (not a pair) or 1"),
    (["eval", "pair-classification", "--model", "topic", "--data", "{pairs}", "--label", "nope"], "'nope' not found"),
    (["eval", "dedup", "--model", "topic", "--data", "{topics}", "--threshold", "1.5"], "within [-1, 1]"),
    (["eval", "dedup", "--model", "topic", "--data", "{topics}", "--text-column", "body"], "'body' not found"),
])
def test_cli_bad_input_exits_2_with_one_error_line(capsys, fakes, topics_file, tmp_path, argv, message):
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": [1, 2]}).to_csv(pairs, index=False)
    argv = [a.format(topics=topics_file, pairs=pairs) for a in argv]
    code, out, err = run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert lines[-1].startswith("error: ") and message in lines[-1], err
    assert [line for line in lines if not line.startswith("warning: ")] == lines[-1:]  # one error line


def test_cli_bench_real_bad_model_name(capsys):
    """The real loader (no fakes): an unknown name is an error entry and exit 2, not a traceback."""
    code, _, err = run(capsys, "bench", "--models", "no-such-model", "--tasks", "lee-sts")
    assert code == 2 and "error: no-such-model: loading: Unknown model 'no-such-model'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["eval", "clustering", "--runs", "0"], "n_runs must be a positive integer"),
    (["eval", "clustering", "--max-fraction", "2"], "max_fraction must be in (0, 1]"),
    (["eval", "clustering", "--max-fraction", "0.5", "--max-documents", "10"], "not both"),
    (["eval", "classification", "--experiments", "0"], "n_experiments must be a positive integer"),
    (["eval", "classification", "--samples-per-label", "-1"], "samples_per_label must be a positive integer"),
])
def test_cli_checks_options_before_any_model_loads(capsys, monkeypatch, topics_file, argv, message):
    monkeypatch.setattr(runner, "default_loader", lambda name: pytest.fail("a model was loaded"))
    code, out, err = run(capsys, *argv, "--model", "topic", "--data", topics_file, "--label-column", "topic")
    assert code == 2 and message in err.strip().splitlines()[-1]


def test_cli_eval_sts_checks_pairs_before_the_model_loads(capsys, monkeypatch, tmp_path):
    import embedlab.models

    monkeypatch.setattr(embedlab.models, "load_model", lambda name: pytest.fail("a model was loaded"))
    path = tmp_path / "flat.csv"
    pd.DataFrame({"sentence1": ["a", "b", "c"], "sentence2": ["d", "e", "f"], "score": [1, 1, 1]}).to_csv(path, index=False)
    code, _, err = run(capsys, "eval", "sts", "--model", "minilm", "--data", path)
    assert code == 2 and "All gold scores are equal" in err


@pytest.mark.slow
def test_bench_wordllama_lee_sts_smoke(capsys):
    from embedlab import load_model
    from embedlab.bundled import lee_sts
    from embedlab.evaluation.sts import evaluate_sts

    code, out, _ = run(capsys, "bench", "--models", "wordllama", "--tasks", "lee-sts", "--json")
    data = json.loads(out)
    (row,) = data["leaderboard"]
    lee = lee_sts()
    direct = evaluate_sts(load_model("wordllama", cache=False), lee.sentences1, lee.sentences2, lee.scores)
    assert code == 0 and row["model"] == "wordllama"
    assert row["scores"]["lee-sts"] == pytest.approx(direct.cosine_spearman, abs=1e-5)
    assert 0.3 < row["scores"]["lee-sts"] < 0.9  # 0.55 when written; chance is 0
    code, out, _ = run(capsys, "bench", "--models", "wordllama", "--tasks", "lee-sts")
    assert code == 0 and "(1 of 1 results from the cache)" in out


def test_cli_eval_clustering_max_fraction_embeds_a_subset(capsys, fakes, topics_file):
    code, out, _ = run(capsys, "eval", "clustering", "--model", "topic", "--data", topics_file,
                       "--label-column", "topic", "--run-size", 300, "--max-fraction", 0.5, "--json")
    assert code == 0 and json.loads(out)["metrics"]["n_documents"] == 30  # half of the 60 usable texts
