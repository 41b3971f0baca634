"""``embedlab embed``: embed one text column of a file into .npy or .parquet."""

from __future__ import annotations

import argparse
import sys

from embedlab.cli._common import positive_int, progress, read_input
from embedlab.models.spec import ROLES

SUFFIXES = (".npy", ".parquet")


def cmd_embed(args: argparse.Namespace) -> int:
    from embedlab.models import load_model
    from embedlab.outputs import check_output, check_vector_column, write_vectors
    from embedlab.tables import text_column

    # 1. Everything the user typed is checked before the model loads.
    out = check_output(args.output, suffixes=SUFFIXES)
    df = read_input(args.input)
    column = text_column(df, args.text_column)
    if out.suffix == ".parquet":
        check_vector_column(df, args.input)
    if column.report:
        print(f"warning: {column.report} Output rows follow the kept rows.", file=sys.stderr)
    # 2. Encode (the embedding cache keeps what is done if this is interrupted), 3. write atomically.
    model = load_model(args.model)
    vectors = model.encode(column.texts, role=args.role, batch_size=args.batch_size,
                           progress=progress(f"embedding with {model.name}"))
    kept = df.iloc[column.rows].reset_index(drop=True) if out.suffix == ".parquet" else None
    for note in write_vectors(out, vectors, kept):
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {vectors.shape[0]} x {vectors.shape[1]} embeddings from {model.name} to {out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("embed", help="embed one text column of a file")
    p.add_argument("--model", required=True, help="model name, NAME@POOLING, folder or hub ID")
    p.add_argument("--input", required=True, help="CSV, TSV, JSONL, Parquet or TXT file")
    p.add_argument("--text-column", default="text")
    p.add_argument("--output", required=True, help="OUT.npy or OUT.parquet")
    p.add_argument("--role", choices=ROLES, default=ROLES[0])
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.set_defaults(func=cmd_embed)
