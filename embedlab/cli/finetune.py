"""``embedlab finetune``: contrastive fine-tuning with before/after metrics on held-out rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from embedlab.cli._common import (
    print_json,
)


def _finetune_data(args: argparse.Namespace):
    from embedlab.finetune.trainset import bbc_triplets, from_table
    from embedlab.tables import read_table

    if args.data == "bbc":
        return bbc_triplets(args.max_rows or 500, seed=args.seed)
    return from_table(read_table(args.data), anchor=args.anchor_column, positive=args.positive_column,
                      negative=args.negative_column, score=args.score_column, name=Path(args.data).name)


def cmd_finetune(args: argparse.Namespace) -> int:
    from embedlab.finetune.config import FinetuneConfig
    from embedlab.finetune.job import Monitor, check_name_free, run_finetune

    workflow = "cross-encoder" if args.cross_encoder else args.workflow
    loss = args.loss or {"trainer": "mnrl", "loop": "infonce", "cross-encoder": "bce"}[workflow]
    loss = {"trainer": {"infonce": "mnrl"}, "loop": {"mnrl": "infonce"}}.get(workflow, {}).get(loss, loss)
    config = FinetuneConfig(
        model=args.model, workflow=workflow, loss=loss, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.lr or (1e-3 if args.lora else 5e-5), warmup_ratio=args.warmup, schedule=args.schedule,
        max_length=args.max_length, scale=args.scale, temperature=args.temperature, margin=args.margin,
        distance=args.distance, pooling=args.pooling or "", projection_dim=args.projection, lora=args.lora,
        held_out=args.held_out, mine=args.mine, max_rows=0 if args.data == "bbc" else (args.max_rows or 0),
        seed=args.seed)
    check_name_free(args.output, "reranker" if workflow == "cross-encoder" else "embedder")  # before any work
    data = _finetune_data(args)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)

    class Printer(Monitor):
        def set_phase(self, text: str) -> None:
            super().set_phase(text)
            print(f"{text}…", file=sys.stderr, flush=True)

        def on_step(self, step, total, loss, lr=None) -> None:
            super().on_step(step, total, loss, lr)
            if step == total or step % max(1, total // 20) == 0:
                eta = self.snapshot()["eta"] or 0
                print(f"  step {step}/{total}  loss {loss:.4f}  eta {eta:.0f} s", file=sys.stderr, flush=True)

    result = run_finetune(config, data, args.output, Printer())
    for note in result.notes[len(data.notes):]:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"Fine-tuned {config.model} -> {result.name} ({result.kind}), {config.workflow}/{config.loss}, "
          f"{result.train_rows} training rows, {result.train_seconds:.0f} s; saved to {result.path}")
    print(f"Held-out: {result.held_out_rows} rows")
    print(result.table.to_string(float_format=lambda v: f"{v:.4f}"))
    return 0


def register(sub) -> None:
    p = sub.add_parser("finetune", help="contrastive fine-tuning with before/after metrics on a held-out split")
    p.add_argument("--model", default="minilm", help="base model (minilm, mpnet, smollm2, or any name/folder)")
    p.add_argument("--data", required=True, help="triplets/pairs/scored pairs (CSV/TSV/JSONL/Parquet) or 'bbc'")
    p.add_argument("--output", required=True, help="name to save the result under")
    p.add_argument("--workflow", choices=("trainer", "loop"), default="trainer",
                   help="sentence-transformers trainer, or the hand-rolled PyTorch loop (needed for decoders)")
    p.add_argument("--cross-encoder", action="store_true", help="train a CrossEncoder reranker instead")
    p.add_argument("--loss", choices=("mnrl", "triplet", "cosent", "infonce"),
                   help="trainer: mnrl (default), triplet, cosent; loop: infonce (default), triplet")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, help="learning rate (default 5e-5; 1e-3 with --lora)")
    p.add_argument("--warmup", type=float, default=0.1, help="warm-up share of the steps")
    p.add_argument("--schedule", choices=("constant", "linear", "cosine"), default="linear")
    p.add_argument("--max-length", type=int, default=64,
                   help="tokens per text while training (64 keeps the default run near 3 min for MiniLM on 2 cores; "
                        "raise it for long documents)")
    p.add_argument("--scale", type=float, default=20.0, help="MNRL/CoSENT scale (1/temperature)")
    p.add_argument("--temperature", type=float, default=0.05, help="loop InfoNCE temperature")
    p.add_argument("--margin", type=float, default=0.3, help="triplet margin")
    p.add_argument("--distance", choices=("cosine", "dot", "euclidean"), default="cosine")
    p.add_argument("--pooling", help="loop: pooling to train with (mean, cls, max, last, weighted-mean)")
    p.add_argument("--projection", type=int, default=0, help="loop: add a linear projection head of this size")
    p.add_argument("--lora", action="store_true", help="loop: train LoRA adapters (peft) instead of all weights")
    p.add_argument("--held-out", type=float, default=0.2, help="share of anchors held out for before/after")
    p.add_argument("--mine", choices=("none", "bm25", "model"), default="none",
                   help="mine a hard negative for every pair (never its own positive)")
    p.add_argument("--max-rows", type=int, help="use at most this many rows (bbc: default 500, as the page)")
    p.add_argument("--anchor-column")
    p.add_argument("--positive-column")
    p.add_argument("--negative-column")
    p.add_argument("--score-column")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_finetune)
