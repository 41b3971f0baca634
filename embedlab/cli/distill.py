"""``embedlab distill``: turn an encoder into a static embedding model (model2vec) saved in the zoo."""

from __future__ import annotations

import argparse
import sys

from embedlab.cli._common import positive_int, print_json
from embedlab.models.distilled import DEFAULT_DIMS


class _Printer:
    """Each phase once on stderr; on a terminal, its count redrawn in place."""

    def __init__(self) -> None:
        self.phase = None
        self.tty = sys.stderr.isatty()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            if self.tty and self.phase is not None:
                print(file=sys.stderr)
            ellipsis = "…" if done < total else ""  # a phase reported as finished ("Saved as NAME") has none
            print(f"{phase}{ellipsis}", end="" if self.tty else "\n", file=sys.stderr, flush=True)
            self.phase = phase
        if self.tty and total > 1:
            print(f"\r\033[K{phase}: {done}/{total}", end="", file=sys.stderr, flush=True)


def cmd_distill(args: argparse.Namespace) -> int:
    from embedlab.models.distilled import compare_with_parent, distill_model

    printer = _Printer()
    result = distill_model(args.model, args.output, dims=args.dims, progress=printer)
    report = compare_with_parent(result.name, sample=args.sample, progress=printer) if args.compare else None
    if printer.tty:
        print(file=sys.stderr)
    if args.json:
        print_json({"name": result.name, "parent": result.parent, "path": str(result.path), "dim": result.dim,
                    "vocabulary": result.vocabulary, "seconds": result.seconds,
                    "compare": _report_dict(report) if report else None})
        return 0
    print(f"Distilled {result.parent} -> {result.name}: {result.dim}-d static vectors for {result.vocabulary:,} "
          f"tokens in {result.seconds:.0f} s; saved to {result.path}")
    if report:
        _print_report(report)
    return 0


def _report_dict(report) -> dict:
    return {"parent": report.parent,
            "texts_per_s": {m: {"short": t.short_per_s, "long": t.long_per_s} for m, t in report.speed.items()},
            "speed_ratio": {"short": report.speed_ratio("short"), "long": report.speed_ratio("long")},
            "scores": {m: row.to_dict() for m, row in report.scores.iterrows()},
            "lee_sts_spearman_delta": report.spearman_delta, "errors": report.errors}


def _print_report(report) -> None:
    for model, speed in report.speed.items():
        print(f"  {model:<24} {speed.short_per_s:9.1f} titles/s  {speed.long_per_s:9.1f} articles/s")
    print(f"  speed ratio {report.name}/{report.parent}: {report.speed_ratio('short'):.1f}x on titles, "
          f"{report.speed_ratio('long'):.1f}x on articles (same run)")
    print(report.scores.to_string(float_format=lambda v: f"{v:.4f}", na_rep="-"))
    if report.spearman_delta is not None:
        print(f"Lee STS Spearman difference (distilled - parent): {report.spearman_delta:+.4f}")
    for model, problems in report.errors.items():
        for where, message in problems.items():
            print(f"error: {model}: {where}: {message}", file=sys.stderr)


def register(sub) -> None:
    p = sub.add_parser("distill", help="turn an encoder into a static embedding model (model2vec), saved by name")
    p.add_argument("--model", required=True, help="the encoder to distil (minilm, mpnet, an added or fine-tuned one)")
    p.add_argument("--output", required=True, help="name to save the static model under")
    p.add_argument("--dims", type=positive_int, default=DEFAULT_DIMS,
                   help=f"dimensions kept by PCA (default {DEFAULT_DIMS}; at most the parent's)")
    p.add_argument("--compare", action="store_true",
                   help="then time it against its parent and score both on the bundled tasks")
    p.add_argument("--sample", type=positive_int, default=200, help="with --compare: BBC articles to time on")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_distill)
