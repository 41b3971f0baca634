"""The corpus explorer over a collection too large to map whole (10^5-10^6 documents).

1. ``draw_sample``: a seeded sample of the documents that have the model's vectors: the ``size`` ids with
   the smallest seeded hash, found in one pass over the ids (of the rows that have a vector), then only
   those rows read with their text, other columns and stored vectors. The same seed gives the same sample, whatever the rows' order
   on disk; rows added later join it only if their hash is small enough.
2. ``explore_collection`` maps and clusters the sample with the explorer's own pipeline
   (``embedlab.explorer.pipeline.map_vectors``: UMAP, HDBSCAN, c-TF-IDF), on the stored vectors.
3. ``assign_all``: every document to its nearest cluster centre (the normalised mean of the sample
   members' vectors), streaming over the vector column in batches, so memory stays bounded by the
   batch and the sample. Sample documents keep the label HDBSCAN gave them (noise stays noise there);
   every other document gets the centre it is closest to.
4. In the same pass, each cluster's keywords from the texts of all its documents (c-TF-IDF, counted
   batch by batch: ``ClassWordCounts``).
5. ``highlight``: a query's top-k through the collection's ANN index, which of the hits are on the map,
   and how many fall in each cluster (a hit off the map gets its nearest centre, as in step 3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.errors import DataError, OptionError
from embedlab.explorer.clustering import NOISE
from embedlab.explorer.pipeline import ExploreConfig, ModelMap, StepNote, map_vectors
from embedlab.explorer.topics import ClassWordCounts
from embedlab.store.collection import ID, TEXT, Collection, ModelEntry, matrix
from embedlab.store.search import check_model, vector_search

DEFAULT_SAMPLE = 20_000
MIN_SAMPLE = 20
BATCH_ROWS = 2_048  # rows per read: with 384-d vectors 3 MB, plus their texts
ROW_ID = "_rowid"
STEPS: tuple[str, ...] = ("sample", "map", "cluster", "describe", "assign")
Progress = Callable[[int, int], None]  # (done, total) inside the current step


def sample_key(ids, seed: int) -> np.ndarray:
    """Each id's place in the seeded order (a 64-bit hash of the id under a key made from ``seed``)."""
    return pd.util.hash_array(np.asarray(ids, dtype=object), hash_key=f"embedlab{seed:08d}"[-16:])


@dataclass(frozen=True)
class Sample:
    """Documents drawn from a collection, in seeded order, with one model's stored vectors."""

    ids: list[str]
    texts: list[str]
    columns: pd.DataFrame  # the collection's other columns, one row per document (strings)
    vectors: np.ndarray  # (n, dim) float32, unit length, as stored
    row_ids: np.ndarray  # (n,) LanceDB row ids in the version read: how a streamed batch finds them
    total: int  # documents with this model's vector in the collection
    seed: int

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, ids) -> np.ndarray:
        """Each id's position in the sample, -1 where it is not in it."""
        where = {d: i for i, d in enumerate(self.ids)}
        return np.array([where.get(d, -1) for d in ids], dtype=np.int64)


def _read(table, entry: ModelEntry, columns: list[str], batch_rows: int,
          progress: Progress | None = None) -> Iterator[pa.Table]:
    """The rows that have ``entry``'s vector, with ``columns`` and their row id, ``batch_rows`` at a time.

    Read by takes of consecutive offsets, not by a scan: LanceDB's scan reads whole fragments ahead (it
    took ~500 MB more to stream a 400k x 384 column here), while takes of a few thousand rows keep the
    reader to tens of MB whatever the collection's size. Rows come back in any order, each with its row id.
    """
    wanted = list(dict.fromkeys([*columns, entry.column]))
    n = table.count_rows()
    for start in range(0, n, batch_rows):
        rows = table.take_offsets(list(range(start, min(n, start + batch_rows)))).select(wanted).with_row_id()
        rows = rows.to_arrow()
        yield rows.filter(pc.is_valid(rows[entry.column]))
        if progress:
            progress(min(n, start + batch_rows), n)


def draw_sample(collection: Collection, entry: ModelEntry, *, size: int = DEFAULT_SAMPLE, seed: int = 0,
                table=None, batch_rows: int = BATCH_ROWS, progress: Progress | None = None) -> Sample:
    """``size`` documents (all of them when the collection has fewer) with ``entry``'s vectors."""
    if size < MIN_SAMPLE:
        raise OptionError(f"The sample needs at least {MIN_SAMPLE} documents to be clustered, got {size}.")
    table = table if table is not None else collection.docs()
    # 1. The ``size`` smallest seeded hashes, one batch of ids at a time.
    keys, rows, ids, total = np.empty(0, np.uint64), np.empty(0, np.uint64), np.empty(0, object), 0
    for batch in _read(table, entry, [ID], batch_rows, progress):
        batch_ids = np.asarray(batch[ID].to_pylist(), dtype=object)
        keys = np.concatenate([keys, sample_key(batch_ids, seed)])
        rows = np.concatenate([rows, batch[ROW_ID].to_numpy().astype(np.uint64)])
        ids = np.concatenate([ids, batch_ids])
        if len(keys) > 2 * size:  # trimmed now and then: the sort, not the memory, is what costs
            keep = np.lexsort((rows, keys))[:size]
            keys, rows, ids = keys[keep], rows[keep], ids[keep]
        total += batch.num_rows
    if total == 0:
        raise DataError(f"No document of {collection.uri} has a {entry.name!r} vector yet: run `embedlab index "
                        f"--collection {collection.uri} --model {entry.name}` first.")
    order = np.lexsort((rows, keys))[:size]
    rows, ids = rows[order], ids[order].tolist()
    # 2. Only those rows, with their texts, other columns and vectors.
    extras = collection.extra_columns()
    got = table.take_row_ids([int(r) for r in rows]).select([ID, TEXT, *extras, entry.column]).to_arrow()
    where = {d: i for i, d in enumerate(got[ID].to_pylist())}
    if len(where) != len(ids) or any(d not in where for d in ids):
        raise DataError(f"{collection.uri} changed while the sample was read; run the explorer again.")
    got = got.take(pa.array([where[d] for d in ids]))
    return Sample(ids=ids, texts=got[TEXT].to_pylist(), columns=got.select(extras).to_pandas(),
                  vectors=matrix(got[entry.column], entry.dim), row_ids=rows, total=total, seed=seed)


def centres_of(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cluster numbers, their centres): the normalised mean of each cluster's members. Noise has none."""
    clusters = np.array(sorted(set(np.asarray(labels).tolist()) - {NOISE}), dtype=np.int64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    centres = np.stack([unit[labels == c].mean(axis=0) for c in clusters]) if len(clusters) else \
        np.zeros((0, vectors.shape[1]), np.float32)
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    return clusters, centres.astype(np.float32)


def nearest(vectors: np.ndarray, clusters: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each vector's nearest centre (by cosine: the vectors are unit length) as a cluster number."""
    if not len(clusters):
        return np.full(len(vectors), NOISE, dtype=np.int64)
    return clusters[np.argmax(vectors @ centres.T, axis=1)]  # (n, k) -> (n,)


@dataclass(frozen=True)
class Assignment:
    """Every document of the collection in a cluster: counts and keywords over all of them."""

    clusters: np.ndarray  # (k,) cluster numbers that have a centre
    centres: np.ndarray  # (k, dim) unit vectors
    counts: dict[int, int]  # cluster -> documents in the whole collection; NOISE: the sample's noise only
    keywords: dict[int, list[str]]  # c-TF-IDF over every document's text, by its cluster
    documents: int  # documents assigned (the collection's documents with this model's vector)
    seconds: float


def assign_all(collection: Collection, entry: ModelEntry, sample: Sample, labels: np.ndarray, *,
               table=None, top_words: int = 8, batch_rows: int = BATCH_ROWS,
               progress: Progress | None = None) -> Assignment:
    """Steps 3 and 4: one streamed pass over (text, vector) of the whole collection."""
    start = time.perf_counter()
    table = table if table is not None else collection.docs()
    labels = np.asarray(labels, dtype=np.int64)
    clusters, centres = centres_of(sample.vectors, labels)
    by_row = np.argsort(sample.row_ids)
    sample_rows, sample_labels = sample.row_ids[by_row], labels[by_row]
    counts: dict[int, int] = {}
    words, done = ClassWordCounts(), 0
    for batch in _read(table, entry, [TEXT], batch_rows, progress):
        assigned = nearest(matrix(batch[entry.column], entry.dim), clusters, centres)
        rows = batch[ROW_ID].to_numpy().astype(np.uint64)
        at = np.minimum(np.searchsorted(sample_rows, rows), len(sample_rows) - 1)
        in_sample = sample_rows[at] == rows
        assigned[in_sample] = sample_labels[at[in_sample]]
        for c, n in zip(*np.unique(assigned, return_counts=True)):
            counts[int(c)] = counts.get(int(c), 0) + int(n)
        words.add(batch[TEXT].to_pylist(), assigned)
        done += batch.num_rows
    keywords = {c: [w for w, _ in found] for c, found in words.keywords(top_n=top_words).items()}
    return Assignment(clusters, centres, dict(sorted(counts.items())), keywords, done,
                      time.perf_counter() - start)


@dataclass(frozen=True)
class CollectionMap:
    """The explorer's view of a collection: a map of a sample, clusters over every document."""

    uri: str
    model: str
    sample: Sample
    map: ModelMap  # the sample's map, labels and cluster summaries (central documents are sample positions)
    assignment: Assignment
    seconds: dict[str, float] = field(default_factory=dict)  # sample, map, cluster, assign

    def describe(self) -> str:
        n, total = len(self.sample), self.sample.total
        return (f"map of {n:,} of {total:,} documents (sample, seed {self.sample.seed}); "
                f"clusters assigned to all {self.assignment.documents:,}")


def explore_collection(collection: Collection, model: str, config: ExploreConfig, *, size: int = DEFAULT_SAMPLE,
                       seed: int = 0, batch_rows: int = BATCH_ROWS, note: StepNote | None = None,
                       progress: Progress | None = None) -> CollectionMap:
    """Steps 1-4 for ``model``'s vectors. ``note(step, message)`` says when each of ``STEPS`` starts;
    ``progress(done, total)`` moves within the sample and assign steps (rows read of the collection's)."""
    say = note or (lambda _step, _msg: None)
    entry = collection.model(model)
    table = collection.docs()  # one version for every read: row ids stay valid between the passes
    say("sample", f"{model}: drawing a sample of {size:,} documents")
    start = time.perf_counter()
    sample = draw_sample(collection, entry, size=size, seed=seed, table=table, batch_rows=batch_rows,
                         progress=progress)
    seconds = {"sample": time.perf_counter() - start}
    sample_map = map_vectors(sample.texts, sample.vectors, config, name=model, note=note)
    seconds.update(map=sample_map.seconds["map"], cluster=sample_map.seconds["cluster"])
    say("assign", f"{model}: assigning all {sample.total:,} documents to their nearest cluster")
    assignment = assign_all(collection, entry, sample, sample_map.labels, table=table, top_words=config.top_words,
                            batch_rows=batch_rows, progress=progress)
    seconds["assign"] = assignment.seconds
    return CollectionMap(collection.uri, model, sample, sample_map, assignment, seconds)


@dataclass(frozen=True)
class Highlight:
    """A query's top hits across the whole collection, placed on the map where they are in the sample."""

    query: str
    hits: pd.DataFrame  # id, text, score, cluster, on_map (position in the sample, -1 when not in it)
    seconds: float

    @property
    def on_map(self) -> np.ndarray:
        return self.hits["on_map"].to_numpy()[self.hits["on_map"].to_numpy() >= 0]

    @property
    def off_map(self) -> int:
        return int((self.hits["on_map"] < 0).sum())

    def per_cluster(self) -> dict[int, int]:
        return {int(c): int(n) for c, n in self.hits["cluster"].value_counts().sort_index().items()}


def highlight(collection: Collection, embedder, result: CollectionMap, query: str, *, k: int = 100) -> Highlight:
    """Step 5: ``query`` embedded by ``embedder`` (the collection's model), searched through the ANN index."""
    if not query.strip():
        raise OptionError("Type a query to search the collection.")
    entry = check_model(collection, embedder)
    vector = embedder.encode([query], role="query")[0]
    frame, seconds = vector_search(collection, entry, vector, k, columns=[ID, TEXT, entry.column])
    return place_hits(query, frame, entry, result, seconds)


def place_hits(query: str, frame: pd.DataFrame, entry: ModelEntry, result: CollectionMap,
               seconds: float = 0.0) -> Highlight:
    """Search hits (id, text, score and the model's vector) with their cluster and place on the map."""
    vectors = np.asarray(frame.pop(entry.column).tolist(), dtype=np.float32).reshape(len(frame), entry.dim)
    on_map = result.sample.positions(frame[ID].tolist())
    clusters = nearest(vectors, result.assignment.clusters, result.assignment.centres)
    clusters[on_map >= 0] = result.map.labels[on_map[on_map >= 0]]
    hits = frame.assign(cluster=clusters, on_map=on_map)[[ID, TEXT, "score", "cluster", "on_map"]]
    return Highlight(query, hits.reset_index(drop=True), seconds)


def similar(collection: Collection, result: CollectionMap, position: int, *, k: int = 10) -> Highlight:
    """The ``k`` documents of the whole collection nearest sample document ``position`` (itself left out)."""
    entry = collection.model(result.model)
    frame, seconds = vector_search(collection, entry, result.sample.vectors[position], k + 1,
                                   columns=[ID, TEXT, entry.column])
    frame = frame[frame[ID] != result.sample.ids[position]].head(k).reset_index(drop=True)
    return place_hits(result.sample.ids[position], frame, entry, result, seconds)
