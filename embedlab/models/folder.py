"""What a model folder says about itself: an embedlab spec file, a sentence-transformers layout, or
a plain transformers config. Every file read here that is malformed is one ModelLoadError naming
the file and what is wrong with it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from embedlab.errors import EmbedlabError, ModelLoadError
from embedlab.models.spec import ModelSpec
from embedlab.pooling import from_st_pooling

SPEC_FILE = "embedlab_model.json"  # written next to a fine-tuned model's weights


def read_json(path: Path, expect: type = dict):
    """The JSON in ``path``, which must be a ``dict`` or a ``list`` as ``expect`` says."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelLoadError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ModelLoadError(f"{path} is not valid JSON ({exc}). Fix or replace the file.") from None
    if not isinstance(data, expect):
        want = "a JSON object" if expect is dict else "a JSON list"
        raise ModelLoadError(f"{path} should hold {want}, not {_json_type(data)}. Fix or replace the file.")
    return data


def _json_type(value) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def spec_from_file(path: Path) -> ModelSpec:
    """The spec saved in an ``embedlab_model.json``."""
    data = read_json(path)
    try:
        return ModelSpec.from_dict(data)
    except EmbedlabError as exc:
        raise ModelLoadError(f"{path} is not a valid model spec: {exc}") from None


def spec_from_folder(path: Path, *, name: str, source: str, location: str | None = None) -> ModelSpec:
    """Read what a folder says about itself: a fine-tuned spec, a sentence-transformers config,
    or a plain transformers config (decoder if its architecture is a causal LM)."""
    if not path.is_dir():
        raise ModelLoadError(f"{path} is not a folder. Give a model folder (with config.json).")
    if (path / SPEC_FILE).exists():
        return spec_from_file(path / SPEC_FILE)
    st_folder = read_st_folder(path)
    config_file = st_folder["transformer_dir"] / "config.json"
    if not config_file.exists():
        raise ModelLoadError(f"{path} has no config.json: it does not look like a transformers model folder.")
    config = read_json(config_file)
    is_decoder = bool(any(str(a).endswith("ForCausalLM") for a in _list(config.get("architectures")))
                      or config.get("is_decoder"))
    prompts = st_folder["prompts"]
    try:
        max_positions = int(config.get("max_position_embeddings") or 512)
        return ModelSpec(
            name=name,
            kind="decoder" if is_decoder else "encoder",
            source=source,
            location=location or str(path.resolve()),
            pooling=st_folder["pooling"] or ("last" if is_decoder else "mean"),
            query_prompt=prompts.get("query", ""),
            document_prompt=prompts.get("document", prompts.get("passage", "")),
            max_seq_length=st_folder["max_seq_length"] or min(max_positions, 512),
            append_eos=is_decoder,
            padding_side="left" if is_decoder else "right",
            description=f"{config.get('model_type', 'transformer')} from {location or path}",
        )
    except (EmbedlabError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"The model folder {path} has a setting embedlab cannot use: {exc}") from None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def read_st_folder(path: Path) -> dict:
    """The parts of a sentence-transformers folder we honour: backbone location, pooling, max
    length and prompts. A plain transformers folder gives the folder itself and no opinions."""
    info = {"transformer_dir": path, "pooling": None, "max_seq_length": None, "prompts": {}, "dense": []}
    modules_file = path / "modules.json"
    if not modules_file.exists():
        return info
    for folder, kind in _modules(modules_file):
        if kind.endswith("Transformer"):
            info["transformer_dir"] = folder
            bert_cfg = folder / "sentence_bert_config.json"
            if bert_cfg.exists():
                info["max_seq_length"] = _int_setting(bert_cfg, "max_seq_length")
        elif kind.endswith("Dense"):
            info["dense"].append(folder)
        elif kind.endswith("Pooling") and (folder / "config.json").exists():
            info["pooling"] = from_st_pooling(read_json(folder / "config.json"))
    st_cfg = path / "config_sentence_transformers.json"
    if st_cfg.exists():
        prompts = read_json(st_cfg).get("prompts") or {}
        if not isinstance(prompts, dict) or not all(isinstance(v, str) for v in prompts.values()):
            raise ModelLoadError(f"{st_cfg}: 'prompts' should map a role to its prompt text, e.g. "
                                 '{"query": "query: "}. Fix or remove it.')
        info["prompts"] = prompts
    return info


def _modules(modules_file: Path) -> list[tuple[Path, str]]:
    """(folder, type) of each module listed in a sentence-transformers ``modules.json``."""
    root = modules_file.parent
    out = []
    for number, module in enumerate(read_json(modules_file, list), 1):
        where = f"{modules_file}: entry {number}"
        if not isinstance(module, dict):
            raise ModelLoadError(f"{where} should be a JSON object with 'path' and 'type', not "
                                 f"{_json_type(module)}. Fix or replace the file.")
        path, kind = module.get("path", ""), module.get("type", "")
        if not isinstance(path, str) or not isinstance(kind, str):
            bad = "path" if not isinstance(path, str) else "type"
            raise ModelLoadError(f"{where}: '{bad}' should be a string. Fix or replace the file.")
        folder = root / path
        if not Path(os.path.normpath(folder)).is_relative_to(os.path.normpath(root)):
            raise ModelLoadError(f"{where}: the path {path!r} should be a folder inside the model folder.")
        out.append((folder, kind))
    return out


def _int_setting(path: Path, key: str) -> int | None:
    value = read_json(path).get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
        raise ModelLoadError(f"{path}: {key!r} should be a whole number of at least 2, not {value!r}.")
    return value
