"""The corpus explorer opened on a collection, through its widgets: a real LanceDB folder, the map of a
seeded sample, clusters counted over every document, and search across the collection."""

import pytest

from embedlab.store.build import index
from tests.app.views import open_view, run_job
from tests.fakes import BLOB_WORDS, BLOBS, PER_BLOB, blob_collection, topic_corpus
from ui import explorer_collection

pytestmark = pytest.mark.slow

TYPED = "(type a folder or URI)"


def keyed(at, key: str):
    """A table with a selection (only those carry their key in AppTest)."""
    frames = [f.value for f in at.dataframe if f.key == key]
    assert len(frames) == 1, f"no table with key {key!r}"
    return frames[0]


def table_with(at, *columns: str):
    frames = [f.value for f in at.dataframe if set(columns) <= set(f.value.columns)]
    assert len(frames) == 1, f"{len(frames)} tables with columns {columns}"
    return frames[0]


def figure(at, key: str) -> dict:
    """The plotly figure a chart with ``key`` draws (AppTest keeps it as JSON)."""
    import json

    from streamlit.runtime.state.common import user_key_from_element_id

    charts = [c for c in at.get("plotly_chart") if user_key_from_element_id(c.proto.id) == key]
    assert len(charts) == 1, f"no chart with key {key!r}"
    return json.loads(charts[0].proto.spec)


def named_on_map(at) -> list[int]:
    """The clusters whose labels are written on the collection map."""
    return sorted(int(a["text"].split("</b>")[0].removeprefix("<b>"))
                  for a in figure(at, "exp_coll_map")["layout"].get("annotations", []))


def texts(at) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "info") for e in at.get(kind))


def open_collection(uri: str | None = None, name: str | None = None):
    at = open_view("explorer")
    at.radio(key="exp_source").set_value("A collection").run()
    if name is not None:
        at.selectbox(key="exp_coll_pick").set_value(name).run()
    else:
        at.selectbox(key="exp_coll_pick").set_value(TYPED).run()
        at.text_input(key="exp_coll_uri").input(uri).run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    return at


def test_blob_collection_mapped_from_a_sample_and_counted_in_full(tmp_path, monkeypatch):
    blob_collection(tmp_path / "blobs", indexes=True)
    at = open_collection(str(tmp_path / "blobs"))
    assert "**1,200 documents**" in texts(at)
    assert at.selectbox(key="exp_coll_model").value == "blobs"
    at.number_input(key="exp_coll_sample").set_value(200)
    at.selectbox(key="exp_method").set_value("pca")
    at.selectbox(key="exp_space").set_value("raw")
    at.number_input(key="exp_mcs").set_value(10)
    run_job(at, "exp_coll_run")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert ("Showing a map of 200 of 1,200 documents (sample, seed 0); clusters assigned to all 1,200."
            in [i.value for i in at.info])
    clusters = keyed(at, "exp_coll_clusters")
    assert clusters["documents"].sum() == BLOBS * PER_BLOB and clusters["on the map"].sum() == 200
    found = clusters[clusters["cluster"] != "noise"]
    assert len(found) == BLOBS and (found["documents"] >= PER_BLOB - 20).all()
    assert {frozenset(k.split(", ")[:4]) for k in found["keywords (all documents)"]} == {frozenset(w) for w in BLOB_WORDS}
    assert named_on_map(at) == sorted(int(c) for c in found["cluster"])
    # A sample can form many clusters: only the largest are named on the map, and the one picked in the table.
    monkeypatch.setattr(explorer_collection, "MAP_LABELS", 2)
    at.run()
    assert named_on_map(at) == sorted(int(c) for c in found["cluster"].iloc[:2])
    assert any("The 2 largest of 4 clusters are named on the map" in c.value for c in at.caption)
    at.session_state["exp_coll_clusters"] = {"selection": {"rows": [3], "columns": []}}
    at.run()
    assert named_on_map(at) == sorted(int(c) for c in found["cluster"].iloc[[0, 1, 3]])
    # Picking a cluster lists its documents on the map, most central first.
    at.session_state["exp_coll_clusters"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    docs = table_with(at, "id", "cluster", "text", "topic")
    assert len(docs) == found["on the map"].iloc[0] and set(docs["cluster"]) == {int(found["cluster"].iloc[0])}
    # The collection's own columns with few values colour the map.
    at.radio(key="exp_coll_colour").set_value("topic").run()
    assert not at.exception


def test_search_highlights_hits_of_the_whole_collection(tmp_home, tmp_path):
    corpus = topic_corpus(n_per=20).assign(id=lambda d: [f"t{i}" for i in range(len(d))])
    corpus.to_parquet(tmp_path / "topics.parquet")
    index(str(tmp_home / "collections" / "topics"), str(tmp_path / "topics.parquet"), ["wordllama"])
    at = open_collection(name="topics")  # found in the data folder by its name
    at.number_input(key="exp_coll_sample").set_value(40)
    at.selectbox(key="exp_method").set_value("pca")
    at.number_input(key="exp_mcs").set_value(5)
    run_job(at, "exp_coll_run")
    assert not at.error, [e.value for e in at.error]
    assert "Showing a map of 40 of 60 documents (sample, seed 0); clusters assigned to all 60." in [i.value for i in at.info]
    at.number_input(key="exp_coll_k").set_value(20)
    at.text_input(key="exp_coll_query").input("telescope galaxy comet").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    hits = table_with(at, "rank", "on the map")
    assert len(hits) == 20 and hits["score"].is_monotonic_decreasing
    on_map, off = int(hits["on the map"].sum()), int((~hits["on the map"]).sum())
    assert any(f"{on_map} of the top 20 hits for 'telescope galaxy comet' are on the map (ringed); {off} of the top "
               f"20 hits are not in the sample" in c.value for c in at.caption)
    clusters = keyed(at, "exp_coll_clusters")
    assert clusters["hits"].sum() == 20
