"""Ctrl-C and kill -9 in the middle of real work: exit 130 after cleaning up, nothing half-written,
nothing left behind that a later run does not clean (subprocesses of the real CLI)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


class Cli:
    """``embedlab ARGS`` in its own process, its stderr collected line by line."""

    def __init__(self, home: Path, *args: str) -> None:
        env = {**os.environ, "EMBEDLAB_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "embedlab", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for(self, predicate, timeout: float = 300) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError(f"never saw the moment to interrupt; stderr: {''.join(self.lines)[-2000:]}")

    def finish(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.2)  # let the reader thread take the last lines
        return code


def cache_shards(home: Path) -> list[Path]:
    return list((home / "cache").rglob("*.vec.npy")) if (home / "cache").exists() else []


def test_ctrl_c_during_embed_exits_130_and_writes_nothing(tmp_path):
    from embedlab.bundled import bbc_news

    bbc = bbc_news()  # short texts, so the first cache shard (1,024 texts) comes soon, with thousands to go
    texts = pd.DataFrame({"text": list(dict.fromkeys([*bbc["title"], *(t[:120] for t in bbc["text"])]))})
    source = tmp_path / "docs.csv"
    texts.to_csv(source, index=False)
    out = tmp_path / "out" / "vectors.npy"
    cli = Cli(tmp_path / "home", "embed", "--model", "minilm", "--input", str(source), "--output", str(out))
    cli.wait_for(lambda: cache_shards(tmp_path / "home"))  # the first 1,024 texts are encoded and cached
    cli.proc.send_signal(signal.SIGINT)
    assert cli.finish() == 130, "".join(cli.lines)
    message = "".join(cli.lines)
    assert "error: interrupted" in message and "Traceback" not in message
    assert not out.exists() and not out.parent.exists(), "a partial output was left"
    # What was encoded before Ctrl-C stays in the cache for the next run.
    assert cache_shards(tmp_path / "home")


def test_ctrl_c_during_finetune_exits_130_and_saves_nothing(tmp_path):
    home = tmp_path / "home"
    cli = Cli(home, "finetune", "--model", "minilm", "--data", "bbc", "--max-rows", "200", "--batch-size", "8",
              "--output", "interrupted-model")
    cli.wait_for(lambda: any("Training on" in line for line in cli.lines))
    time.sleep(3)  # inside the training steps
    cli.proc.send_signal(signal.SIGINT)
    assert cli.finish() == 130, "".join(cli.lines)
    assert "Traceback" not in "".join(cli.lines)
    zoo = home / "models" / "finetuned"
    assert not (zoo / "interrupted-model").exists()
    assert not list(zoo.glob(".tmp-*")), "the temporary training folder was left behind"


def test_kill_during_finetune_leaves_a_folder_the_next_start_sweeps(tmp_path):
    home = tmp_path / "home"
    zoo = home / "models" / "finetuned"
    cli = Cli(home, "finetune", "--model", "minilm", "--data", "bbc", "--max-rows", "100", "--batch-size", "8",
              "--output", "killed-model")
    cli.wait_for(lambda: list(zoo.glob(".tmp-killed-model-*")), timeout=600)  # trained, being evaluated
    cli.proc.send_signal(signal.SIGKILL)
    cli.finish()
    leftovers = list(zoo.glob(".tmp-*"))
    assert leftovers, "kill -9 left nothing to sweep; the test did not hit the window it means to"
    finished = zoo / "finished-model"
    finished.mkdir()
    (finished / "training.json").write_text("{}")

    env = {**os.environ, "EMBEDLAB_HOME": str(home)}
    subprocess.run([sys.executable, "-c", "from embedlab.finetune.saved import saved_runs; saved_runs()"],
                   env=env, check=True)
    assert not any(p.exists() for p in leftovers)
    assert (finished / "training.json").exists() and not (zoo / "killed-model").exists()
