"""``embedlab cluster``: HDBSCAN clusters of a corpus with c-TF-IDF keywords."""

from __future__ import annotations

import argparse
import sys

from embedlab.cli._common import (
    corpus,
    print_json,
    progress,
)
from embedlab.explorer.clustering import AUTO, SPACES, ClusterConfig


def cmd_cluster(args: argparse.Namespace) -> int:
    from embedlab.explorer.compare import label_scores, majority_labels
    from embedlab.explorer.pipeline import explore, explore_config
    from embedlab.models import load_model
    from embedlab.tables import table_documents

    df = corpus(args.input)
    docs = table_documents(df, args.text_column, label_col=args.label_column)
    if docs.column.report:
        print(f"warning: {docs.column.report}", file=sys.stderr)
    # The CLI prints clusters and draws no picture, so the 2-D map is the instant PCA one.
    config = explore_config(len(docs.texts), map_method="pca", min_cluster_size=args.min_cluster_size,
                            min_samples=args.min_samples or 0, space=args.space, seed=args.seed)
    model = load_model(args.model)
    result = explore(docs.texts, model, config, progress=progress(f"embedding with {model.name}"))
    record = {
        "model": model.name, "documents": len(docs.texts), "skipped": len(df) - len(docs.texts),
        "clusters": [{"cluster": c.cluster, "size": c.size, "keywords": c.keywords,
                      "central_docs": [docs.column.rows[i] for i in c.central_docs]} for c in result.clusters],
        "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
        "min_cluster_size": config.clustering.min_cluster_size, "cluster_space": result.cluster_space,
        "notes": list(result.notes),
    }
    if docs.labels is not None:
        scores = label_scores(result.labels, docs.labels)
        record.update(v_measure=scores.v_measure, ari=scores.ari, noise_share=scores.noise_share)
        majority = majority_labels(result.labels, docs.labels)
        for entry in record["clusters"]:  # which label dominates each cluster, and how purely
            entry["top_label"], entry["top_label_share"] = majority[entry["cluster"]]
    if args.json:
        print_json(record)
        return 0
    print_clusters(record, result, label_column=args.label_column)
    return 0


def print_clusters(record: dict, result, *, label_column: str | None) -> None:
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    found = [c for c in result.clusters if c.cluster != -1]
    noise = sum(c.size for c in result.clusters if c.cluster == -1)
    print(f"{result.model}: {len(found)} clusters over {record['documents']} documents, {noise} noise")
    for c, entry in zip(result.clusters, record["clusters"]):
        name = "noise" if c.cluster == -1 else f"#{c.cluster}"
        majority = f"  [{entry['top_label']} {entry['top_label_share']:.0%}]" if label_column else ""
        print(f"{name:>6}  {c.size:6}{majority}  {', '.join(c.keywords)}")
    if label_column:
        print(f"V-measure {record['v_measure']:.4f}  ARI {record['ari']:.4f}  against {label_column!r} "
              f"(noise counted as its own cluster: {record['noise_share']:.1%} of documents)")


def register(sub) -> None:
    p = sub.add_parser("cluster", help="HDBSCAN clusters with c-TF-IDF keywords (and V-measure with labels)")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True, help="a corpus file, or 'bbc' for the bundled BBC News")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", help="known labels: report V-measure and ARI against them")
    p.add_argument("--min-cluster-size", type=int, default=AUTO,
                   help="smallest cluster HDBSCAN keeps; 0 (default) = corpus size / 20, between 5 and 15")
    p.add_argument("--min-samples", type=int, default=None)
    p.add_argument("--space", choices=SPACES, default=ClusterConfig().space)
    p.add_argument("--seed", type=int, default=ClusterConfig().seed)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cluster)
