"""``embedlab models``: the models that can be used by name, and the fast variants built so far."""

from __future__ import annotations

import argparse
import sys

from embedlab.cli._common import print_json


def _spec_row(spec) -> dict:
    return {"name": spec.name, "kind": spec.kind, "backend": spec.backend, "dim": spec.dim or None,
            "pooling": spec.pooling, "max_seq_length": spec.max_seq_length, "source": spec.source,
            "query_prompt": spec.query_prompt, "document_prompt": spec.document_prompt,
            "description": spec.description}


def _variant_rows() -> list[dict]:
    """Each built ``+onnx`` / ``+int8`` variant with its quality gate."""
    from embedlab.models.gate import built_variants

    rows = []
    for spec, gate in built_variants():
        state = "degraded" if gate.degraded else "ok"
        description = (f"{gate.backend} variant of {gate.parent}: {state} (Lee STS Spearman "
                       f"{gate.variant_spearman:.4f} vs {gate.parent_spearman:.4f}, mean cosine {gate.mean_cosine:.4f})")
        rows.append({**_spec_row(spec), "description": description, "degraded": gate.degraded,
                     "gate": gate.to_dict()})
    return rows


def cmd_models(args: argparse.Namespace) -> int:
    from embedlab.models import available_models
    from embedlab.models.registry import registry_problems
    from embedlab.models.spec import BACKENDS
    from embedlab.pooling import POOLING_MODES

    if args.build:
        return _build(args)
    for problem in registry_problems():  # the listing still works; say what is missing from it
        print(f"warning: {problem}", file=sys.stderr)
    rows = [_spec_row(s) for s in available_models().values()] + _variant_rows()
    if args.json:
        print_json(rows)
        return 0
    print(f"{'name':<24}{'kind':<9}{'dim':>5}  {'pooling':<14}{'max len':>8}  description")
    for r in rows:
        dim = str(r["dim"] or "?")
        print(f"{r['name']:<24}{r['kind']:<9}{dim:>5}  {r['pooling']:<14}{r['max_seq_length']:>8}  {r['description']}")
    print(f"\nAppend @POOLING to any name to override pooling ({', '.join(POOLING_MODES)}), and "
          f"+BACKEND for another backend ({', '.join(b for b in BACKENDS if b != 'torch')}: ONNX Runtime fp32 / "
          "int8 weights; built and quality-gated on first use, or with --build NAME).")
    return 0


def _build(args: argparse.Namespace) -> int:
    """Build (or reuse) a variant and print its quality gate."""
    from embedlab.models import load_model, resolve_spec
    from embedlab.models.gate import gate_for

    spec = resolve_spec(args.build)
    if spec.backend == "torch":
        print(f"{spec.name} is the fp32 PyTorch model itself: add +onnx or +int8 to build a variant.", file=sys.stderr)
        return 2
    load_model(spec, cache=False)  # the one-time build's steps are logged to stderr as they happen
    gate = gate_for(spec.name)
    if args.json:
        print_json(gate.to_dict() if gate else None)
    elif gate:
        print(f"{gate.name}: {'DEGRADED' if gate.degraded else 'ok'} — mean cosine to {gate.parent} "
              f"{gate.mean_cosine:.4f} (min {gate.min_cosine:.4f}) over {gate.texts} texts; Lee STS Spearman "
              f"{gate.variant_spearman:.4f} vs {gate.parent_spearman:.4f} ({gate.spearman_difference:+.4f}); "
              f"built for {gate.isa}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("models", help="list the models that can be used by name")
    p.add_argument("--json", action="store_true")
    p.add_argument("--build", metavar="NAME", help="build a +onnx / +int8 variant now and print its quality gate")
    p.set_defaults(func=cmd_models)
