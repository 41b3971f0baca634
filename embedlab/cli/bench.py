"""``embedlab bench``: a leaderboard of models across bundled tasks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from embedlab.cli._common import (
    EXIT_USAGE,
    bench_progress,
)
from embedlab.errors import DataError


def cmd_bench(args: argparse.Namespace) -> int:
    from embedlab.evaluation import bench

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise DataError("--models needs at least one model name (comma-separated for several).")
    tasks = bench.bundled_tasks(args.tasks)  # unknown names fail here, before any model loads
    if args.csv and Path(args.csv).is_dir():
        raise DataError(f"--csv {args.csv} is a folder; give a file name.")
    board = bench.run_bench(models, tasks, progress=bench_progress(), cache=not args.no_cache)
    if args.csv:
        board.to_csv(args.csv)
    if args.json:
        print(board.to_json())
    else:
        cells = [r for cells in board.results.values() for r in cells.values()]
        cached = sum(r.cached for r in cells)
        print(f"Leaderboard: {len(models)} model(s) × {len(tasks)} task(s)"
              + (f"  ({cached} of {len(cells)} results from the cache)" if cached else ""))
        shown = board.table.copy()
        print(shown.to_string(float_format=lambda v: f"{v:.4f}", na_rep="-",
                              formatters={"seconds": lambda v: "-" if v != v else f"{v:.1f}"}))
        averaged = [t.name for t in tasks if t.averaged]
        if averaged:
            print(f"average = mean of {', '.join(averaged)} (empty unless the model has all of them)")
        if args.csv:
            print(f"wrote {args.csv}")
    for model, problems in board.errors.items():
        for where, message in problems.items():
            print(f"error: {model}: {'loading' if where == 'load' else where}: {message}", file=sys.stderr)
    return EXIT_USAGE if board.errors else 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="MTEB on your data: a leaderboard of models across tasks (results cached)")
    p.add_argument("--models", required=True, help="model names, comma-separated")
    p.add_argument("--tasks", default="lee-sts,bbc-clustering,bbc-classification,bbc-retrieval",
                   help="bundled tasks, comma-separated: lee-sts, bbc-clustering, bbc-classification, bbc-retrieval")
    p.add_argument("--csv", help="also write the leaderboard to this CSV file")
    p.add_argument("--no-cache", action="store_true", help="recompute every result (and do not store them)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
