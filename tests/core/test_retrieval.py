"""Retrieval: data loading, search indexes, fusion, reranking and the CLI, on synthetic data with
known answers. Fake encoders and rerankers except the CLI runs (wordllama: a bundled static model
that loads offline in well under a second) and one MaxSim test with the real MiniLM (slow).
Metric definitions are tested in test_retrieval_metrics.py."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from embedlab.cli import main
from embedlab.errors import DataError, ModelLoadError, OptionError
from embedlab.retrieval import metrics
from embedlab.retrieval import pipeline as P
from embedlab.retrieval.corpus import (
    RetrievalData,
    assemble,
    bbc_title_to_article,
    load_beir,
    read_qrels,
)
from embedlab.retrieval.search import (
    BM25Index,
    DenseIndex,
    Hits,
    reciprocal_rank_fusion,
)
from tests.fakes import RuleReranker, TableEmbedder


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- a tiny BEIR set ------------------------------------------------------------------------------
CORPUS = [
    {"_id": "d1", "title": "Cats", "text": "The cat sat on the mat."},
    {"_id": "d2", "title": "", "text": "Stock markets fell sharply as interest rates rose."},
    {"_id": "d3", "title": "Football", "text": "The striker scored a goal in the match."},
    {"_id": "d4", "title": "Baking", "text": "A recipe for garlic bread with butter."},
]
QUERIES = [
    {"_id": "q1", "text": "where did the cat sit"},
    {"_id": "q2", "text": "interest rates and stock markets"},
    {"_id": "q3", "text": "who scored the goal"},
    {"_id": "q4", "text": "a query with no relevant document"},
]
# q3 also has a non-relevant judgement; q4 only a non-relevant one, so it is not evaluated.
QRELS = [("q1", "d1", 1), ("q2", "d2", 2), ("q3", "d3", 1), ("q3", "d4", 0), ("q4", "d2", 0)]


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def write_qrels_tsv(path, rows, header=True) -> None:
    lines = (["query-id\tcorpus-id\tscore"] if header else []) + [f"{q}\t{d}\t{s}" for q, d, s in rows]
    path.write_text("\n".join(lines) + "\n")


def write_beir(folder, corpus=CORPUS, queries=QUERIES, qrels=QRELS, split="test"):
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "corpus.jsonl", corpus)
    write_jsonl(folder / "queries.jsonl", queries)
    write_qrels_tsv(folder / "qrels" / f"{split}.tsv", qrels)
    return folder


EXPECTED_QRELS = {"q1": {"d1": 1}, "q2": {"d2": 2}, "q3": {"d3": 1, "d4": 0}}


def test_load_beir_folder(tmp_path):
    data = load_beir(write_beir(tmp_path / "toyset"))
    assert data.name == "toyset (test)"
    assert data.doc_ids == ["d1", "d2", "d3", "d4"]
    assert data.titles == ["Cats", "", "Football", "Baking"]
    assert data.query_ids == ["q1", "q2", "q3"]  # q4 has no relevant document
    assert data.queries == ["where did the cat sit", "interest rates and stock markets", "who scored the goal"]
    assert data.qrels == EXPECTED_QRELS
    assert data.doc_index["d3"] == 2 and data.query_index["q2"] == 1
    assert data.ignore_identical_ids is False
    assert data.summary() == "4 documents · 3 queries · 4 judgements"


def test_doc_texts_join_title_and_text(tmp_path):
    data = load_beir(write_beir(tmp_path / "toyset"))
    assert data.doc_texts == ["Cats The cat sat on the mat.", "Stock markets fell sharply as interest rates rose.",
                              "Football The striker scored a goal in the match.",
                              "Baking A recipe for garlic bread with butter."]


def test_queries_without_a_relevant_judgement_are_dropped_with_a_note(tmp_path):
    data = load_beir(write_beir(tmp_path / "toyset"))
    assert "q4" not in data.query_ids and "q4" not in data.qrels
    assert any("1 queries without a relevant judgement are not evaluated" in n for n in data.notes)


def test_judged_queries_missing_from_the_queries_file_get_a_note(tmp_path):
    qrels = QRELS + [("q9", "d1", 1), ("q8", "d2", 1)]
    data = load_beir(write_beir(tmp_path / "toyset", qrels=qrels))
    assert any(n.startswith("2 judged queries are not in the queries file") for n in data.notes)
    assert set(data.qrels) == {"q1", "q2", "q3"}


def test_judged_documents_missing_from_the_corpus_get_a_note(tmp_path):
    data = load_beir(write_beir(tmp_path / "toyset", qrels=QRELS + [("q1", "d99", 1)]))
    assert any(n.startswith("1 judged documents are not in the corpus") for n in data.notes)
    assert data.qrels["q1"] == {"d1": 1, "d99": 1}  # still relevant: it caps recall, as in pytrec_eval


def test_numeric_looking_ids_stay_strings(tmp_path):
    """JSONL ids such as "007" must not turn into 7 (they would stop matching the TSV qrels)."""
    corpus = [{"_id": "007", "title": "", "text": "licence to kill"}, {"_id": "10", "title": "", "text": "2020"}]
    queries = [{"_id": "01", "text": "1.50"}]
    data = load_beir(write_beir(tmp_path / "ids", corpus, queries, [("01", "007", 1)]))
    assert data.doc_ids == ["007", "10"] and data.query_ids == ["01"]
    assert data.qrels == {"01": {"007": 1}} and data.notes == []
    assert data.doc_texts[1] == "2020" and data.queries == ["1.50"]


def test_same_data_as_csv_files_via_assemble(tmp_path):
    pd.DataFrame(CORPUS).to_csv(tmp_path / "corpus.csv", index=False)
    pd.DataFrame(QUERIES).to_csv(tmp_path / "queries.csv", index=False)
    pd.DataFrame(QRELS, columns=["query-id", "corpus-id", "score"]).to_csv(tmp_path / "qrels.csv", index=False)
    data = assemble("csv", tmp_path / "corpus.csv", tmp_path / "queries.csv", tmp_path / "qrels.csv")
    beir = load_beir(write_beir(tmp_path / "toyset"))
    assert (data.doc_ids, data.doc_texts, data.query_ids, data.queries, data.qrels) == \
        (beir.doc_ids, beir.doc_texts, beir.query_ids, beir.queries, beir.qrels)


def test_trec_qrels_without_header(tmp_path):
    path = tmp_path / "qrels.txt"
    path.write_text("".join(f"{q} 0 {d} {s}\n" for q, d, s in QRELS))
    assert read_qrels(path) == {**EXPECTED_QRELS, "q4": {"d2": 0}}
    write_beir(tmp_path / "toyset")
    data = assemble("trec", tmp_path / "toyset" / "corpus.jsonl", tmp_path / "toyset" / "queries.jsonl", path)
    assert data.qrels == EXPECTED_QRELS


def test_identical_ids_are_ignored_for_the_sets_mteb_ignores_them_on(tmp_path):
    data = load_beir(write_beir(tmp_path / "ArguAna"))
    assert data.ignore_identical_ids is True and any("own id" in n for n in data.notes)
    assert load_beir(write_beir(tmp_path / "ArguAna"), ignore_identical_ids=False).ignore_identical_ids is False
    # A result with the query's own id is dropped before scoring.
    data = RetrievalData("x", ["q1", "d1"], ["", ""], ["a", "b"], ["q1"], ["a"], {"q1": {"d1": 1}},
                         ignore_identical_ids=True)
    ranking = P.Ranking("s", Hits(np.array([[0, 1]]), np.array([[0.9, 0.5]], dtype=np.float32)), 0.0)
    assert ranking.run(data) == {"q1": {"d1": 0.5}}
    assert ranking.evaluate(data)["MRR@10"].tolist() == [1.0]


def test_subset_queries_is_seeded_and_keeps_the_corpus(tmp_path):
    data = load_beir(write_beir(tmp_path / "toyset"))
    a, b = data.subset_queries(2, seed=3), data.subset_queries(2, seed=3)
    assert a.query_ids == b.query_ids and len(a.query_ids) == 2 and set(a.qrels) == set(a.query_ids)
    assert [a.queries[i] for i in range(2)] == [data.queries[data.query_index[q]] for q in a.query_ids]
    assert a.doc_ids == data.doc_ids and a.notes[-1] == "Evaluated on 2 of 3 queries (seed 3)."
    assert data.subset_queries(10) is data


# ---- loading errors -------------------------------------------------------------------------------
def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="BEIR folder not found"):
        load_beir(tmp_path / "nope")


def test_missing_split_lists_the_splits_present(tmp_path):
    folder = write_beir(tmp_path / "toyset")
    write_qrels_tsv(folder / "qrels" / "train.tsv", QRELS)
    with pytest.raises(DataError, match=r"dev\.tsv not found; splits here: test, train"):
        load_beir(folder, "dev")
    assert load_beir(folder, "train").name == "toyset (train)"


def test_missing_corpus_file(tmp_path):
    folder = write_beir(tmp_path / "toyset")
    (folder / "corpus.jsonl").unlink()
    with pytest.raises(DataError, match=r"corpus\.jsonl not found \(a BEIR folder has"):
        load_beir(folder)


@pytest.mark.parametrize("change, message", [
    (dict(corpus=CORPUS + [{"_id": "d1", "title": "", "text": "again"}]), "Corpus: ids must be unique; repeated: d1."),
    (dict(corpus=CORPUS + [{"_id": "", "title": "", "text": "no id"}]), "Corpus: some rows have an empty id in column '_id'."),
    (dict(queries=QUERIES + [{"_id": " ", "text": "blank id"}]), "Queries: some rows have an empty id"),
    (dict(corpus=[{"_id": "d1", "words": "x"}]), "Corpus: no text column; expected one of text, body"),
    (dict(queries=[{"_id": "q1", "words": "x"}]), "Queries: no text column"),
    (dict(qrels=[("q1", "d1", "high")]), "Qrels: relevance 'high' for query q1 / document d1 is not a number."),
    (dict(qrels=[("q1", "d1", 0), ("q2", "d2", 0)]), "No query has a relevant document in the qrels"),
    (dict(qrels=[("Q1", "d1", 1)]), "No query has a relevant document in the qrels"),  # ids do not match
    (dict(corpus=[{"_id": "d1", "title": "", "text": " "}]), "Corpus: every document is empty."),
])
def test_clear_errors(tmp_path, change, message):
    folder = write_beir(tmp_path / "toyset", **change)
    with pytest.raises(DataError, match=re.escape(message)):
        load_beir(folder)


@pytest.mark.parametrize("content, message", [("", "test.tsv is empty"), ("query-id\tcorpus-id\tscore\n", "has no rows")])
def test_empty_qrels_file(tmp_path, content, message):
    folder = write_beir(tmp_path / "toyset")
    (folder / "qrels" / "test.tsv").write_text(content)
    with pytest.raises(DataError, match=message):
        load_beir(folder)
    with pytest.raises(DataError, match="Qrels: the file has no judgements"):
        read_qrels(pd.DataFrame({"query-id": [], "corpus-id": [], "score": []}))


# ---- BBC News titles -> articles ------------------------------------------------------------------
def test_bbc_title_to_article():
    from embedlab.bundled import bbc_news

    data = bbc_title_to_article()
    assert len(data.doc_ids) == 2089 and len(set(data.doc_ids)) == 2089
    assert len(set(data.bodies)) == 2089  # duplicate articles kept once
    assert len(set(data.query_ids)) == len(data.query_ids) > 2000
    docs = set(data.doc_ids)
    articles = bbc_news().set_index("id")
    for qid, title in zip(data.query_ids, data.queries):
        assert list(data.qrels[qid].values()) == [1]  # exactly one relevant document...
        (doc,) = data.qrels[qid]
        assert doc in docs  # ...that is in the corpus...
        text = data.doc_texts[data.doc_index[doc]]
        assert text == articles.loc[qid, "text"] and title == articles.loc[qid, "title"]  # ...and is its article
        assert title.lower() not in text[: len(title) + 100].lower()  # the title does not leak into it
    assert data.titles == [""] * 2089


# ---- dense search ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 24)).astype(np.float32) * 5, rng.normal(size=(37, 24)).astype(np.float32)


@pytest.mark.parametrize("k, doc_chunk, query_chunk", [
    (10, 32_768, 256),  # one block
    (10, 64, 8),  # several blocks both ways, uneven last block
    (10, 7, 5),  # doc chunk smaller than k
    (1, 1, 1),
    (50, 3, 37),
    (1000, 32_768, 256),  # k larger than the corpus: every document, ranked
    (1000, 13, 10),
])
def test_dense_index_equals_brute_force(vectors, k, doc_chunk, query_chunk):
    docs, queries = vectors
    d = docs / np.linalg.norm(docs, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    sims = q @ d.T
    want = np.argsort(-sims, axis=1)[:, : min(k, len(docs))]
    hits = DenseIndex(docs).search(queries, k, doc_chunk=doc_chunk, query_chunk=query_chunk)
    assert hits.indices.shape == hits.scores.shape == want.shape
    np.testing.assert_array_equal(hits.indices, want)
    np.testing.assert_allclose(hits.scores, np.take_along_axis(sims, want, 1), atol=1e-5)


def test_dense_index_single_query_and_normalized_flag(vectors):
    docs, queries = vectors
    unit = docs / np.linalg.norm(docs, axis=1, keepdims=True)
    one = DenseIndex(unit, normalized=True).search(queries[0], 5)  # a 1-d query vector
    assert one.indices.shape == (1, 5)
    np.testing.assert_array_equal(one.indices[0], DenseIndex(docs).search(queries[:1], 5).indices[0])
    assert len(DenseIndex(docs)) == 300


def test_dense_index_dimension_mismatch(vectors):
    docs, _ = vectors
    with pytest.raises(DataError, match="Query vectors have 23 dimensions, documents 24"):
        DenseIndex(docs).search(np.ones((2, 23), dtype=np.float32))
    with pytest.raises(DataError, match="non-empty"):
        DenseIndex(np.zeros((0, 24)))


# ---- BM25 -----------------------------------------------------------------------------------------
BM25_DOCS = ["The cat sat on the mat and purred.",
             "Stock markets fell sharply as interest rates rose.",
             "The striker scored a late goal in the football match.",
             "A recipe for garlic bread with plenty of butter."]


def test_bm25_top_document_is_the_obvious_one():
    index = BM25Index(BM25_DOCS)
    hits = index.search(["football striker goal", "interest rates", "garlic butter bread", "purring cat"], k=2)
    assert hits.indices[:, 0].tolist() == [2, 1, 3, 0]
    assert (hits.scores[:, 0] > 0).all() and (hits.scores[:, 1] == 0).all()  # no other document shares a word


def test_bm25_unknown_words_do_not_crash():
    index = BM25Index(BM25_DOCS)
    hits = index.search(["zyzzyva quixotic", "the and of", "cat zyzzyva"], k=10)
    assert hits.indices.shape == (3, 4)  # k is capped at the corpus size
    assert (hits.scores[:2] == 0).all()  # unknown words and stop words only: nothing matches
    assert sorted(hits.indices[0].tolist()) == [0, 1, 2, 3]
    assert hits.indices[2, 0] == 0 and hits.scores[2, 0] > 0  # the known word still counts


def test_bm25_stemming_matches_word_forms():
    docs = ["He runs every morning before work.", "She swims in the lake.", "They cooked dinner."]
    hits = BM25Index(docs).search(["running"], k=3)
    assert hits.indices[0, 0] == 0 and hits.scores[0, 0] > 0
    unstemmed = BM25Index(docs, stem=False).search(["running"], k=3)
    assert (unstemmed.scores == 0).all()  # without stemming "running" is not "runs"


# ---- reciprocal rank fusion -----------------------------------------------------------------------
def test_reciprocal_rank_fusion_hand_computed():
    a = Hits(np.array([[0, 1, 2], [4, 5, 6]]), np.zeros((2, 3), np.float32))
    b = Hits(np.array([[2, 0, 3], [6, 5, 7]]), np.zeros((2, 3), np.float32))
    fused = reciprocal_rank_fusion([a, b], k=4)
    assert fused.indices.shape == fused.scores.shape == (2, 4)
    # query 0: d0 = 1/61 + 1/62, d2 = 1/63 + 1/61, d1 = 1/62, d3 = 1/63
    assert fused.indices[0].tolist() == [0, 2, 1, 3]
    np.testing.assert_allclose(fused.scores[0], [1 / 61 + 1 / 62, 1 / 61 + 1 / 63, 1 / 62, 1 / 63], rtol=1e-6)
    # query 1: d6 = 1/63 + 1/61 = 0.032266 just beats d5 = 2/62 = 0.032258; then d4 = 1/61, d7 = 1/63
    assert fused.indices[1].tolist() == [6, 5, 4, 7]
    np.testing.assert_allclose(fused.scores[1], [1 / 61 + 1 / 63, 2 / 62, 1 / 61, 1 / 63], rtol=1e-6)
    top1 = reciprocal_rank_fusion([a, b], k=1, c=0)
    assert top1.indices.tolist() == [[0], [6]]  # c=0: d0 = 1 + 1/2; d6 = 1/3 + 1 now beats d5 = 1/2 + 1/2
    np.testing.assert_allclose(top1.scores[:, 0], [1 + 1 / 2, 1 / 3 + 1], rtol=1e-6)


def test_reciprocal_rank_fusion_ties_go_to_the_lower_index():
    fused = reciprocal_rank_fusion([Hits(np.array([[8, 1]]), np.zeros((1, 2))), Hits(np.array([[3, 1]]), np.zeros((1, 2)))],
                                   k=3)
    assert fused.indices.tolist() == [[1, 3, 8]]  # d1 = 2/62 beats 1/61; d3 and d8 tie at 1/61
    np.testing.assert_allclose(fused.scores[0], [2 / 62, 1 / 61, 1 / 61], rtol=1e-6)


# ---- pipelines ------------------------------------------------------------------------------------
def six_docs() -> RetrievalData:
    bodies = ["x", "xxxx", "xx", "xxxxxx", "xxx", "xxxxx"]
    return RetrievalData("six", [f"d{i}" for i in range(6)], [""] * 6, bodies, ["qa", "qb"], ["A", "B"],
                         {"qa": {"d3": 1}, "qb": {"d0": 1}})


def first_stage() -> P.Ranking:
    indices = np.array([[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]])
    scores = np.tile(np.linspace(0.9, 0.4, 6, dtype=np.float32), (2, 1))
    return P.Ranking("first", Hits(indices, scores), 1.5)


def test_rerank_reorders_only_the_top_depth():
    data, first = six_docs(), first_stage()
    original = first.hits.indices.copy()
    # The rule: the longer the document, the better; scores below the first reranked's on purpose.
    reranker = RuleReranker(lambda q, d: -1.0 / len(d), name="longest")
    reranked = P.rerank(first, data, reranker, depth=3)
    assert reranked.name == "first → longest@3" and not reranked.ranked_scores
    assert reranked.hits.indices.tolist() == [[1, 2, 0, 3, 4, 5], [3, 5, 4, 2, 1, 0]]
    np.testing.assert_allclose(reranked.hits.scores[0, :3], [-1 / 4, -1 / 2, -1])
    assert reranker.calls == [("A", ["x", "xxxx", "xx"]), ("B", ["xxxxx", "xxx", "xxxxxx"])]
    assert reranked.before is first.hits
    np.testing.assert_array_equal(first.hits.indices, original)  # the first reranked is not modified
    assert reranked.seconds >= first.seconds
    deep = P.rerank(first, data, reranker, depth=100)  # deeper than the list: everything is reordered
    assert deep.name == "first → longest@6" and deep.hits.indices[0].tolist() == [3, 5, 1, 4, 2, 0]


def test_run_without_ranked_scores_keeps_the_exact_order():
    data = six_docs()
    reranked = P.rerank(first_stage(), data, RuleReranker(lambda q, d: -1.0 / len(d)), depth=3)
    run = reranked.run(data)
    for q, row in zip(data.query_ids, reranked.hits.indices):
        assert metrics.ranked(run[q]) == [data.doc_ids[i] for i in row]
    # Scoring by the raw scores would put the untouched tail (0.6..0.4) above the reranked top (< 0).
    by_score = P.Ranking("s", reranked.hits, 0.0).run(data)
    assert metrics.ranked(by_score["qa"])[:3] == ["d3", "d4", "d5"]


def test_summary_table_has_the_metric_columns():
    data, first = six_docs(), first_stage()
    reranked = P.rerank(first, data, RuleReranker(lambda q, d: -1.0 / len(d)), depth=6)
    table = P.summary_table([first, reranked], data)
    assert list(table.columns) == [*metrics.DEFAULT_METRICS, "queries", "seconds"]
    assert table.index.tolist() == ["first", "first → rule@6"]
    # first: qa finds d3 at rank 4, qb finds d0 at rank 6; reranked: d3 is 1st, d0 is 6th for both.
    assert table.loc["first", "MRR@10"] == pytest.approx((1 / 4 + 1 / 6) / 2)
    assert table.loc["first → rule@6", "MRR@10"] == pytest.approx((1 + 1 / 6) / 2)
    assert table.loc["first", "Recall@1"] == 0.0 and table.loc["first → rule@6", "Recall@1"] == 0.5
    assert (table["queries"] == 2).all()
    small = P.summary_table([first], data, ["nDCG@3", "P@1"])
    assert list(small.columns) == ["nDCG@3", "P@1", "queries", "seconds"]


def test_dense_bm25_and_hybrid_stages_with_a_fake_encoder():
    docs = ["apples and pears", "cars and trucks", "rivers and lakes"]
    data = RetrievalData("fruit", ["a", "b", "c"], ["", "", ""], docs, ["q1", "q2"],
                         ["fresh fruit", "trucks"], {"q1": {"a": 1}, "q2": {"b": 1}})
    model = TableEmbedder({"apples and pears": [1, 0, 0], "cars and trucks": [0, 1, 0], "rivers and lakes": [0, 0, 1],
                           "fresh fruit": [0.9, 0.1, 0.3], "trucks": [0.2, 0.1, 1.0]}, name="table")
    dense = P.dense_search(data, model, k=3)
    assert dense.name == "table" and dense.hits.indices[:, 0].tolist() == [0, 2]  # the fake misleads on q2
    assert model.calls == [docs, ["fresh fruit", "trucks"]]
    lexical = P.bm25_search(data, k=3)
    assert lexical.name == "BM25" and lexical.hits.indices[1, 0] == 1
    fused = P.hybrid(dense, lexical, k=3)
    assert fused.name == "hybrid(table + BM25)" and not fused.ranked_scores
    assert fused.hits.indices[0, 0] == 0  # first for dense, and for BM25 (which matched nothing)
    assert set(fused.hits.indices[1, :2].tolist()) == {1, 2}  # each ranking's first beats d0 (2nd and 3rd)
    assert fused.hits.indices[1, 2] == 0
    assert P.summary_table([dense], data).loc["table", "MRR@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert P.summary_table([fused], data).loc["hybrid(table + BM25)", "Recall@1"] >= 0.5


# ---- the plan: one description of the pipelines for the lab, the CLI and fine-tuning ------------
def fruit_data() -> RetrievalData:
    docs = ["apples and pears", "cars and trucks", "rivers and lakes"]
    return RetrievalData("fruit", ["a", "b", "c"], ["", "", ""], docs, ["q1", "q2"],
                         ["fresh fruit", "trucks"], {"q1": {"a": 1}, "q2": {"b": 1}})


def fruit_model(name: str) -> TableEmbedder:
    return TableEmbedder({"apples and pears": [1, 0, 0], "cars and trucks": [0, 1, 0], "rivers and lakes": [0, 0, 1],
                          "fresh fruit": [0.9, 0.1, 0.3], "trucks": [0.2, 0.1, 1.0]}, name=name)


def test_run_plan_names_orders_and_scores_as_the_single_steps():
    data = fruit_data()
    models = {"m1": fruit_model("m1"), "m2": fruit_model("m2")}
    rerankers = {"r": RuleReranker(lambda q, d: -len(d), name="r")}
    plan = P.RetrievalPlan(models=("m1", "m2"), bm25=True, hybrid=True, rerankers=("r",), depth=2, top_k=3)
    seen = []
    rankings = P.run_plan(plan, data, models=models, rerankers=rerankers,
                          progress=lambda label, done, total: seen.append(label))
    assert [r.name for r in rankings] == ["BM25", "m1", "hybrid(m1 + BM25)", "m2", "hybrid(m2 + BM25)",
                                          "m1 → r@2", "m2 → r@2"]
    dense, lexical = P.dense_search(data, fruit_model("m1"), k=3), P.bm25_search(data, k=3)
    by_hand = [lexical, dense, P.hybrid(dense, lexical, k=3), P.rerank(dense, data, rerankers["r"], depth=2)]
    for ranking, expected in zip([rankings[i] for i in (0, 1, 2, 5)], by_hand):
        assert ranking.name == expected.name
        np.testing.assert_array_equal(ranking.hits.indices, expected.hits.indices)
    assert seen[0] == "BM25" and seen[-1] == "Reranking m2 with r"


def test_run_plan_reranks_bm25_without_a_model_or_the_first_stage_asked_for():
    data, reranker = fruit_data(), RuleReranker(lambda q, d: -len(d), name="r")
    alone = P.run_plan(P.RetrievalPlan(bm25=True, rerankers=("r",), depth=2), data, models={},
                       rerankers={"r": reranker})
    assert [r.name for r in alone] == ["BM25", "BM25 → r@2"]
    plan = P.RetrievalPlan(models=("m1",), bm25=True, rerankers=("r",), rerank_of=("BM25",), depth=2)
    picked = P.run_plan(plan, data, models={"m1": fruit_model("m1")}, rerankers={"r": reranker})
    assert [r.name for r in picked] == ["BM25", "m1", "BM25 → r@2"]


@pytest.mark.parametrize("options, message", [
    ({}, "Nothing to evaluate"),
    ({"hybrid": True}, "Nothing to evaluate"),
    ({"bm25": True, "depth": 0}, "depth must be a whole number of at least 1"),
    ({"bm25": True, "top_k": 0}, "top_k must be a whole number of at least 1"),
    ({"models": ("m1",), "rerankers": ("r",), "rerank_of": ("BM25",)}, "Cannot rerank BM25: not a first stage here; "
                                                                          "choose from m1."),
])
def test_plan_refuses_what_cannot_run(options, message):
    with pytest.raises(OptionError, match=re.escape(message)):
        P.RetrievalPlan(**options)


def test_run_plan_needs_every_model_it_names():
    with pytest.raises(OptionError, match="Not loaded: m2"):
        P.run_plan(P.RetrievalPlan(models=("m2",)), fruit_data(), models={"m1": fruit_model("m1")})


def test_check_names_fails_before_loading_anything():
    with pytest.raises(ModelLoadError, match="Unknown reranker kind 'foo'"):
        P.check_names(P.RetrievalPlan(bm25=True, rerankers=("foo:bar",)))
    with pytest.raises(ModelLoadError, match="Unknown model 'nope'"):
        P.check_names(P.RetrievalPlan(models=("nope",)))
    P.check_names(P.RetrievalPlan(models=("minilm",), rerankers=("maxsim:minilm", "ce:x")))


def test_first_stage_hits_match_the_plan_run_and_rerank_hits_keeps_the_tail():
    data = fruit_data()
    plan = P.RetrievalPlan(models=("m1",), bm25=True, hybrid=True, top_k=3)
    rankings = {r.name: r for r in P.run_plan(plan, data, models={"m1": fruit_model("m1")})}
    hits = P.first_stage_hits(plan, {"m1": rankings["m1"].hits}, rankings["BM25"].hits, 3)
    assert list(hits) == ["m1", "BM25", "hybrid(m1 + BM25)"]
    np.testing.assert_array_equal(hits["hybrid(m1 + BM25)"].indices, rankings["hybrid(m1 + BM25)"].hits.indices)
    first = first_stage()
    reordered = P.rerank_hits(first.hits, ["A"], six_docs().doc_texts, RuleReranker(lambda q, d: -1.0 / len(d)),
                              depth=3)
    assert reordered.indices[0].tolist() == [1, 2, 0, 3, 4, 5]


def test_rankings_and_data_are_not_changed_after_they_are_built(tmp_path):
    import dataclasses

    ranking = first_stage()
    with pytest.raises(dataclasses.FrozenInstanceError):
        ranking.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ranking.hits.indices = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        six_docs().ignore_identical_ids = True


# ---- reranker loading -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("nonsense", "Reranker 'nonsense': use maxsim:MODEL, llm:MODEL, qlm:MODEL or cross-encoder:"),
    ("maxsim:", "Reranker 'maxsim:': use maxsim:MODEL"),
    ("foo:bar", "Unknown reranker kind 'foo' in 'foo:bar'; use maxsim:, llm:, qlm: or cross-encoder:."),
    ("cross-encoder:/no/such/folder", "No cross-encoder '/no/such/folder': not a trained reranker (none yet), "
                                      "a folder, or a hub ID."),
    ("maxsim:nope", "Unknown model 'nope'"),
    ("maxsim:wordllama", "wordllama has no token-level outputs; MaxSim needs a transformer encoder."),
])
def test_load_reranker_errors(tmp_home, name, message):
    from embedlab.retrieval.rerank import load_reranker

    with pytest.raises(ModelLoadError, match=re.escape(message)):
        load_reranker(name)


def test_an_empty_folder_is_not_a_cross_encoder(tmp_home, tmp_path):
    from embedlab.retrieval.rerank import load_reranker

    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=re.escape(f"Could not load cross-encoder '{tmp_path / 'empty'}'")):
        load_reranker(f"cross-encoder:{tmp_path / 'empty'}")


# ---- CLI ------------------------------------------------------------------------------------------
TOPICS = {
    "astronomy": "The telescope photographed a distant galaxy and a bright comet.",
    "cooking": "Knead the dough, add garlic and butter, then bake the bread in the oven.",
    "football": "The striker scored a penalty and the goalkeeper was sent off by the referee.",
    "finance": "The central bank raised interest rates as inflation and bond yields climbed.",
    "music": "The violinist and the cellist rehearsed a symphony with the orchestra.",
    "gardening": "Prune the roses, water the tulips and spread compost on the flower beds.",
    "computing": "The compiler optimised the loop and the processor cache reduced latency.",
    "medicine": "The surgeon prescribed antibiotics after the vaccine trial reported few infections.",
}
TOPIC_QUERIES = {
    "astronomy": "galaxy seen through a telescope", "cooking": "bake bread with garlic butter",
    "football": "striker penalty goalkeeper", "finance": "interest rates inflation",
    "music": "violinist symphony orchestra", "gardening": "prune roses and tulips",
    "computing": "compiler processor cache", "medicine": "surgeon antibiotics vaccine",
}


@pytest.fixture
def topic_files(tmp_path):
    """Corpus, queries and qrels where every query shares rare words with its one document only."""
    corpus = [{"_id": f"doc-{t}", "title": "", "text": text} for t, text in TOPICS.items()]
    queries = [{"_id": f"q-{t}", "text": text} for t, text in TOPIC_QUERIES.items()]
    write_jsonl(tmp_path / "corpus.jsonl", corpus)
    write_jsonl(tmp_path / "queries.jsonl", queries)
    write_qrels_tsv(tmp_path / "qrels.tsv", [(f"q-{t}", f"doc-{t}", 1) for t in TOPICS])
    return ["--corpus", str(tmp_path / "corpus.jsonl"), "--queries", str(tmp_path / "queries.jsonl"),
            "--qrels", str(tmp_path / "qrels.tsv")]


def test_cli_bm25_dense_and_hybrid_json(capsys, topic_files):
    code, out, err = run(capsys, "eval", "retrieval", *topic_files, "--model", "wordllama", "--bm25", "--hybrid",
                         "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["documents"] == 8 and record["queries"] == 8 and record["notes"] == []
    results = {r["pipeline"]: r for r in record["results"]}
    assert list(results) == ["BM25", "wordllama", "hybrid(wordllama + BM25)"]
    for row in results.values():
        assert 0.0 <= row["nDCG@10"] <= 1.0 and row["queries"] == 8
        assert set(metrics.DEFAULT_METRICS) <= set(row)
    assert results["BM25"]["nDCG@10"] == 1.0 and results["BM25"]["MRR@10"] == 1.0  # the answer is lexically obvious
    assert results["wordllama"]["Recall@10"] == 1.0  # 8 documents: every one is in the top 10


def test_cli_table_output_and_per_query(capsys, topic_files):
    code, out, _ = run(capsys, "eval", "retrieval", *topic_files, "--bm25")
    assert code == 0
    assert out.startswith("Retrieval  data=") and "8 documents · 8 queries · 8 judgements" in out
    assert re.search(r"^BM25\s+1\.0000\s+1\.0000", out, re.M)
    code, out, _ = run(capsys, "eval", "retrieval", *topic_files, "--bm25", "--per-query", "--json", "--top-k", "3")
    record = json.loads(out)
    assert code == 0 and record["top_k"] == 3
    assert record["per_query"]["BM25"]["q-music"]["nDCG@10"] == 1.0 and len(record["per_query"]["BM25"]) == 8


def test_cli_bbc_with_wordllama(capsys):
    code, out, err = run(capsys, "eval", "retrieval", "--data", "bbc", "--model", "wordllama", "--max-queries", "50",
                         "--json")
    assert code == 0
    record = json.loads(out)
    assert record["documents"] == 2089 and record["queries"] == 50
    assert "note: Evaluated on 50 of" in err
    (row,) = record["results"]
    assert row["pipeline"] == "wordllama" and row["queries"] == 50
    assert 0.5 < row["nDCG@10"] <= 1.0  # 0.72 here; chance is about 0.003 with 2,089 documents


@pytest.mark.parametrize("extra, message", [
    ([], "Nothing to evaluate: give --model"),
    (["--bm25", "--data", "bbc"], "Give either --data (bbc or a BEIR folder) or --corpus/--queries/--qrels, not both."),
    (["--bm25", "--qrels", "MISSING"], "Qrels file not found:"),
    (["--model", "nope", "--bm25"], "Unknown model 'nope'"),
    (["--model", "wordllama", "--rerank", "foo:bar"], "Unknown reranker kind 'foo'"),
    (["--model", "wordllama", "--rerank", "nonsense"], "Reranker 'nonsense': use maxsim:MODEL"),
])
def test_cli_errors_exit_2_with_one_clear_line(capsys, topic_files, tmp_path, extra, message):
    argv = list(topic_files)
    if "--qrels" in extra:
        argv = argv[:-2]
        extra = [x.replace("MISSING", str(tmp_path / "missing.tsv")) for x in extra]
    code, out, err = run(capsys, "eval", "retrieval", *argv, *extra)
    assert code == 2 and err.startswith("error: ") and message in err and "Traceback" not in err
    assert out == ""


def test_cli_checks_its_arguments_before_loading_data_or_a_model(capsys, topic_files, monkeypatch):
    import embedlab.models
    import embedlab.retrieval.corpus

    def never(*args, **kwargs):
        raise AssertionError("loaded before the arguments were checked")

    monkeypatch.setattr(embedlab.models, "load_model", never)
    monkeypatch.setattr(embedlab.retrieval.corpus, "assemble", never)
    for extra, message in [(["--rerank", "foo:bar"], "Unknown reranker kind 'foo'"),
                           (["--rerank-depth", "0"], "depth must be a whole number of at least 1")]:
        code, out, err = run(capsys, "eval", "retrieval", *topic_files, "--model", "minilm", *extra)
        assert code == 2 and message in err and out == ""


def test_cli_needs_some_data(capsys):
    code, _, err = run(capsys, "eval", "retrieval", "--bm25")
    assert code == 2 and "error: Retrieval needs --data bbc, --data BEIR_FOLDER, or all three" in err


def test_cli_beir_folder(capsys, tmp_path):
    folder = write_beir(tmp_path / "toyset")
    code, out, err = run(capsys, "eval", "retrieval", "--data", str(folder), "--bm25", "--json")
    assert code == 0 and json.loads(out)["data"] == "toyset (test)"
    assert "note: 1 queries without a relevant judgement" in err
    code, _, err = run(capsys, "eval", "retrieval", "--data", str(folder), "--split", "dev", "--bm25")
    assert code == 2 and "splits here: test" in err


# ---- late interaction with a real encoder ---------------------------------------------------------
@pytest.mark.slow
def test_maxsim_minilm_scores_and_explains():
    from embedlab.retrieval.rerank import MaxSimReranker, load_reranker

    reranker = load_reranker("maxsim:minilm")
    assert isinstance(reranker, MaxSimReranker) and reranker.name == "maxsim:minilm"
    query = "football goals in the cup final"
    docs = ["Interest rates rose by a quarter point.", "The striker scored twice in the cup final.",
            "Bake the bread with garlic and butter."]
    scores = reranker.score(query, docs)
    assert scores.shape == (3,) and int(np.argmax(scores)) == 1
    q_tokens, d_tokens, matrix = reranker.explain(query, docs[1])
    assert matrix.shape == (len(q_tokens), len(d_tokens))
    assert q_tokens == ["football", "goals", "in", "the", "cup", "final"]
    assert "striker" in d_tokens
    specials = {"[CLS]", "[SEP]", "[PAD]"}
    assert not specials & set(q_tokens) and not specials & set(d_tokens)
    assert float(matrix.max(axis=1).mean()) == pytest.approx(float(scores[1]), abs=1e-3)
    assert np.all(matrix <= 1.001) and np.all(matrix >= -1.001)  # cosines of unit vectors
