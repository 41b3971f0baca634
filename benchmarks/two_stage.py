"""Two-stage training on the bundled BBC data: what stage 1 (pairs, in-batch negatives), stage 2
(hard negatives) and both do to one held-out set, with the rows and the training time of each.

    python benchmarks/two_stage.py --model minilm
    python benchmarks/two_stage.py --model smollm2 --pooling weighted-mean --lora
    (sizes: --held-out-rows 200 --stage1-rows 1000 --stage2-rows 200 --max-length 64; batches:
     --stage1-batch-size 64 --stage2-batch-size 16; --stage2-mine bm25|model, --stage2-loss infonce|triplet)

Trains in a temporary data folder (the three models are thrown away) unless ``--keep NAME`` saves
them in the usual one as NAME, NAME-stage1 and NAME-stage2-only. Prints the four-column table and
writes benchmarks/results/two_stage-<model>.json (every score, sizes, times, the config).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks.shortened import shortened  # noqa: E402
from embedlab.cli.finetune import Printer  # noqa: E402
from embedlab.finetune.stagedata import bbc_stages  # noqa: E402
from embedlab.finetune.stages import (  # noqa: E402
    DEFAULTS,
    STAGE2_MINING,
    STAGE_LOSSES,
    StageSettings,
    TwoStageConfig,
    run_two_stage,  # noqa: E402
)


def arguments() -> argparse.Namespace:
    d = DEFAULTS
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=d.model)
    p.add_argument("--pooling", default="", help="e.g. weighted-mean for smollm2 (default: the model's)")
    p.add_argument("--lora", action="store_true")
    p.add_argument("--max-length", type=int, default=d.max_length)
    p.add_argument("--held-out-rows", type=int, default=d.held_out_rows)
    p.add_argument("--stage1-rows", type=int, default=d.stage1_rows)
    p.add_argument("--stage2-rows", type=int, default=d.stage2_rows)
    p.add_argument("--stage1-batch-size", type=int, default=d.stage1.batch_size)
    p.add_argument("--stage2-batch-size", type=int, default=d.stage2.batch_size)
    p.add_argument("--stage1-epochs", type=float, default=d.stage1.epochs)
    p.add_argument("--stage2-epochs", type=float, default=d.stage2.epochs)
    p.add_argument("--lr", type=float, help="both stages (default: 5e-5, or 1e-3 with --lora)")
    p.add_argument("--stage2-mine", choices=STAGE2_MINING, default=d.stage2_mine)
    p.add_argument("--stage2-loss", choices=STAGE_LOSSES, default=d.stage2.loss)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--doc-tokens", type=int, default=0,
                   help="train and evaluate on the first N tokens of each text (a slow decoder's held-out "
                        "evaluation at up to 512 tokens takes minutes); 0 = the model's own length")
    p.add_argument("--keep", metavar="NAME", help="save the three models under NAME in the usual data folder")
    return p.parse_args()


def main() -> None:
    args = arguments()
    scratch = None
    if not args.keep:
        scratch = tempfile.TemporaryDirectory(prefix="two-stage-")
        os.environ["EMBEDLAB_HOME"] = scratch.name
    model = shortened(args.model, args.doc_tokens) if args.doc_tokens else args.model
    config = TwoStageConfig(
        model=model, pooling=args.pooling, lora=args.lora, max_length=args.max_length,
        held_out_rows=args.held_out_rows, stage1_rows=args.stage1_rows, stage2_rows=args.stage2_rows,
        stage2_mine=args.stage2_mine, seed=args.seed,
        stage1=StageSettings(batch_size=args.stage1_batch_size, epochs=args.stage1_epochs, learning_rate=args.lr),
        stage2=StageSettings(batch_size=args.stage2_batch_size, epochs=args.stage2_epochs, learning_rate=args.lr,
                             loss=args.stage2_loss))
    started = time.perf_counter()
    data = bbc_stages(held_out_rows=config.held_out_rows, stage1_rows=config.stage1_rows,
                      stage2_rows=config.stage2_rows, seed=config.seed)
    print(data.summary(), flush=True)
    result = run_two_stage(config, data, args.keep or "bench-two-stage", Printer())
    wall = time.perf_counter() - started
    print(f"\n{config.model}{f'@{config.pooling}' if config.pooling else ''}{' + LoRA' if config.lora else ''}, "
          f"max length {config.max_length}, {wall:.0f} s in all (data, loading, four evaluations, three trainings)")
    print(result.table().to_string(float_format=lambda v: f"{v:.4f}"))
    print(result.sizes().to_string())
    out = Path(__file__).parent / "results" / f"two_stage-{config.model.split('@')[0]}.json"
    out.write_text(json.dumps({**result.to_dict(), "wall_seconds": round(wall, 1), "cpu_count": os.cpu_count(),
                               "machine": platform.machine(), "kept": bool(args.keep)}, indent=2))
    print(f"wrote {out}")
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
