"""``embedlab finetune``: contrastive fine-tuning with before/after metrics on held-out rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from embedlab.cli import finetune_stages
from embedlab.cli._common import print_json, read_input
from embedlab.errors import DataError
from embedlab.finetune import config as opts
from embedlab.finetune.job import Monitor, run_finetune
from embedlab.finetune.saved import check_name_free, free_name, target_folder
from embedlab.pooling import POOLING_MODES


class Printer(Monitor):
    """Progress as stderr lines: every phase, note and warning, and about twenty loss lines per run."""

    def set_phase(self, text: str) -> None:
        super().set_phase(text)
        print(f"{text}…", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        super().note(text)
        print(f"note: {text}", file=sys.stderr, flush=True)

    def warn(self, text: str) -> None:
        super().warn(text)
        print(f"warning: {text}", file=sys.stderr, flush=True)

    def on_step(self, step: int, total: int, loss: float) -> None:
        super().on_step(step, total, loss)
        if step == total or step % max(1, total // 20) == 0:
            eta = self.snapshot()["eta"] or 0
            print(f"  step {step}/{total}  loss {loss:.4f}  eta {eta:.0f} s", file=sys.stderr, flush=True)


def cmd_finetune(args: argparse.Namespace) -> int:
    if args.stages == 2:
        return finetune_stages.cmd_two_stage(args, Printer())
    finetune_stages.refuse_stage_options(args)
    # 1. every argument, and the output name, checked before any data or model loads
    config = _config(args)
    _check_output(args.output, config.kind, overwrite=args.overwrite)
    data = _data(args)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)

    # 2. run, then print what the run did and the before/after table
    result = run_finetune(config, data, args.output, Printer(), overwrite=args.overwrite)
    for note in result.run_notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"Fine-tuned {config.model} -> {result.name} ({result.kind}), {config.workflow}/{config.loss}, "
          f"{result.train_rows} training rows at max length {result.config.max_length}, {result.duration}; "
          f"saved to {result.path}")
    print(f"Held-out: {result.held_out_rows} rows")
    print(result.table.to_string(float_format=lambda v: f"{v:.4f}"))
    for note in result.before.notes:  # how a score was measured (perplexity: on what)
        print(f"note: {note}")
    for warning in result.warnings:  # said before training too; repeated beside the numbers it is about
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _check_output(name: str, kind: str, *, overwrite: bool) -> None:
    """An existing fine-tune of that name is replaced only with --overwrite (and only once the new
    model is complete); a bundled or added model's name never."""
    check_name_free(name, kind, overwrite=True)
    if not overwrite and target_folder(name, kind).exists():
        raise DataError(f"--output {name}: {target_folder(name, kind)} already exists. Pass --overwrite to replace "
                        f"it, or choose another name ({free_name(name, kind)} is free).")


def _config(args: argparse.Namespace):
    return opts.FinetuneConfig.for_workflow(
        "cross-encoder" if args.cross_encoder else (args.workflow or opts.DEFAULTS.workflow), loss=args.loss or "",
        model=args.model,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, warmup_ratio=args.warmup,
        schedule=args.schedule, max_length=opts.parse_max_length(args.max_length), scale=args.scale,
        temperature=args.temperature, margin=args.margin, distance=args.distance, pooling=args.pooling or "", projection_dim=args.projection,
        lora=args.lora, lm_weight=args.lm_weight, held_out=args.held_out, mine=args.mine,
        max_rows=0 if args.data == "bbc" else (args.max_rows or 0),  # bbc: --max-rows is how many to draw
        seed=args.seed)


def _data(args: argparse.Namespace):
    from embedlab.finetune.trainset import bbc_triplets, from_table

    if args.data == "bbc":
        return bbc_triplets(args.max_rows or opts.BBC_ROWS, seed=args.seed)
    return from_table(read_input(args.data), anchor=args.anchor_column, positive=args.positive_column,
                      negative=args.negative_column, score=args.score_column, name=Path(args.data).name)


def register(sub) -> None:
    d = opts.DEFAULTS
    p = sub.add_parser("finetune", help="contrastive fine-tuning with before/after metrics on a held-out split")
    p.add_argument("--model", default=d.model, help="base model (minilm, mpnet, smollm2, or any name/folder)")
    p.add_argument("--data", required=True, help="triplets/pairs/scored pairs (CSV/TSV/JSONL/Parquet) or 'bbc'; with --stages 2: the "
                                                   "stage-1 pairs (and held-out rows)")
    p.add_argument("--output", required=True, help="name to save the result under")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier fine-tune of that name (only once the new one is complete)")
    p.add_argument("--workflow", choices=("trainer", "loop"),
                   help=f"sentence-transformers trainer (default: {d.workflow}), or the hand-rolled PyTorch loop "
                        "(needed for decoders)")
    p.add_argument("--cross-encoder", action="store_true", help="train a CrossEncoder reranker instead")
    p.add_argument("--loss", choices=[loss for loss in opts.ALL_LOSSES if loss != "bce"],
                   help="; ".join(f"{w}: {opts.LOSSES[w][0]} (default), {', '.join(opts.LOSSES[w][1:])}"
                                  for w in ("trainer", "loop")) + "; mnrl and infonce name the same loss")
    p.add_argument("--epochs", type=float, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float,
                   help=f"learning rate (default {opts.LEARNING_RATE:g}; {opts.LORA_LEARNING_RATE:g} with --lora)")
    p.add_argument("--warmup", type=float, default=d.warmup_ratio, help="warm-up share of the steps")
    p.add_argument("--schedule", choices=opts.SCHEDULES, default=d.schedule)
    p.add_argument("--max-length", default=str(d.max_length),
                   help="tokens per text while training, or 'auto' (default): the 95th percentile of the data's "
                        "token lengths, rounded up to a multiple of 32, capped by the model's maximum")
    p.add_argument("--scale", type=float, default=d.scale, help="MNRL/CoSENT scale (1/temperature)")
    p.add_argument("--temperature", type=float, default=d.temperature, help="loop InfoNCE temperature")
    p.add_argument("--margin", type=float, default=d.margin, help="triplet margin")
    p.add_argument("--distance", choices=opts.DISTANCES, default=d.distance,
                   help="loop: cosine, dot or euclidean; trainer triplet loss: cosine or euclidean")
    p.add_argument("--pooling", choices=POOLING_MODES, help="loop: pooling to train with (default: the model's)")
    p.add_argument("--projection", type=int, default=d.projection_dim,
                   help="loop: add a linear projection head of this size")
    p.add_argument("--lora", action="store_true", help="loop: train LoRA adapters (peft) instead of all weights")
    p.add_argument("--lm-weight", type=float, default=d.lm_weight,
                   help="loop, decoders: add this weight x the next-token loss on the documents to the contrastive "
                        "loss (GRIT's joint objective; 0 = contrastive only)")
    p.add_argument("--held-out", type=float, default=d.held_out,
                   help="share of anchors held out for before/after (raised to 100 anchors or half, capped at 500)")
    p.add_argument("--mine", choices=opts.MINING, default=d.mine,
                   help="mine a hard negative for every pair (never its own positive)")
    p.add_argument("--max-rows", type=int,
                   help=f"use at most this many rows (bbc: default {opts.BBC_ROWS}, as the page)")
    p.add_argument("--anchor-column")
    p.add_argument("--positive-column")
    p.add_argument("--negative-column")
    p.add_argument("--score-column")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--json", action="store_true")
    finetune_stages.add_arguments(p)
    p.set_defaults(func=cmd_finetune)
