"""The explorer over a collection (embedlab.store.explore): a real LanceDB folder holding synthetic unit
vectors in well-separated blobs, so the right sample, clusters, assignment and keywords are known."""

from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest

from embedlab.errors import DataError, OptionError
from embedlab.explorer.clustering import NOISE, ClusterConfig
from embedlab.explorer.pipeline import ExploreConfig
from embedlab.explorer.projection import ProjectionConfig
from embedlab.explorer.topics import ctfidf_keywords
from embedlab.store.collection import Collection
from embedlab.store.explore import (
    CollectionMap,
    assign_all,
    draw_sample,
    explore_collection,
    highlight,
    place_hits,
    similar,
)
from embedlab.store.search import vector_search
from tests.fakes import BLOB_DIM as DIM
from tests.fakes import BLOB_WORDS as TOPIC_WORDS
from tests.fakes import BLOBS, PER_BLOB, blob_collection, blob_entry, blob_rows

CONFIG = ExploreConfig(projection=ProjectionConfig(method="pca"),
                       clustering=ClusterConfig(min_cluster_size=10, space="raw"))


BLOB_OF_ROW = blob_rows()[2]  # made once: blob_of is asked for every hit


def blob_of(doc_id: str) -> int:
    return int(BLOB_OF_ROW[int(doc_id[1:])])


def entry():
    return blob_entry()


def build(path, order=None, *, indexes: bool = False):
    return blob_collection(path, order, indexes=indexes)


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    return build(tmp_path_factory.mktemp("blobs") / "c", indexes=True)


@pytest.fixture(scope="module")
def explored(blobs) -> CollectionMap:
    return explore_collection(blobs, "blobs", CONFIG, size=200, seed=0, batch_rows=128)


def test_sample_is_seeded_bounded_and_independent_of_row_order(blobs, tmp_path):
    first = draw_sample(blobs, entry(), size=200, seed=0, batch_rows=100)
    assert len(first) == 200 and first.total == BLOBS * PER_BLOB and len(set(first.ids)) == 200
    assert draw_sample(blobs, entry(), size=200, seed=0).ids == first.ids  # batch size plays no part
    assert draw_sample(blobs, entry(), size=200, seed=1).ids != first.ids
    reversed_rows = build(tmp_path / "reversed", order=np.arange(BLOBS * PER_BLOB)[::-1])
    assert draw_sample(reversed_rows, entry(), size=200, seed=0).ids == first.ids
    everything = draw_sample(blobs, entry(), size=5_000, seed=0)
    assert len(everything) == BLOBS * PER_BLOB and sorted(everything.ids) == blob_rows()[0]


def test_sample_rows_carry_their_own_text_columns_and_vectors(blobs):
    _, texts, blob, vectors = blob_rows()
    sample = draw_sample(blobs, entry(), size=50, seed=3)
    rows = [int(d[1:]) for d in sample.ids]
    assert sample.texts == [texts[r] for r in rows]
    assert sample.columns["topic"].tolist() == [f"t{blob[r]}" for r in rows]
    np.testing.assert_allclose(sample.vectors, vectors[rows], atol=1e-6)
    assert sample.positions([sample.ids[7], "nope"]).tolist() == [7, -1]


def test_every_document_of_a_blob_lands_in_that_blobs_cluster(explored):
    labels = explored.map.labels
    sample_blob = np.array([blob_of(d) for d in explored.sample.ids])
    cluster_of = {}
    for b in range(BLOBS):  # HDBSCAN found each blob as one cluster in the sample
        found = set(labels[(sample_blob == b) & (labels != NOISE)].tolist())
        assert len(found) == 1, (b, found)
        cluster_of[b] = found.pop()
    assert len(set(cluster_of.values())) == BLOBS
    counts = explored.assignment.counts
    assert sum(counts.values()) == BLOBS * PER_BLOB == explored.assignment.documents
    noise = int((labels == NOISE).sum())
    assert counts.get(NOISE, 0) == noise  # noise only in the sample; every other document has a cluster
    for b, c in cluster_of.items():
        sample_noise_in_blob = int(((sample_blob == b) & (labels == NOISE)).sum())
        assert counts[c] == PER_BLOB - sample_noise_in_blob
    assert explored.describe() == "map of 200 of 1,200 documents (sample, seed 0); clusters assigned to all 1,200"


def test_keywords_are_ctfidf_of_every_document_by_its_cluster(blobs, explored):
    ids, texts, blob, _ = blob_rows()
    labels = explored.map.labels
    sample_blob = blob[[int(d[1:]) for d in explored.sample.ids]]
    cluster_of = {b: int(np.median(labels[(sample_blob == b) & (labels != NOISE)])) for b in range(BLOBS)}
    expected_labels = np.array([cluster_of[b] for b in blob])
    on_map = explored.sample.positions(ids)
    expected_labels[on_map >= 0] = labels[on_map[on_map >= 0]]
    expected = {c: [w for w, _ in kw] for c, kw in ctfidf_keywords(texts, expected_labels).items()}
    assert explored.assignment.keywords == expected
    for b, c in cluster_of.items():
        assert set(explored.assignment.keywords[c][:4]) == set(TOPIC_WORDS[b])


def test_assignment_streams_in_batches_with_the_same_answer(blobs, explored):
    again = assign_all(blobs, entry(), explored.sample, explored.map.labels, batch_rows=7)
    assert again.counts == explored.assignment.counts and again.keywords == explored.assignment.keywords


class BlobQueries:
    """The collection's model for queries: a query names a blob and gets that blob's axis."""

    spec = SimpleNamespace(name="blobs")

    def cache_key(self, role: str) -> str:
        return "fp-blobs"

    def encode(self, texts, *, role="document", **_):
        return np.eye(DIM, dtype=np.float32)[[int(t.split()[-1]) for t in texts]]


def test_search_highlights_hits_across_the_collection(blobs, explored):
    assert blobs.has_ann(entry())
    found = highlight(blobs, BlobQueries(), explored, "blob 2", k=60)
    assert len(found.hits) == 60 and all(blob_of(d) == 2 for d in found.hits["id"])
    in_sample = set(explored.sample.ids)
    assert found.off_map == sum(d not in in_sample for d in found.hits["id"])
    assert sorted(explored.sample.ids[i] for i in found.on_map) == sorted(d for d in found.hits["id"] if d in in_sample)
    counts = found.per_cluster()
    assert sum(counts.values()) == 60
    blob2 = explored.map.labels[[i for i, d in enumerate(explored.sample.ids) if blob_of(d) == 2]]
    assert set(counts) <= set(blob2.tolist())  # its cluster, or noise for a sample hit HDBSCAN left out


def test_hits_off_the_map_get_their_nearest_centre(blobs, explored):
    frame, _ = vector_search(blobs, entry(), np.eye(DIM, dtype=np.float32)[0], 1_200, exact=True,
                             columns=["id", "text", entry().column])
    placed = place_hits("all", frame, entry(), explored)
    off = placed.hits[placed.hits["on_map"] < 0]
    assert len(off) == 1_200 - 200 and placed.off_map == 1_000
    by_blob = off.assign(blob=[blob_of(d) for d in off["id"]]).groupby("blob")["cluster"].nunique()
    assert (by_blob == 1).all() and off["cluster"].nunique() == BLOBS


def test_clear_errors(blobs, tmp_path):
    with pytest.raises(OptionError, match="at least"):
        draw_sample(blobs, entry(), size=3)
    with pytest.raises(DataError, match="no vectors from model 'other'"):
        explore_collection(blobs, "other", CONFIG)
    empty = Collection.open(str(tmp_path / "e"), create=True)
    ids, texts, _, _ = blob_rows()
    empty.add_rows(pa.table({"id": ids[:30], "text": texts[:30]}))
    empty.register(entry())
    with pytest.raises(DataError, match="has a 'blobs' vector yet"):
        draw_sample(empty, entry(), size=20)
    with pytest.raises(OptionError, match="Type a query"):
        highlight(blobs, BlobQueries(), None, "  ")


def test_neighbours_of_a_map_point_come_from_the_whole_collection(blobs, explored):
    position = 5
    near = similar(blobs, explored, position, k=40)
    own_blob = blob_of(explored.sample.ids[position])
    assert len(near.hits) == 40 and explored.sample.ids[position] not in set(near.hits["id"])
    assert all(blob_of(d) == own_blob for d in near.hits["id"])
    assert near.off_map > 0  # most of the collection is not on the map


def test_rows_without_the_models_vector_are_left_out(tmp_path):
    collection = build(tmp_path / "partly")
    collection.add_rows(pa.table({"id": [f"new{i}" for i in range(30)], "text": ["not embedded yet"] * 30,
                                  "topic": ["t9"] * 30}))
    assert collection.count() == BLOBS * PER_BLOB + 30
    everything = draw_sample(collection, entry(), size=5_000, seed=0, batch_rows=64)
    assert len(everything) == everything.total == BLOBS * PER_BLOB
    assert not any(d.startswith("new") for d in everything.ids)
    result = explore_collection(collection, "blobs", CONFIG, size=300, batch_rows=64)
    assert result.assignment.documents == sum(result.assignment.counts.values()) == BLOBS * PER_BLOB
