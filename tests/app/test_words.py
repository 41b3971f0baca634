"""Words a newcomer understands, through the pages' widgets: the glossary's definitions on the named
widgets, the Home page's start-here path, opt-in reranking with its cost, the Retrieval lab's one
query box, the Models table without "None" cells, and the Benchmark page's running board."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from embedlab.models.throughput import Throughput
from tests.app.views import open_view
from ui import glossary

pytestmark = pytest.mark.slow

WIDGET_KINDS = ("selectbox", "multiselect", "slider", "select_slider", "number_input", "toggle", "radio",
                "text_input", "checkbox")
# Page -> widget key -> the glossary terms its tooltip must define.
NAMED = {
    "explorer": {"exp_method": ["UMAP", "PCA"], "exp_neighbors": ["n_neighbors"], "exp_min_dist": ["min_dist"],
                 "exp_metric": ["UMAP metric"], "exp_mcs": ["HDBSCAN", "min_cluster_size"],
                 "exp_ms": ["min_samples"], "exp_space": ["cluster space"]},
    "retrieval": {"ret_bm25": ["BM25"], "ret_hybrid": ["RRF"], "ret_depth": ["rerank depth"],
                  "ret_reranker": ["reranker: maxsim", "reranker: qlm", "reranker: llm", "reranker: cross-encoder"]},
    "similarity": {"sim_models": [f"pooling: {m}" for m in glossary.POOLING], "sim_center": ["mean-centering"],
                   "sim_geometry_source": ["anisotropy", "top-PC variance"]},
    "finetune": {"ft_loss_trainer": ["loss: mnrl", "loss: triplet", "loss: cosent"], "ft_scale": ["temperature"]},
    "finetune-loop": {"ft_loss_loop": ["loss: infonce", "loss: triplet"], "ft_temp": ["temperature"],
                      "ft_lora": ["LoRA"], "ft_pooling": [f"pooling: {m}" for m in glossary.POOLING]},
    "models": {"models_add_pooling": [f"pooling: {m}" for m in glossary.POOLING]},
}
LIGHT_STATE = {"similarity": {"sim_models": ["wordllama"]}, "retrieval": {"ret_models": ["wordllama"]}}


def widget(at: AppTest, key: str):
    for kind in WIDGET_KINDS:
        for element in getattr(at, kind):
            if element.key == key:
                return element
    raise AssertionError(f"no widget with key {key!r}")


@pytest.mark.parametrize("view", list(NAMED))
def test_named_widgets_explain_their_terms(view):
    page = view.split("-")[0]
    at = open_view(page, **LIGHT_STATE.get(page, {}))
    if view == "finetune-loop":
        at.radio(key="ft_workflow").set_value("Hand-rolled PyTorch loop").run()
        at.selectbox(key="ft_loss_loop").set_value("infonce").run()
        assert not at.exception
    for key, terms in NAMED[view].items():
        tip = widget(at, key).help
        missing = [t for t in terms if glossary.define(t) not in tip]
        assert not missing, f"{view}: {key} does not define {missing}"


def test_home_shows_a_start_here_path_through_all_six_pages():
    at = open_view("home")
    assert any(s.value == "Start here" for s in at.subheader)
    links = at.page_link
    steps = [link.value.split("**")[1] for link in links]
    assert steps == ["1. Models", "2. Similarity", "3. Corpus explorer", "4. Retrieval lab", "5. Fine-tuning",
                     "6. Benchmark"]
    for link in links:
        what = link.value.split(" — ", 1)[1]
        assert len(what) > 40 and "\n" not in what  # one line saying what to do there
    assert [link.proto.page for link in links] == [  # each link opens its page (the URL path)
        "models", "similarity", "explorer", "retrieval", "finetune", "benchmark"]


def lab(**state) -> AppTest:
    return open_view("retrieval", ret_models=["wordllama"], **state)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_reranking_is_off_until_chosen_and_its_cost_is_said():
    at = lab()
    assert at.selectbox(key="ret_reranker").value == "none"
    assert "No reranking" in captions(at)
    at.selectbox(key="ret_reranker").set_value("maxsim:mpnet").run()  # never measured in this process
    assert "re-reads every candidate for every query (20 per query here)" in captions(at)
    # With the Models page's measurement of the model the reranker runs on, a number appears.
    rate = Throughput(dim=576, parameters=135_000_000, load_seconds=0.5, max_seq_length=512, short_per_s=40.0,
                      long_per_s=4.0, truncated_share=0.0)
    at.session_state["models_measured"] = {"smollm2": rate}
    at.selectbox(key="ret_reranker").set_value("qlm:smollm2").run()
    assert ("qlm:smollm2** costs about 5.0 s per query at depth 20 (from smollm2's 4.0 articles/s measured on the "
            "Models page); about 25 min 00 s for 300 queries") in captions(at)


def test_a_used_reranker_shows_its_measured_cost():
    at = lab(ret_reranker="maxsim:minilm", ret_depth=6)
    at.text_input(key="ret_query").input("Yukos unit buyer faces loan claim").run()  # reranks 6 documents
    assert not at.exception and not at.error
    at.run()  # the next run reads the time the search spent
    note = next(c.value for c in at.caption if c.value.startswith("**maxsim:minilm** costs about"))
    assert "per query at depth 6 (measured here:" in note and "documents in" in note


def result_tables(at: AppTest) -> list[pd.DataFrame]:
    return [f.value for f in at.dataframe if "rank" in f.value.columns]


def test_a_picked_query_fills_the_box_and_typing_replaces_it():
    at = lab()
    query = "Yukos unit buyer faces loan claim"  # one of the BBC titles: its relevance is known
    at.selectbox(key="ret_pick").set_value(query).run()
    assert not at.exception
    assert at.text_input(key="ret_query").value == query  # the box shows what is searched
    assert at.selectbox(key="ret_pick").value == "(type your own)"  # the pick is not kept to override it
    assert all("relevant" in t.columns for t in result_tables(at))
    at.text_input(key="ret_query").input("football transfer window").run()
    tables = result_tables(at)
    assert tables and all("relevant" not in t.columns for t in tables)  # no judgements for a typed query
    assert at.session_state["ret_last_search"]["query"] == "football transfer window"


def styled_cells(frame) -> pd.DataFrame:
    """What st.dataframe shows for a Styler: its display values."""
    import pyarrow as pa

    return pa.ipc.open_stream(frame.proto.arrow_data.styler.display_values).read_pandas()


def test_models_table_shows_dashes_not_none_and_explains_pooling():
    at = open_view("models")
    catalog = next(f for f in at.dataframe if "pooling" in f.value.columns)
    shown = styled_cells(catalog)
    text = shown.astype(str)
    assert not text.isin(["None", "nan", "NaN", "<NA>"]).any().any()
    assert shown.loc["minilm", "load s"] == "—" and shown.loc["minilm", "dim"] == "384"  # not measured yet
    assert catalog.value["load s"].isna().all()  # the data underneath stays empty, not a made-up number
    columns = json.loads(catalog.proto.columns)
    assert glossary.define("pooling: cls") in columns["pooling"]["help"]


def test_benchmark_board_keeps_results_from_earlier_runs(tmp_home):
    from embedlab.evaluation.bench.cache import ResultCache

    ResultCache().put("ab" + "0" * 62, {  # a result computed earlier, e.g. by `embedlab bench`
        "metrics": {"main_score": 0.5}, "seconds": 3.21, "model": "earlier-model", "saved": "2024-05-01T09:30:00+00:00",
        "task": {"name": "lee-sts", "kind": "sts", "main_metric": "main_score"}})
    at = open_view("benchmark", bench_models=["wordllama"], bench_tasks=["lee-sts"])
    board = next(f.value for f in at.dataframe if "last run" in f.value.columns)
    assert list(board.index) == ["earlier-model"] and board.loc["earlier-model", "lee-sts"] == 0.5
    from tests.app.test_benchmark_page import run_and_wait

    at = run_and_wait(at)
    board = next(f.value for f in at.dataframe if "last run" in f.value.columns)
    assert list(board.index) == ["wordllama", "earlier-model"]  # the new run first, the earlier one kept
    assert 0 < board.loc["wordllama", "lee-sts"] < 1 and board.loc["earlier-model", "lee-sts"] == 0.5
    rows = next(f.value for f in at.dataframe if "saved" in f.value.columns)
    assert rows.loc[rows["model"] == "earlier-model", "seconds"].tolist() == ["3.2 s"]
