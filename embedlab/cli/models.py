"""``embedlab models``: the models that can be used by name."""

from __future__ import annotations

import argparse
import sys

from embedlab.cli._common import print_json


def cmd_models(args: argparse.Namespace) -> int:
    from embedlab.models import available_models
    from embedlab.models.registry import registry_problems
    from embedlab.pooling import POOLING_MODES

    for problem in registry_problems():  # the listing still works; say what is missing from it
        print(f"warning: {problem}", file=sys.stderr)
    specs = available_models()
    rows = [
        {"name": s.name, "kind": s.kind, "dim": s.dim or None, "pooling": s.pooling,
         "max_seq_length": s.max_seq_length, "source": s.source, "query_prompt": s.query_prompt,
         "document_prompt": s.document_prompt, "description": s.description}
        for s in specs.values()
    ]
    if args.json:
        print_json(rows)
        return 0
    print(f"{'name':<24}{'kind':<9}{'dim':>5}  {'pooling':<14}{'max len':>8}  description")
    for r in rows:
        dim = str(r["dim"] or "?")
        print(f"{r['name']:<24}{r['kind']:<9}{dim:>5}  {r['pooling']:<14}{r['max_seq_length']:>8}  {r['description']}")
    print(f"\nAppend @POOLING to any name to override pooling ({', '.join(POOLING_MODES)}).")
    return 0


def register(sub) -> None:
    p = sub.add_parser("models", help="list the models that can be used by name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)
