"""Does the embedder still speak? SmolLM2 trained as an embedder with and without GRIT's joint objective
(Muennighoff et al. 2024, arXiv 2402.09906: representation loss + weighted generative loss).

    python benchmarks/grit.py [--weights 0 0.1 1] [--rows 500] [--batch 32] [--max-length 128]
                              [--epochs 1] [--rerank-queries 20] [--rerank-depth 5] [--seed 0]

For each LM weight, one fine-tuning run through the product's own ``run_finetune``: SmolLM2 with
weighted-mean pooling and LoRA, the hand-rolled loop, InfoNCE over in-batch negatives only, on BBC
title -> article pairs (the bundled data's hard negatives are dropped for training). The held-out
titles and their articles are never trained on (BBC duplicates are removed first); the held-out
negatives are BM25-mined among the held-out articles, the same before and after. Reported per run:
nDCG@10, MRR@10, triplet accuracy, the held-out articles' perplexity (first 256 tokens of up to 50)
and the training time; and, on a subset of held-out titles, nDCG@10 when the fine-tuned model's own
top ``--rerank-depth`` are reranked by ``qlm:`` with the base SmolLM2 and with the fine-tuned decoder
itself (one model as embedder and reranker). Fine-tuned models are saved as ``grit-w<weight>``
(replacing earlier ones of that name), so they can be used in the app afterwards.

Why these weights: the two parts start on the same scale. Measured at the defaults (first step,
batch 32, 128 tokens): InfoNCE 2.76 (chance would be ln 32 = 3.47; it falls as the model learns),
next-token loss 3.78 on the batch's articles (SmolLM2's held-out perplexity ~30 at 256 tokens,
ln 30 = 3.4). Weight 1 is GRIT's plain sum with no preference; 0.1 makes the LM part a light anchor,
about a seventh of the contrastive part at the start. Each run's notes give both parts at the first
and last steps.

Expected time at the defaults (400 training pairs, 100 held out, 12 steps of 32 at 128 tokens): one
step took 122 s on two cores shared with other jobs (load ~4.5), i.e. ~25 min of training per weight
under that load; on two idle cores expect about half (not measured). Each run's two evaluations took
~9.5 min under the same load (100 held-out titles, 200 articles at up to 512 tokens, perplexity on 50
articles x 256 tokens; the base's vectors come from the cache after the first run, its perplexity
does not). Faster: --max-length 64 (about half the training) or --rows 300 (200 pairs, 6 steps).

Writes benchmarks/results/grit.json (or --out).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks.shortened import shortened  # noqa: E402
from embedlab.finetune import FinetuneConfig, Monitor, bbc_triplets, run_finetune  # noqa: E402
from embedlab.finetune.evaluate import evaluate  # noqa: E402
from embedlab.finetune.trainset import TrainSet, mine_negatives, split  # noqa: E402

METRICS = ("nDCG@10", "MRR@10", "triplet accuracy", "perplexity")


def pairs(rows: int, seed: int) -> TrainSet:
    """BBC title -> article pairs without their hard negatives: training sees in-batch negatives only."""
    data = bbc_triplets(rows, seed=seed)
    return dataclasses.replace(data, negatives=None, name="BBC News pairs")


def config(weight: float, args: argparse.Namespace) -> FinetuneConfig:
    return FinetuneConfig(model=args.model, workflow="loop", loss="infonce", pooling="weighted-mean", lora=True,
                          batch_size=args.batch, max_length=args.max_length, epochs=args.epochs, lm_weight=weight,
                          seed=args.seed)


def held_out(data: TrainSet, seed: int) -> TrainSet:
    """The held-out rows as run_finetune holds them out, each with its BM25-mined held-out negative."""
    held = split(data, held_out=FinetuneConfig.held_out, seed=seed)[1]
    return mine_negatives(held, method="bm25", seed=seed)


def rerank_scores(first_stage, held: TrainSet, rerankers: dict[str, str], *, queries: int, depth: int) -> dict:
    """nDCG@10 of ``first_stage``'s top ``depth`` reranked by each reranker, on the first ``queries`` held-out
    titles (their corpus: those titles' articles and their hardest BM25 neighbours among the held-out)."""
    from embedlab.retrieval.rerank import load_reranker

    subset = held.take(list(range(min(queries, len(held)))))
    out = {}
    for label, name in rerankers.items():
        start = time.perf_counter()
        scores = evaluate(first_stage, subset, reranker=load_reranker(name), rerank_depth=depth,
                          perplexity_texts=0).scores
        out[label] = {"reranker": name, "nDCG@10": scores["nDCG@10"], "seconds": round(time.perf_counter() - start, 1)}
        print(f"  {first_stage.name} -> {name}: nDCG@10 {scores['nDCG@10']:.4f} ({out[label]['seconds']} s)", flush=True)
    no_rerank = evaluate(first_stage, subset, perplexity_texts=0).scores["nDCG@10"]
    return {"queries": len(subset), "depth": depth, "first stage nDCG@10": no_rerank, "reranked": out}


def run_weight(weight: float, data: TrainSet, args: argparse.Namespace) -> dict:
    name = f"grit-w{weight:g}"
    print(f"lm_weight {weight:g}: training {name}…", flush=True)
    monitor = Monitor()
    result = run_finetune(config(weight, args), data, name, monitor, overwrite=True)
    row = {"lm_weight": weight, "name": name, "train_rows": result.train_rows, "held_out_rows": result.held_out_rows,
           "train_seconds": result.train_seconds, "total_seconds": result.total_seconds,
           "before": result.before.scores, "after": result.after.scores,
           "first_loss": result.losses[0][1], "last_loss": result.losses[-1][1], "steps": len(result.losses),
           "notes": [*result.notes, *monitor.snapshot()["notes"], *result.before.notes]}
    if args.rerank_queries:
        from embedlab.models import load_model

        row["rerank"] = rerank_scores(load_model(name), held_out(data, args.seed),
                                      {"base LM": f"qlm:{args.base_lm}", "own LM": f"qlm:{name}"},
                                      queries=args.rerank_queries, depth=args.rerank_depth)
    return row


def table(runs: list[dict]) -> str:
    head = f"{'run':<14}" + "".join(f"{m:>18}" for m in METRICS) + f"{'train s':>10}{'qlm base LM':>14}{'qlm own LM':>12}"
    lines = [head, "-" * len(head)]
    base = runs[0]["before"]
    lines.append(f"{'base':<14}" + "".join(f"{base.get(m, math.nan):>18.4f}" for m in METRICS))
    for r in runs:
        cells = "".join(f"{r['after'].get(m, math.nan):>18.4f}" for m in METRICS)
        rr = r.get("rerank", {}).get("reranked", {})
        base_lm, own = (rr.get(k, {}).get("nDCG@10", math.nan) for k in ("base LM", "own LM"))
        lines.append(f"{'w=' + format(r['lm_weight'], 'g'):<14}{cells}{r['train_seconds']:>10.0f}{base_lm:>14.4f}"
                     f"{own:>12.4f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 1.0])
    parser.add_argument("--rows", type=int, default=500, help="BBC rows drawn (100 held out, the rest trains)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--rerank-queries", type=int, default=20, help="held-out titles reranked by qlm: (0 = skip)")
    parser.add_argument("--rerank-depth", type=int, default=5)
    parser.add_argument("--base-lm", default="smollm2", help="the untouched decoder for the qlm: comparison")
    parser.add_argument("--doc-tokens", type=int, default=0,
                        help="train and evaluate on the first N tokens of each text (SmolLM2's held-out evaluation "
                             "at up to 512 tokens takes minutes on two cores); 0 = the model's own length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "grit.json"))
    args = parser.parse_args()

    args.model = shortened("smollm2", args.doc_tokens) if args.doc_tokens else "smollm2"
    data = pairs(args.rows, args.seed)
    started = time.perf_counter()
    runs = [run_weight(w, data, args) for w in args.weights]
    base_rerank = None
    if args.rerank_queries:  # the untouched model in both roles, for reference
        from embedlab.models import load_model

        base_rerank = rerank_scores(load_model(f"{args.model}@weighted-mean"), held_out(data, args.seed),
                                    {"base LM": f"qlm:{args.base_lm}"}, queries=args.rerank_queries,
                                    depth=args.rerank_depth)
    print()
    print(table(runs))
    if base_rerank:
        print(f"base as embedder, qlm:{args.base_lm} as reranker: nDCG@10 "
              f"{base_rerank['reranked']['base LM']['nDCG@10']:.4f} "
              f"(first stage alone {base_rerank['first stage nDCG@10']:.4f}), {base_rerank['queries']} titles")
    for note in runs[0]["notes"][-1:]:
        print(f"note: {note}")
    out = {"benchmark": "grit", "args": vars(args), "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                                  "platform": platform.platform()},
           "seconds": round(time.perf_counter() - started, 1), "runs": runs, "base_rerank": base_rerank}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, default=float))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
