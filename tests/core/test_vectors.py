"""Bring your own vectors: reading .npy/Parquet/JSONL/CSV vectors, every refusal, alignment by order and by
id, the PrecomputedEmbedder, and that estimates, the benchmark and retrieval take it as any model."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pandas as pd
import pytest

from embedlab import estimate
from embedlab.errors import DataError, OptionError
from embedlab.vectors import (
    PrecomputedEmbedder,
    UploadedVectors,
    align_vectors,
    model_name,
    read_vectors,
    vector_columns,
)
from tests.fakes import TableEmbedder, topic_corpus

M = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 0]], dtype=np.float32)


def npy(array) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out)
    return out.getvalue()


def jsonl(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


# 1. Reading ---------------------------------------------------------------------------------------
def test_npy_rows_are_read_in_order_as_float32():
    got = read_vectors(npy(M.astype(np.float64)), filename="emb.npy")
    assert got.source == "emb.npy" and got.ids is None and got.dim == 3
    assert got.vectors.dtype == np.float32 and np.array_equal(got.vectors, M)
    assert read_vectors(npy(M.astype(np.int64)), filename="ints.npy").vectors.tolist() == M.tolist()


def test_parquet_jsonl_and_csv_columns_of_vectors_with_ids():
    frame = pd.DataFrame({"doc": ["a", "b", "c", "d"], "emb": [list(map(float, r)) for r in M], "n": [1, 2, 3, 4]})
    assert vector_columns(frame) == ["emb"]
    from_parquet = read_vectors(parquet(frame), filename="v.parquet", column="emb", id_column="doc")
    assert from_parquet.ids == ("a", "b", "c", "d") and np.array_equal(from_parquet.vectors, M)
    from_jsonl = read_vectors(jsonl(frame.to_dict("records")), filename="v.jsonl")  # the only vector column
    assert from_jsonl.column == "emb" and np.array_equal(from_jsonl.vectors, M)
    from_csv = read_vectors(frame.to_csv(index=False).encode(), filename="v.csv", column="emb")  # "[1.0, 0.0, 0.0]"
    assert np.array_equal(from_csv.vectors, M)


def test_alignment_by_order_by_kept_rows_and_by_id():
    by_order = UploadedVectors("v.npy", M)
    assert np.array_equal(align_vectors(by_order, ids=["1", "2", "3", "4"]), M)
    # The corpus had 4 rows and row 2 was skipped (no text): the vectors of the kept rows remain.
    assert np.array_equal(align_vectors(by_order, ids=["1", "3", "4"], rows=[0, 2, 3], table_rows=4), M[[0, 2, 3]])
    by_id = UploadedVectors("v.parquet", M, ids=("d", "c", "b", "a"), column="emb", id_column="doc")
    assert np.array_equal(align_vectors(by_id, ids=["a", "b", "c"]), M[[3, 2, 1]])


@pytest.mark.parametrize("data, name, message", [
    (b"hello, not numpy", "v.npy", "v.npy is not a NumPy .npy file"),
    (b"PK\x03\x04rest-of-a-zip", "v.npy", "v.npy is a .npz archive"),
    (npy(np.array([{"a": 1}, None], dtype=object)), "obj.npy", "obj.npy holds Python objects"),
    (npy(M)[:-5], "cut.npy", "cut.npy is damaged or cut short"),
    (npy(np.arange(384.0)), "one.npy", "one.npy holds a 1-D array of 384 numbers"),
    (npy(np.zeros((2, 3, 4)) + 1), "cube.npy", "cube.npy holds a 3-D array of shape (2, 3, 4)"),
    (npy(np.array([["a", "b"], ["c", "d"]])), "text.npy", "text.npy holds text, not numbers"),
    (npy(np.ones((2, 2), dtype=bool)), "bool.npy", "bool.npy holds true/false values, not numbers"),
    (npy(np.zeros((0, 3))), "none.npy", "none.npy holds an empty array"),
    (npy(np.array([[1.0, 2.0], [3.0, np.nan], [np.inf, 1.0]])), "nan.npy",
     "Row 2 of nan.npy has NaN or infinite values (2 rows in all)"),
    (npy(np.array([[1.0, 2.0], [0.0, 0.0]])), "zero.npy", "Row 2 of zero.npy is all zeros"),
    (b"x", "v.txt", "not from a .txt"),
])
def test_npy_and_file_refusals_say_what_is_wrong(data, name, message):
    with pytest.raises(DataError) as caught:
        read_vectors(data, filename=name)
    assert message in str(caught.value)


@pytest.mark.parametrize("rows, message", [
    ([[1.0, 2.0], [1.0, 2.0, 3.0]], "Row 2 of column 'emb' in t.jsonl has 3 numbers where row 1 has 2"),
    ([[1.0, 2.0], "oops"], "Row 2 of column 'emb' in t.jsonl holds text ('oops'), not a list of numbers"),
    ([[1.0, 2.0], [1.0, "x"]], "Row 2 of column 'emb' in t.jsonl holds 'x' among its numbers"),
    ([[1.0, 2.0], [[1.0], [2.0]]], "Row 2 of column 'emb' in t.jsonl holds a list among its numbers"),
    ([[1.0, 2.0], None], "Row 2 of column 'emb' in t.jsonl has no vector"),
    ([[1.0, 2.0], 5.0], "Row 2 of column 'emb' in t.jsonl holds a single float"),
    ([[0.0, 0.0], [1.0, 2.0]], "Row 1 (id 'a') of column 'emb' in t.jsonl is all zeros"),
])
def test_table_refusals_name_the_row(rows, message):
    data = jsonl([{"id": i, "emb": r} for i, r in zip("ab", rows)])
    with pytest.raises(DataError) as caught:
        read_vectors(data, filename="t.jsonl", column="emb", id_column="id")
    assert message in str(caught.value)


def test_nan_in_a_table_names_its_row_and_id():
    frame = pd.DataFrame({"id": ["a", "b", "c"], "emb": [[1.0, 2.0], [1.0, 2.0], [float("nan"), 1.0]]})
    with pytest.raises(DataError, match=r"Row 3 \(id 'c'\) of column 'emb' in t.parquet has NaN or infinite"):
        read_vectors(parquet(frame), filename="t.parquet", column="emb", id_column="id")


@pytest.mark.parametrize("frame, kwargs, message", [
    (pd.DataFrame({"a": [[1.0]], "b": [[2.0]]}), {}, "t.jsonl must have one column of vectors (lists of numbers); "
                                                      "it has several (a, b): pick one"),
    (pd.DataFrame({"a": ["x"], "b": [1]}), {}, "it has none. Its columns: a, b"),
    (pd.DataFrame({"a": [[1.0]]}), {"column": "z"}, "t.jsonl has no column 'z'"),
    (pd.DataFrame({"a": [[1.0], [2.0]], "id": ["x", "x"]}), {"id_column": "id"},
     "The id 'x' appears more than once in column 'id'"),
    (pd.DataFrame({"a": [[1.0], [2.0]], "id": ["x", ""]}), {"id_column": "id"}, "Row 2 of t.jsonl has no id"),
])
def test_table_choice_and_id_refusals(frame, kwargs, message):
    with pytest.raises(DataError) as caught:
        read_vectors(jsonl(frame.to_dict("records")), filename="t.jsonl", **kwargs)
    assert message in str(caught.value)


def test_wrong_counts_and_unknown_ids_say_both_sides():
    with pytest.raises(DataError, match="v.npy has 4 vectors but the corpus has 5 rows: give one vector per row"):
        align_vectors(UploadedVectors("v.npy", M), ids=list("abcde"))
    with pytest.raises(DataError, match=r"has 4 vectors but the corpus has 6 rows \(5 of them documents with text\)"):
        align_vectors(UploadedVectors("v.npy", M), ids=list("abcde"), rows=[0, 1, 2, 3, 5], table_rows=6)
    with pytest.raises(DataError, match="2 of the 3 documents of the queries have no vector in v.parquet "
                                        r"\(the first: id 'q9'\)"):
        align_vectors(UploadedVectors("v.parquet", M, ids=tuple("abcd")), ids=["a", "q9", "q8"], what="queries")


# 2. The embedder ----------------------------------------------------------------------------------
def test_encode_looks_up_by_text_and_normalises_when_asked():
    model = PrecomputedEmbedder("vectors:v.npy", ["a", "b", "c", "d"], M)
    assert model.name == "vectors:v.npy" == model_name("some/dir/v.npy") and model.dim == 3
    raw = model.encode(["c", "a", "c"], normalize=False)
    assert raw.dtype == np.float32 and raw.tolist() == [[0, 0, 3], [1, 0, 0], [0, 0, 3]]
    unit = model.encode(["d", "b"])
    assert np.allclose(unit, [[2 ** -0.5, 2 ** -0.5, 0], [0, 1, 0]])
    seen = []
    model.encode(["a", "b"], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 2)]
    assert model.encode([]).shape == (0, 3)
    assert model.missing(["a", "zz", "b", "zz"]) == ["zz"] and model.missing(["a"]) == []


def test_a_text_without_a_vector_is_a_clear_error_that_counts_them():
    model = PrecomputedEmbedder("vectors:v.npy", ["a", "b", "c", "d"], M)
    with pytest.raises(DataError, match="vectors:v.npy has no uploaded vector for 2 of the 3 distinct document texts "
                                        r"asked for \(the first: 'x'\)"):
        model.encode(["a", "x", "y", "x"])
    with pytest.raises(OptionError, match="Unknown role 'passage'"):
        model.encode(["a"], role="passage")


def test_queries_have_their_own_table_and_the_same_dimensions():
    model = PrecomputedEmbedder("vectors:d", ["doc"], M[:1], query_texts=["q?"], query_vectors=M[1:2])
    assert model.encode(["q?"], role="query", normalize=False).tolist() == [[0, 2, 0]]
    assert model.missing(["doc"], role="query") == ["doc"] and model.missing(["q?"]) == ["q?"]
    symmetric = PrecomputedEmbedder("vectors:d", ["doc"], M[:1])
    assert symmetric.missing(["doc"], role="query") == []  # without query vectors: one space for both roles
    with pytest.raises(DataError, match="document vectors have 3 dimensions and the query vectors 2"):
        PrecomputedEmbedder("vectors:d", ["doc"], M[:1], query_texts=["q"], query_vectors=np.ones((1, 2)))
    with pytest.raises(DataError, match="Give one document vector per document text: 2 texts"):
        PrecomputedEmbedder("vectors:d", ["a", "b"], M[:1])


def test_a_repeated_text_keeps_its_first_vector_and_says_when_they_differ():
    same = PrecomputedEmbedder("v", ["a", "b", "a"], M[[0, 1, 0]])
    assert same.notes == ()
    differ = PrecomputedEmbedder("v", ["a", "b", "a"], M[[0, 1, 2]])
    assert differ.encode(["a"], normalize=False).tolist() == [[1, 0, 0]]
    assert differ.notes == ("1 document text appears more than once with different vectors; each uses the vector "
                            "of its first row.",)
    assert differ.fingerprint == same.fingerprint  # the same vectors are served
    assert PrecomputedEmbedder("v", ["a", "b", "a"], M[[2, 1, 0]]).fingerprint != same.fingerprint


# 3. As any other model ----------------------------------------------------------------------------
def test_estimates_say_already_embedded_and_nothing_is_remembered(tmp_home):
    model = PrecomputedEmbedder("vectors:v.npy", ["a", "b", "c", "d"], M)
    found = estimate.estimate_encode(model, ["a", "b", "c"])
    assert (found.to_encode, found.seconds) == (0, 0.0)
    assert found.describe("documents") == "vectors:v.npy: all 3 documents already embedded (uploaded vectors)"
    assert estimate.estimate_encode(model, ["a", "q"]).describe() == "vectors:v.npy: 1 of the 2 texts have no uploaded vector"
    assert estimate.learn_from_run(model, ["a", "b"], 5.0, source="test") is None
    assert not (tmp_home / estimate.RATES_FILE).exists()


def test_the_benchmark_scores_uploaded_vectors_without_speed_size_or_cache(tmp_home):
    from embedlab.evaluation import bench as B

    corpus = topic_corpus(n_per=12)
    centres = {"cooking": [5.0, 0, 0, 0], "football": [0, 5.0, 0, 0], "astronomy": [0, 0, 5.0, 0]}
    rng = np.random.default_rng(1)
    vectors = np.array([centres[l] for l in corpus["label"]]) + rng.normal(scale=0.1, size=(len(corpus), 4))
    mine = PrecomputedEmbedder("vectors:topics.npy", corpus["text"].tolist(), vectors)
    task = B.clustering_task("topics", corpus["text"].tolist(), corpus["label"].tolist())
    unseen = ["a text nobody uploaded a vector for", "another one"]
    other = B.dedup_task("other", unseen)
    fake = TableEmbedder({t: [float(len(t)), 1.0] for t in [*corpus["text"], *unseen]}, name="fake")
    loaded = {"vectors:topics.npy": mine, "fake": fake}
    board = B.run_bench(["fake", "vectors:topics.npy"], [task, other], loader=loaded.__getitem__,
                        model_tasks={"vectors:topics.npy": ["topics"]})
    assert board.table.loc["vectors:topics.npy", "topics"] == pytest.approx(1.0)  # three clean clusters
    assert np.isnan(board.table.loc["vectors:topics.npy", "other"])  # not run: its texts have no vectors
    assert list(board.results["vectors:topics.npy"]) == ["topics"] and not board.errors
    row = board.table.loc["vectors:topics.npy"]
    assert all(np.isnan(row[c]) for c in B.COST_COLUMNS) and not row[B.PARETO_COLUMN]
    assert board.results["vectors:topics.npy"]["topics"].speed is None
    assert not (tmp_home / "cache" / "bench").exists() or not any((tmp_home / "cache" / "bench").rglob("*.json"))
    with pytest.raises(DataError, match="limited to task"):
        B.run_bench(["vectors:topics.npy"], [task], loader=loaded.__getitem__, model_tasks={"vectors:topics.npy": ["x"]})


def test_retrieval_with_uploaded_doc_and_query_vectors_scores_as_any_model():
    from embedlab.retrieval import pipeline as P
    from embedlab.retrieval.corpus import RetrievalData

    docs, queries = ["doc one", "doc two", "doc three"], ["first?", "second?"]
    data = RetrievalData("t", ["d1", "d2", "d3"], ["", "", ""], docs, ["q1", "q2"], queries,
                         {"q1": {"d1": 1}, "q2": {"d2": 1}})
    doc_vectors, query_vectors = np.eye(3), np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.2]])
    mine = PrecomputedEmbedder("vectors:docs.npy", docs, doc_vectors, query_texts=queries, query_vectors=query_vectors)
    same = TableEmbedder({**dict(zip(docs, doc_vectors.tolist())), **dict(zip(queries, query_vectors.tolist()))})
    plan = P.RetrievalPlan(models=("vectors:docs.npy", "table"), top_k=3)
    rankings = P.run_plan(plan, data, models={"vectors:docs.npy": mine, "table": same})
    table = P.summary_table(rankings, data)
    assert table.loc["vectors:docs.npy", "nDCG@10"] == 1.0
    assert table.loc["vectors:docs.npy"].drop("seconds").equals(table.loc["table"].drop("seconds"))


def test_a_plan_without_the_models_that_cannot_search_a_query():
    from embedlab.retrieval import pipeline as P

    plan = P.RetrievalPlan(models=("minilm", "vectors:v"), bm25=True, hybrid=True, rerankers=("maxsim:minilm",),
                           rerank_of=("minilm",))
    kept = P.without_models(plan, ["vectors:v"])
    assert kept.models == ("minilm",) and kept.rerankers == ("maxsim:minilm",) and kept.rerank_of == ("minilm",)
    unranked = P.without_models(dataclasses.replace(plan, rerank_of=("vectors:v",)), ["vectors:v"])
    assert unranked.rerankers == () and unranked.rerank_of is None and unranked.bm25
    assert P.without_models(P.RetrievalPlan(models=("vectors:v",)), ["vectors:v"]) is None
