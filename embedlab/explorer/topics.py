"""Describe clusters: keywords by class-based TF-IDF and the documents nearest each centroid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from embedlab.explorer.clustering import NOISE

TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z0-9'-]+\b"


class ClassWordCounts:
    """Word counts per class (cluster), added a batch of documents at a time.

    c-TF-IDF needs only these counts, and they add up: counting a corpus in batches gives the same
    counts as counting it at once, so clusters of a collection too large to hold in memory are
    described from all of its documents (``embedlab.store.explore``). Memory grows with the vocabulary,
    not with the number of documents.
    """

    def __init__(self, *, stop_words: str | None = "english") -> None:
        self.stop_words = stop_words
        self._vocabulary: dict[str, int] = {}  # word -> column, in order of first sight
        self._classes: dict[int, int] = {}  # class -> row, in order of first sight
        self._parts: list = []  # sparse (classes, vocabulary) counts per batch, summed when read

    def add(self, texts: Sequence[str], labels) -> None:
        """Count ``texts``, each under its label."""
        from scipy import sparse
        from sklearn.feature_extraction.text import CountVectorizer

        labels = np.asarray(labels)
        present = sorted(set(labels.tolist()))
        for c in present:
            self._classes.setdefault(int(c), len(self._classes))
        # One "class document" per class, as c-TF-IDF joins them: same counts, fewer rows to tokenise.
        joined = [" ".join(texts[i] for i in np.flatnonzero(labels == c)) for c in present]
        vectorizer = CountVectorizer(stop_words=self.stop_words, token_pattern=TOKEN_PATTERN, lowercase=True)
        try:
            counts = vectorizer.fit_transform(joined).tocoo()  # (classes present, batch vocabulary)
        except ValueError:  # every word was a stop word or too short
            return
        columns = np.array([self._vocabulary.setdefault(w, len(self._vocabulary))
                            for w in vectorizer.get_feature_names_out()], dtype=np.int64)
        rows = np.array([self._classes[int(c)] for c in present], dtype=np.int64)
        self._parts.append(sparse.coo_matrix((counts.data, (rows[counts.row], columns[counts.col]))))
        if len(self._parts) >= 16:  # keep the pieces few: summing them is cheap, holding many is not
            self._parts = [self._matrix().tocoo()]

    def _matrix(self):
        from scipy import sparse

        shape = (len(self._classes), len(self._vocabulary))
        total = sparse.csr_matrix(shape, dtype=np.float64)
        for part in self._parts:
            part = sparse.coo_matrix((part.data, (part.row, part.col)), shape=shape) if part.shape != shape else part
            total = total + part.tocsr()
        return total

    @property
    def classes(self) -> list[int]:
        return sorted(self._classes)

    def keywords(self, *, top_n: int = 8, max_class_share: float = 0.6) -> dict[int, list[tuple[str, float]]]:
        """Top words per class by c-TF-IDF (Grootendorst 2022, as in BERTopic).

        A word's weight in class c is tf(t, c) * log(1 + A / f(t)), with tf normalised per class, A the
        mean word count per class and f(t) the word's count over all classes: frequent in this cluster,
        rare overall. With five or more classes, words found in more than ``max_class_share`` of them
        ("said", "mr" in news) describe the corpus, not a cluster, and are left out. Ties go to the
        word first in alphabetical order.
        """
        classes = self.classes
        if not self._vocabulary:
            return {c: [] for c in classes}
        words = np.array(list(self._vocabulary), dtype=object)
        alphabetical = np.argsort(words, kind="stable")
        counts = self._matrix()[[self._classes[c] for c in classes]][:, alphabetical].tocsr()  # (classes, vocab)
        counts.sort_indices()
        words = words[alphabetical]
        per_class = np.asarray(counts.sum(axis=1)).ravel()
        per_word = np.asarray(counts.sum(axis=0)).ravel()
        idf = np.log(1.0 + (per_word.sum() / len(classes)) / np.maximum(per_word, 1.0))
        everywhere = np.zeros(len(words), dtype=bool)
        if len(classes) >= 5:
            everywhere = np.asarray((counts > 0).sum(axis=0)).ravel() / len(classes) > max_class_share
        out = {}
        for row, c in enumerate(classes):
            cols = counts.indices[counts.indptr[row]:counts.indptr[row + 1]]
            tf = counts.data[counts.indptr[row]:counts.indptr[row + 1]] / max(per_class[row], 1.0)
            weights = np.where(everywhere[cols], 0.0, tf * idf[cols])
            best = np.argsort(-weights, kind="stable")[:top_n]
            out[c] = [(str(words[cols[i]]), float(weights[i])) for i in best if weights[i] > 0]
        return out


def ctfidf_keywords(texts: list[str], labels: np.ndarray, *, top_n: int = 8,
                    stop_words: str | None = "english",
                    max_class_share: float = 0.6) -> dict[int, list[tuple[str, float]]]:
    """Top words per cluster by c-TF-IDF (see ``ClassWordCounts.keywords``). Noise (-1) is described
    like any other group so users can see what was left out."""
    counts = ClassWordCounts(stop_words=stop_words)
    counts.add(texts, labels)
    return counts.keywords(top_n=top_n, max_class_share=max_class_share)


@dataclass(frozen=True)
class ClusterSummary:
    cluster: int
    size: int
    keywords: list[str]
    central_docs: list[int]  # row indices, most central first


def describe_clusters(texts: list[str], vectors: np.ndarray, labels: np.ndarray, *,
                      top_words: int = 8, top_docs: int = 3) -> list[ClusterSummary]:
    """One summary per cluster, largest first, noise last."""
    labels = np.asarray(labels)
    keywords = ctfidf_keywords(texts, labels, top_n=top_words)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    summaries = []
    for c in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == c)
        centroid = unit[members].mean(axis=0)
        closeness = unit[members] @ centroid
        central = members[np.argsort(-closeness)[:top_docs]]
        summaries.append(ClusterSummary(int(c), len(members), [w for w, _ in keywords[c]], central.tolist()))
    summaries.sort(key=lambda s: (s.cluster == NOISE, -s.size))
    return summaries


def cluster_centres(coords: np.ndarray, labels: np.ndarray) -> dict[int, tuple[float, float]]:
    """Where to write each cluster's name on a 2-D map: the median of its points, per axis (a mean
    would be pulled off the cluster by a few far-out members). Noise gets no place."""
    coords, labels = np.asarray(coords), np.asarray(labels)
    return {int(c): (float(np.median(coords[labels == c, 0])), float(np.median(coords[labels == c, 1])))
            for c in sorted(set(labels.tolist()) - {NOISE})}
