"""Model specs: everything that decides what vector a text gets, in one frozen record."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from embedlab.errors import OptionError
from embedlab.models.prompts import join_prompts, split_prompts
from embedlab.pooling import POOLING_MODES, check_pooling

KINDS: tuple[str, ...] = ("encoder", "decoder", "static")
# Where the weights come from. "package" = files inside an installed pip package.
SOURCES: tuple[str, ...] = ("package", "mpnet-parts", "gguf-package", "wordllama", "local", "hub")
ROLES: tuple[str, ...] = ("document", "query")
PADDING_SIDES: tuple[str, ...] = ("right", "left")
# How the backbone runs: PyTorch fp32, ONNX Runtime fp32, or ONNX Runtime with dynamic int8 weights.
BACKENDS: tuple[str, ...] = ("torch", "onnx", "int8")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str
    source: str
    location: str
    pooling: str
    description: str = ""
    dim: int = 0  # declared output size; 0 = known only once loaded
    query_prompt: str = ""
    document_prompt: str = ""
    max_seq_length: int = 256
    append_eos: bool = False
    padding_side: str = "right"
    license: str = ""
    backend: str = "torch"
    # Fine-tuned models carry where they came from and how they were trained.
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, KINDS)
        _check_choice("source", self.source, SOURCES)
        _check_choice("padding_side", self.padding_side, PADDING_SIDES)
        check_pooling(self.pooling)
        _check_choice("backend", self.backend, BACKENDS)
        if self.kind == "static" and self.backend != "torch":
            raise OptionError(f"Model {self.name!r} is a static (word-vector) model: it has no backbone to run "
                              f"with another backend, so '+{self.backend}' does not apply.")
        if self.kind == "static" and self.pooling != "mean":
            raise OptionError(
                f"Model {self.name!r} is a static (word-vector) model: it only supports mean pooling, "
                f"not {self.pooling!r}."
            )
        if self.max_seq_length < 2:
            raise OptionError(f"max_seq_length must be at least 2, got {self.max_seq_length}.")

    def prompt(self, role: str) -> str:
        _check_choice("role", role, ROLES)
        return self.query_prompt if role == "query" else self.document_prompt

    def with_pooling(self, pooling: str) -> "ModelSpec":
        # The backend suffix, then the prompt suffix, stay last, so the name parses back: "minilm@cls+int8~none".
        suffix = f"+{self.backend}" if self.backend != "torch" else ""
        base, prompts = split_prompts(self.name, strict=False)
        name = join_prompts(f"{_without_backend(base, self.backend)}@{pooling}{suffix}", prompts)
        return dataclasses.replace(self, name=name, pooling=check_pooling(pooling))

    def with_backend(self, backend: str) -> "ModelSpec":
        """The same model run by ``backend``; ``"torch"`` is the model itself."""
        _check_choice("backend", backend, BACKENDS)
        if backend == self.backend:
            return self
        base, prompts = split_prompts(self.name, strict=False)
        plain = _without_backend(base, self.backend)
        name = join_prompts(f"{plain}+{backend}" if backend != "torch" else plain, prompts)
        return dataclasses.replace(self, name=name, backend=backend)

    @property
    def parent_name(self) -> str:
        """The name without its backend suffix: the fp32 PyTorch model a variant is measured against
        (a prompt suffix stays: the parent is run with the same prompts)."""
        base, prompts = split_prompts(self.name, strict=False)
        return join_prompts(_without_backend(base, self.backend), prompts)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelSpec":
        """A spec from its JSON form; a missing key or a value of the wrong type is an OptionError."""
        if not isinstance(data, dict):
            raise OptionError(f"A model spec should be a JSON object, not {type(data).__name__}.")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        missing = [n for n, f in fields.items() if f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING and n not in data]
        if missing:
            raise OptionError(f"The model spec is missing {', '.join(map(repr, missing))}.")
        # Keys this version no longer has (``normalize``, in files written before it was dropped) are ignored.
        values = {k: v for k, v in data.items() if k in fields}
        for key, value in values.items():
            want = _FIELD_TYPES[fields[key].type]
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise OptionError(f"The model spec's {key!r} should be {_TYPE_WORDS[want]}, not {value!r}.")
        return cls(**values)


# Field annotations are strings here (``from __future__ import annotations``).
_FIELD_TYPES = {"str": str, "int": int, "bool": bool, "dict[str, Any]": dict}
_TYPE_WORDS = {str: "text", int: "a whole number", bool: "true or false", dict: "a JSON object"}


def _without_backend(name: str, backend: str) -> str:
    return name.removesuffix(f"+{backend}") if backend != "torch" else name


def _check_choice(what: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise OptionError(f"Unknown {what} {value!r}. Valid values: {', '.join(valid)}.")


def split_pooling(name: str) -> tuple[str, str | None]:
    """``"minilm@cls"`` -> ``("minilm", "cls")``; ``"minilm"`` -> ``("minilm", None)``.

    A wrong pooling name raises with the list of valid ones.
    """
    name = name.strip()
    if "@" not in name:
        return name, None
    base, pooling = name.rsplit("@", 1)
    if not base:
        raise OptionError(f"Model name {name!r} has a pooling suffix but no model before '@'.")
    if pooling not in POOLING_MODES:
        valid = ", ".join(POOLING_MODES)
        raise OptionError(f"Unknown pooling {pooling!r} in {name!r}. Valid pooling modes: {valid}.")
    return base, pooling


def split_backend(name: str) -> tuple[str, str | None]:
    """``"minilm@cls+int8"`` -> ``("minilm@cls", "int8")``; ``"minilm"`` -> ``("minilm", None)``.

    A suffix holding '/' or '@' is part of a path or pooling, not a backend; any other unknown
    suffix raises with the list of valid backends.
    """
    name = name.strip()
    base, plus, backend = name.rpartition("+")
    if not plus or "/" in backend or "@" in backend:
        return name, None
    if not base:
        raise OptionError(f"Model name {name!r} has a backend suffix but no model before '+'.")
    if backend not in BACKENDS:
        raise OptionError(f"Unknown backend {backend!r} in {name!r}. Valid backends: {', '.join(BACKENDS)}.")
    return base, backend
