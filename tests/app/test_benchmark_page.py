"""Benchmark page through its widgets: a leaderboard run in the background, cached re-runs, a task
from an uploaded file, bad uploads."""

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.views import open_view, run_job

pytestmark = pytest.mark.slow


def page(**values) -> AppTest:
    return open_view("benchmark", **values)


def run_and_wait(at: AppTest) -> AppTest:
    return run_job(at, "bench_run")


def leaderboard(at: AppTest) -> pd.DataFrame:
    return next(f.value for f in at.dataframe if "average" in f.value.columns)


def pareto_chart(at: AppTest) -> dict:
    """The quality-vs-speed figure's plotly JSON."""
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(c for c in charts if any(t.get("name") == "Pareto front" for t in c["data"]))


def test_leaderboard_cached_rerun_and_exports(tmp_home):
    from embedlab.evaluation import bench
    from embedlab.models import load_model

    at = page(bench_models=["wordllama", "no-such-model"], bench_tasks=["lee-sts", "bbc-classification"])
    at = run_and_wait(at)
    table = leaderboard(at)
    assert list(table.columns) == ["lee-sts", "bbc-classification", "average", "seconds", *bench.COST_COLUMNS,
                                   "pareto"]
    assert table.loc["wordllama", "texts/s"] > 0 and table.loc["wordllama", "params M"] > 0
    assert table.loc["wordllama", "pareto"] and not table.loc["no-such-model", "pareto"]
    scatter = pareto_chart(at)
    names = [t for t in scatter["data"] if t.get("mode") == "markers+text"][0]
    assert names["text"] == ["wordllama"] and names["x"] == [pytest.approx(table.loc["wordllama", "texts/s"])]
    assert scatter["layout"]["xaxis"]["type"] == "log"
    assert any("On the front" in c.value and "wordllama" in c.value for c in at.caption)
    direct = bench.run_task(load_model("wordllama"), bench.bundled_task("lee-sts"), cache=False)
    assert table.loc["wordllama", "lee-sts"] == pytest.approx(direct.metrics["main_score"], abs=1e-9)
    assert table.loc["wordllama", "average"] == pytest.approx(table.loc["wordllama", ["lee-sts", "bbc-classification"]].mean())
    assert any("no-such-model" in e.value and "Unknown model" in e.value for e in at.error)
    assert any("0 from the cache" in c.value for c in at.caption)
    assert {b.label for b in at.get("download_button")} == {"Download CSV", "Download JSON"}
    at = run_and_wait(at)  # the same run again: every result from the cache
    assert any("2 results, 2 from the cache" in c.value for c in at.caption)
    assert leaderboard(at).loc["wordllama", "lee-sts"] == table.loc["wordllama", "lee-sts"]
    assert leaderboard(at).loc["wordllama", "texts/s"] == table.loc["wordllama", "texts/s"]  # kept in the cache


def test_task_from_an_uploaded_file_and_bad_uploads(tmp_home):
    at = page(bench_models=["wordllama"], bench_tasks=[])
    assert any("Pick at least one task" in i.value for i in at.info)
    assert at.button(key="bench_run").disabled
    pairs = pd.DataFrame({"sentence1": ["a cat sat", "stocks fell", "the match was won", "rain is coming"],
                          "sentence2": ["a cat was sitting", "markets dropped", "a recipe for soup", "sunny skies"],
                          "score": [4.8, 4.5, 0.2, 1.0]})
    at.session_state["bench_upload_kept"] = ("mine.csv", pairs.to_csv(index=False).encode())
    at.run()
    at.button(key="bench_add").click().run()
    assert not at.exception
    assert any("**mine** (sts)" in m.value for m in at.markdown)
    at = run_and_wait(at)
    score = leaderboard(at).loc["wordllama", "mine"]
    assert -1.0 <= score <= 1.0
    # near-duplicates need a text column; a broken file says what is wrong
    at.session_state["bench_upload_kept"] = ("bad.csv", b'text,label\n"unclosed,1\n')
    at.run()
    assert any("Could not read bad.csv" in e.value for e in at.error)
    at.selectbox(key="bench_kind").set_value("Classification probe (text, label)")
    at.session_state["bench_upload_kept"] = ("one.csv", b"text,label\nonly one,a\nanother,a\n")
    at.run()
    assert any("cannot make a classification task" in e.value for e in at.error)
    # rows the task cannot use are left out, and the page says so
    at.selectbox(key="bench_kind").set_value("Near-duplicates (text)")
    at.session_state["bench_upload_kept"] = ("docs.csv", b"text,n\nfirst text,1\n,2\nsecond text,3\n")
    at.run()
    assert not at.exception and any("Skipped" in w.value and "empty" in w.value for w in at.warning)
    at.text_input(key="bench_task_name").set_value("docs")
    at.button(key="bench_add").click().run()
    assert at.session_state["bench_texts"]["docs"] == ["first text", "second text"]


def test_an_upload_refuses_codes_or_numbers_as_its_text_column(tmp_home):
    at = page(bench_models=["wordllama"], bench_tasks=[])
    at.selectbox(key="bench_kind").set_value("Clustering (text, label)")
    rows = pd.DataFrame({"sku": ["A12", "B7", "C3", "D4"], "price": ["1.5", "2", "3", "4"],
                         "text": ["a red wool scarf", "blue running shoes", "a green wool hat", "white shoes"],
                         "label": ["wear", "shoes", "wear", "shoes"]})
    at.session_state["bench_upload_kept"] = ("shop.csv", rows.to_csv(index=False).encode())
    at.run()
    assert not at.error and at.button(key="bench_add")  # the text column is usable as it stands
    at.selectbox(key="bench_c1").set_value("sku").run()
    assert [e.value for e in at.error] == ["This file cannot make a clustering task: Column 'sku' of shop.csv holds "
                                           "short codes such as 'A12', 'B7', not text to embed; pick a text column: "
                                           "text, label."]
    at.selectbox(key="bench_c1").set_value("price").run()
    assert "'price' of shop.csv holds numbers, not text" in at.error[0].value


def test_vectors_uploaded_with_a_task_join_the_leaderboard_on_that_task(tmp_home):
    import io

    import numpy as np

    from tests.fakes import topic_corpus

    corpus = topic_corpus(n_per=15)
    corpus.loc[4, "text"] = ""  # a skipped row: its vector drops out with it
    rng = np.random.default_rng(0)
    centre = {label: 5.0 * np.eye(8)[i] for i, label in enumerate(sorted(set(corpus["label"])))}
    vectors = np.stack([centre[l] for l in corpus["label"]]) + rng.normal(scale=0.2, size=(len(corpus), 8))
    out = io.BytesIO()
    np.save(out, vectors)
    at = page(bench_models=["wordllama"], bench_tasks=["lee-sts"], bench_kind="Clustering (text, label)")
    at.session_state["bench_upload_kept"] = ("topics.csv", corpus.to_csv(index=False).encode())
    at.run()
    assert any("Bundled tasks cannot use uploaded vectors" in c.value for c in at.caption)
    at.file_uploader(key="bench_vec_upload").set_value(("topics.npy", out.getvalue(), "application/octet-stream")).run()
    assert not at.error and any("45 vectors of 8 dimensions" in c.value for c in at.caption)
    at.text_input(key="bench_task_name").set_value("topics")
    at.button(key="bench_add").click().run()
    assert any("**vectors:topics.npy** (topics)" in c.value for c in at.caption)
    at = run_and_wait(at)
    assert not at.exception and not at.error
    board = leaderboard(at)
    assert set(board.index) == {"wordllama", "vectors:topics.npy"}
    mine = board.loc["vectors:topics.npy"]
    assert mine["topics"] > 0.95  # three clean topics
    assert np.isnan(mine["lee-sts"]) and np.isnan(mine["average"])  # not run on a bundled task
    assert np.isnan(mine["texts/s"]) and np.isnan(mine["params M"]) and not mine["pareto"]
    assert board.loc["wordllama", "texts/s"] > 0
    assert any("vectors:topics.npy: uploaded vectors" in c.value for c in at.caption)
    at.selectbox(key="bench_kind").set_value("STS (sentence1, sentence2, score)")
    at.session_state["bench_upload_kept"] = ("pairs.csv", b"sentence1,sentence2,score\na cat,a kitten,4\nrain,sun,1\nsoup,stew,3\n")
    at.run()
    assert any("a pair task would need two vectors per row" in c.value for c in at.caption)
