"""The Retrieval lab and the Benchmark page on a collection: a real LanceDB collection of BBC titles
(MiniLM and wordllama vectors, an ANN index and a full-text index) built once in a temporary data folder,
searched and evaluated through the pages' widgets, bad input reported on the page."""

import json

import numpy as np
import pytest

from embedlab.models import load_model
from embedlab.store.collection import ANN_MIN_ROWS, Collection
from embedlab.store.evaluate import evaluate_collection
from tests.app.views import open_view, run_job
from tests.bbc_collection import build, titles
from ui.bench_collection import KIND_TITLE
from ui.collections import TYPED
from ui.retrieval_collection import SOURCE

pytestmark = pytest.mark.slow

DOCS = 1_200  # above ANN_MIN_ROWS: the collection gets an ANN index, so ANN and exact both run
QUERIES = 40


@pytest.fixture(scope="module")
def bbc(tmp_path_factory):
    """A data folder holding the collection ``bbc``: BBC titles (id, text, category), and judgement files
    whose queries are the first sentence of an article, relevant = that article's title."""
    home = tmp_path_factory.mktemp("home")
    frame = titles(DOCS)
    picked = frame.sample(QUERIES, random_state=0)
    queries = "".join(json.dumps({"_id": f"q-{r.id}", "text": r.text.strip().split(". ")[0]}) + "\n"
                      for r in picked.itertuples()).encode()
    qrels = ("query-id\tcorpus-id\tscore\n" + "".join(f"q-{r.id}\t{r.id}\t1\n" for r in picked.itertuples())).encode()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMBEDLAB_HOME", str(home))
        build(home, frame, ["minilm", "wordllama"])
        yield {"home": home, "frame": frame, "queries": queries, "qrels": qrels,
               "collection": Collection.open("bbc")}


def lab(**state):
    at = open_view("retrieval", ret_source=SOURCE, **state)
    assert not at.error, [e.value for e in at.error]
    return at


def frames_with(at, column):
    return [f.value for f in at.dataframe if column in f.value.columns]


def upload(at, key, queries, qrels):
    at.file_uploader(key=f"{key}_queries").set_value(("queries.jsonl", queries, "application/json"))
    at.file_uploader(key=f"{key}_qrels").set_value(("test.tsv", qrels, "text/plain"))
    return at.run()


def test_the_collection_and_its_models_are_described(bbc):
    assert DOCS >= ANN_MIN_ROWS
    at = lab()
    assert at.selectbox(key="ret_coll_pick").value == "bbc"
    assert any(f"{DOCS:,} documents" in m.value and "minilm (1,200 vectors, ANN index)" in m.value
               and "full-text index: yes" in m.value and "category" in m.value for m in at.markdown)
    models = at.multiselect(key="ret_coll_models")
    assert models.options == ["minilm · ANN index", "wordllama · ANN index"] and models.value == ["minilm"]
    assert any("Type a query" in i.value for i in at.info)


def test_search_through_the_index_exact_and_hybrid(bbc):
    title, doc_id = bbc["frame"]["title"].iloc[321], bbc["frame"]["id"].iloc[321]
    at = lab(ret_coll_models=["minilm", "wordllama"])
    at.text_input(key="ret_coll_query").input(title)
    at.slider(key="ret_coll_k").set_value(5).run()
    assert not at.exception and not at.error
    hits = frames_with(at, "category")
    assert len(hits) == 2 and all(len(h) == 5 for h in hits)
    assert list(hits[0].columns) == ["rank", "score", "id", "text", "category"]
    assert all(h["id"].iloc[0] == doc_id and h["score"].iloc[0] > 0.99 for h in hits)  # the title finds itself
    assert all(h["score"].is_monotonic_decreasing for h in hits)
    assert [m.value for m in at.markdown if m.value.startswith("**")][-2:] == ["**minilm** · ANN",
                                                                               "**wordllama** · ANN"]
    assert sum("ms in the collection (5 results)" in c.value for c in at.caption) == 2
    at.toggle(key="ret_coll_exact").set_value(True)
    at.toggle(key="ret_coll_hybrid").set_value(True).run()
    assert not at.error
    assert "**minilm** · hybrid (exact + full-text)" in [m.value for m in at.markdown]
    fused = frames_with(at, "category")[0]
    assert fused["id"].iloc[0] == doc_id and fused["score"].iloc[0] == pytest.approx(2 / 61)  # first in both lists


def test_evaluate_uploaded_queries_ann_exact_and_hybrid(bbc):
    at = lab(ret_coll_models=["minilm"], ret_coll_hybrid=True)
    at = upload(at, "ret_coll", bbc["queries"], bbc["qrels"])
    assert not at.error
    assert any(f"each of the {QUERIES} judged queries is searched through the ANN index and exactly" in c.value
               for c in at.caption)
    run_job(at, "ret_coll_eval_go")
    assert not at.exception and not at.error
    table = frames_with(at, "nDCG@10")[0]
    assert list(table.index) == ["minilm (ANN)", "minilm (exact)", "hybrid(minilm + full-text)"]
    assert (table["queries"] == QUERIES).all()
    # The same numbers as the core computes for the same files.
    direct = evaluate_collection(bbc["collection"], load_model("minilm"), ("q.jsonl", bbc["queries"]),
                                 ("t.tsv", bbc["qrels"]), hybrid=True)
    for pipeline, metrics in direct.results.items():
        assert table.loc[pipeline, "nDCG@10"] == pytest.approx(metrics["nDCG@10"])
    assert table.loc["minilm (exact)", "nDCG@10"] > 0.5  # a first sentence finds its own title
    assert (table[["p50 ms", "p95 ms"]] > 0).all().all() and (table["p95 ms"] >= table["p50 ms"]).all()
    recall = next(c.value for c in at.caption if "ANN recall@10 against exact search" in c.value)
    assert f"**{direct.recall_at_10_vs_exact:.3f}**" in recall and "latency of minilm (ANN): p50" in recall


def test_bad_input_gets_a_clear_error(bbc, tmp_path, monkeypatch):
    # A model this collection has no vectors from (chosen earlier, e.g. for another collection).
    at = open_view("retrieval", ret_source=SOURCE, ret_coll_models=["mpnet", "minilm"])
    assert not at.exception
    assert any("no vectors from mpnet" in e.value for e in at.error)
    assert at.multiselect(key="ret_coll_models").value == ["minilm"]
    # Queries whose ids match no judgement, then judgements of documents the collection does not hold.
    at = upload(at, "ret_coll", b'{"_id": "nobody", "text": "a query"}\n', bbc["qrels"])
    assert not at.exception
    assert any("No query has a relevant document in the qrels" in e.value for e in at.error)
    assert not any(b.key == "ret_coll_eval_go" for b in at.button)
    at = upload(at, "ret_coll", bbc["queries"], b"query-id\tcorpus-id\tscore\n" + b"".join(
        f"q-{i}\tother-{i}\t1\n".encode() for i in bbc["frame"]["id"]))
    assert any(f"None of the {QUERIES} relevant documents in the qrels is in the collection" in e.value
               for e in at.error)
    # A typed folder that is no collection.
    at.selectbox(key="ret_coll_pick").set_value(TYPED).run()
    at.text_input(key="ret_coll_uri").input(str(tmp_path / "nothing")).run()
    assert not at.exception
    assert any("No collection at" in e.value for e in at.error)
    # No collection in the data folder at all.
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "empty"))
    at = open_view("retrieval", ret_source=SOURCE)
    assert any("No collection in the data folder yet" in i.value for i in at.info)


def test_benchmark_scores_the_collection_models_through_evaluate_collection(bbc):
    at = open_view("benchmark", bench_tasks=[], bench_models=["minilm", "minilm@cls"])
    at.selectbox(key="bench_kind").set_value(KIND_TITLE).run()
    assert not at.exception
    at = upload(at, "bench_coll", bbc["queries"], bbc["qrels"])
    assert not at.exception and not at.error
    assert at.text_input(key="bench_coll_name").value == "bbc (collection)"
    at.button(key="bench_coll_add").click().run()
    assert any("**bbc (collection)** (retrieval)" in m.value for m in at.markdown)
    assert any("left out: **minilm@cls** (bbc (collection))" in c.value for c in at.caption)
    run_job(at, "bench_run")
    assert not at.exception and not at.error
    board = frames_with(at, "average")[0]
    direct = evaluate_collection(bbc["collection"], load_model("minilm"), ("q.jsonl", bbc["queries"]),
                                 ("t.tsv", bbc["qrels"]))
    assert board.loc["minilm", "bbc (collection)"] == pytest.approx(direct.results["minilm (ANN)"]["nDCG@10"])
    assert np.isnan(board.loc["minilm@cls", "bbc (collection)"])  # no vectors of its own in the collection
    details = frames_with(at, "ANN recall@10 vs exact")[0]
    assert details.loc["minilm", "ANN recall@10 vs exact"] == pytest.approx(direct.recall_at_10_vs_exact)
    assert details.loc["minilm", "exact nDCG@10"] == pytest.approx(direct.results["minilm (exact)"]["nDCG@10"])


def test_the_collection_choices_are_kept_through_a_page_switch(bbc):
    at = lab(ret_coll_models=["wordllama", "minilm"])
    at.text_input(key="ret_coll_query").input("Yukos")
    at.slider(key="ret_coll_k").set_value(7)
    at.toggle(key="ret_coll_hybrid").set_value(True)
    at.toggle(key="ret_coll_exact").set_value(True).run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/retrieval.py").run()
    assert not at.exception and not at.error
    assert at.radio(key="ret_source").value == SOURCE and at.selectbox(key="ret_coll_pick").value == "bbc"
    assert at.multiselect(key="ret_coll_models").value == ["wordllama", "minilm"]
    assert at.text_input(key="ret_coll_query").value == "Yukos" and at.slider(key="ret_coll_k").value == 7
    assert at.toggle(key="ret_coll_hybrid").value and at.toggle(key="ret_coll_exact").value
    assert [len(f) for f in frames_with(at, "category")] == [7, 7]
