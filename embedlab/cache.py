"""A persistent, content-addressed embedding cache.

Layout: ``<root>/<key[:2]>/<key>/<shard>.vec.npy`` + ``<shard>.keys.npy``, where ``key`` hashes
everything that decides a vector except the text (model fingerprint, pooling, prompt, max length,
format version) and the keys file holds the SHA-256 of each text. Shards are append-only, written to a
temporary name and renamed, so a reader never sees half a shard; a shard that cannot be read is
skipped (its texts are re-encoded), never a crash. Vectors are memory-mapped, so a large cache costs
page cache, not heap.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from embedlab.embedder import Progress, check_texts, l2_normalize

log = logging.getLogger(__name__)

MAX_SHARDS = 32  # above this, a write merges the shards so lookups stay cheap


def text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        # key -> {text hash -> (shard name, row)}; key -> shard name -> memory-mapped vectors
        self._index: dict[str, dict[bytes, tuple[str, int]]] = {}
        self._shards: dict[str, dict[str, np.ndarray]] = {}

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def _refresh(self, key: str) -> None:
        """Index shards written since the last look (by this or another process)."""
        folder = self._dir(key)
        index = self._index.setdefault(key, {})
        shards = self._shards.setdefault(key, {})
        if not folder.is_dir():
            return
        for keys_file in folder.glob("*.keys.npy"):
            shard = keys_file.name[: -len(".keys.npy")]
            if shard in shards:
                continue
            try:
                hashes = np.load(keys_file)
                vectors = np.load(folder / f"{shard}.vec.npy", mmap_mode="r")
                if hashes.ndim != 2 or hashes.shape[1] != 32 or len(hashes) != len(vectors):
                    raise ValueError("keys and vectors disagree")
            except (OSError, ValueError, EOFError) as exc:
                log.warning("Ignoring unreadable cache shard %s: %s", keys_file, exc)
                shards[shard] = np.zeros((0, 0), dtype=np.float32)
                continue
            shards[shard] = vectors
            for row, h in enumerate(hashes):
                index[h.tobytes()] = (shard, row)

    def get(self, key: str, hashes: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        with self._lock:
            self._refresh(key)
            index, shards = self._index[key], self._shards[key]
            hits = {}
            for h in hashes:
                where = index.get(h)
                if where is not None:
                    hits[h] = np.array(shards[where[0]][where[1]], dtype=np.float32)
            return hits

    def put(self, key: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        if len(hashes) == 0:
            return
        if len(hashes) != len(vectors):
            raise ValueError(f"{len(hashes)} hashes but {len(vectors)} vectors.")
        folder = self._dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        shard = uuid.uuid4().hex
        keys = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(len(hashes), 32)
        # Vectors first, keys last: a shard counts only once its keys file exists.
        _atomic_save(folder / f"{shard}.vec.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        _atomic_save(folder / f"{shard}.keys.npy", keys)
        with self._lock:
            self._refresh(key)
            if len(self._shards[key]) > MAX_SHARDS:
                self._compact(key)

    def _compact(self, key: str) -> None:
        folder = self._dir(key)
        index, shards = self._index[key], self._shards[key]
        if not index:
            return
        hashes = list(index)
        vectors = np.stack([shards[s][r] for s, r in (index[h] for h in hashes)])
        merged = uuid.uuid4().hex
        _atomic_save(folder / f"{merged}.vec.npy", vectors.astype(np.float32))
        _atomic_save(folder / f"{merged}.keys.npy", np.frombuffer(b"".join(hashes), np.uint8).reshape(-1, 32))
        for old in list(shards):
            for suffix in (".keys.npy", ".vec.npy"):
                (folder / f"{old}{suffix}").unlink(missing_ok=True)
        self._index.pop(key)
        self._shards.pop(key)
        self._refresh(key)


def _atomic_save(path: Path, array: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class CacheStats:
    total: int
    unique: int
    from_cache: int
    encoded: int


class CachedEmbedder:
    """Wraps any embedder that has ``cache_key(role)``: encodes only texts not seen before.

    The cache stores raw (un-normalised) pooled vectors, so norms stay available for geometry plots;
    normalisation is applied on the way out.
    """

    def __init__(self, inner, cache: EmbeddingCache, *, save_every: int = 1024) -> None:
        self.inner = inner
        self.cache = cache
        self.save_every = save_every
        self.last_stats: CacheStats | None = None

    def __getattr__(self, attr: str):
        # name, dim, spec, tokenizer... come from the wrapped embedder.
        return getattr(self.inner, attr)

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: str = "document",
        batch_size: int = 32,
        progress: Progress | None = None,
        normalize: bool = True,
    ) -> np.ndarray:
        texts = check_texts(texts)
        key = self.inner.cache_key(role)
        hashes = [text_hash(t) for t in texts]
        first_of = {}  # each distinct text is looked up and encoded once
        for i, h in enumerate(hashes):
            first_of.setdefault(h, i)
        found = self.cache.get(key, list(first_of))
        missing = [h for h in first_of if h not in found]
        if progress:
            progress(len(texts) - len(missing), len(texts))
        offset = len(texts) - len(missing)
        # Saved in chunks: if a long encode is interrupted (an error, a closed tab, a killed
        # process), what was finished is not encoded again.
        for start in range(0, len(missing), self.save_every):
            part = missing[start:start + self.save_every]
            done_before = offset + start
            relay = (lambda done, _total, base=done_before: progress(base + done, len(texts))) if progress else None
            fresh = self.inner.encode(
                [texts[first_of[h]] for h in part],
                role=role, batch_size=batch_size, progress=relay, normalize=False,
            )
            self.cache.put(key, part, fresh)
            found.update(zip(part, fresh))
        self.last_stats = CacheStats(len(texts), len(first_of), len(first_of) - len(missing), len(missing))
        dim = self.inner.dim
        out = np.stack([found[h] for h in hashes]).astype(np.float32) if texts else np.zeros((0, dim), np.float32)
        return l2_normalize(out) if normalize else out
