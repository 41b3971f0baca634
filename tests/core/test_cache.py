import numpy as np
import pytest

from embedlab import cache as cache_mod
from embedlab.cache import CachedEmbedder, EmbeddingCache
from tests.fakes import CountingEmbedder


@pytest.fixture
def store(tmp_path):
    return EmbeddingCache(tmp_path / "emb")


def test_second_encode_is_served_from_disk(store, tmp_path):
    inner = CountingEmbedder()
    texts = ["a", "b", "c"]
    first = CachedEmbedder(inner, store).encode(texts)
    # A new cache object on the same folder (a new process) still hits.
    again = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode(texts)
    assert inner.calls == [texts]
    np.testing.assert_allclose(first, again, rtol=0, atol=0)


def test_only_missing_texts_are_encoded_and_order_is_kept(store):
    inner = CountingEmbedder()
    wrapped = CachedEmbedder(inner, store)
    wrapped.encode(["a", "b"])
    out = wrapped.encode(["c", "a", "d", "b"])
    assert inner.calls[1] == ["c", "d"]
    expected = np.stack([inner.vector(t) for t in ["c", "a", "d", "b"]])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert wrapped.last_stats.from_cache == 2 and wrapped.last_stats.encoded == 2


def test_duplicates_are_encoded_once(store):
    inner = CountingEmbedder()
    out = CachedEmbedder(inner, store).encode(["x", "y", "x", "x"])
    assert inner.calls == [["x", "y"]]
    np.testing.assert_array_equal(out[0], out[2])


def test_raw_vectors_are_cached_and_normalised_on_the_way_out(store):
    inner = CountingEmbedder()
    wrapped = CachedEmbedder(inner, store)
    raw = wrapped.encode(["a"], normalize=False)
    unit = wrapped.encode(["a"])
    np.testing.assert_allclose(raw[0], inner.vector("a"), atol=1e-6)
    assert abs(np.linalg.norm(unit[0]) - 1) < 1e-6
    assert len(inner.calls) == 1


def test_key_separates_models_and_roles(store):
    one, two = CountingEmbedder(key="m1"), CountingEmbedder(key="m2")
    CachedEmbedder(one, store).encode(["a"])
    CachedEmbedder(two, store).encode(["a"])
    CachedEmbedder(one, store).encode(["a"], role="query")
    assert one.calls == [["a"], ["a"]] and two.calls == [["a"]]


def test_corrupt_shard_is_a_miss_not_a_crash(store, tmp_path):
    inner = CountingEmbedder()
    CachedEmbedder(inner, store).encode(["a", "b"])
    for keys_file in (tmp_path / "emb").rglob("*.keys.npy"):
        keys_file.write_bytes(b"not a numpy file")
    fresh = EmbeddingCache(tmp_path / "emb")
    out = CachedEmbedder(inner, fresh).encode(["a", "b"])
    assert inner.calls == [["a", "b"], ["a", "b"]]
    assert out.shape == (2, inner.dim)


def test_truncated_vector_file_is_a_miss(store, tmp_path):
    inner = CountingEmbedder()
    CachedEmbedder(inner, store).encode(["a", "b"])
    for vec_file in (tmp_path / "emb").rglob("*.vec.npy"):
        vec_file.write_bytes(vec_file.read_bytes()[:100])
    CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode(["a", "b"])
    assert len(inner.calls) == 2


def test_no_temp_files_are_left_and_shards_are_compacted(store, tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "MAX_SHARDS", 3)
    inner = CountingEmbedder()
    wrapped = CachedEmbedder(inner, store)
    for i in range(6):
        wrapped.encode([f"text {i}"])
    files = [p.name for p in (tmp_path / "emb").rglob("*") if p.is_file()]
    assert not [f for f in files if f.startswith(".tmp-")]
    assert len([f for f in files if f.endswith(".keys.npy")]) <= 3
    out = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode([f"text {i}" for i in range(6)])
    assert len(inner.calls) == 6 and out.shape == (6, inner.dim)


def test_empty_input(store):
    out = CachedEmbedder(CountingEmbedder(dim=5), store).encode([])
    assert out.shape == (0, 5)


def test_an_interrupted_encode_keeps_the_chunks_it_finished(store):
    class FailsOnThirdCall(CountingEmbedder):
        def encode(self, texts, **kwargs):
            if len(self.calls) == 2:
                self.calls.append(list(texts))
                raise RuntimeError("killed")
            return super().encode(texts, **kwargs)

    texts = [f"document {i}" for i in range(25)]
    inner = FailsOnThirdCall()
    cached = CachedEmbedder(inner, store, save_every=10)
    with pytest.raises(RuntimeError, match="killed"):
        cached.encode(texts)
    assert [len(c) for c in inner.calls] == [10, 10, 5]
    again = CountingEmbedder()  # same key: a new process picking up the work
    out = CachedEmbedder(again, store, save_every=10).encode(texts)
    assert again.calls == [texts[20:]]  # only the unfinished chunk is encoded again
    np.testing.assert_allclose(out, np.stack([again.vector(t) / np.linalg.norm(again.vector(t)) for t in texts]),
                               rtol=1e-6)


def test_progress_counts_across_chunks(store):
    seen = []
    CachedEmbedder(CountingEmbedder(), store, save_every=4).encode([f"t{i}" for i in range(10)],
                                                                    progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)  # never goes backwards


def _damage_vectors(root, how: str) -> int:
    """Overwrite every vector shard's data after its (valid) .npy header; returns how many."""
    files = list(root.rglob("*.vec.npy"))
    for path in files:
        with path.open("rb") as fh:
            np.lib.format.read_array_header_1_0(fh, max_header_size=10000) if np.lib.format.read_magic(fh) else None
            start = fh.tell()
        data = bytearray(path.read_bytes())
        rest = len(data) - start
        data[start:] = bytes(rest) if how == "zeroed" else np.random.default_rng(0).bytes(rest)
        path.write_bytes(bytes(data))
    return len(files)


@pytest.mark.parametrize("how", ["zeroed", "garbled"])
def test_a_damaged_vector_shard_is_moved_aside_and_recomputed(store, tmp_path, how, caplog):
    inner = CountingEmbedder()
    clean = CachedEmbedder(inner, store).encode(["a", "b", "c"])
    assert _damage_vectors(tmp_path / "emb", how) == 1
    out = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode(["a", "b", "c"])
    np.testing.assert_array_equal(out, clean)
    assert inner.calls == [["a", "b", "c"]] * 2
    assert "damaged" in caplog.text and caplog.text.count("moved") == 1
    aside = [p.name for p in (tmp_path / "emb").rglob("damaged/*")]
    assert len([n for n in aside if n.endswith(".vec.npy")]) == 1 and len([n for n in aside if n.endswith(".keys.npy")]) == 1
    caplog.clear()
    again = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode(["a", "b", "c"])
    np.testing.assert_array_equal(again, clean)
    assert len(inner.calls) == 2 and "damaged" not in caplog.text  # the recomputed shard is trusted


def test_a_damaged_keys_file_is_caught_by_the_checksum(store, tmp_path):
    inner = CountingEmbedder()
    clean = CachedEmbedder(inner, store).encode(["a", "b"])
    for path in (tmp_path / "emb").rglob("*.keys.npy"):
        data = path.read_bytes()  # a valid file whose two text hashes swapped places
        path.write_bytes(data[:-64] + data[-32:] + data[-64:-32])
    out = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode(["a", "b"])
    np.testing.assert_array_equal(out, clean)
    assert len(inner.calls) == 2


def _legacy_shard(root, inner, vectors):
    """A shard as the version before checksums wrote it: keys and vectors, no checksum file."""
    folder = root / "emb" / inner.cache_key("document")[:2] / inner.cache_key("document")
    folder.mkdir(parents=True)
    keys = np.frombuffer(b"".join(cache_mod.text_hash(t) for t in ["a", "b"]), np.uint8).reshape(2, 32)
    np.save(folder / "old.vec.npy", vectors.astype(np.float32))
    np.save(folder / "old.keys.npy", keys)
    return folder


def test_a_shard_from_before_checksums_is_still_used(tmp_path):
    inner = CountingEmbedder()
    _legacy_shard(tmp_path, inner, np.stack([inner.vector("a"), inner.vector("b")]))
    out = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode(["a", "b"], normalize=False)
    assert inner.calls == []
    np.testing.assert_array_equal(out, np.stack([inner.vector("a"), inner.vector("b")]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.0])
def test_a_shard_from_before_checksums_with_nan_inf_or_zero_rows_is_a_miss(tmp_path, bad):
    inner = CountingEmbedder()
    vectors = np.stack([inner.vector("a"), inner.vector("b")])
    vectors[1] = bad
    folder = _legacy_shard(tmp_path, inner, vectors)
    out = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb")).encode(["a", "b"])
    assert inner.calls == [["a", "b"]] and np.isfinite(out).all()
    assert (folder / "damaged" / "old.vec.npy").exists() and not (folder / "old.keys.npy").exists()


def test_each_shard_is_verified_once_per_process(store, tmp_path, monkeypatch):
    inner = CountingEmbedder()
    CachedEmbedder(inner, store).encode(["a", "b"])
    seen = []
    real = cache_mod._load_shard
    monkeypatch.setattr(cache_mod, "_load_shard", lambda folder, shard: seen.append(shard) or real(folder, shard))
    wrapped = CachedEmbedder(inner, EmbeddingCache(tmp_path / "emb"))
    for _ in range(3):
        wrapped.encode(["a", "b"])
    assert len(seen) == 1 and len(inner.calls) == 1


def test_an_encoder_giving_nan_raises_and_caches_nothing(store, tmp_path):
    from embedlab.errors import ModelLoadError

    class Broken(CountingEmbedder):
        def vector(self, text):
            return np.full(self.dim, np.nan if text == "b" else 1.0, np.float32)

    with pytest.raises(ModelLoadError, match=r"'fake'.*NaN or infinite.*'b'"):
        CachedEmbedder(Broken(), store).encode(["a", "b"])
    assert not list((tmp_path / "emb").rglob("*.npy"))
    with pytest.raises(ValueError, match="NaN or infinite"):
        store.put("k" * 64, [cache_mod.text_hash("a")], np.array([[np.inf, 1.0]], np.float32))
