"""Where fine-tuned models and rerankers live, what was recorded about them, and deleting them.

Embedders go to the data folder's ``models/finetuned/NAME``, rerankers to ``models/rerankers/NAME``;
each folder carries ``training.json``, the record of its run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Collection

from embedlab.errors import DataError, OptionError
from embedlab.finetune.config import check_output_name

log = logging.getLogger(__name__)

RECORD_FILE = "training.json"
KINDS = ("embedder", "reranker")
TMP_PREFIX = ".tmp-"  # a run in progress: trained into this hidden folder, renamed when complete
_TMP_OWNER = re.compile(r"\.tmp-.+-(\d+)-[0-9a-f]{8}$")
LEGACY_TMP_AGE = 3600  # seconds: a temporary folder without an owner pid (older versions) is stale after this


def zoo_folder(kind: str) -> Path:
    from embedlab.models.registry import finetuned_dir
    from embedlab.retrieval.rerank import rerankers_dir

    return rerankers_dir() if kind == "reranker" else finetuned_dir()


def target_folder(name: str, kind: str) -> Path:
    return zoo_folder(kind) / name


def name_problem(name: str, kind: str, *, overwrite: bool = False) -> str | None:
    """Why ``name`` cannot be used for a new ``kind`` (None: it can). A bundled or added model's
    name is never free; an earlier fine-tune's is, with ``overwrite``."""
    from embedlab.models.catalog import CATALOG
    from embedlab.models.registry import load_custom_specs

    if kind == "embedder" and (name in CATALOG or name in load_custom_specs()):
        return f"{name!r} is already the name of a bundled or added model"
    if not overwrite and target_folder(name, kind).exists():
        return f"A {'reranker' if kind == 'reranker' else 'fine-tuned model'} named {name!r} already exists"
    return None


def check_name_free(name: str, kind: str, *, overwrite: bool = False) -> str:
    name = check_output_name(name)
    problem = name_problem(name, kind, overwrite=overwrite)
    if problem:
        delete = " or delete it first" if target_folder(name, kind).exists() else ""
        raise DataError(f"{problem}; choose another name ({free_name(name, kind)} is free){delete}.")
    return name


def free_name(stem: str, kind: str, *, taken: Collection[str] = ()) -> str:
    """``stem`` if nothing has that name, else the first free ``stem-2``, ``stem-3``, …; ``taken``
    adds names in use elsewhere (a run still training under its name)."""
    name, n = stem, 1
    while name in taken or name_problem(name, kind) is not None:
        n += 1
        name = f"{stem[:64 - len(str(n)) - 1]}-{n}"  # names are at most 64 characters
    return name


def default_name(base: str, kind: str, *, now: dt.datetime | None = None, taken: Collection[str] = ()) -> str:
    """A new model's name: ``<base>-ft-YYYYMMDD-HHMM`` (``-rr-`` for a reranker), made free."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", base.split("@")[0]).strip("-._")[:40] or "model"
    when = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M")
    return free_name(f"{slug}-{'rr' if kind == 'reranker' else 'ft'}-{when}", kind, taken=taken)


def temp_folder(final: Path) -> Path:
    """Where a run trains before it is published as ``final``; the name carries the owner's pid so
    that a later sweep can tell a live run from the leftovers of one that was killed."""
    return final.parent / f"{TMP_PREFIX}{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def publish(tmp: Path, final: Path, *, overwrite: bool = False) -> None:
    """Rename the finished ``tmp`` into place. Without ``overwrite`` a folder that appeared while
    training is kept and the new model is not saved; with it, the old one is first moved aside into
    a temporary folder (swept if this process dies there) and deleted only after the rename."""
    if final.exists() and not overwrite:
        raise DataError(f"{final} appeared while training; the new model was not saved.")
    old = None
    if final.exists():
        old = temp_folder(final)
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def sweep_stale_temp() -> list[Path]:
    """Remove temporary folders of runs whose process is gone (killed mid-run: nothing else could
    clean up). Finished models never start with the temporary prefix and are never touched."""
    removed = []
    for kind in KINDS:
        for path in zoo_folder(kind).glob(f"{TMP_PREFIX}*"):
            if path.is_dir() and not _owner_alive(path):
                shutil.rmtree(path, ignore_errors=True)
                log.warning("Removed %s, left by a fine-tuning run that did not finish.", path)
                removed.append(path)
    return removed


def _owner_alive(path: Path) -> bool:
    found = _TMP_OWNER.match(path.name)
    if found is None:
        return time.time() - path.stat().st_mtime < LEGACY_TMP_AGE
    pid = int(found[1])
    if pid == os.getpid():
        return True  # this process's own run (the app trains in a thread)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def load_record(folder: Path) -> dict | None:
    path = folder / RECORD_FILE
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except ValueError:
        return None


def saved_runs() -> list[dict]:
    """One row per saved fine-tuned model and reranker, from its record (None where unrecorded)."""
    from embedlab.models.registry import finetuned_specs
    from embedlab.retrieval.rerank import trained_rerankers

    sweep_stale_temp()
    names = [(name, "embedder") for name in finetuned_specs()] + [(name, "reranker") for name in trained_rerankers()]
    rows = []
    for name, kind in names:
        rec = load_record(target_folder(name, kind)) or {}
        config = rec.get("config") or {}
        rows.append({"name": name, "kind": kind, "base": rec.get("base"), "data": rec.get("data"),
                     "workflow": "cross-encoder" if kind == "reranker" else config.get("workflow"),
                     "loss": "bce" if kind == "reranker" else config.get("loss"),
                     "nDCG@10 before": (rec.get("before") or {}).get("nDCG@10"),
                     "nDCG@10 after": (rec.get("after") or {}).get("nDCG@10"), "created": rec.get("created")})
    return rows


def delete_saved(name: str, kind: str) -> None:
    """Delete a saved fine-tuned model or reranker: only a folder directly inside its zoo folder."""
    if kind not in KINDS:
        raise OptionError(f"Unknown kind {kind!r}; use embedder or reranker.")
    zoo = zoo_folder(kind).resolve()
    folder = (zoo / name).resolve()
    if folder.parent != zoo or not folder.is_dir():
        raise DataError(f"There is no saved {kind} named {name!r} in {zoo}.")
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        raise DataError(f"Could not delete all of {folder}; remove it by hand.")
