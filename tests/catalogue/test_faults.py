"""Machine faults the user cannot type as arguments: a full disk and a read-only data folder. The CLI
runs in a subprocess with the fault set up, and must answer with one error line and leave no file."""

import os
import resource
import subprocess
import sys

import pytest

from tests.catalogue.files import make

pytestmark = pytest.mark.slow  # loads the static model


def run_cli(args, env, preexec=None):
    return subprocess.run([sys.executable, "-m", "embedlab", *args], env={**os.environ, **env}, text=True,
                          capture_output=True, preexec_fn=preexec, timeout=300)


def test_disk_full_while_writing_the_output(tmp_path):
    """RLIMIT_FSIZE makes a write past 2 kB fail with EFBIG, as a full disk fails with ENOSPC
    (Python ignores SIGXFSZ, so the write raises instead of killing the process)."""
    docs = make(tmp_path, "docs.csv")
    home = tmp_path / "home"
    warm = run_cli(["models"], {"EMBEDLAB_HOME": str(home)})  # data folder made before the limit
    assert warm.returncode == 0, warm.stderr
    out = tmp_path / "out" / "vectors.npy"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    proc = run_cli(["embed", "--model", "wordllama", "--input", str(docs), "--output", str(out)],
                   {"EMBEDLAB_HOME": str(home)}, preexec=limit)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr
    assert "size" in proc.stderr or "space" in proc.stderr
    assert not out.exists() and not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*")), \
        "a partial output or temporary file was left"


def test_data_folder_that_cannot_be_created(tmp_path):
    docs = make(tmp_path, "docs.csv")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli(["embed", "--model", "wordllama", "--input", str(docs), "--output", str(tmp_path / "o.npy")],
                   {"EMBEDLAB_HOME": str(blocker / "home")})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr
    assert "a-file" in proc.stderr and not (tmp_path / "o.npy").exists()
