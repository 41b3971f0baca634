"""Retrieval with the bundled MiniLM, checked end to end against an independent path:
sentence-transformers' own encode + semantic_search, scored by mteb's retrieval metric code."""

import numpy as np
import pytest

from embedlab.models import load_model
from embedlab.models.loader import model_folder
from embedlab.retrieval import pipeline as P
from embedlab.retrieval.corpus import RetrievalData, bbc_title_to_article

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_bbc() -> RetrievalData:
    """The first 300 BBC documents and their title queries (some titles share an article)."""
    full = bbc_title_to_article()
    keep = set(full.doc_ids[:300])
    qids = [q for q in full.query_ids if next(iter(full.qrels[q])) in keep]
    return RetrievalData("bbc-300", full.doc_ids[:300], full.titles[:300], full.bodies[:300], qids,
                         [full.queries[full.query_index[q]] for q in qids], {q: full.qrels[q] for q in qids})


def test_minilm_ndcg_equals_sentence_transformers_scored_by_mteb(small_bbc):
    from mteb._evaluators.retrieval_metrics import calculate_retrieval_scores
    from sentence_transformers import SentenceTransformer, util

    data = small_bbc
    ours = P.dense_search(data, load_model("minilm", cache=False), k=100).evaluate(data).mean()

    st_model = SentenceTransformer(str(model_folder(load_model("minilm").spec)), device="cpu")
    docs = st_model.encode(data.doc_texts, convert_to_tensor=True)
    queries = st_model.encode(data.queries, convert_to_tensor=True)
    found = util.semantic_search(queries, docs, top_k=100)
    run = {q: {data.doc_ids[h["corpus_id"]]: float(h["score"]) for h in hits} for q, hits in zip(data.query_ids, found)}
    ref = calculate_retrieval_scores(run, data.qrels, [1, 10, 100])

    assert ours["nDCG@10"] == pytest.approx(ref.ndcg["NDCG@10"], abs=1e-4)
    assert ours["MRR@10"] == pytest.approx(ref.mrr["MRR@10"], abs=1e-4)
    assert ours["Recall@1"] == pytest.approx(ref.recall["Recall@1"], abs=1e-4)
    assert ours["MAP@100"] == pytest.approx(ref.map["MAP@100"], abs=1e-4)
    assert 0.5 < ours["nDCG@10"] < 1.0  # a real, imperfect retriever


def test_hybrid_and_maxsim_rerank_beat_minilm_alone_on_bbc_titles(small_bbc):
    from embedlab.retrieval.rerank import load_reranker

    data = small_bbc
    plan = P.RetrievalPlan(models=("minilm",), bm25=True, hybrid=True, rerankers=("maxsim:minilm",), depth=10,
                           top_k=100)
    rankings = P.run_plan(plan, data, models={"minilm": load_model("minilm")},
                          rerankers={"maxsim:minilm": load_reranker("maxsim:minilm")})
    lexical, dense, fused, reranked = rankings
    assert reranked.name == "minilm → maxsim:minilm@10"
    score = {r.name: r.evaluate(data)["nDCG@10"].mean() for r in rankings}
    assert score[fused.name] > score[dense.name]
    assert score[reranked.name] > score[dense.name]
    # a rerank only permutes the top 10: recall@10 cannot change
    assert reranked.evaluate(data)["Recall@10"].mean() == pytest.approx(dense.evaluate(data)["Recall@10"].mean())
    assert np.array_equal(np.sort(reranked.hits.indices[:, :10], 1), np.sort(dense.hits.indices[:, :10], 1))


def test_llm_rerankers_score_a_batch_offline():
    from embedlab.retrieval.rerank import load_reranker

    docs = ["The striker scored twice in the cup final.", "Interest rates rose by a quarter point."]
    for name in ("llm:smollm2", "qlm:smollm2"):
        scores = load_reranker(name).score("football cup final goals", docs)
        assert scores.shape == (2,) and np.isfinite(scores).all()
    qlm = load_reranker("qlm:smollm2").score("football cup final goals", docs)
    assert qlm[0] > qlm[1]  # query likelihood prefers the on-topic document


def test_a_saved_cross_encoder_is_listed_and_reranks(tmp_home):
    """A CrossEncoder saved where the fine-tuning page saves rerankers shows up by name and runs.
    (Its head is untrained here: this checks the plumbing, not the quality.)"""
    from sentence_transformers import CrossEncoder

    from embedlab.retrieval.rerank import load_reranker, reranker_choices, rerankers_dir

    base = model_folder(load_model("minilm").spec)
    CrossEncoder(str(base), num_labels=1, device="cpu").save(str(rerankers_dir() / "my-reranker"))
    assert "cross-encoder:my-reranker" in reranker_choices()
    ranker = load_reranker("cross-encoder:my-reranker")
    scores = ranker.score("cats", ["cats purr", "rates rise", "dogs bark"])
    assert scores.shape == (3,) and np.isfinite(scores).all() and len(set(scores.round(6))) == 3
