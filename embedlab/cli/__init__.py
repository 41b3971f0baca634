"""Command line: ``embedlab <command>`` (or ``python -m embedlab``). One module per command group,
each with a ``register`` that adds its parser; the work itself is done by the core. Errors a user
can fix print one ``error:`` line and exit 2."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from embedlab.cli import (
    bench,
    cluster,
    embed,
    eval_retrieval,
    eval_tasks,
    finetune,
    models,
)
from embedlab.cli._common import EXIT_USAGE
from embedlab.errors import EmbedlabError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="embedlab", description="Explore and evaluate text embedding models.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is happening")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (models, embed, cluster, finetune):
        group.register(sub)
    ev = sub.add_parser("eval", help="evaluate a model the way MTEB does")
    tasks = ev.add_subparsers(dest="task", required=True)
    eval_tasks.register(tasks)
    eval_retrieval.register(tasks)
    bench.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except EmbedlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # invalid option values raised by the core (pooling, batch size...)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
