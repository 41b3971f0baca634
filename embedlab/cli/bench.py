"""``embedlab bench``: a leaderboard of models across bundled tasks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from embedlab.cli._common import EXIT_USAGE, bench_progress
from embedlab.errors import DataError
from embedlab.evaluation.bench.bundled import BUNDLED_TASK_NAMES


def cmd_bench(args: argparse.Namespace) -> int:
    from embedlab.evaluation.bench import runner
    from embedlab.evaluation.bench.bundled import bundled_tasks

    tasks = bundled_tasks(args.tasks)  # unknown names fail here, before any model loads
    if args.csv and Path(args.csv).is_dir():
        raise DataError(f"--csv {args.csv} is a folder; give a file name.")
    report = bench_progress()
    from embedlab.models.prompts import split_names

    # a comma inside a prompt variant's quotes (minilm~q="Given a query, ...") is part of the name
    board = runner.run_bench(list(split_names(args.models)), tasks, cache=not args.no_cache,
                             progress=(lambda p: report(p.label, p.done, p.total)) if report else None)
    if args.csv:
        board.to_csv(args.csv)
    if args.json:
        print(board.to_json())
    else:
        _print_table(board, csv=args.csv)
    for model, problems in board.errors.items():
        for where, message in problems.items():
            print(f"error: {model}: {'loading' if where == 'load' else where}: {message}", file=sys.stderr)
    return EXIT_USAGE if board.errors else 0


def _print_table(board, *, csv: str | None) -> None:
    from embedlab.evaluation.bench.runner import PARETO_COLUMN
    from embedlab.evaluation.bench.speed import SPEED_METHOD

    print(f"Leaderboard: {len(board.table)} model(s) × {len(board.tasks)} task(s)"
          + (f"  ({board.n_cached} of {board.n_results} results from the cache)" if board.n_cached else ""))
    print(board.table.to_string(float_format=lambda v: f"{v:.4f}", na_rep="-", formatters=_formats()))
    averaged = [t.name for t in board.tasks if t.averaged]
    if averaged:
        print(f"average = mean of {', '.join(averaged)} (empty unless the model has all of them)")
    print(f"{PARETO_COLUMN} * = on the Pareto front of average against texts/s (no other model both faster and "
          f"better). {SPEED_METHOD}")
    if csv:
        print(f"wrote {csv}")


def _number(digits: int):
    return lambda v: "-" if v != v else f"{v:,.{digits}f}"


def _formats() -> dict:
    from embedlab.evaluation.bench.runner import COST_COLUMNS, PARETO_COLUMN

    formats = {"seconds": _number(1), "texts/s": _number(1), "tokens/s": _number(0), "peak MB": _number(0),
               "params M": _number(1), "weights MB": _number(0), PARETO_COLUMN: lambda v: "*" if v else ""}
    assert set(formats) == {"seconds", *COST_COLUMNS, PARETO_COLUMN}
    return formats


def register(sub) -> None:
    p = sub.add_parser("bench", help="MTEB on your data: a leaderboard of models across tasks, with speed, "
                                        "memory and size (results cached)")
    p.add_argument("--models", required=True, help="model names, comma-separated")
    p.add_argument("--tasks", default=",".join(BUNDLED_TASK_NAMES),
                   help=f"bundled tasks, comma-separated: {', '.join(BUNDLED_TASK_NAMES)}")
    p.add_argument("--csv", help="also write the leaderboard to this CSV file")
    p.add_argument("--no-cache", action="store_true", help="recompute every result (and do not store them)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
