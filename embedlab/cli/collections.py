"""``embedlab index`` (build or extend a collection), ``embedlab search`` (query one) and
``embedlab collection`` (what one holds)."""

from __future__ import annotations

import argparse
import sys

from embedlab.cli._common import bench_progress, positive_int, print_json


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def cmd_index(args: argparse.Namespace) -> int:
    from embedlab.durations import format_seconds
    from embedlab.store.build import index

    report = index(args.collection, args.input, _names(args.model), text_column=args.text_column,
                   id_column=args.id_column, engine=args.engine, ray_address=args.ray_address,
                   workers=args.workers, batch_size=args.batch_size, progress=bench_progress())
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        import dataclasses

        record = dataclasses.asdict(report)
        for shown, run in zip(record["models"], report.models):
            shown["texts_per_second"] = run.texts_per_second
        print_json(record)
        return 0
    a = report.added
    print(f"{report.collection}: {report.input_rows:,} input rows -> {a.inserted:,} new, {a.changed:,} changed, "
          f"{a.unchanged:,} unchanged  (engine {report.engine}, {report.workers} worker(s))")
    for run in report.models:
        speed = f", {run.texts_per_second:,.0f} texts/s" if run.embedded else ""
        print(f"  {run.name}: embedded {run.embedded:,} texts, reused {run.reused:,} in "
              f"{format_seconds(run.seconds)}{speed}")
    built = ", ".join(f"{k} {format_seconds(v)}" for k, v in report.index_seconds.items())
    print(f"  indexes: {built}; total {format_seconds(report.seconds)}, peak memory {report.peak_rss_mb:,.0f} MB")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from embedlab.models import load_model
    from embedlab.store.collection import Collection
    from embedlab.store.search import search

    collection = Collection.open(args.collection)
    model = load_model(args.model)
    [found] = search(collection, model, [args.query], k=args.k, hybrid=args.hybrid, exact=args.exact)
    if args.json:
        print_json(found.to_dict(orient="records"))
        return 0
    for rank, row in enumerate(found.itertuples(index=False), 1):
        text = row.text if len(row.text) <= 100 else row.text[:97] + "..."
        print(f"{rank:>3}  {row.score:.4f}  {row.id}  {text}")
    return 0


def cmd_collection(args: argparse.Namespace) -> int:
    from embedlab.store.collection import Collection

    summary = Collection.open(args.collection).summary()
    if args.json:
        print_json(summary)
        return 0
    print(f"{summary['uri']}: {summary['documents']:,} documents; other columns: "
          f"{', '.join(summary['columns']) or 'none'}; full-text index: {'yes' if summary['full_text_index'] else 'no'}")
    for name, m in summary["models"].items():
        print(f"  {name}: {m['dim']}-d, {m['pooling']} pooling, {m['backend']}; {m['embedded']:,} embedded; "
              f"ANN index: {'yes' if m['ann_index'] else 'no (searched exactly)'}")
    if summary["disk_bytes"] is not None:
        print(f"  on disk: {summary['disk_bytes'] / 1e6:,.1f} MB")
    return 0


def register(sub) -> None:
    p = sub.add_parser("index", help="add a file's rows to a collection (LanceDB) and embed them")
    p.add_argument("--collection", required=True, help="a folder (created if new) or a URI LanceDB accepts")
    p.add_argument("--input", required=True, help="a CSV/TSV/JSONL/Parquet file or a glob of them; a BEIR "
                                                  "corpus.jsonl is read as _id, title + text")
    p.add_argument("--model", required=True, help="model name(s), comma-separated")
    p.add_argument("--text-column", help="default: text")
    p.add_argument("--id-column", help="default: _id or id if present, else the text's hash")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process; ray: Ray Data on a local cluster or the one at --ray-address")
    p.add_argument("--ray-address", help="join this Ray cluster (default: $RAY_ADDRESS, else start one here)")
    p.add_argument("--workers", type=positive_int, help="ray: encoding actors (default: one per CPU)")
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search a collection")
    p.add_argument("--collection", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--k", type=positive_int, default=10)
    p.add_argument("--hybrid", action="store_true", help="fuse with the full-text (BM25) ranking")
    p.add_argument("--exact", action="store_true", help="skip the ANN index: exact cosine search")
    p.add_argument("--json", action="store_true")
    p.add_argument("query")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("collection", help="what a collection holds")
    p.add_argument("--collection", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_collection)
