"""Static distillation: texts/s of a model2vec-distilled model against its parent, on the same BBC
titles and article bodies in the same run (a ratio, not a wall-clock limit: the machine is noisy).

    python benchmarks/distill.py [--parent minilm] [--name minilm-static256] [--dims 256]
                                 [--short 1000] [--long 200] [--repeats 2] [--scores]

Distils the parent first if ``--name`` is not in the zoo yet (and times that). ``--scores`` also
scores both on the four bundled tasks (through the benchmark cache, as ``embedlab bench``).
Writes benchmarks/results/distill.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks._common import best_of  # noqa: E402
from embedlab import available_models, load_model  # noqa: E402
from embedlab.bundled import bbc_news  # noqa: E402
from embedlab.models.distilled import distill_model, parent_of  # noqa: E402


def ensure_distilled(parent: str, name: str, dims: int) -> float | None:
    """Distil ``parent`` as ``name`` unless it is there; the seconds it took, or None if reused."""
    if name in available_models():
        if parent_of(name) != parent:
            raise SystemExit(f"{name} was distilled from {parent_of(name)}, not {parent}; pick another --name.")
        return None
    print(f"distilling {parent} -> {name} ({dims}-d)…", flush=True)
    return distill_model(parent, name, dims=dims).seconds


def time_models(names: list[str], sets: dict[str, list[str]], repeats: int) -> dict:
    """Seconds per (model, set), best of ``repeats``; the embedding cache is bypassed."""
    out = {}
    for name in names:
        model = load_model(name, cache=False)
        model.encode(sets[next(iter(sets))][:16])  # first-call costs (allocations, tokenizer warm-up) off the clock
        out[name] = {label: best_of(repeats, lambda texts=texts: model.encode(texts)) for label, texts in sets.items()}
    return out


def scores(names: list[str]) -> dict:
    from embedlab.evaluation.bench import bundled_tasks, run_bench

    board = run_bench(names, bundled_tasks())
    return {m: {k: (None if v != v else round(float(v), 4)) for k, v in row.items()}
            for m, row in board.table.iterrows()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parent", default="minilm")
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--name", help="the distilled model (default PARENT-static DIMS, e.g. minilm-static256)")
    parser.add_argument("--short", type=int, default=1000, help="number of BBC titles")
    parser.add_argument("--long", type=int, default=200, help="number of BBC article bodies")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--scores", action="store_true", help="also score both on the bundled tasks")
    args = parser.parse_args()
    name = args.name or f"{args.parent}-static{args.dims}"

    distill_seconds = ensure_distilled(args.parent, name, args.dims)
    bbc = bbc_news().sample(frac=1.0, random_state=0)
    sets = {"short (titles)": bbc["title"].head(args.short).tolist(),
            "long (articles)": bbc["text"].head(args.long).tolist()}
    seconds = time_models([args.parent, name], sets, args.repeats)

    results = {"parent": args.parent, "distilled": name, "dims": args.dims, "cpu_count": os.cpu_count(),
               "machine": platform.machine(), "distill_seconds": distill_seconds, "sets": {}}
    for label, texts in sets.items():
        t_parent, t_static = seconds[args.parent][label], seconds[name][label]
        row = {"texts": len(texts), "parent_s": round(t_parent, 4), "distilled_s": round(t_static, 4),
               "parent_texts_per_s": round(len(texts) / t_parent, 1),
               "distilled_texts_per_s": round(len(texts) / t_static, 1),
               "speed_ratio_distilled_over_parent": round(t_parent / t_static, 1)}
        results["sets"][label] = row
        print(f"{label:16} {len(texts):5} texts | {args.parent} {row['parent_texts_per_s']:9.1f}/s  "
              f"{name} {row['distilled_texts_per_s']:9.1f}/s  ratio {row['speed_ratio_distilled_over_parent']:.1f}x")
    if args.scores:
        results["scores"] = scores([args.parent, name])
        for model, row in results["scores"].items():
            print(f"{model:20} " + "  ".join(f"{task} {value}" for task, value in row.items()))
    out = Path(__file__).parent / "results" / "distill.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
