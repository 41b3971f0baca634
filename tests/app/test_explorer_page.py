"""Corpus explorer page through its widgets: bundled corpus, good and malformed uploads."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.views import open_view, run_job
from tests.fakes import topic_corpus

pytestmark = pytest.mark.slow


def explorer() -> AppTest:
    return open_view("explorer")


def table(at, column):
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with column {column!r}")


def upload(at, name: str, content: bytes) -> None:
    at.radio(key="exp_source").set_value("Upload a file").run()
    at.file_uploader(key="exp_upload").set_value((name, content, "text/plain")).run()


def test_bbc_with_one_fast_model():
    at = explorer()
    at.multiselect(key="exp_models").set_value(["wordllama"]).run()
    run_job(at, "exp_run")
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == ["Map: wordllama", "Export"]
    clusters = table(at, "keywords")
    assert len(clusters) >= 5 and clusters["size"].sum() == 2225
    assert any("V-measure" in c.value for c in at.caption)
    assert len(at.get("download_button")) == 4


def keyed(at, key: str):
    """A table with a selection (only those carry their key in AppTest)."""
    frames = [f.value for f in at.dataframe if f.key == key]
    assert len(frames) == 1, f"no table with key {key!r}"
    return frames[0]


def tables_with(at, *columns: str) -> list:
    return [f.value for f in at.dataframe if set(columns) <= set(f.value.columns)]


def figure(at, key: str) -> dict:
    """The plotly figure a chart with ``key`` draws (AppTest keeps it as JSON)."""
    import json

    from streamlit.runtime.state.common import user_key_from_element_id

    charts = [c for c in at.get("plotly_chart") if user_key_from_element_id(c.proto.id) == key]
    assert len(charts) == 1, f"no chart with key {key!r}"
    return json.loads(charts[0].proto.spec)


def click(at, key: str, documents: list[int]) -> None:
    """What a click (one document) or a box selection (several) on a map sends back. AppTest cannot click
    inside a plotly chart; the selection state is set as the browser would set it."""
    points = [{"curve_number": 0, "point_number": i, "point_index": i, "x": 0.0, "y": 0.0, "customdata": d}
              for i, d in enumerate(documents)]
    at.session_state[key] = {"selection": {"points": points, "point_indices": list(range(len(documents))),
                                           "box": [], "lasso": []}}
    at.run()


def test_uploaded_corpus_two_models_compared_and_searched():
    at = explorer()
    upload(at, "topics.csv", topic_corpus().to_csv(index=False).encode())
    assert not at.error
    assert at.selectbox(key="exp_label_col").value == "label"  # guessed from its name and its 3 values
    at.multiselect(key="exp_models").set_value(["minilm", "wordllama"])
    at.number_input(key="exp_mcs").set_value(8)
    run_job(at, "exp_run")
    assert not at.exception and not at.error
    assert "Compare" in [t.label for t in at.tabs]
    scores = table(at, "V-measure")
    assert list(scores.index) == ["minilm", "wordllama"]
    assert scores.loc["minilm", "V-measure"] > 0.8  # three unmistakable topics
    worst = table(at, "agreement")
    assert len(worst) == 20 and worst["agreement"].between(0, 1).all()
    # Compare: the two models' clusters matched, the same topic under the same number in both maps.
    pairs = table(at, "shared documents")
    assert len(pairs) >= 3 and pairs["shared documents"].head(3).min() >= 15  # 20 documents per topic
    cmp_a, cmp_b = figure(at, "exp_cmp_map_a"), figure(at, "exp_cmp_map_b")
    colour_of = lambda fig: {t["name"].split(" (")[0]: t["marker"]["color"] for t in fig["data"]}
    shared = set(colour_of(cmp_a)) & set(colour_of(cmp_b))
    assert len(shared) >= 3 and all(colour_of(cmp_a)[g] == colour_of(cmp_b)[g] for g in shared)
    at.text_input(key="exp_search_minilm").input("telescope").run()
    assert any("contain 'telescope'" in c.value for c in at.caption)
    ring = figure(at, "exp_map_minilm")["data"][-1]
    assert ring["name"].startswith("search matches") and ring["marker"]["line"]["color"] == "#000000"


def test_map_labels_cluster_rows_and_a_clicked_points_neighbours():
    at = explorer()
    upload(at, "topics.csv", topic_corpus().to_csv(index=False).encode())
    at.multiselect(key="exp_models").set_value(["minilm", "wordllama"])
    at.number_input(key="exp_mcs").set_value(8)
    run_job(at, "exp_run")
    clusters = keyed(at, "exp_clusters_wordllama")
    fig = figure(at, "exp_map_wordllama")
    # Each cluster's number and first keywords, written on the map; noise (if any) gets no label.
    real = clusters[clusters["cluster"] != "noise"]
    assert sorted(a["text"] for a in fig["layout"]["annotations"]) == sorted(
        f"<b>{c}</b> " + " · ".join(k.split(", ")[:3]) for c, k in zip(real["cluster"], real["keywords"]))
    # Clicking the second cluster row: that cluster drawn strong, the rest faded, its documents listed.
    at.session_state["exp_clusters_wordllama"] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    picked = clusters["cluster"].iloc[1]
    assert any(m.value.startswith(f"**Documents of cluster {picked}**") for m in at.markdown)
    [listed] = [t for t in tables_with(at, "id", "cluster", "text") if "agreement" not in t and "cosine" not in t]
    assert len(listed) == clusters["size"].iloc[1] and set(listed["cluster"]) == {int(picked)}
    opacity = {t["name"].split(" (")[0]: t["marker"]["opacity"] for t in figure(at, "exp_map_wordllama")["data"]}
    assert opacity.pop(f"cluster {picked}") == 0.95 and set(opacity.values()) == {0.08}
    # A click on one point: its 10 nearest neighbours in each model, side by side.
    click(at, "exp_map_wordllama", [3])
    assert any(c.value.startswith("1 point selected") for c in at.caption)
    titles = [m.value for m in at.markdown if m.value.startswith("**wordllama**") or m.value.startswith("**minilm**")]
    assert [t.split("**")[1] for t in titles] == ["wordllama", "minilm"]  # the clicked map's model first
    own, other = tables_with(at, "cosine", "also in")
    for frame in (own, other):
        assert len(frame) == 10 and frame["cosine"].is_monotonic_decreasing
    # "also in" says whether the other model lists the same document.
    assert ((own["also in"] == "minilm") == own["id"].isin(other["id"])).all()
    assert "4" not in set(own["id"]) | set(other["id"])  # the clicked document (row 3, id 4) is not its own neighbour
    # A box around three points: the count and the three documents.
    at.session_state["exp_clusters_wordllama"] = {"selection": {"rows": [], "columns": []}}
    click(at, "exp_map_wordllama", [5, 9, 5, 11])  # 5 twice: a point and its search ring
    assert any(c.value.startswith("3 points selected") for c in at.caption)
    [listed] = [t for t in tables_with(at, "id", "cluster", "text") if "agreement" not in t and "cosine" not in t]
    assert listed["id"].tolist() == ["6", "10", "12"]


@pytest.mark.parametrize("name, content, message", [
    ("broken.csv", b"text,label\nfine,a\nthis,row,has,too,many\n", "Could not use broken.csv"),
    ("empty.csv", b"", "is empty"),
    ("blank.csv", b"text,label\n ,a\n,b\n", "no usable text"),
    ("notes.docx", b"hello", "Cannot tell the format"),
])
def test_bad_uploads_get_a_clear_message(name, content, message):
    at = explorer()
    at.radio(key="exp_source").set_value("Upload a file").run()
    if name.endswith(".docx"):  # the uploader itself restricts types; test the reader's message
        from embedlab.errors import DataError
        from embedlab.tables import read_table

        with pytest.raises(DataError, match=message):
            read_table(content, filename=name)
        return
    at.file_uploader(key="exp_upload").set_value((name, content, "text/csv")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_an_upload_gets_its_columns_guessed_and_a_code_column_is_refused_as_text():
    at = explorer()
    frame = topic_corpus(n_per=4)
    frame.insert(0, "ref", [f"R{i:03d}" for i in range(len(frame))])
    frame["price"] = [str(i * 1.5) for i in range(len(frame))]
    frame = frame.rename(columns={"text": "body", "label": "topic"})
    upload(at, "shop.csv", frame.to_csv(index=False).encode())
    assert [at.selectbox(key=k).value for k in ("exp_text_col", "exp_label_col", "exp_id_col")] == [
        "body", "topic", "ref"]
    assert any(m.value == "**12 documents** · 3 labels" for m in at.markdown)
    at.selectbox(key="exp_text_col").set_value("ref").run()
    assert [e.value for e in at.error] == [("Column 'ref' of shop.csv holds short codes such as 'R000', 'R001', "
                                            "not text to embed; pick a text column: body, topic.")]
    at.selectbox(key="exp_text_col").set_value("price").run()
    assert "'price' of shop.csv holds numbers, not text" in at.error[0].value
    # The user's choice outlives a page switch; a new upload is guessed afresh.
    at.switch_page("pages/models.py").run()
    at.switch_page("pages/explorer.py").run()
    assert at.selectbox(key="exp_text_col").value == "price"
    upload(at, "topics.csv", topic_corpus().to_csv(index=False).encode())
    assert [at.selectbox(key=k).value for k in ("exp_text_col", "exp_label_col", "exp_id_col")] == [
        "text", "label", "(none)"]


def test_empty_cells_are_reported_and_skipped():
    at = explorer()
    frame = topic_corpus(n_per=4)
    frame.loc[[0, 3], "text"] = ""
    upload(at, "gaps.csv", frame.to_csv(index=False).encode())
    assert any("10 documents" in m.value and "Skipped 2 empty" in m.value for m in at.markdown)


def test_choices_and_upload_survive_a_page_switch():
    at = explorer()
    upload(at, "topics.csv", topic_corpus().to_csv(index=False).encode())
    at.multiselect(key="exp_models").set_value(["wordllama"])
    at.selectbox(key="exp_method").set_value("pca")
    at.number_input(key="exp_mcs").set_value(7).run()
    at.switch_page("pages/models.py").run()
    at.switch_page("pages/explorer.py").run()
    assert not at.exception
    assert at.multiselect(key="exp_models").value == ["wordllama"]
    assert at.selectbox(key="exp_method").value == "pca"
    assert at.number_input(key="exp_mcs").value == 7
    assert any("60 documents" in m.value for m in at.markdown)  # the upload is still there
    assert any("uploaded earlier" in c.value for c in at.caption)


def test_a_tiny_corpus_says_what_was_used_instead_of_umap():
    at = explorer()
    tiny = topic_corpus(n_per=2)  # 6 documents: too few for a 5-D UMAP reduction
    upload(at, "tiny.csv", tiny.to_csv(index=False).encode())
    at.multiselect(key="exp_models").set_value(["wordllama"])
    run_job(at, "exp_run")
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("Clustering: PCA was used instead of UMAP") for w in warnings), warnings
    assert any("UMAP used n_neighbors=5 instead of 15" in w for w in warnings), warnings


def test_a_run_goes_on_in_the_background_and_a_reloaded_tab_gets_its_result_and_settings():
    at = explorer()
    at.multiselect(key="exp_models").set_value(["wordllama"])
    at.selectbox(key="exp_method").set_value("pca")
    at.button(key="exp_run").click().run()
    assert not at.exception
    assert any("wordllama:" in c.value for c in at.caption)  # the cost, said before the start
    from ui import jobs

    jobs.wait_all(600)
    reloaded = explorer()  # a new browser session: nothing in its session state yet
    assert reloaded.multiselect(key="exp_models").value == ["wordllama"]
    assert reloaded.selectbox(key="exp_method").value == "pca"
    assert [t.label for t in reloaded.tabs] == ["Map: wordllama", "Export"]
    assert any("finished in" in s.value for s in reloaded.success)


def topic_vectors(frame, *, dim: int = 16, seed: int = 0) -> bytes:
    """A .npy of vectors that put each topic of ``topic_corpus`` around its own direction, rows in order."""
    import io

    import numpy as np

    rng = np.random.default_rng(seed)
    centre = {label: 4.0 * np.eye(dim)[i] for i, label in enumerate(sorted(set(frame["label"])))}
    vectors = np.stack([centre[label] for label in frame["label"]]) + rng.normal(scale=0.3, size=(len(frame), dim))
    out = io.BytesIO()
    np.save(out, vectors.astype(np.float32))
    return out.getvalue()


def test_own_vectors_join_the_run_as_a_model_beside_the_zoo():
    corpus = topic_corpus()
    at = explorer()
    upload(at, "topics.csv", corpus.to_csv(index=False).encode())
    at.multiselect(key="exp_models").set_value(["wordllama"]).run()
    at.file_uploader(key="exp_vec_upload").set_value(("topics.npy", topic_vectors(corpus), "application/octet-stream"))
    at.number_input(key="exp_mcs").set_value(8).run()
    assert not at.exception and not at.error
    assert any("vectors:topics.npy" in c.value and "60 vectors of 16 dimensions, matched by row order" in c.value
               for c in at.caption)
    assert any("vectors:topics.npy: all 60 documents already embedded (uploaded vectors)" in c.value for c in at.caption)
    run_job(at, "exp_run")
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == ["Map: wordllama", "Map: vectors:topics.npy", "Compare", "Export"]
    scores = table(at, "V-measure")
    assert list(scores.index) == ["wordllama", "vectors:topics.npy"]
    assert scores.loc["vectors:topics.npy", "V-measure"] > 0.9  # the vectors keep the three topics apart
    assert "vectors:topics.npy" in at.selectbox(key="exp_cmp_b").options
    assert at.selectbox(key="exp_cmp_b").value == "vectors:topics.npy"  # Compare: wordllama against the vectors
    pairs = table(at, "shared documents")
    assert "vectors:topics.npy keywords" in pairs.columns and len(pairs) >= 3
    assert {b.label for b in at.get("download_button")} >= {"vectors:topics.npy embeddings (.npy)"}


def test_own_vectors_by_id_and_kept_for_a_reloaded_tab():
    import io

    import numpy as np
    import pandas as pd

    corpus = topic_corpus(n_per=10).assign(id=lambda f: [f"doc{i}" for i in range(len(f))])
    vectors = np.load(io.BytesIO(topic_vectors(corpus)))
    shuffled = pd.DataFrame({"doc_id": corpus["id"], "embedding": list(vectors)}).sample(frac=1.0, random_state=3)
    out = io.BytesIO()
    shuffled.to_parquet(out)
    at = explorer()
    upload(at, "topics.csv", corpus.to_csv(index=False).encode())
    at.multiselect(key="exp_models").set_value([]).run()
    at.session_state["exp_vec_file"] = ("mine.parquet", out.getvalue())
    at.run()
    assert any("matched by row order" in c.value for c in at.caption)  # the choice starts at row order
    at.selectbox(key="exp_vec_id_col").set_value("doc_id").run()
    assert not at.error
    assert any("30 vectors of 16 dimensions, matched by the ids in 'doc_id'" in c.value for c in at.caption)
    at.switch_page("pages/models.py").run()
    at.switch_page("pages/explorer.py").run()  # the file and its column choices survive a page switch
    assert at.selectbox(key="exp_vec_id_col").value == "doc_id"
    assert any("Using **mine.parquet**, uploaded earlier" in c.value for c in at.caption)
    at.selectbox(key="exp_method").set_value("pca")
    run_job(at, "exp_run")
    assert not at.exception and not at.error
    import re

    found = [float(m.group(1)) for c in at.caption if (m := re.search(r"Against the labels: V-measure ([0-9.]+)", c.value))]
    assert len(found) == 1 and found[0] > 0.9  # each vector found its document by id
    reloaded = explorer()  # a new browser session gets the job's settings, the vectors among them
    assert reloaded.session_state["exp_vec_file"][0] == "mine.parquet"
    assert reloaded.selectbox(key="exp_vec_id_col").value == "doc_id"
    assert [t.label for t in reloaded.tabs] == ["Map: vectors:mine.parquet", "Export"]
    reloaded.button(key="exp_vec_remove").click().run()
    assert "exp_vec_file" not in reloaded.session_state and not reloaded.exception
