"""Search, evaluation and the benchmark task over a real LanceDB collection, with known vectors: the
answers are worked out by hand from them."""

import math
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest

from embedlab.errors import DataError
from embedlab.evaluation.bench.collection_task import collection_models, collection_task
from embedlab.store.collection import Collection, ModelEntry, column_for
from embedlab.store.evaluate import evaluate_collection, judged_documents
from embedlab.store.search import search_timed
from tests.fakes import TableEmbedder

DIM = 6
TEXTS = ["alpha cats", "beta dogs", "gamma rates", "delta goals", "epsilon oil", "zeta films"]
QRELS = b"query-id\tcorpus-id\tscore\nq0\td0\t1\nq1\td5\t1\n"
QUERIES = b'{"_id": "q0", "text": "first question"}\n{"_id": "q1", "text": "beta"}\n'


class KeyedEmbedder(TableEmbedder):
    """Fixed vectors, and the spec and fingerprint a collection checks a model by."""

    def __init__(self, table, key="fp-1"):
        super().__init__(table, name="table")
        self.spec = SimpleNamespace(name="table")
        self.key = key

    def cache_key(self, role):
        return self.key

    def encode(self, texts, *, role="document", batch_size=32, progress=None, normalize=True):
        out = super().encode(texts, role=role, normalize=normalize)
        if progress:
            progress(len(out), len(out))
        return out


def one_hot(i, lean=None):
    v = np.zeros(DIM)
    v[i] = 1.0
    if lean is not None:
        v[lean] = 0.5
    return v.tolist()


@pytest.fixture
def model():
    # d0..d5 are the axes; "first question" is d0 leaning to d1; "beta" is d0 leaning to d5 (its words match d1).
    table = {t: one_hot(i) for i, t in enumerate(TEXTS)}
    table.update({"first question": one_hot(0, lean=1), "beta": one_hot(0, lean=5)})
    return KeyedEmbedder(table)


@pytest.fixture
def collection(tmp_path, model):
    found = Collection.open(tmp_path / "c", create=True)
    found.add_rows(pa.table({"id": [f"d{i}" for i in range(DIM)], "text": TEXTS, "text_hash": TEXTS,
                             "topic": ["pets", "pets", "money", "sport", "money", "film"]}))
    entry = found.register(ModelEntry("table", column_for("table"), "fp-1", DIM, "static", "none", "test", "{}", 0.0))
    found.write_vectors(entry, [f"d{i}" for i in range(DIM)], model.encode(TEXTS))
    found.build_indexes([entry])  # the full-text index (six rows are too few for an ANN index)
    return found


def test_search_finds_the_nearest_with_the_other_columns_and_its_time(collection, model):
    [found] = search_timed(collection, model, ["first question"], k=2, columns=["id", "text", "topic"])
    assert found.pipeline == "exact"  # no ANN index below ANN_MIN_ROWS
    assert found.frame["id"].tolist() == ["d0", "d1"] and found.frame["topic"].tolist() == ["pets", "pets"]
    assert found.frame["score"].tolist() == pytest.approx([1 / math.sqrt(1.25), 0.5 / math.sqrt(1.25)], abs=1e-5)
    assert found.seconds > 0 and found.embed_seconds > 0


def test_hybrid_fuses_the_vector_and_the_full_text_ranking(collection, model):
    [found] = search_timed(collection, model, ["beta"], k=3, hybrid=True)
    assert found.pipeline == "hybrid (exact + full-text)"
    # Vector: d0, d5, then d1..d4 (tied at 0, ranks 3 to 6); full text: d1 only. RRF (c = 60): d0 1/61,
    # d5 1/62, d1 1/61 + 1/63..1/66: first.
    assert found.frame["id"].tolist() == ["d1", "d0", "d5"]
    assert found.frame["score"].tolist()[1:] == pytest.approx([1 / 61, 1 / 62])
    assert 1 / 61 + 1 / 66 <= found.frame["score"].iloc[0] <= 1 / 61 + 1 / 63


def test_a_model_with_other_weights_is_refused(collection, model):
    model.key = "fp-2"
    with pytest.raises(DataError, match="other weights or settings"):
        search_timed(collection, model, ["beta"])


def test_judged_documents_the_collection_lacks_are_said_or_refused(collection):
    assert judged_documents(collection, {"q0": {"d0": 1}}) == []
    assert judged_documents(collection, {"q0": {"d0": 1}, "q1": {"x'1": 1, "d2": 0}}) == [
        "1 of the 2 relevant documents are not in the collection: the queries that need them cannot find them."]
    with pytest.raises(DataError, match="None of the 1 relevant documents"):
        judged_documents(collection, {"q0": {"elsewhere": 1}})


def test_evaluation_scores_each_query_and_reports_progress_and_latency(collection, model):
    seen = []
    result = evaluate_collection(collection, model, ("q.jsonl", QUERIES), ("t.tsv", QRELS),
                                 progress=lambda what, done, total: seen.append((what, done, total)))
    # q0 finds d0 first (1.0); q1's d5 comes second (1 / log2(3)).
    assert result.results["table (exact)"]["nDCG@10"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert seen[0] == ("embedding the queries", 2, 2) and seen[-1] == ("searching the collection", 2, 2)
    table = result.table()
    assert list(table.index) == ["table (exact)"] and table.index.name == "pipeline"
    assert table.loc["table (exact)", "p95 ms"] >= table.loc["table (exact)", "p50 ms"] > 0
    assert result.recall_at_10_vs_exact is None  # nothing approximate to compare


def test_benchmark_task_runs_evaluate_collection_and_is_keyed_by_the_collection_version(collection, model):
    task = collection_task("mine", collection.uri, ("q.jsonl", QUERIES), ("t.tsv", QRELS))
    metrics = task.run(model)
    assert metrics["main_score"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert metrics["n_queries"] == 2 and metrics["n_documents"] == DIM and metrics["p95 ms"] >= metrics["p50 ms"]
    assert sorted(task.speed_texts) == sorted(TEXTS) and collection_models(collection) == ["table"]
    again = collection_task("mine", collection.uri, ("q.jsonl", QUERIES), ("t.tsv", QRELS))
    assert again.data_key == task.data_key
    collection.add_rows(pa.table({"id": ["d6"], "text": ["eta"], "text_hash": ["eta"], "topic": ["x"]}))
    grown = collection_task("mine", collection.uri, ("q.jsonl", QUERIES), ("t.tsv", QRELS))
    assert grown.data_key != task.data_key  # new rows: the cached results no longer hold


def test_benchmark_task_refuses_what_cannot_run(tmp_path, collection):
    with pytest.raises(DataError, match="No query has a relevant document"):
        collection_task("mine", collection.uri, ("q.jsonl", b'{"_id": "x", "text": "y"}\n'), ("t.tsv", QRELS))
    empty = Collection.open(tmp_path / "e", create=True)
    empty.add_rows(pa.table({"id": ["d0"], "text": ["alpha"], "text_hash": ["alpha"]}))
    with pytest.raises(DataError, match="has no vectors yet"):
        collection_task("mine", empty.uri, ("q.jsonl", QUERIES), ("t.tsv", b"query-id\tcorpus-id\tscore\nq0\td0\t1\n"))
