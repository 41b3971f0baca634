"""``embedlab cluster``: HDBSCAN clusters of a corpus with c-TF-IDF keywords."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from embedlab.cli._common import (
    corpus,
    print_json,
    progress,
)


def cmd_cluster(args: argparse.Namespace) -> int:
    from embedlab.explorer.clustering import ClusterConfig
    from embedlab.explorer.compare import label_scores
    from embedlab.explorer.pipeline import ExploreConfig, explore
    from embedlab.explorer.projection import ProjectionConfig
    from embedlab.models import load_model
    from embedlab.tables import require_columns, text_column

    df = corpus(args.input)
    column = text_column(df, args.text_column)
    if column.report:
        print(f"warning: {column.report}", file=sys.stderr)
    if args.label_column:
        require_columns(df, [args.label_column])
    config = ExploreConfig(
        projection=ProjectionConfig(method="pca"),  # the CLI prints clusters; no 2-D map needed
        clustering=ClusterConfig(min_cluster_size=args.min_cluster_size, min_samples=args.min_samples,
                                 space=args.space, seed=args.seed),
    )
    model = load_model(args.model)
    result = explore(column.texts, model, config, progress=progress(f"embedding with {model.name}"))
    record = {
        "model": model.name, "documents": len(column.texts), "skipped": len(df) - len(column.texts),
        "clusters": [{"cluster": c.cluster, "size": c.size, "keywords": c.keywords,
                      "central_docs": [column.rows[i] for i in c.central_docs]} for c in result.clusters],
        "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
    }
    if args.label_column:
        truth = df[args.label_column].astype(str).to_numpy()[column.rows]
        scores = label_scores(result.labels, truth)
        record.update(v_measure=scores.v_measure, ari=scores.ari, noise_share=scores.noise_share)
        for entry in record["clusters"]:  # which label dominates each cluster, and how purely
            members = truth[result.labels == entry["cluster"]]
            values, counts = np.unique(members, return_counts=True)
            entry["top_label"], entry["top_label_share"] = str(values[counts.argmax()]), float(counts.max() / len(members))
    if args.json:
        print_json(record)
        return 0
    found = [c for c in result.clusters if c.cluster != -1]
    noise = sum(c.size for c in result.clusters if c.cluster == -1)
    print(f"{model.name}: {len(found)} clusters over {record['documents']} documents, {noise} noise")
    for c, entry in zip(result.clusters, record["clusters"]):
        name = "noise" if c.cluster == -1 else f"#{c.cluster}"
        majority = f"  [{entry['top_label']} {entry['top_label_share']:.0%}]" if args.label_column else ""
        print(f"{name:>6}  {c.size:6}{majority}  {', '.join(c.keywords)}")
    if args.label_column:
        print(f"V-measure {record['v_measure']:.4f}  ARI {record['ari']:.4f}  against {args.label_column!r} "
              f"(noise counted as its own cluster: {record['noise_share']:.1%} of documents)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("cluster", help="HDBSCAN clusters with c-TF-IDF keywords (and V-measure with labels)")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True, help="a corpus file, or 'bbc' for the bundled BBC News")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", help="known labels: report V-measure and ARI against them")
    p.add_argument("--min-cluster-size", type=int, default=15)
    p.add_argument("--min-samples", type=int, default=None)
    p.add_argument("--space", choices=("umap-5d", "raw"), default="umap-5d")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cluster)
