"""Test doubles: anything with encode() is an embedder, so no inheritance is needed."""

from __future__ import annotations

import hashlib

import numpy as np


class CountingEmbedder:
    """Deterministic vectors from a hash of the text; records every text it was asked to encode."""

    def __init__(self, dim: int = 8, name: str = "fake", key: str = "k1") -> None:
        self.dim = dim
        self.name = name
        self.key = key
        self.calls: list[list[str]] = []

    def cache_key(self, role: str) -> str:
        return hashlib.sha256(f"{self.key}:{role}".encode()).hexdigest()

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
        return np.random.default_rng(seed).normal(size=self.dim).astype(np.float32) * 3.0

    def encode(self, texts, *, role="document", batch_size=32, progress=None, normalize=True):
        texts = list(texts)
        self.calls.append(texts)
        out = np.stack([self.vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts), len(texts))
        if normalize:
            out = out / np.linalg.norm(out, axis=1, keepdims=True)
        return out.astype(np.float32)


class TableEmbedder:
    """Returns fixed vectors from a dict: for known-answer metric tests."""

    def __init__(self, table: dict[str, list[float]], name: str = "table") -> None:
        self.table = table
        self.name = name
        self.dim = len(next(iter(table.values())))
        self.calls: list[list[str]] = []

    def encode(self, texts, *, role="document", batch_size=32, progress=None, normalize=True):
        self.calls.append(list(texts))
        out = np.array([self.table[t] for t in texts], dtype=np.float32)
        if normalize:
            out = out / np.linalg.norm(out, axis=1, keepdims=True)
        return out


def topic_corpus(n_per: int = 20, seed: int = 0):
    """A small labelled corpus with three clearly different topics (written for these tests)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    topics = {
        "cooking": (["chef", "oven", "recipe", "garlic", "sauce", "bake", "flour", "butter", "soup", "pasta"],
                    "The {} needs more {} and a little {} before the {} is ready."),
        "football": (["striker", "goal", "referee", "penalty", "league", "midfield", "keeper", "coach", "match", "fans"],
                     "The {} argued about the {} while the {} watched the {} closely."),
        "astronomy": (["telescope", "galaxy", "orbit", "comet", "planet", "nebula", "star", "eclipse", "moon", "asteroid"],
                      "A {} near the {} showed how the {} bends light around the {}."),
    }
    rows = []
    for label, (words, template) in topics.items():
        for _ in range(n_per):
            rows.append({"text": template.format(*rng.choice(words, 4, replace=False)), "label": label})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


class RuleReranker:
    """A reranker whose scores follow a known rule: ``rule(query, doc) -> float``. Records every call."""

    def __init__(self, rule, name: str = "rule") -> None:
        self.rule = rule
        self.name = name
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, query, docs):
        self.calls.append((query, list(docs)))
        return np.array([self.rule(query, d) for d in docs], dtype=np.float32)


# A collection with known clusters (tests of embedlab.store.explore and of the explorer page on it) --------
BLOB_DIM, BLOBS, PER_BLOB = 32, 4, 300
BLOB_WORDS = [["apple", "banana", "cherry", "grape"], ["engine", "piston", "gear", "clutch"],
              ["violin", "cello", "sonata", "tempo"], ["glacier", "fjord", "tundra", "iceberg"]]
_FILLER = ["report", "today", "people", "place", "thing", "week"]


def blob_rows(seed: int = 0):
    """Ids, texts, blob of each row and unit vectors: blob b's vectors lie close to the b-th axis, its
    texts use blob b's words (and words every blob uses)."""
    rng = np.random.default_rng(seed)
    blob = np.repeat(np.arange(BLOBS), PER_BLOB)
    vectors = np.eye(BLOB_DIM, dtype=np.float32)[blob] + rng.normal(0, 0.05, size=(len(blob), BLOB_DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [" ".join([*rng.choice(BLOB_WORDS[b], 3), *rng.choice(_FILLER, 3)]) for b in blob]
    ids = [f"d{i:05d}" for i in range(len(blob))]
    return ids, texts, blob, vectors


def blob_entry():
    from embedlab.store.collection import ModelEntry, column_for

    return ModelEntry(name="blobs", column=column_for("blobs"), fingerprint="fp-blobs", dim=BLOB_DIM, kind="test",
                      pooling="none", backend="numpy", spec="{}", added=0.0)


def blob_collection(path, order=None, *, indexes: bool = False):
    """A real LanceDB collection of ``blob_rows`` (in ``order``), with a ``topic`` column and "blobs" vectors."""
    import pyarrow as pa

    from embedlab.store.collection import Collection

    ids, texts, blob, vectors = blob_rows()
    order = np.arange(len(ids)) if order is None else order
    collection = Collection.open(str(path), create=True)
    collection.add_rows(pa.table({"id": [ids[i] for i in order], "text": [texts[i] for i in order],
                                  "topic": [f"t{blob[i]}" for i in order]}))
    model = collection.register(blob_entry())
    collection.write_vectors(model, [ids[i] for i in order], vectors[order])
    if indexes:
        collection.build_indexes([model])
    return collection
