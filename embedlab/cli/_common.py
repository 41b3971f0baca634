"""What every command shares: progress lines, JSON output, bundled-or-file corpora, common options."""

from __future__ import annotations

import argparse
import sys

EXIT_USAGE = 2


def progress(label: str):
    """A progress callback that redraws one stderr line (only on a terminal)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report


def print_json(data) -> None:
    from embedlab.jsonio import dumps

    print(dumps(data))


def read_input(path: str):
    """``read_table(path)``, saying on stderr what reading had to decide (e.g. the delimiter it used)."""
    from embedlab.tables import read_table

    table = read_table(path)
    for note in table.attrs.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    return table


def corpus(path: str):
    from embedlab.bundled import bbc_news

    return bbc_news() if path == "bbc" else read_input(path)


def bench_progress():
    if not sys.stderr.isatty():
        return None

    def report(label: str, done: int, total: int) -> None:
        print(f"\r\033[K{label}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)

    return report


def result_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", action="store_true", help="recompute even if this result is cached")
    p.add_argument("--json", action="store_true")


def labelled_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="'bbc' for the bundled BBC News, or a CSV/TSV/JSONL/Parquet file")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--seed", type=int, default=42)


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (argparse then reports a bad value as a usage error, exit 2)."""
    return _int_at_least(text, 1)


def nonnegative_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value
