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


def test_uploaded_corpus_two_models_compared_and_searched():
    at = explorer()
    upload(at, "topics.csv", topic_corpus().to_csv(index=False).encode())
    assert not at.error
    at.selectbox(key="exp_label_col").set_value("label")
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
    at.text_input(key="exp_search_minilm").input("telescope").run()
    assert any("contain 'telescope'" in c.value for c in at.caption)
    at.selectbox(key="exp_pick_minilm").set_value("0").run()
    assert not at.exception


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
