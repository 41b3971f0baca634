"""The embedding cache under real faults, in real processes with the bundled static model: two
processes writing one cache at once, a shard damaged on disk, a process killed mid-encode. Each
ends with vectors identical to a clean run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

# Encodes N texts through the real wordllama model and the on-disk cache at ROOT, saving every
# SAVE_EVERY texts and sleeping DELAY seconds per saved chunk (so a test can kill it mid-encode);
# waits for the file GO (if given) before it starts, so two processes start together.
WORKER = """
import sys, time
from pathlib import Path
import numpy as np
from embedlab.cache import CachedEmbedder, EmbeddingCache
from embedlab.models import load_model

root, out, n, save_every, delay, go = sys.argv[1:]
texts = [f"text {i} about topic {i % 7} " + "word " * (i % 13) for i in range(int(n))]
model = CachedEmbedder(load_model("wordllama", cache=False), EmbeddingCache(root), save_every=int(save_every))
while go and not Path(go).exists():
    time.sleep(0.01)
vectors = model.encode(texts, progress=lambda done, total: time.sleep(float(delay)))
np.save(out, vectors)
print("encoded", model.last_stats.encoded, "from cache", model.last_stats.from_cache)
"""


def _start(root: Path, out: Path, *, n: int, save_every: int, delay: float = 0.0, go: Path | None = None):
    return subprocess.Popen([sys.executable, "-c", WORKER, str(root), str(out), str(n), str(save_every),
                             str(delay), str(go or "")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _run(root: Path, out: Path, **kwargs) -> tuple[np.ndarray, str, str]:
    proc = _start(root, out, **kwargs)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    return np.load(out), stdout, stderr


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The reference: 600 texts encoded once into an empty cache."""
    folder = tmp_path_factory.mktemp("clean")
    vectors, stdout, _ = _run(folder / "cache", folder / "clean.npy", n=600, save_every=600)
    assert "encoded 600 from cache 0" in stdout and np.isfinite(vectors).all()
    return vectors


def _shards(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.keys.npy") if p.parent.name != "damaged"]


def test_two_processes_encoding_into_one_cache_at_once(tmp_path, clean):
    go = tmp_path / "go"
    # Small chunks: each process writes 60 shards, so both merge shards while the other writes.
    procs = [_start(tmp_path / "cache", tmp_path / f"out{i}.npy", n=600, save_every=10, go=go) for i in (0, 1)]
    time.sleep(3)  # both have loaded the model and wait
    go.touch()
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr and "damaged" not in stderr
    for i in (0, 1):
        np.testing.assert_array_equal(np.load(tmp_path / f"out{i}.npy"), clean)
    again, stdout, stderr = _run(tmp_path / "cache", tmp_path / "again.npy", n=600, save_every=10)
    assert "encoded 0 from cache 600" in stdout and "damaged" not in stderr
    np.testing.assert_array_equal(again, clean)


def _zero_after_header(path: Path) -> None:
    with path.open("rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        read_header[version](fh)
        start = fh.tell()
    data = path.read_bytes()
    path.write_bytes(data[:start] + bytes(len(data) - start))


def test_a_zeroed_shard_is_moved_aside_and_recomputed(tmp_path, clean):
    root = tmp_path / "cache"
    _run(root, tmp_path / "first.npy", n=600, save_every=200)
    shards = _shards(root)
    assert len(shards) == 3
    victim = shards[0].name.removesuffix(".keys.npy")
    _zero_after_header(shards[0].with_name(f"{victim}.vec.npy"))
    vectors, stdout, stderr = _run(root, tmp_path / "second.npy", n=600, save_every=200)
    np.testing.assert_array_equal(vectors, clean)
    assert "encoded 200 from cache 400" in stdout
    assert stderr.count("was damaged") == 1 and victim in stderr
    assert (shards[0].parent / "damaged" / f"{victim}.vec.npy").exists()
    again, stdout, stderr = _run(root, tmp_path / "third.npy", n=600, save_every=200)
    assert "encoded 0 from cache 600" in stdout and "damaged" not in stderr  # warned once, then healed
    np.testing.assert_array_equal(again, clean)


def test_a_process_killed_mid_encode_leaves_a_cache_the_next_run_completes(tmp_path, clean):
    root = tmp_path / "cache"
    proc = _start(root, tmp_path / "killed.npy", n=600, save_every=20, delay=0.3)
    deadline = time.monotonic() + 120
    while len(_shards(root)) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL and not (tmp_path / "killed.npy").exists()
    saved = len(_shards(root))
    assert 4 <= saved < 30  # it was killed part way
    vectors, stdout, stderr = _run(root, tmp_path / "resumed.npy", n=600, save_every=20)
    np.testing.assert_array_equal(vectors, clean)
    encoded = int(stdout.split()[1])
    assert encoded <= 600 - 20 * saved and "damaged" not in stderr  # what was saved was used
