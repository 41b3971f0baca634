"""Collections (embedlab/store): a real LanceDB folder in tmp_path, synthetic rows and vectors with known
answers. No model: vectors are random unit vectors, or come from a fake encoder (deterministic vectors
from a hash of the text, so a query equal to a document's text finds that document with cosine 1).
Real MiniLM and Ray: tests/models/test_collections_real.py."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedlab.errors import DataError
from embedlab.models.spec import ModelSpec
from embedlab.retrieval.corpus import RetrievalData, load_beir, write_beir
from embedlab.store import collection as store
from embedlab.store.collection import (
    Collection,
    ModelEntry,
    column_for,
    entry_for,
    known_collections,
    resolve,
)
from embedlab.store.evaluate import evaluate_collection
from embedlab.store.reading import (
    check_ids,
    input_spec,
    keep_first_text,
    plan_columns,
    read_local,
    shape_rows,
)
from embedlab.store.search import check_model, search, text_search
from tests.fakes import CountingEmbedder


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def rows(ids, texts, **extra) -> pa.Table:
    return pa.table({"id": list(ids), "text": list(texts), "text_hash": [sha1(t) for t in texts],
                     **{k: list(v) for k, v in extra.items()}})


def unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def entry(name: str = "fake", dim: int = 8, fingerprint: str = "fp-1") -> ModelEntry:
    return ModelEntry(name, column_for(name), fingerprint, dim, "encoder", "mean", "torch", "{}", time.time())


def vectors_by_id(c: Collection, e: ModelEntry) -> dict[str, np.ndarray | None]:
    got = c.docs().to_arrow().select(["id", e.column]).to_pylist()
    return {r["id"]: None if r[e.column] is None else np.asarray(r[e.column], np.float32) for r in got}


def state(c: Collection) -> tuple:
    """What a refused operation must leave as it was."""
    return (c.docs().version, c.count(), c.models(), c.db.open_table(store.MODELS).version,
            c.docs().to_arrow().sort_by("id").to_pylist())


@pytest.fixture
def coll(tmp_path) -> Collection:
    return Collection.open(tmp_path / "c", create=True)


# --- rows -------------------------------------------------------------------------------------------


def test_adding_the_same_file_twice_adds_nothing_the_second_time(tmp_path, coll):
    src = tmp_path / "docs.csv"
    src.write_text("id,text,topic\n" + "".join(f"d{i},text number {i},t{i % 3}\n" for i in range(50)))
    spec = input_spec(str(src))
    table = read_local(spec)
    id_col, text_col, beir, _ = plan_columns(spec, table.column_names)
    shaped = shape_rows(table, id_col=id_col, text_col=text_col, beir=beir)

    first = coll.add_rows(shaped)
    e = coll.register(entry())
    vecs = unit(50, 8)
    coll.write_vectors(e, shaped["id"].to_pylist(), vecs)
    second = coll.add_rows(shape_rows(read_local(input_spec(str(src))), id_col=id_col, text_col=text_col, beir=beir))

    assert (first.inserted, first.changed, first.unchanged) == (50, 0, 0)
    assert (second.inserted, second.changed, second.unchanged) == (0, 0, 50)
    assert coll.count() == 50
    assert coll.extra_columns() == ["topic"]
    after = coll.docs().to_arrow().sort_by("id")
    assert after["text"].to_pylist()[:2] == ["text number 0", "text number 1"]
    got = vectors_by_id(coll, e)  # unchanged rows keep their vectors: nothing to embed again
    assert coll.missing(e) == 0
    for i, row_id in enumerate(shaped["id"].to_pylist()):
        np.testing.assert_array_equal(got[row_id], vecs[i])


def test_changed_text_clears_that_rows_vectors_and_only_that_rows(coll):
    coll.add_rows(rows(["a", "b", "c"], ["alpha", "beta", "gamma"]))
    one, two = coll.register(entry("one", 8)), coll.register(entry("two", 4))
    v1, v2 = unit(3, 8, 1), unit(3, 4, 2)
    coll.write_vectors(one, ["a", "b", "c"], v1)
    coll.write_vectors(two, ["a", "b", "c"], v2)

    report = coll.add_rows(rows(["a", "b", "c", "d"], ["alpha", "BETA (revised)", "gamma", "delta"]))

    assert (report.inserted, report.changed, report.unchanged) == (1, 1, 2)
    for e, v in ((one, v1), (two, v2)):
        got = vectors_by_id(coll, e)
        assert got["b"] is None and got["d"] is None
        np.testing.assert_array_equal(got["a"], v[0])
        np.testing.assert_array_equal(got["c"], v[2])
        assert coll.missing(e) == 2
    b = coll.docs().search().where("id = 'b'").select(["text", "text_hash"]).to_arrow().to_pylist()
    assert b == [{"text": "BETA (revised)", "text_hash": sha1("BETA (revised)")}]


def test_input_with_columns_the_collection_lacks_is_refused_before_writing(coll):
    coll.add_rows(rows(["a"], ["alpha"], topic=["x"]))
    version = coll.docs().version
    with pytest.raises(DataError, match="columns the collection does not: source"):
        coll.add_rows(rows(["b"], ["beta"], topic=["y"], source=["web"]))
    assert coll.docs().version == version and coll.count() == 1


def test_extra_columns_are_stored_as_strings_and_missing_ones_are_null(coll):
    coll.add_rows(pa.table({"id": ["a", "b"], "text": ["alpha", "beta"], "text_hash": [sha1("alpha"), sha1("beta")],
                            "year": [2004, 2005]}))
    coll.add_rows(rows(["c"], ["gamma"]))  # no year column: null, not refused
    got = {r["id"]: r["year"] for r in coll.docs().to_arrow().to_pylist()}
    assert got == {"a": "2004", "b": "2005", "c": None}
    assert pa.types.is_string(coll.docs().schema.field("year").type)


# --- models -----------------------------------------------------------------------------------------


def test_register_refuses_another_dimension_or_fingerprint_and_changes_nothing(coll):
    coll.add_rows(rows(["a", "b"], ["alpha", "beta"]))
    known = coll.register(entry("m", 8, "fp-1"))
    coll.write_vectors(known, ["a", "b"], unit(2, 8))
    before = state(coll)

    with pytest.raises(DataError, match="8-dimensional vectors from 'm'; this model gives 16"):
        coll.register(entry("m", 16, "fp-1"))
    assert state(coll) == before
    with pytest.raises(DataError, match="other weights or settings"):
        coll.register(entry("m", 8, "fp-2"))
    assert state(coll) == before
    # the same model again is the existing entry (its vectors are kept, nothing is added)
    again = coll.register(entry("m", 8, "fp-1"))
    assert again == known and state(coll) == before


def test_two_names_for_one_vector_column_are_refused(coll):
    coll.add_rows(rows(["a"], ["alpha"]))
    coll.register(entry("mini-lm"))
    models = coll.models()
    with pytest.raises(DataError, match="same column vec_mini_lm"):
        coll.register(entry("mini_lm"))
    assert coll.models() == models


def test_model_not_in_the_collection_names_the_index_command(coll):
    coll.add_rows(rows(["a"], ["alpha"]))
    coll.register(entry("m"))
    with pytest.raises(DataError, match=r"no vectors from model 'other' \(it has: m\).*embedlab index"):
        coll.model("other")


# --- vectors ----------------------------------------------------------------------------------------


def test_todo_yields_only_rows_without_vectors(coll):
    n = 30
    coll.add_rows(rows([f"d{i:02}" for i in range(n)], [f"text {i}" for i in range(n)]))
    e = coll.register(entry())
    assert sorted(i for part in coll.todo(e, batch_rows=7) for i in part["id"].to_pylist()) == \
        [f"d{i:02}" for i in range(n)]

    done = [f"d{i:02}" for i in range(0, n, 3)]
    assert coll.write_vectors(e, done, unit(len(done), 8)) == len(done)

    parts = list(coll.todo(e, batch_rows=4))
    left = [i for part in parts for i in part["id"].to_pylist()]
    assert sorted(left) == sorted({f"d{i:02}" for i in range(n)} - set(done))
    assert all(p.column_names == ["id", "text", "text_hash"] for p in parts)
    assert coll.missing(e) == len(left) == n - len(done)

    coll.write_vectors(e, left, unit(len(left), 8, 3))
    assert sum(p.num_rows for p in coll.todo(e)) == 0 and coll.missing(e) == 0


def test_write_vectors_refuses_the_wrong_shape(coll):
    coll.add_rows(rows(["a", "b"], ["alpha", "beta"]))
    e = coll.register(entry(dim=8))
    version = coll.docs().version
    with pytest.raises(DataError, match=r"Expected 2 x 8 vectors"):
        coll.write_vectors(e, ["a", "b"], unit(2, 4))
    assert coll.docs().version == version and coll.missing(e) == 2


def test_vectors_for_hashes_returns_stored_vectors_by_content(coll):
    texts = [f"text {i}" for i in range(1_200)]  # more than one IN (...) batch of 500
    coll.add_rows(rows([f"d{i}" for i in range(1_200)], texts))
    e = coll.register(entry())
    vecs = unit(1_200, 8)
    coll.write_vectors(e, [f"d{i}" for i in range(1_000)], vecs[:1_000])  # the last 200 stay null

    asked = [sha1(texts[i]) for i in (0, 499, 500, 999, 1_000, 1_199)] + [sha1("never stored")]
    found = coll.vectors_for_hashes(e, asked + asked[:2])  # repeats are harmless

    assert set(found) == {sha1(texts[i]) for i in (0, 499, 500, 999)}
    for i in (0, 499, 500, 999):
        np.testing.assert_array_equal(found[sha1(texts[i])], vecs[i])
    assert coll.vectors_for_hashes(e, []) == {}


# --- where collections are --------------------------------------------------------------------------


def test_resolve_and_known_collections(tmp_home, tmp_path):
    assert resolve("support") == str(tmp_home / "collections" / "support")
    assert resolve("./support") == "./support"
    assert resolve(str(tmp_path / "x")) == str(tmp_path / "x")
    assert resolve("s3://bucket/coll") == "s3://bucket/coll"
    assert resolve("~/c") == "~/c"
    with pytest.raises(DataError, match="Give a collection"):
        resolve("  ")

    assert known_collections() == []
    c = Collection.open("support", create=True)
    c.add_rows(rows(["a"], ["alpha"]))
    (tmp_home / "collections" / "not-a-collection").mkdir()
    (tmp_home / "collections" / "stray.txt").write_text("x")
    assert known_collections() == ["support"]
    assert Collection.open("support").count() == 1
    assert c.uri == str(tmp_home / "collections" / "support")


def test_a_collection_path_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    for create in (True, False):
        with pytest.raises(DataError, match="is a file, not a collection"):
            Collection.open(f, create=create)
    assert f.read_text() == "hello"


def test_opening_a_missing_collection_says_how_to_build_one(tmp_path):
    with pytest.raises(DataError, match=r"No collection at .*embedlab index --collection"):
        Collection.open(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="embedlab index"):
        Collection.open(tmp_path / "empty")


def test_a_folder_made_for_a_collection_that_got_no_row_is_removed_again(tmp_path):
    unused = Collection.open(tmp_path / "new", create=True)
    assert unused.made and (tmp_path / "new").is_dir()
    unused.discard_if_unused()
    assert not (tmp_path / "new").exists()

    used = Collection.open(tmp_path / "used", create=True)
    used.add_rows(rows(["a"], ["alpha"]))
    used.discard_if_unused()
    assert Collection.open(tmp_path / "used").count() == 1
    (tmp_path / "mine").mkdir()  # a folder the user made is never removed
    Collection.open(tmp_path / "mine", create=True).discard_if_unused()
    assert (tmp_path / "mine").is_dir()


# --- reading input files ----------------------------------------------------------------------------


def shaped(pattern: str, **kw) -> tuple[pa.Table, list[str]]:
    spec = input_spec(pattern, **kw)
    table = read_local(spec)
    id_col, text_col, beir, notes = plan_columns(spec, table.column_names)
    out = keep_first_text(shape_rows(table, id_col=id_col, text_col=text_col, beir=beir), id_col)
    check_ids(out)
    return out, notes


def test_beir_corpus_reads_as_eval_retrieval_reads_it(tmp_path):
    data = RetrievalData("t", ["d1", "d2", "d3", "d4"], ["A title", "", "  Spaced ", "T"],
                         ["the body", "only a body ", "body", "  padded body  "], ["q1"], ["query"], {"q1": {"d1": 1}})
    folder = write_beir(data, tmp_path / "beir")

    got, notes = shaped(str(folder / "corpus.jsonl"))
    expected = load_beir(folder)

    assert got["id"].to_pylist() == expected.doc_ids == ["d1", "d2", "d3", "d4"]
    assert got["text"].to_pylist() == expected.doc_texts
    assert got["text"].to_pylist()[0] == "A title the body"
    assert got["text_hash"].to_pylist() == [sha1(t) for t in expected.doc_texts]
    assert "title" not in got.column_names and "_id" not in got.column_names
    assert any("BEIR" in n for n in notes)


def test_csv_tsv_jsonl_and_parquet_give_the_same_rows(tmp_path):
    records = [{"id": f"r{i}", "text": f"text, with \"quotes\" {i}", "label": f"l{i % 2}"} for i in range(5)]
    table = pa.Table.from_pylist(records)
    pq.write_table(table, tmp_path / "a.parquet")
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    import pyarrow.csv as pcsv

    pcsv.write_csv(table, tmp_path / "a.csv")
    pcsv.write_csv(table, tmp_path / "a.tsv", pcsv.WriteOptions(delimiter="\t", quoting_style="needed"))
    results = [shaped(str(tmp_path / f"a.{ext}"))[0] for ext in ("parquet", "jsonl", "csv", "tsv")]
    for r in results:
        assert r.to_pylist() == results[0].to_pylist()
    assert results[0]["text"].to_pylist()[1] == 'text, with "quotes" 1'
    assert results[0].column_names == ["id", "text", "text_hash", "label"]


def test_a_glob_reads_every_matching_file(tmp_path):
    for part in range(3):
        (tmp_path / f"part{part}.jsonl").write_text(
            "".join(json.dumps({"id": f"p{part}-{i}", "text": f"row {part}.{i}"}) + "\n" for i in range(4)))
    got, _ = shaped(str(tmp_path / "part*.jsonl"))
    assert got.num_rows == 12 and len(set(got["id"].to_pylist())) == 12


def test_a_glob_of_mixed_formats_is_refused(tmp_path):
    (tmp_path / "a.csv").write_text("id,text\n1,x\n")
    (tmp_path / "b.jsonl").write_text('{"id": "2", "text": "y"}\n')
    with pytest.raises(DataError, match="different formats"):
        input_spec(str(tmp_path / "*"))
    with pytest.raises(DataError, match="No file matches"):
        input_spec(str(tmp_path / "*.parquet"))


def test_missing_text_or_id_column_is_refused_with_the_columns_found(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("id,body\n1,hello\n")
    with pytest.raises(DataError, match=r"No text column 'text' in the input \(its columns: id, body\).*--text-column"):
        shaped(str(src))
    with pytest.raises(DataError, match="No text column 'content'"):
        shaped(str(src), text_column="content")
    with pytest.raises(DataError, match="No id column 'key'"):
        shaped(str(src), text_column="body", id_column="key")
    got, _ = shaped(str(src), text_column="body")
    assert got.to_pylist() == [{"id": "1", "text": "hello", "text_hash": sha1("hello")}]


def test_empty_inputs_are_refused(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv is empty"):
        input_spec(str(tmp_path / "empty.csv"))
    (tmp_path / "header.csv").write_text("id,text\n")
    with pytest.raises(DataError, match="no row with text"):
        shaped(str(tmp_path / "header.csv"))
    (tmp_path / "blank.csv").write_text("id,text\n1,\n2,   \n")
    with pytest.raises(DataError, match="no row with text"):
        shaped(str(tmp_path / "blank.csv"))
    with pytest.raises(DataError, match="not found"):
        input_spec(str(tmp_path / "missing.csv"))
    with pytest.raises(DataError, match="is a folder"):
        input_spec(str(tmp_path))


def test_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "a.csv").write_text("id,text\n1,one\n2,two\n1,uno\n")
    with pytest.raises(DataError, match="Ids must be unique in the input; repeated: 1"):
        shaped(str(tmp_path / "a.csv"))


def test_rows_without_an_id_column_are_identified_by_their_texts_hash(tmp_path):
    (tmp_path / "a.csv").write_text("text,topic\nfirst text,x\nsecond text,y\n,z\n")
    got, notes = shaped(str(tmp_path / "a.csv"))
    assert got["id"].to_pylist() == [sha1("first text"), sha1("second text")]  # the empty row is dropped
    assert got["id"].to_pylist() == got["text_hash"].to_pylist()
    assert got["topic"].to_pylist() == ["x", "y"]
    assert any("hash" in n for n in notes)


def test_without_an_id_column_a_repeated_text_is_kept_once(tmp_path):
    """The note promises "identical texts are kept once": a repeated text is not a repeated id."""
    (tmp_path / "a.csv").write_text("text\nsame text\nother text\nsame text\n")
    got, notes = shaped(str(tmp_path / "a.csv"))
    assert got["text"].to_pylist() == ["same text", "other text"]
    assert any("kept once" in n for n in notes)


# --- search and evaluation with a fake encoder ------------------------------------------------------


class FakeEncoder(CountingEmbedder):
    """A fake encoder with what the store reads from a loaded model: ``spec``, ``dim``, ``cache_key``."""

    def __init__(self, name: str = "fake", dim: int = 16, key: str = "k1") -> None:
        super().__init__(dim=dim, name=name, key=key)
        self.spec = ModelSpec(name=name, kind="encoder", source="local", location="/nowhere", pooling="mean", dim=dim)


def fill(coll: Collection, model: FakeEncoder, texts: list[str], ids: list[str] | None = None) -> ModelEntry:
    ids = ids or [f"d{i}" for i in range(len(texts))]
    coll.add_rows(rows(ids, texts))
    e = coll.register(entry_for(model))
    coll.write_vectors(e, ids, model.encode(texts))
    coll.build_indexes([e])
    return e


TOPICS = ["football match goal striker", "interest rates central bank", "oven recipe garlic butter",
          "telescope galaxy comet orbit", "election vote parliament minister"]


def small_texts(n: int) -> list[str]:
    return [f"{TOPICS[i % len(TOPICS)]} note {i}" for i in range(n)]


def test_entry_for_records_the_model(coll):
    model = FakeEncoder("my-model", 16)
    e = entry_for(model)
    assert (e.name, e.column, e.dim, e.fingerprint) == ("my-model", "vec_my_model", 16, model.cache_key("document"))
    assert json.loads(e.spec)["name"] == "my-model"
    assert ModelSpec(**json.loads(e.spec)) == model.spec


def test_search_finds_a_documents_own_text_first_exact_and_hybrid(coll):
    model = FakeEncoder()
    texts = small_texts(60)
    fill(coll, model, texts)
    assert not coll.has_ann(coll.model("fake")) and coll.has_fts()  # 60 rows: exact search

    queries = [texts[7], texts[42]]
    dense = search(coll, model, queries, k=5)
    assert [f["id"].iloc[0] for f in dense] == ["d7", "d42"]
    assert [f["text"].iloc[0] for f in dense] == queries
    assert dense[0]["score"].iloc[0] == pytest.approx(1.0, abs=1e-5)
    assert all(len(f) == 5 and f["score"].is_monotonic_decreasing for f in dense)

    hybrid = search(coll, model, queries, k=5, hybrid=True)
    assert [f["id"].iloc[0] for f in hybrid] == ["d7", "d42"]  # first in both rankings
    lexical, _ = text_search(coll, "telescope", 100, columns=("id", "text"))
    assert len(lexical) == 12 and all("telescope" in t for t in lexical["text"])


def test_search_refuses_a_model_with_other_weights(coll):
    fill(coll, FakeEncoder(key="k1"), small_texts(10))
    with pytest.raises(DataError, match="other weights or settings than the model loaded now"):
        check_model(coll, FakeEncoder(key="k2"))
    with pytest.raises(DataError, match="no vectors from model 'other'"):
        search(coll, FakeEncoder(name="other"), ["x"])


def test_evaluate_collection_known_answers_through_the_ann_index(coll, tmp_path, monkeypatch):
    """Queries are documents' own texts: every pipeline finds the judged document first (nDCG@10 = 1)."""
    model = FakeEncoder()
    n = store.ANN_MIN_ROWS + 100
    texts = small_texts(n)
    e = fill(coll, model, texts)
    assert coll.has_ann(e)
    qids = [f"q{i}" for i in range(0, n, 50)]
    data = RetrievalData("t", [], [], [], qids, [texts[int(q[1:])] for q in qids],
                         {q: {f"d{q[1:]}": 1} for q in qids})
    folder = write_beir(data, tmp_path / "beir")

    result = evaluate_collection(coll, model, folder / "queries.jsonl", folder / "qrels" / "test.tsv", top_k=10,
                                 hybrid=True)

    assert result.ann_index and result.documents == n and result.queries == len(qids)
    assert set(result.results) == {"fake (ANN)", "fake (exact)", "hybrid(fake + full-text)"}
    assert result.results["fake (exact)"]["nDCG@10"] == pytest.approx(1.0)
    assert result.results["fake (ANN)"]["nDCG@10"] == pytest.approx(1.0)
    assert 0.0 <= result.recall_at_10_vs_exact <= 1.0
    assert all(lat["p50"] > 0 and lat["p95"] >= lat["p50"] for lat in result.latency_ms.values())

    exact = evaluate_collection(coll, model, folder / "queries.jsonl", folder / "qrels" / "test.tsv", top_k=10,
                                exact=True)
    assert set(exact.results) == {"fake (exact)"} and exact.recall_at_10_vs_exact is None
    assert not exact.ann_index


def test_evaluate_without_an_ann_index_searches_exactly_and_says_so(coll, tmp_path):
    model = FakeEncoder()
    texts = small_texts(40)
    fill(coll, model, texts)
    data = RetrievalData("t", [], [], [], ["q3"], [texts[3]], {"q3": {"d3": 1}})
    folder = write_beir(data, tmp_path / "beir")
    result = evaluate_collection(coll, model, folder / "queries.jsonl", folder / "qrels" / "test.tsv")
    assert not result.ann_index and result.recall_at_10_vs_exact is None
    assert any("no ANN index" in n for n in result.notes)
    assert result.results["fake (exact)"]["nDCG@10"] == pytest.approx(1.0)


def test_summary_counts_embedded_rows_per_model(coll):
    coll.add_rows(rows(["a", "b", "c"], ["alpha", "beta", "gamma"], topic=["x", "y", "z"]))
    e = coll.register(entry("m", 8))
    coll.write_vectors(e, ["a"], unit(1, 8))
    s = coll.summary()
    assert s["documents"] == 3 and s["columns"] == ["topic"]
    assert s["models"]["m"]["embedded"] == 1 and s["models"]["m"]["dim"] == 8
    assert s["disk_bytes"] > 0 and not s["full_text_index"]
    assert dataclasses.asdict(coll.model("m")) == dataclasses.asdict(e)
