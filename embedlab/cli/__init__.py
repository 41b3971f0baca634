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
    collections,
    distill,
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
    for group in (models, embed, cluster, finetune, distill):
        group.register(sub)
    ev = sub.add_parser("eval", help="evaluate a model the way MTEB does")
    tasks = ev.add_subparsers(dest="task", required=True)
    eval_tasks.register(tasks)
    eval_retrieval.register(tasks)
    bench.register(sub)
    collections.register(sub)
    return parser


EXIT_INTERRUPTED = 130  # the shell's convention for a process ended by Ctrl-C (128 + SIGINT)

# What to do about the operating-system faults a user meets, by errno name.
_OS_ADVICE = {
    "ENOSPC": "the disk is full: free some space, or set EMBEDLAB_HOME to a folder on another disk",
    "EFBIG": "the file grew past the size allowed here: free space or raise the limit",
    "EROFS": "that file system is read-only: set EMBEDLAB_HOME (data) or the output to a writable folder",
    "EACCES": "permission denied: check the file's permissions, or pick another location",
    "EPERM": "permission denied: check the file's permissions, or pick another location",
    "EISDIR": "that is a folder: give a file",
    "ENOTDIR": "a part of that path is a file, not a folder",
    "ENOENT": "no such file or folder",
}


def describe_os_error(exc: OSError) -> str:
    import errno

    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f) or "(unknown file)"
    advice = _OS_ADVICE.get(errno.errorcode.get(exc.errno or 0, ""), exc.strerror or str(exc))
    return f"{where}: {advice}."


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except EmbedlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # the machine, not embedlab: disk full, read-only folder, permissions
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        # Outputs are written atomically and fine-tunes publish only when complete, so stopping here
        # leaves no partial file; the embedding cache keeps what was already encoded.
        print("error: interrupted; nothing was written (texts already embedded stay in the cache).",
              file=sys.stderr)
        return EXIT_INTERRUPTED
