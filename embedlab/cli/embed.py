"""``embedlab embed``: embed one text column of a file into .npy or .parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from embedlab.cli._common import progress
from embedlab.errors import DataError
from embedlab.models.spec import ROLES


def cmd_embed(args: argparse.Namespace) -> int:
    from embedlab.models import load_model
    from embedlab.tables import read_table, text_column

    out = Path(args.output)
    if out.suffix not in (".npy", ".parquet"):
        raise DataError(f"--output must end in .npy or .parquet, got {out.name!r}.")
    df = read_table(args.input)
    column = text_column(df, args.text_column)
    if column.report:
        print(f"warning: {column.report} Output rows follow the kept rows.", file=sys.stderr)
    model = load_model(args.model)
    vectors = model.encode(column.texts, role=args.role, batch_size=args.batch_size,
                           progress=progress(f"embedding with {model.name}"))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, vectors)
    else:
        kept = df.iloc[column.rows].reset_index(drop=True)
        kept["embedding"] = list(vectors)
        kept.to_parquet(out, index=False)
    print(f"wrote {vectors.shape[0]} x {vectors.shape[1]} embeddings from {model.name} to {out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("embed", help="embed one text column of a file")
    p.add_argument("--model", required=True, help="model name, NAME@POOLING, folder or hub ID")
    p.add_argument("--input", required=True, help="CSV, TSV, JSONL, Parquet or TXT file")
    p.add_argument("--text-column", default="text")
    p.add_argument("--output", required=True, help="OUT.npy or OUT.parquet")
    p.add_argument("--role", choices=ROLES, default=ROLES[0])
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=cmd_embed)
