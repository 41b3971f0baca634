"""What every command shares: progress lines, JSON output, bundled-or-file corpora, common options."""

from __future__ import annotations

import argparse
import json
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
    print(json.dumps(data, indent=2, default=float))


def corpus(path: str):
    from embedlab.bundled import bbc_news
    from embedlab.tables import read_table

    return bbc_news() if path == "bbc" else read_table(path)


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
