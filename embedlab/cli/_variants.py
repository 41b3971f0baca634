"""``--model`` lists and ``--prompts``: the model names an ``eval`` command runs, prompt variants included."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from embedlab.errors import OptionError
from embedlab.models.prompts import MODES, OWN, TYPED, PromptChoice, expand, split_names

DOCUMENT_ONLY = ("document",)  # the tasks that embed every text as a document (all but retrieval)


def prompt_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prompts", help=f"prompt variants of each --model, comma-separated: {', '.join(MODES)} "
                                     "(own = the model's own prompts, the default; none = no prompt; typed = "
                                     "--query-prompt/--document-prompt, the default when either is given). "
                                     "Variants run side by side; a variant name such as minilm~none or "
                                     "'minilm~q=\"query: \"' also works in --model")
    p.add_argument("--query-prompt", default="", help="the typed variant's query prompt (e.g. 'query: ')")
    p.add_argument("--document-prompt", default="", help="the typed variant's document prompt (e.g. 'passage: ')")


def prompt_choice(args: argparse.Namespace) -> PromptChoice:
    typed_any = bool(args.query_prompt or args.document_prompt)
    modes = args.prompts if args.prompts is not None else (TYPED if typed_any else OWN)
    return PromptChoice.from_modes(modes, query_prompt=args.query_prompt, document_prompt=args.document_prompt)


def model_names(args: argparse.Namespace, *, roles: Sequence[str] = ("query", "document")) -> tuple[str, ...]:
    """The names of ``--model`` (comma-separated; a comma inside a typed prompt's quotes is the prompt's),
    each expanded to the ``--prompts`` variants; what was merged is said on stderr."""
    names = split_names(args.model)
    if not names:
        raise OptionError("Give --model (comma-separated for several), e.g. --model minilm.")
    found = expand(names, prompt_choice(args), roles=roles)
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    return found.names
