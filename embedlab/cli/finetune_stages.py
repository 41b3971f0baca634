"""``embedlab finetune --stages 2``: stage 1 on pairs, stage 2 on hard negatives, four columns measured."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from embedlab.cli._common import print_json, read_input
from embedlab.errors import OptionError
from embedlab.finetune import stages as opts
from embedlab.finetune.config import AUTO_LENGTH, parse_max_length

# (argument, StageSettings field or TwoStageConfig field, stage) of the options only --stages 2 has
STAGE_OPTIONS = (("stage1_rows", "stage1_rows", None), ("stage1_batch_size", "batch_size", 1),
                 ("stage1_epochs", "epochs", 1), ("stage2_rows", "stage2_rows", None),
                 ("stage2_batch_size", "batch_size", 2), ("stage2_epochs", "epochs", 2),
                 ("stage2_data", None, None), ("stage2_mine", "stage2_mine", None), ("stage2_loss", "loss", 2),
                 ("held_out_rows", "held_out_rows", None))


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = opts.DEFAULTS
    g = p.add_argument_group("two-stage training (--stages 2; always the hand-rolled loop)")
    g.add_argument("--stages", type=int, choices=(1, 2), default=1,
                   help="1: one run (default). 2: stage 1 on pairs with in-batch negatives, then stage 2 on hard "
                        "negatives; measured before, after stage 1, after stage 1+2 and with stage 2 alone")
    g.add_argument("--stage1-rows", type=int, help=f"stage-1 pairs (bbc default {d.stage1_rows}; 0 = every row left)")
    g.add_argument("--stage1-batch-size", type=int, help=f"default {d.stage1.batch_size}: many in-batch negatives")
    g.add_argument("--stage1-epochs", type=float, help=f"default {d.stage1.epochs:g}")
    g.add_argument("--stage2-rows", type=int, help=f"stage-2 rows (default {d.stage2_rows})")
    g.add_argument("--stage2-batch-size", type=int, help=f"default {d.stage2.batch_size}")
    g.add_argument("--stage2-epochs", type=float, help=f"default {d.stage2.epochs:g}")
    g.add_argument("--stage2-data", help="stage-2 triplets or pairs (pairs get mined negatives); default: drawn "
                                         "from --data")
    g.add_argument("--stage2-mine", choices=opts.STAGE2_MINING,
                   help="bm25 (default): mine negatives for stage-2 pairs, keep given ones; model: re-mine every "
                        "stage-2 negative with the model the stage starts from")
    g.add_argument("--stage2-loss", choices=opts.STAGE_LOSSES, help="default infonce (with the hard negative)")
    g.add_argument("--held-out-rows", type=int, help=f"held-out anchors (default {d.held_out_rows})")


def refuse_stage_options(args: argparse.Namespace) -> None:
    """With --stages 1 every two-stage option is refused, not ignored."""
    given = [f"--{arg.replace('_', '-')}" for arg, _, _ in STAGE_OPTIONS if getattr(args, arg) is not None]
    if given:
        raise OptionError(f"{', '.join(given)}: only a two-stage run has these options; add --stages 2 or "
                          "leave them out.")


def two_stage_config(args: argparse.Namespace) -> opts.TwoStageConfig:
    if args.cross_encoder or args.projection or args.workflow not in (None, "loop"):
        raise OptionError("A two-stage run trains an embedder with the hand-rolled loop: leave out --cross-encoder, "
                          "--projection and --workflow.")
    d = opts.DEFAULTS
    top, stage = {}, {1: {}, 2: {}}
    for arg, name, n in STAGE_OPTIONS:
        value = getattr(args, arg)
        if value is not None and name is not None:
            (stage[n] if n else top)[name] = value
    for n in (1, 2):
        stage[n].update({k: v for k, v in (("learning_rate", args.lr), ("temperature", args.temperature),
                                          ("margin", args.margin), ("warmup_ratio", args.warmup)) if v is not None})
    length = parse_max_length(args.max_length)
    return opts.TwoStageConfig(
        model=args.model, pooling=args.pooling or "", lora=args.lora, seed=args.seed,
        max_length=d.max_length if length == AUTO_LENGTH else length,
        stage1=opts.StageSettings(**{"batch_size": d.stage1.batch_size, **stage[1]}),
        stage2=opts.StageSettings(**stage[2]), **top)


def stage_data(args: argparse.Namespace, config: opts.TwoStageConfig):
    from embedlab.finetune.stagedata import bbc_stages, split_stages
    from embedlab.finetune.trainset import from_table

    sizes = {"held_out_rows": config.held_out_rows, "stage1_rows": config.stage1_rows,
             "stage2_rows": config.stage2_rows, "seed": config.seed}
    if args.data == "bbc" and not args.stage2_data:
        return bbc_stages(**sizes)
    if args.data == "bbc":
        raise OptionError("--stage2-data needs --data FILE too (the bundled BBC run draws both stages from BBC).")
    pairs = from_table(read_input(args.data), anchor=args.anchor_column, positive=args.positive_column,
                       negative=args.negative_column, name=Path(args.data).name)
    second = from_table(read_input(args.stage2_data), name=Path(args.stage2_data).name) if args.stage2_data else None
    return split_stages(pairs, second, **sizes)


def cmd_two_stage(args: argparse.Namespace, monitor) -> int:
    from embedlab.finetune.stages import check_names_free, run_two_stage

    config = two_stage_config(args)
    check_names_free(args.output, overwrite=args.overwrite)  # before any data or model loads
    if parse_max_length(args.max_length) == AUTO_LENGTH:
        print(f"note: two-stage runs train at {config.max_length} tokens per text unless --max-length is given.",
              file=sys.stderr)
    data = stage_data(args, config)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    result = run_two_stage(config, data, args.output, monitor, overwrite=args.overwrite)
    for note in result.run_notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print_json(result.to_dict())
        return 0
    saved = ", ".join(r.name for r in result.runs.values())
    print(f"Two-stage fine-tuning of {config.model}{' (LoRA)' if config.lora else ''}, max length "
          f"{config.max_length}: saved {saved}; {result.held_out_rows} held-out rows; {result.total_seconds:g} s in all")
    print(result.table().to_string(float_format=lambda v: f"{v:.4f}"))
    print(result.sizes().to_string())
    return 0
