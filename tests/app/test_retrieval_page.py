"""Retrieval lab through its widgets: search side by side, rerank with rank shifts, evaluate, drill
down, late interaction, uploads good and bad."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.views import open_view, run_if_asked, run_job

pytestmark = pytest.mark.slow


def lab(**values) -> AppTest:
    return open_view("retrieval", ret_models=values.get("models", ["wordllama"]),
                     ret_reranker=values.get("reranker", "none"), ret_depth=values.get("depth", 5))


def frames_with(at, column):
    return [f.value for f in at.dataframe if column in f.value.columns]


def test_search_side_by_side_with_reranking_and_rank_shifts():
    at = lab(reranker="maxsim:minilm", depth=8)
    query = "Yukos unit buyer faces loan claim"  # one of the BBC titles, so relevance is known
    at.selectbox(key="ret_pick").set_value(query).run()
    assert not at.exception and not at.error
    assert any("maxsim:minilm rereads the top 8" in c.value for c in at.caption)  # the cost, before the start
    run_job(at, "ret_search_go")  # a reranker reads every candidate: a background job
    results = frames_with(at, "relevant")
    # wordllama, BM25, hybrid, and the reranked list
    assert len(results) == 4
    assert all(len(f) == 10 for f in results[:3])
    reranked = frames_with(at, "shift")[0]
    assert len(reranked) == 8 and sorted(reranked["was"]) == list(range(1, 9))  # a permutation of the top 8
    assert reranked["score"].is_monotonic_decreasing
    assert any("✓" in f["relevant"].tolist() for f in results)


def test_evaluate_table_and_drill_down():
    at = lab()
    at.number_input(key="ret_max_q").set_value(40)
    run_job(at, "ret_eval_go")
    assert not at.exception and not at.error
    table = frames_with(at, "nDCG@10")[0]
    assert list(table.index) == ["BM25", "wordllama", "hybrid(wordllama + BM25)"]
    assert (table["queries"] == 40).all()
    assert table[["nDCG@10", "MRR@10", "Recall@10", "MAP@100"]].stack().between(0, 1).all()
    assert table.loc["wordllama", "Recall@10"] >= table.loc["wordllama", "Recall@1"]
    drill = frames_with(at, "query")[0]
    assert drill["nDCG@10"].is_monotonic_increasing  # worst first
    at.selectbox(key="ret_drill_stage").set_value("wordllama").run()
    assert not at.exception
    assert any("Relevant" in c.value for c in at.caption)


def test_late_interaction_heatmap_explains_the_score():
    at = lab(models=["minilm"])
    at.tabs  # noqa: B018 (all tabs are rendered in AppTest)
    at.text_input(key="ret_li_query").input("goalkeeper saves penalty")
    at.text_area(key="ret_li_doc").input("The keeper dived to stop the spot kick in the final minute.").run()
    assert not at.exception and not at.error
    assert any("MaxSim score" in m.value for m in at.markdown)
    tokens = frames_with(at, "query token")[0]
    assert tokens["query token"].tolist() == ["goalkeeper", "saves", "penalty"]
    assert tokens["cosine"].between(-1, 1.0001).all()


def test_bad_reranker_name_is_reported():
    at = lab(reranker="cross-encoder:/no/such/folder")
    run_if_asked(at.text_input(key="ret_query").input("interest rates").run(), "ret_search_go")
    assert not at.exception
    assert any("could not be loaded" in e.value for e in at.error)


def beir_files():
    corpus = "\n".join(json.dumps(d) for d in [
        {"_id": "d1", "title": "Cats", "text": "Cats purr and sleep a lot."},
        {"_id": "d2", "title": "Rates", "text": "The bank raised interest rates."},
        {"_id": "d3", "title": "", "text": "The striker scored a late goal."},
    ]).encode()
    queries = "\n".join(json.dumps(q) for q in [
        {"_id": "q1", "text": "why do cats purr"}, {"_id": "q2", "text": "interest rate rise"}]).encode()
    qrels = b"query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"
    return corpus, queries, qrels


def test_uploaded_beir_files_evaluate_and_a_broken_qrels_file_is_reported():
    corpus, queries, qrels = beir_files()
    at = lab()
    at.radio(key="ret_source").set_value("Upload a corpus (queries and qrels optional)").run()
    at.file_uploader(key="ret_up_corpus").set_value(("corpus.jsonl", corpus, "application/json")).run()
    assert not at.exception and not at.error
    assert any("3 documents" in m.value for m in at.markdown)
    assert any("needs queries and qrels" in i.value for i in at.info)
    at.file_uploader(key="ret_up_queries").set_value(("queries.jsonl", queries, "application/json"))
    at.file_uploader(key="ret_up_qrels").set_value(("test.tsv", qrels, "text/plain")).run()
    assert not at.error
    at.number_input(key="ret_max_q").set_value(0)
    run_job(at, "ret_eval_go")
    table = frames_with(at, "nDCG@10")[0]
    assert table.loc["BM25", "nDCG@10"] == 1.0  # each query shares its words with one document only
    at.file_uploader(key="ret_up_qrels").set_value(("bad.tsv", b"query-id\tcorpus-id\tscore\nq1\td1\thigh\n",
                                                     "text/plain")).run()
    assert not at.exception
    assert any("Could not use the uploaded files" in e.value and "not a number" in e.value for e in at.error)


def test_evaluation_reranks_the_chosen_first_stage_last():
    corpus, queries, qrels = beir_files()
    at = lab(reranker="maxsim:minilm", depth=2)
    at.radio(key="ret_source").set_value("Upload a corpus (queries and qrels optional)").run()
    at.file_uploader(key="ret_up_corpus").set_value(("corpus.jsonl", corpus, "application/json"))
    at.file_uploader(key="ret_up_queries").set_value(("queries.jsonl", queries, "application/json"))
    at.file_uploader(key="ret_up_qrels").set_value(("test.tsv", qrels, "text/plain")).run()
    at.selectbox(key="ret_rerank_base").set_value("BM25")
    at.number_input(key="ret_max_q").set_value(0)
    run_job(at, "ret_eval_go")
    assert not at.exception and not at.error
    table = frames_with(at, "nDCG@10")[0]
    assert list(table.index) == ["BM25", "wordllama", "hybrid(wordllama + BM25)", "BM25 → maxsim:minilm@2"]
    assert (table["queries"] == 2).all()


def test_uploaded_document_and_query_vectors_search_and_evaluate_as_a_model():
    import io

    import numpy as np
    import pandas as pd

    corpus, queries, qrels = beir_files()
    docs = io.BytesIO()
    np.save(docs, np.array([[1.0, 0.0, 0.1], [0.0, 1.0, 0.1], [0.1, 0.1, 1.0]]))  # d1, d2, d3 in corpus order
    query_table = io.BytesIO()  # matched by id, in another order than the queries file
    pd.DataFrame({"qid": ["q2", "q1"], "vec": [[0.1, 0.9, 0.0], [0.8, 0.0, 0.3]]}).to_parquet(query_table)
    at = lab(models=[])
    at.radio(key="ret_source").set_value("Upload a corpus (queries and qrels optional)").run()
    at.file_uploader(key="ret_up_corpus").set_value(("corpus.jsonl", corpus, "application/json"))
    at.file_uploader(key="ret_up_queries").set_value(("queries.jsonl", queries, "application/json"))
    at.file_uploader(key="ret_up_qrels").set_value(("test.tsv", qrels, "text/plain")).run()
    at.file_uploader(key="ret_docvec_upload").set_value(("docs.npy", docs.getvalue(), "application/octet-stream")).run()
    assert any("cannot search yet" in i.value for i in at.info)  # no query vectors: said, not failed
    at.file_uploader(key="ret_qvec_upload").set_value(("queries.parquet", query_table.getvalue(), "application/x"))
    at.run()
    at.selectbox(key="ret_qvec_id_col").set_value("qid").run()
    assert not at.exception and not at.error
    assert any("queries 2 vectors of 3 dimensions, matched by the ids in 'qid'" in c.value for c in at.caption)
    at.text_input(key="ret_query").input("a query nobody embedded").run()
    assert any("vectors:docs.npy** cannot search for this query" in i.value for i in at.info)
    assert not at.error and len(frames_with(at, "score")) == 1  # BM25 still searches
    at.selectbox(key="ret_pick").set_value("why do cats purr").run()
    assert not at.exception and not at.error
    hits = frames_with(at, "score")
    assert len(hits) == 3 and hits[1]["id"].tolist()[0] == "d1"  # BM25, the vectors, their hybrid
    at.number_input(key="ret_max_q").set_value(0)
    run_job(at, "ret_eval_go")
    table = frames_with(at, "nDCG@10")[0]
    assert list(table.index) == ["BM25", "vectors:docs.npy", "hybrid(vectors:docs.npy + BM25)"]
    assert table.loc["vectors:docs.npy", "nDCG@10"] == 1.0 and (table["queries"] == 2).all()
