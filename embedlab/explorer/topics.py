"""Describe clusters: keywords by class-based TF-IDF and the documents nearest each centroid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.explorer.clustering import NOISE


def ctfidf_keywords(texts: list[str], labels: np.ndarray, *, top_n: int = 8,
                    stop_words: str | None = "english",
                    max_class_share: float = 0.6) -> dict[int, list[tuple[str, float]]]:
    """Top words per cluster by c-TF-IDF (Grootendorst 2022, as in BERTopic).

    All documents of a cluster are joined into one "class document". A word's weight in class c is
    tf(t, c) * log(1 + A / f(t)), with tf normalised per class, A the mean word count per class and
    f(t) the word's count over all classes: frequent in this cluster, rare overall. Noise (-1) is
    described like any other group so users can see what was left out.

    With five or more groups, words found in more than ``max_class_share`` of them ("said", "mr"
    in news) describe the corpus, not a cluster, and are left out.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    joined = [" ".join(t for t, l in zip(texts, labels) if l == c) for c in classes]
    vectorizer = CountVectorizer(stop_words=stop_words, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9'-]+\b",
                                 lowercase=True)
    try:
        counts = vectorizer.fit_transform(joined).toarray().astype(np.float64)  # (classes, vocab)
    except ValueError:  # every word was a stop word or too short
        return {c: [] for c in classes}
    words = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    avg_words = counts.sum() / len(classes)
    idf = np.log(1.0 + avg_words / np.maximum(counts.sum(axis=0), 1.0))
    weights = tf * idf
    if len(classes) >= 5:
        everywhere = (counts > 0).mean(axis=0) > max_class_share
        weights[:, everywhere] = 0.0
    out = {}
    for row, c in enumerate(classes):
        best = np.argsort(-weights[row])[:top_n]
        out[int(c)] = [(str(words[i]), float(weights[row, i])) for i in best if weights[row, i] > 0]
    return out


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
