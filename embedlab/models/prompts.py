"""Prompt variants: one model run with its own prompts, with none, or with prompts the user types.

A variant is a model name with a ``~`` suffix after the rest of the name (``base@pooling+backend~prompts``),
so everything that takes a model name (caches, background jobs, leaderboards, result tables, the CLI)
takes a variant as it is:

- ``minilm~own``: the model's own prompts (the same vectors as ``minilm``);
- ``minilm~none``: no prompt for either role;
- ``minilm~q="query: ";d="passage: "``: these prompts, each a JSON string (so quotes, backslashes, ';'
  and '~' inside a prompt are unambiguous); a role left out gets no prompt.

The suffix comes last because a typed prompt may hold any character, including '@', '+' and '/'.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Sequence

from embedlab.errors import OptionError

SEPARATOR = "~"
OWN, NONE, TYPED = "own", "none", "typed"
MODES: tuple[str, ...] = (OWN, NONE, TYPED)
ROLE_KEYS = {"q": "query", "d": "document"}
EXAMPLE = 'minilm~none, minilm~own or minilm~q="query: ";d="passage: "'


@dataclass(frozen=True)
class Prompts:
    """What a name's ``~`` suffix asks for: ``own`` (keep the model's prompts) or these two prompts."""

    own: bool = False
    query: str = ""
    document: str = ""

    @property
    def suffix(self) -> str:
        """The canonical suffix (without '~'): ``own``, ``none``, or ``q=...;d=...`` with empty roles left out."""
        if self.own:
            return OWN
        parts = [f"{key}={_quote(text)}" for key, text in (("q", self.query), ("d", self.document)) if text]
        return ";".join(parts) or NONE


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def typed(query: str = "", document: str = "") -> Prompts:
    return Prompts(query=query, document=document)


def parse_suffix(text: str) -> Prompts:
    """``none`` / ``own`` / ``q="...";d="..."`` -> Prompts; anything else is an OptionError with an example."""
    if text == OWN:
        return Prompts(own=True)
    if text == NONE:
        return Prompts()
    found: dict[str, str] = {}
    decoder = json.JSONDecoder()
    at = 0
    while True:
        key = text[at:at + 1]
        if key not in ROLE_KEYS or text[at + 1:at + 2] != "=":
            raise _bad(text, f"expected q= or d= at {text[at:at + 12]!r}")
        if key in found:
            raise _bad(text, f"{key}= is given twice")
        try:
            value, at = decoder.raw_decode(text, at + 2)
        except ValueError:
            raise _bad(text, f"the {ROLE_KEYS[key]} prompt after {key}= must be a quoted JSON string") from None
        if not isinstance(value, str):
            raise _bad(text, f"the {ROLE_KEYS[key]} prompt after {key}= must be a quoted JSON string")
        found[key] = value
        if at == len(text):
            return Prompts(query=found.get("q", ""), document=found.get("d", ""))
        if text[at] != ";":
            raise _bad(text, f"expected ';' between the two prompts, found {text[at:at + 12]!r}")
        at += 1


def _bad(text: str, why: str) -> OptionError:
    return OptionError(f"Cannot read the prompt variant {SEPARATOR}{text} ({why}). Write it as {EXAMPLE}: "
                       "each prompt in double quotes, \\\" for a quote inside it.")


def split_prompts(name: str, *, strict: bool = True) -> tuple[str, Prompts | None]:
    """``'minilm@cls~none'`` -> ``('minilm@cls', Prompts())``; a name without a prompt suffix -> ``(name, None)``.

    The suffix starts at the first '~' (after the first character: a leading '~' is a home folder) whose
    remainder reads as a prompt suffix, so a '~' inside a typed prompt belongs to the prompt. A '~' with
    nothing readable after it is an OptionError that shows the syntax (``strict=False``: part of the name)."""
    name = name.strip()
    first_error = None
    for at in [i for i, ch in enumerate(name) if ch == SEPARATOR and i > 0]:
        if name[at - 1] == "/":  # "folder/~x": part of a path
            continue
        try:
            return name[:at], parse_suffix(name[at + 1:])
        except OptionError as exc:
            first_error = first_error or exc
    if first_error is not None and strict:
        raise first_error
    return name, None


def join_prompts(base: str, prompts: Prompts | None) -> str:
    return base if prompts is None else f"{base}{SEPARATOR}{prompts.suffix}"


def with_prompts(spec, prompts: Prompts):
    """``spec`` (a ModelSpec, or anything dataclass-like with name and the two prompt fields) run with
    ``prompts``, named after them. ``own`` keeps its prompts."""
    if prompts.own:
        return dataclasses.replace(spec, name=join_prompts(spec.name, prompts))
    return dataclasses.replace(spec, name=join_prompts(spec.name, prompts), query_prompt=prompts.query,
                               document_prompt=prompts.document)


@dataclass(frozen=True)
class PromptChoice:
    """Which prompt variants to run for each chosen model: its own prompts, none, and/or typed ones."""

    own: bool = True
    none: bool = False
    typed: bool = False
    query_prompt: str = ""
    document_prompt: str = ""

    def __post_init__(self) -> None:
        if not (self.own or self.none or self.typed):
            raise OptionError("Pick at least one prompt variant: own, none or typed.")

    @classmethod
    def from_modes(cls, modes: Sequence[str] | str, *, query_prompt: str = "", document_prompt: str = "") -> "PromptChoice":
        """``"own,none,typed"`` (or a list) -> PromptChoice; an unknown mode names the valid ones."""
        items = [m.strip() for m in (modes.split(",") if isinstance(modes, str) else modes) if m.strip()]
        unknown = [m for m in items if m not in MODES]
        if unknown:
            raise OptionError(f"Unknown prompt variant(s) {', '.join(map(repr, unknown))}. Valid: {', '.join(MODES)} "
                              "(e.g. own,none,typed).")
        if (query_prompt or document_prompt) and TYPED not in items:
            raise OptionError("A query or document prompt was given but 'typed' is not among the prompt variants: "
                              "add it, e.g. own,typed.")
        return cls(own=OWN in items, none=NONE in items, typed=TYPED in items, query_prompt=query_prompt,
                   document_prompt=document_prompt)

    @property
    def is_default(self) -> bool:
        """Only the models' own prompts: the chosen names run as they are."""
        return self.own and not self.none and not self.typed


@dataclass(frozen=True)
class Variants:
    """The names to run, in order, and what was merged because it would give the same vectors."""

    names: tuple[str, ...]
    notes: tuple[str, ...] = ()


def prompt_variants(model, choice: PromptChoice, *, roles: Sequence[str] = ("query", "document")) -> Variants:
    """The variant names of ``model`` (a name or a ModelSpec) that ``choice`` asks for, own first.

    Two variants whose prompts agree on every role in ``roles`` (the roles the caller encodes: a page
    that embeds everything as documents passes ``("document",)``) would give the same vectors: the
    second is left out and a note says so. A name that already carries a prompt suffix is kept as it is."""
    from embedlab.models.registry import resolve_spec

    spec = resolve_spec(model) if isinstance(model, str) else model
    base, given = split_prompts(spec.name)
    if given is not None:
        return Variants((spec.name,))
    own = {"query": spec.query_prompt, "document": spec.document_prompt}
    wanted = [(OWN, base, own)] if choice.own else []
    if choice.none:
        wanted.append((NONE, join_prompts(base, Prompts()), {"query": "", "document": ""}))
    if choice.typed:
        prompts = typed(choice.query_prompt, choice.document_prompt)
        wanted.append((TYPED, join_prompts(base, prompts), {"query": prompts.query, "document": prompts.document}))
    kept: list[tuple[str, str, dict]] = []
    notes = []
    for mode, name, prompts in wanted:
        same = next((k for k in kept if all(k[2][r] == prompts[r] for r in roles)), None)
        if same is None:
            kept.append((mode, name, prompts))
        else:
            notes.append(_same_note(base, mode, same[0], same[1], roles))
    return Variants(tuple(name for _, name, _ in kept), tuple(notes))


def _same_note(base: str, mode: str, kept_mode: str, kept_name: str, roles: Sequence[str]) -> str:
    if {mode, kept_mode} == {OWN, NONE}:
        why = f"{base} has no prompts of its own, so 'own' and 'none' give the same vectors"
    elif OWN in (mode, kept_mode):
        why = f"the typed prompts are {base}'s own"
    else:
        why = "no prompt was typed, so 'typed' is the same as 'none'"
    where = " (every text is embedded as a document here: only the document prompt counts)"
    return f"{why}{where if tuple(roles) == ('document',) else ''}: run once, as {kept_name}."


def expand(names: Sequence[str], choice: PromptChoice, *, roles: Sequence[str] = ("query", "document")) -> Variants:
    """Every chosen name replaced by its prompt variants (``prompt_variants``), duplicates removed. With the
    default choice (own only) the names are returned as they are, without resolving them. A name that cannot
    be resolved is kept as it is, for the caller's loader to report."""
    if choice.is_default:
        return Variants(tuple(dict.fromkeys(names)))
    from embedlab.errors import EmbedlabError

    out: list[str] = []
    notes: list[str] = []
    for name in names:
        try:
            found = prompt_variants(name, choice, roles=roles)
        except EmbedlabError:
            out.append(name)
            continue
        out.extend(found.names)
        notes.extend(found.notes)
    return Variants(tuple(dict.fromkeys(out)), tuple(dict.fromkeys(notes)))


def split_names(text: str | None) -> tuple[str, ...]:
    """A comma-separated list of model names, where a comma inside a typed prompt's quotes is part of
    the prompt: ``'minilm,minilm~q="Given a query, find"'`` -> two names."""
    names, current, quoted, escaped = [], [], False, False
    for ch in text or "":
        if ch == "," and not quoted:
            names.append("".join(current))
            current = []
            continue
        current.append(ch)
        if quoted and escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    names.append("".join(current))
    return tuple(n.strip() for n in names if n.strip())
