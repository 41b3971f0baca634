"""A persistent, content-addressed embedding cache.

Layout: ``<root>/<key[:2]>/<key>/<shard>.vec.npy`` + ``<shard>.sum`` + ``<shard>.keys.npy``, where
``key`` hashes everything that decides a vector except the text (model fingerprint, pooling, prompt,
max length, format version), the keys file holds the SHA-256 of each text and the sum file a blake2b
checksum of the keys and vector files. Shards are append-only; each file is written to a temporary
name, synced and renamed, keys last, so a reader never sees half a shard.

A shard is verified once per process, when first indexed: one whose bytes are not what was written
(a zeroed or garbled file after a crash, a bad disk) is moved to ``damaged/`` with one warning and is
a miss, so its texts are encoded again; never a crash, never a wrong vector. Shards from before
checksums (no sum file) are still used when every vector is finite and non-zero. Vectors are then
memory-mapped, so a large cache costs page cache, not heap.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from embedlab.embedder import Progress, check_finite, check_texts, l2_normalize

log = logging.getLogger(__name__)

MAX_SHARDS = 32  # above this, a write merges the shards so lookups stay cheap
DAMAGED = "damaged"  # where shards that fail verification are moved, for a look by hand
# Deleting a shard removes its keys first, so it stops counting before its other files go.
_SHARD_FILES = (".keys.npy", ".sum", ".vec.npy")
_STALE_SECONDS = 3600  # a temporary or keyless file this old was left by a killed process


def text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class DamagedShard(Exception):
    """A shard whose files are not what was written."""


class EmbeddingCache:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        # key -> {text hash -> (shard name, row)}; key -> shard name -> memory-mapped vectors
        # (an empty array for a shard that vanished or was damaged: looked at once, then skipped)
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
            shards[shard] = np.zeros((0, 0), dtype=np.float32)
            try:
                hashes, vectors = _load_shard(folder, shard)
            except FileNotFoundError:
                continue  # merged away by another process meanwhile; its vectors are in the merged shard
            except DamagedShard as exc:
                _move_aside(folder, shard, str(exc))
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

    def contains(self, key: str, hashes: Sequence[bytes]) -> set[bytes]:
        """Which of ``hashes`` have a vector under ``key`` (the index only: no vector is read)."""
        with self._lock:
            self._refresh(key)
            index = self._index[key]
            return {h for h in hashes if h in index}

    def put(self, key: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        if len(hashes) == 0:
            return
        if len(hashes) != len(vectors):
            raise ValueError(f"{len(hashes)} hashes but {len(vectors)} vectors.")
        if not np.isfinite(vectors).all():
            raise ValueError("Refusing to cache vectors with NaN or infinite values.")
        folder = self._dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        _write_shard(folder, b"".join(hashes), vectors)
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
        _write_shard(folder, b"".join(hashes), vectors)
        for old in list(shards):
            for suffix in _SHARD_FILES:
                (folder / f"{old}{suffix}").unlink(missing_ok=True)
        _sweep(folder)
        self._index.pop(key)
        self._shards.pop(key)
        self._refresh(key)


def _write_shard(folder: Path, hashes: bytes, vectors: np.ndarray) -> None:
    """Vectors, checksum, then keys: a shard counts only once its keys file exists, and by then
    its checksum does too."""
    shard = uuid.uuid4().hex
    keys = np.frombuffer(hashes, dtype=np.uint8).reshape(-1, 32)
    vec_bytes = _npy_bytes(np.ascontiguousarray(vectors, dtype=np.float32))
    keys_bytes = _npy_bytes(keys)
    digest = hashlib.blake2b(keys_bytes)
    digest.update(vec_bytes)
    _atomic_write(folder / f"{shard}.vec.npy", vec_bytes)
    _atomic_write(folder / f"{shard}.sum", digest.hexdigest().encode())
    _atomic_write(folder / f"{shard}.keys.npy", keys_bytes)


def _load_shard(folder: Path, shard: str) -> tuple[np.ndarray, np.ndarray]:
    """(text hashes, memory-mapped vectors) of a verified shard. FileNotFoundError if it vanished
    meanwhile; DamagedShard if its bytes are not what was written."""
    # The checksum is read first: a shard being deleted loses its keys before its checksum, so a
    # missing checksum with the keys still there means a shard from before checksums.
    try:
        expected = (folder / f"{shard}.sum").read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        expected = None
    keys_bytes = (folder / f"{shard}.keys.npy").read_bytes()
    vec_file = folder / f"{shard}.vec.npy"
    if expected is not None:
        with vec_file.open("rb") as fh:
            digest = hashlib.blake2b(keys_bytes)
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != expected:
            raise DamagedShard("its checksum does not match")
    try:
        hashes = np.load(io.BytesIO(keys_bytes))
        vectors = np.load(vec_file, mmap_mode="r")
    except (ValueError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DamagedShard(f"unreadable: {exc}") from None
    if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != 32 or vectors.ndim != 2 \
            or len(hashes) != len(vectors) or vectors.dtype != np.float32:
        raise DamagedShard("its keys and vectors disagree")
    if expected is None:
        _check_unverified(vectors)
    return hashes, vectors


def _check_unverified(vectors: np.ndarray) -> None:
    """A shard without a checksum: finite, non-zero rows or nothing (a real pooled vector is never
    all zeros; a zeroed file is)."""
    for start in range(0, len(vectors), 65536):
        part = np.asarray(vectors[start:start + 65536])
        if not np.isfinite(part).all() or not part.any(axis=1).all():
            raise DamagedShard("it has no checksum and holds NaN, infinite or all-zero vectors")


def _move_aside(folder: Path, shard: str, reason: str) -> None:
    aside = folder / DAMAGED
    aside.mkdir(exist_ok=True)
    for suffix in _SHARD_FILES:  # keys first: the shard stops counting for every process at once
        try:
            os.replace(folder / f"{shard}{suffix}", aside / f"{shard}{suffix}")
        except FileNotFoundError:
            pass  # another process moved it first
    log.warning("Embedding cache shard %s was damaged (%s); moved to %s. Its texts will be encoded again.",
                folder / shard, reason, aside)


def _sweep(folder: Path) -> None:
    """Remove what killed processes left: temporary files, and vector/checksum files whose keys
    file was never written. Only old ones: a young one may be a write in progress."""
    cutoff = time.time() - _STALE_SECONDS
    keyed = {p.name[: -len(".keys.npy")] for p in folder.glob("*.keys.npy")}
    for path in folder.iterdir():
        shard = path.name.split(".", 1)[0]
        leftover = path.name.startswith(".tmp-") or (path.suffix in (".npy", ".sum") and shard not in keyed)
        try:
            if path.is_file() and leftover and path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    """Temporary file, synced, renamed: after a crash the file is whole or absent, not zeroed."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
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

    def missing(self, texts: Sequence[str], *, role: str = "document") -> list[str]:
        """The distinct texts ``encode`` would have to embed (not in the cache yet), in first-seen order."""
        distinct: dict[bytes, str] = {}
        for text in texts:
            distinct.setdefault(text_hash(text), text)
        present = self.cache.contains(self.inner.cache_key(role), list(distinct))
        return [t for h, t in distinct.items() if h not in present]

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
            part_texts = [texts[first_of[h]] for h in part]
            fresh = self.inner.encode(part_texts, role=role, batch_size=batch_size, progress=relay, normalize=False)
            check_finite(fresh, model=self.inner.name, texts=part_texts)  # before it is cached
            self.cache.put(key, part, fresh)
            found.update(zip(part, fresh))
        self.last_stats = CacheStats(len(texts), len(first_of), len(first_of) - len(missing), len(missing))
        dim = self.inner.dim
        out = np.stack([found[h] for h in hashes]).astype(np.float32) if texts else np.zeros((0, dim), np.float32)
        return l2_normalize(out) if normalize else out
