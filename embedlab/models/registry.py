"""Turn a model name into a spec: the bundled catalog, user-added models, fine-tuned models,
local folders and hub IDs, in that order."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from embedlab.errors import EmbedlabError, ModelLoadError
from embedlab.models.catalog import CATALOG
from embedlab.models.folder import (
    SPEC_FILE,
    read_st_folder,  # noqa: F401  (other packages import it from here)
    spec_from_file,
    spec_from_folder,
)
from embedlab.models.prompts import split_prompts, with_prompts
from embedlab.models.spec import ModelSpec, split_backend, split_pooling
from embedlab.paths import atomic_write_json, data_home, models_dir

log = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
CUSTOM_KINDS: tuple[str, ...] = ("encoder", "decoder")  # what a user can add (static models are bundled)


def custom_models_file() -> Path:
    return data_home() / "custom_models.json"


def finetuned_dir() -> Path:
    path = models_dir() / "finetuned"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class UserModels:
    """The models a user added or fine-tuned, and what could not be read (each problem says what to do)."""

    specs: dict[str, ModelSpec]
    problems: tuple[str, ...] = ()


def _custom_entries() -> list:
    """The custom-model file's entries as written; raises if the file itself cannot be read."""
    path = custom_models_file()
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"The custom-model list {path} cannot be read ({exc}); the models added there "
                             "are unavailable. Fix the file or delete it to start a new list.") from None
    if not isinstance(entries, list):
        raise ModelLoadError(f"The custom-model list {path} should hold a JSON list of models; "
                             "fix the file or delete it to start a new list.")
    return entries


def _entry_name(entry) -> str | None:
    return entry.get("name") if isinstance(entry, dict) else None


def read_custom_models() -> UserModels:
    """The usable entries of the custom-model list; an entry that cannot be used is reported, not dropped."""
    try:
        entries = list(enumerate(_custom_entries(), 1))
    except ModelLoadError as exc:
        return UserModels({}, (str(exc),))
    return _read_specs(entries, lambda entry: ModelSpec.from_dict(entry[1]), lambda entry, exc: (
        f"Custom model {_entry_name(entry[1]) or f'#{entry[0]}'} in {custom_models_file()} cannot be used "
        f"({exc}); fix or remove its entry."))


def _read_specs(sources: list, read: Callable[[Any], ModelSpec],
                problem: Callable[[Any, Exception], str]) -> UserModels:
    """A spec from each source; a source that cannot be read or is not a valid spec becomes a problem."""
    specs, problems = {}, []
    for source in sources:
        try:
            spec = read(source)
        except (OSError, EmbedlabError) as exc:
            problems.append(problem(source, exc))
            continue
        specs[spec.name] = spec
    return UserModels(specs, tuple(problems))


def load_custom_specs() -> dict[str, ModelSpec]:
    return read_custom_models().specs


def save_custom_spec(spec: ModelSpec) -> Path | None:
    """Add or replace one entry; the other entries are written back exactly as they were.
    Returns the backup of the list as it was when it held entries that cannot be used, else None."""
    if spec.name in CATALOG:
        raise ModelLoadError(f"{spec.name!r} is a bundled model; choose another name.")
    entries = [e for e in _custom_entries() if _entry_name(e) != spec.name]
    return _write_custom_entries([*entries, json.loads(spec.to_json())])


def remove_custom_spec(name: str) -> Path | None:
    return _write_custom_entries([e for e in _custom_entries() if _entry_name(e) != name])


def _write_custom_entries(entries: list) -> Path | None:
    path = custom_models_file()
    backup = _backup_if_damaged(path)
    atomic_write_json(path, entries, indent=2)
    return backup


def _backup_if_damaged(path: Path) -> Path | None:
    """Copy a list holding unusable entries aside before it is rewritten, so a hand edit that went
    wrong can be recovered as it was. Named after the unusable entries (which every rewrite keeps),
    so the same damage is copied once, not at every add or remove."""
    if not path.exists():
        return None
    unusable = [entry for entry in _custom_entries() if not _usable(entry)]
    if not unusable:
        return None
    digest = hashlib.blake2b(json.dumps(unusable, sort_keys=True).encode(), digest_size=4).hexdigest()
    backup = path.with_name(f"{path.name}.{digest}.bak")
    if not backup.exists():
        tmp = backup.with_name(f".tmp-{backup.name}")
        tmp.write_bytes(path.read_bytes())
        tmp.replace(backup)
        log.warning("%s holds entries that cannot be used; a copy as it was is kept in %s.", path, backup)
    return backup


def _usable(entry) -> bool:
    try:
        ModelSpec.from_dict(entry)
    except EmbedlabError:
        return False
    return True


def read_finetuned_models() -> UserModels:
    # A folder starting with "." is a run still being written.
    spec_files = [f for f in sorted(finetuned_dir().glob(f"*/{SPEC_FILE}")) if not f.parent.name.startswith(".")]
    return _read_specs(spec_files, spec_from_file, lambda f, exc: (
        f"The fine-tuned model in {f.parent} cannot be used: {exc} "
        "Delete the folder if the model is not needed."))


def finetuned_specs() -> dict[str, ModelSpec]:
    return read_finetuned_models().specs


def registry_problems() -> tuple[str, ...]:
    """Everything among the user's models that could not be read; empty when all is well."""
    return (*read_custom_models().problems, *read_finetuned_models().problems)


def available_models() -> dict[str, ModelSpec]:
    """Every model that can be picked by name right now: bundled, then fine-tuned, then custom."""
    return {**CATALOG, **finetuned_specs(), **load_custom_specs()}


def resolve_spec(name: str) -> ModelSpec:
    """``minilm``, ``minilm@cls``, ``minilm@cls+int8``, a fine-tuned or custom name, a local folder, or
    ``org/model``; ``+onnx`` / ``+int8`` after any of them picks an ONNX Runtime backend, and a last
    ``~none`` / ``~own`` / ``~q="...";d="..."`` runs it with other prompts (models/prompts.py)."""
    if not name or not name.strip():
        raise ModelLoadError("No model name given.")
    # A folder whose name holds '+' or '~' is a folder, not a backend or prompt suffix.
    is_folder = Path(name).expanduser().exists()
    named, prompts = (name, None) if is_folder else split_prompts(name)
    named, backend = (named, None) if is_folder else split_backend(named)
    base, pooling = split_pooling(named)
    spec = _lookup(base)
    try:
        if pooling is not None:
            spec = spec.with_pooling(pooling)
        spec = spec.with_backend(backend) if backend else spec
        return with_prompts(spec, prompts) if prompts is not None else spec
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None


def _lookup(base: str) -> ModelSpec:
    known = available_models()
    if base in known:
        return known[base]
    path = Path(base).expanduser()
    if path.exists():
        return spec_from_folder(path, name=base, source="local")
    if is_hub_id(base):
        return spec_from_folder(hub_snapshot(base), name=base, source="hub", location=base)
    unreadable = "".join(f" Not available because it cannot be read: {p}" for p in registry_problems())
    raise ModelLoadError(
        f"Unknown model {base!r}. Available: {', '.join(known)}. "
        f"You can also give a local model folder or a hub ID such as org/model-name.{unreadable}"
    )


def hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id))
    except Exception as exc:  # offline, missing repo, gated repo: all mean "cannot load"
        raise ModelLoadError(
            f"Could not fetch {repo_id!r} from the model hub ({type(exc).__name__}: {exc}). "
            "This machine may be offline; use a bundled model or a local folder instead."
        ) from None


def is_hub_id(text: str) -> bool:
    return bool(_HUB_ID.match(text)) and not Path(text).expanduser().exists()


def custom_spec(
    name: str,
    where: str,
    *,
    kind: str | None = None,
    pooling: str | None = None,
    max_seq_length: int | None = None,
    query_prompt: str = "",
    document_prompt: str = "",
    append_eos: bool | None = None,
) -> ModelSpec:
    """A spec for a user's own model (local folder or hub ID); ``None`` means "as its config says"."""
    name, where = name.strip(), where.strip()
    if not name or any(ch in name for ch in "@/+~"):
        raise ModelLoadError("Give the model a short name without '@', '/', '+' or '~', e.g. my-e5.")
    if name in CATALOG or name in finetuned_specs():
        raise ModelLoadError(f"{name!r} is already taken by a bundled or fine-tuned model.")
    if not where:
        raise ModelLoadError("Give a local model folder or a hub ID (org/model).")
    path = Path(where).expanduser()
    if path.exists():
        base = spec_from_folder(path, name=name, source="local")
    elif is_hub_id(where):
        base = spec_from_folder(hub_snapshot(where), name=name, source="hub", location=where)
    else:
        raise ModelLoadError(f"{where!r} is neither an existing folder nor a hub ID like org/model.")
    changes: dict = {"query_prompt": query_prompt, "document_prompt": document_prompt}
    if max_seq_length:
        changes["max_seq_length"] = int(max_seq_length)
    if kind:
        changes.update(kind=kind, append_eos=kind == "decoder", padding_side="left" if kind == "decoder" else "right")
    if pooling:
        changes["pooling"] = pooling
    if append_eos is not None:
        changes["append_eos"] = append_eos
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
