"""The "Prompts" control on the Similarity, Retrieval lab and Benchmark pages, driven through its widgets
with real wordllama (a static model: its prompts change its vectors, and it embeds in seconds)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.views import open_view, run_job
from ui import jobs

pytestmark = pytest.mark.slow

DOC_VARIANT = 'wordllama~d="Represent this text: "'
QUERY_VARIANT = 'wordllama~q="Represent this news headline for retrieving its article: "'


def frame_with(at: AppTest, column: str):
    return next(f.value for f in at.dataframe if column in f.value.columns)


def tick(at: AppTest, prefix: str, *modes: str, query: str = "", document: str = "") -> AppTest:
    """Set the control as a user does: the checkboxes, then the typed prompts."""
    for mode in ("own", "none", "typed"):
        at.checkbox(key=f"{prefix}_{mode}").set_value(mode in modes)
    at.run()
    if query:
        at.text_input(key=f"{prefix}_query").input(query)
    if document:
        at.text_input(key=f"{prefix}_document").input(document)
    return at.run()


def embedded(at: AppTest) -> AppTest:
    """The Similarity page once its vectors are there: a light view starts its job by itself, a heavy one
    waits for Compute."""
    compute = [b for b in at.button if b.key == "sim_compute"]
    if compute and not compute[0].disabled:
        return run_job(at, "sim_compute")
    jobs.wait_all(600)
    return at.run()


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_similarity_runs_typed_prompts_beside_the_model_and_merges_own_and_none():
    at = open_view("similarity", sim_models=["wordllama"])
    assert any(e.label == "Prompts: own" for e in at.expander)
    at = embedded(tick(at, "sim_prompt", "own", "none", "typed", document="Represent this text: "))
    assert not at.exception and not at.error
    kinds = frame_with(at, "paraphrase − unrelated")
    assert list(kinds.index) == ["wordllama", DOC_VARIANT]
    assert kinds.loc["wordllama", "paraphrase"] != kinds.loc[DOC_VARIANT, "paraphrase"]  # other prompt, other vectors
    text = captions(at)
    assert "wordllama has no prompts of its own, so 'own' and 'none' give the same vectors" in text
    assert "only the document prompt applies" in text
    assert not any(t.key == "sim_prompt_query" for t in at.text_input)  # no query prompt where there are no queries


def test_retrieval_evaluates_the_variants_side_by_side():
    at = open_view("retrieval", ret_models=["wordllama"], ret_bm25=False, ret_hybrid=False, ret_reranker="none")
    at = tick(at, "ret_prompt", "own", "typed", query="Represent this news headline for retrieving its article: ")
    at.number_input(key="ret_max_q").set_value(40)
    run_job(at, "ret_eval_go")
    assert not at.exception and not at.error
    table = frame_with(at, "nDCG@10")
    assert list(table.index) == ["wordllama", QUERY_VARIANT] and (table["queries"] == 40).all()
    assert table.loc["wordllama", "MRR@10"] != table.loc[QUERY_VARIANT, "MRR@10"]


def test_benchmark_runs_variants_side_by_side(tmp_home):
    at = open_view("benchmark", bench_models=["wordllama"], bench_tasks=["lee-sts"])
    assert not any(t.key == "bench_prompt_query" for t in at.text_input)  # STS embeds no queries
    at = run_job(tick(at, "bench_prompt", "own", "none", "typed", document="Represent this text: "), "bench_run")
    assert "'own' and 'none' give the same vectors" in captions(at)
    board = frame_with(at, "average")
    assert sorted(board.index) == sorted(["wordllama", DOC_VARIANT])
    assert board.loc["wordllama", "lee-sts"] != board.loc[DOC_VARIANT, "lee-sts"]
    at.multiselect(key="bench_tasks").set_value(["lee-sts", "bbc-retrieval"]).run()
    assert any(t.key == "bench_prompt_query" for t in at.text_input)  # retrieval embeds queries
    at = tick(at, "bench_prompt")  # nothing ticked: said, and the models run as they are
    assert any("Pick at least one prompt variant" in w.value for w in at.warning)
