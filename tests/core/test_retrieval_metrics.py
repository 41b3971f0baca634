"""Retrieval metrics: a hand-computed example, then agreement with pytrec_eval and mteb's own code."""

import math

import numpy as np
import pytest

from embedlab.errors import DataError, OptionError
from embedlab.retrieval import metrics
from embedlab.retrieval.corpus import RetrievalData


def test_hand_computed_example():
    # Ranked a, b, c, d; relevant b (grade 1) and d (grade 2); e is relevant but never retrieved.
    run = {"q": {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.6}}
    qrels = {"q": {"b": 1, "d": 2, "e": 1, "c": 0}}
    got = metrics.evaluate(run, qrels, ["nDCG@10", "nDCG@2", "MRR@10", "MRR@1", "Recall@1", "Recall@10",
                                        "MAP@100", "P@2"])
    dcg = 1 / math.log2(3) + 2 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert got["nDCG@10"] == pytest.approx(dcg / idcg)
    assert got["nDCG@2"] == pytest.approx((1 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert got["MRR@10"] == pytest.approx(0.5) and got["MRR@1"] == 0.0
    assert got["Recall@1"] == 0.0 and got["Recall@10"] == pytest.approx(2 / 3)
    assert got["MAP@100"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert got["P@2"] == pytest.approx(0.5)


def test_ties_are_broken_by_document_id_descending():
    run = {"q": {"a": 0.5, "b": 0.5}}
    assert metrics.ranked(run["q"]) == ["b", "a"]
    assert metrics.evaluate(run, {"q": {"a": 1}}, ["MRR@10"])["MRR@10"] == 0.5


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(60)]
    run, qrels = {}, {}
    for q in range(25):
        scores = np.round(rng.random(50), 1)  # rounding makes ties
        chosen = rng.choice(docs, 50, replace=False)
        run[f"q{q}"] = {d: float(s) for d, s in zip(chosen, scores)}
        judged = rng.choice(docs + ["unseen1", "unseen2"], rng.integers(1, 8), replace=False)
        qrels[f"q{q}"] = {d: int(rng.integers(0, 3)) for d in judged}
        qrels[f"q{q}"][judged[0]] = max(1, qrels[f"q{q}"][judged[0]])  # at least one relevant
    run["only_in_run"] = {"d1": 1.0}
    qrels["only_in_qrels"] = {"d1": 1}
    return run, qrels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_pytrec_eval(seed):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    run, qrels = random_case(seed)
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.3,10", "map_cut.10,100", "recall.1,10", "P.5"}).evaluate(run)
    ours = metrics.per_query(run, qrels, ["nDCG@3", "nDCG@10", "MAP@10", "MAP@100", "Recall@1", "Recall@10", "P@5"])
    assert set(ours.index) == set(ref)  # the same queries are scored
    names = {"nDCG@3": "ndcg_cut_3", "nDCG@10": "ndcg_cut_10", "MAP@10": "map_cut_10", "MAP@100": "map_cut_100",
             "Recall@1": "recall_1", "Recall@10": "recall_10", "P@5": "P_5"}
    for qid, row in ours.iterrows():
        for ours_name, ref_name in names.items():
            assert row[ours_name] == pytest.approx(ref[qid][ref_name], abs=1e-4), (qid, ours_name)


def test_equals_mteb_calculate_retrieval_scores():
    mteb_metrics = pytest.importorskip("mteb._evaluators.retrieval_metrics")
    run, qrels = random_case(7)
    run.pop("only_in_run")  # mteb expects every run query to be judged
    qrels.pop("only_in_qrels")
    ref = mteb_metrics.calculate_retrieval_scores(run, qrels, [1, 10, 100])
    ours = metrics.evaluate(run, qrels)
    assert ours["nDCG@10"] == pytest.approx(ref.ndcg["NDCG@10"], abs=1e-5)
    assert ours["MAP@100"] == pytest.approx(ref.map["MAP@100"], abs=1e-5)
    assert ours["Recall@1"] == pytest.approx(ref.recall["Recall@1"], abs=1e-5)
    assert ours["Recall@100"] == pytest.approx(ref.recall["Recall@100"], abs=1e-5)
    assert ours["MRR@10"] == pytest.approx(ref.mrr["MRR@10"], abs=1e-5)


def test_unknown_metric_is_refused():
    with pytest.raises(OptionError, match="Unknown metric"):
        metrics.evaluate({"q": {"a": 1.0}}, {"q": {"a": 1}}, ["F1@3"])


def test_a_run_without_judged_queries_is_a_data_error():
    with pytest.raises(DataError, match="No query in the run has judgements"):
        metrics.evaluate({"other": {"a": 1.0}}, {"q": {"a": 1}})


def test_doc_text_joins_title_and_text_like_mteb():
    data = RetrievalData("t", ["a", "b"], ["Title", ""], ["body ", " only body"], ["q"], ["x"], {"q": {"a": 1}})
    assert data.doc_texts == ["Title body", "only body"]


def test_identical_ids_are_ignored_for_the_sets_mteb_ignores_them_on(tmp_path):
    import json

    from embedlab.retrieval.corpus import load_beir
    from embedlab.retrieval.pipeline import Ranking
    from embedlab.retrieval.search import Hits

    for name, expected in [("ArguAna", True), ("scifact", False)]:
        folder = tmp_path / name
        (folder / "qrels").mkdir(parents=True)
        (folder / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": i, "title": "", "text": t})
                                                       for i, t in [("a1", "x"), ("a2", "y")]))
        (folder / "queries.jsonl").write_text(json.dumps({"_id": "a1", "text": "x"}))
        (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\na1\ta2\t1\n")
        data = load_beir(folder)
        assert data.ignore_identical_ids is expected
        # The query's own document first, the relevant one second.
        ranking = Ranking("s", Hits(np.array([[0, 1]]), np.array([[0.9, 0.8]], dtype=np.float32)), 0.0)
        assert ranking.evaluate(data)["MRR@10"].iloc[0] == (1.0 if expected else 0.5)
