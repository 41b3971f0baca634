"""Temporary folders of fine-tuning runs that were killed are swept; live runs and finished models are not."""

import os
import subprocess
import sys
import time

from embedlab.finetune.saved import sweep_stale_temp, temp_folder, zoo_folder


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_dead_owners_only(tmp_home):
    zoo = zoo_folder("embedder")
    finished = zoo / "my-model"
    finished.mkdir(parents=True)
    (finished / "embedlab_model.json").write_text("{}")
    live = temp_folder(zoo / "running")  # this process: a run in a thread of the app
    live.mkdir()
    dead = zoo / f".tmp-killed-{dead_pid()}-0123abcd"
    dead.mkdir()
    (dead / "model.safetensors").write_bytes(b"x" * 100)
    reranker_dead = zoo_folder("reranker") / f".tmp-rr-{dead_pid()}-89abcdef"
    reranker_dead.mkdir(parents=True)

    removed = sweep_stale_temp()

    assert set(removed) == {dead, reranker_dead}
    assert not dead.exists() and not reranker_dead.exists()
    assert live.exists() and (finished / "embedlab_model.json").exists()


def test_sweep_keeps_a_young_folder_of_an_older_version(tmp_home):
    zoo = zoo_folder("embedder")
    young = zoo / ".tmp-old-style-0123abcd"
    old = zoo / ".tmp-older-style-89abcdef"
    young.mkdir(parents=True)
    old.mkdir()
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert sweep_stale_temp() == [old]
    assert young.exists()


def test_temp_folder_names_its_owner(tmp_home):
    folder = temp_folder(zoo_folder("embedder") / "a-b-c")
    assert folder.name.startswith(".tmp-a-b-c-") and f"-{os.getpid()}-" in folder.name

