"""First-stage search: exact cosine (chunked), BM25 (bm25s), and reciprocal rank fusion."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from embedlab.embedder import l2_normalize
from embedlab.errors import DataError


@dataclass(frozen=True)
class Hits:
    """Top-k per query: ``indices[q]`` are document positions best first, ``scores[q]`` their scores."""

    indices: np.ndarray  # (n_queries, k) int64
    scores: np.ndarray  # (n_queries, k) float32

    def run(self, query_ids: Sequence[str], doc_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        return {q: {doc_ids[i]: float(s) for i, s in zip(idx, sc)}
                for q, idx, sc in zip(query_ids, self.indices, self.scores)}


def _merge(best_s, best_i, s, i, k):
    s = np.concatenate([best_s, s], axis=1)
    i = np.concatenate([best_i, i], axis=1)
    top = np.argpartition(-s, k - 1, axis=1)[:, :k] if s.shape[1] > k else np.argsort(-s, axis=1)
    return np.take_along_axis(s, top, 1), np.take_along_axis(i, top, 1)


class DenseIndex:
    """Exact cosine search over unit vectors. Scores are computed ``doc_chunk`` documents and
    ``query_chunk`` queries at a time, so a (queries x documents) matrix never exists in full:
    memory is the vectors plus query_chunk x doc_chunk floats."""

    def __init__(self, vectors: np.ndarray, *, normalized: bool = False) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) == 0:
            raise DataError("DenseIndex needs a non-empty (documents, dim) matrix: give it at least one document.")
        self.vectors = vectors if normalized else l2_normalize(vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int = 10, *, doc_chunk: int = 8_192, query_chunk: int = 256) -> Hits:
        queries = l2_normalize(np.atleast_2d(np.asarray(queries, dtype=np.float32)))
        if queries.shape[1] != self.vectors.shape[1]:
            raise DataError(f"Query vectors have {queries.shape[1]} dimensions, documents {self.vectors.shape[1]}: "
                            "embed both with the same model.")
        k = max(1, min(k, len(self.vectors)))
        all_i = np.zeros((len(queries), k), dtype=np.int64)
        all_s = np.zeros((len(queries), k), dtype=np.float32)
        for q0 in range(0, len(queries), query_chunk):
            q = queries[q0 : q0 + query_chunk]
            best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
            best_i = np.zeros((len(q), 0), dtype=np.int64)
            for d0 in range(0, len(self.vectors), doc_chunk):
                sims = q @ self.vectors[d0 : d0 + doc_chunk].T
                kk = min(k, sims.shape[1])
                part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk] if sims.shape[1] > kk else \
                    np.tile(np.arange(sims.shape[1]), (len(q), 1))
                best_s, best_i = _merge(best_s, best_i, np.take_along_axis(sims, part, 1), part + d0, k)
            order = np.argsort(-best_s, axis=1, kind="stable")
            all_s[q0 : q0 + len(q)] = np.take_along_axis(best_s, order, 1)
            all_i[q0 : q0 + len(q)] = np.take_along_axis(best_i, order, 1)
        return Hits(all_i, all_s)


class BM25Index:
    """Okapi BM25 (Lucene variant, k1=1.5, b=0.75) from the bm25s library, English stop words and
    Snowball stemming (PyStemmer). A lexical baseline: exact words, no meaning."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.5, b: float = 0.75, stem: bool = True) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import
        self._stemmer = None
        if stem:
            import Stemmer

            self._stemmer = Stemmer.Stemmer("english")
        self.n_docs = len(texts)
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False)
        self.retriever = bm25s.BM25(k1=k1, b=b)
        self.retriever.index(tokens, show_progress=False)
        self.vocab = tokens.vocab

    def search(self, queries: Sequence[str], k: int = 10) -> Hits:
        import bm25s

        k = max(1, min(k, self.n_docs))
        tokens = bm25s.tokenize(list(queries), stopwords="en", stemmer=self._stemmer, show_progress=False,
                                return_ids=False)
        # Words the corpus never saw carry no weight; drop them (bm25s refuses unknown tokens).
        known = [[t for t in q if t in self.vocab] for q in tokens]
        indices = np.zeros((len(queries), k), dtype=np.int64)
        scores = np.zeros((len(queries), k), dtype=np.float32)
        todo = [i for i, q in enumerate(known) if q]
        if todo:
            idx, sc = self.retriever.retrieve([known[i] for i in todo], k=k, show_progress=False, n_threads=1)
            indices[todo], scores[todo] = idx, sc
        for i in set(range(len(queries))) - set(todo):  # no known word: every document scores 0
            indices[i] = np.arange(k)
        return Hits(indices, scores)


def fuse_ranks(lists: Sequence[Sequence], k: int = 10, *, c: int = 60) -> list[tuple[object, float]]:
    """RRF (Cormack et al. 2009) of ranked lists of any ids: score(d) = sum of 1 / (c + rank), rank
    from 1; the best ``k`` (id, score), ties to the lower id."""
    fused: dict = {}
    for ranking in lists:
        for rank, doc in enumerate(ranking):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (c + rank + 1)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def reciprocal_rank_fusion(rankings: Sequence[Hits], k: int = 10, *, c: int = 60) -> Hits:
    """``fuse_ranks`` for each query of several rankings of the same documents."""
    n_queries = len(rankings[0].indices)
    out_i = np.zeros((n_queries, k), dtype=np.int64)
    out_s = np.zeros((n_queries, k), dtype=np.float32)
    width = k
    for q in range(n_queries):
        best = fuse_ranks([[int(d) for d in hits.indices[q]] for hits in rankings], k, c=c)
        width = min(width, len(best))
        out_i[q, : len(best)] = [d for d, _ in best]
        out_s[q, : len(best)] = [s for _, s in best]
    return Hits(out_i[:, :width], out_s[:, :width])
