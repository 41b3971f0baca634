"""Command line: ``python -m embedlab <command>``. Errors print one clear line and exit 2."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from embedlab.errors import DataError, EmbedlabError

EXIT_USAGE = 2


def _progress(label: str):
    """A progress callback that redraws one stderr line (only on a terminal)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, default=float))


# ---- models -------------------------------------------------------------------------------------
def cmd_models(args: argparse.Namespace) -> int:
    from embedlab.models import available_models

    specs = available_models()
    rows = [
        {"name": s.name, "kind": s.kind, "dim": s.dim or None, "pooling": s.pooling,
         "max_seq_length": s.max_seq_length, "source": s.source, "query_prompt": s.query_prompt,
         "document_prompt": s.document_prompt, "description": s.description}
        for s in specs.values()
    ]
    if args.json:
        _print_json(rows)
        return 0
    print(f"{'name':<24}{'kind':<9}{'dim':>5}  {'pooling':<14}{'max len':>8}  description")
    for r in rows:
        dim = str(r["dim"] or "?")
        print(f"{r['name']:<24}{r['kind']:<9}{dim:>5}  {r['pooling']:<14}{r['max_seq_length']:>8}  {r['description']}")
    print("\nAppend @POOLING to any name to override pooling (mean, cls, max, last, weighted-mean).")
    return 0


# ---- embed --------------------------------------------------------------------------------------
def cmd_embed(args: argparse.Namespace) -> int:
    from embedlab.tables import read_table, text_column
    from embedlab.models import load_model

    out = Path(args.output)
    if out.suffix not in (".npy", ".parquet"):
        raise DataError(f"--output must end in .npy or .parquet, got {out.name!r}.")
    df = read_table(args.input)
    column = text_column(df, args.text_column)
    if column.report:
        print(f"warning: {column.report} Output rows follow the kept rows.", file=sys.stderr)
    model = load_model(args.model)
    vectors = model.encode(column.texts, role=args.role, batch_size=args.batch_size,
                           progress=_progress(f"embedding with {model.name}"))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, vectors)
    else:
        kept = df.iloc[column.rows].reset_index(drop=True)
        kept["embedding"] = list(vectors)
        kept.to_parquet(out, index=False)
    print(f"wrote {vectors.shape[0]} x {vectors.shape[1]} embeddings from {model.name} to {out}")
    return 0


# ---- eval ---------------------------------------------------------------------------------------
def _sts_pairs(args: argparse.Namespace):
    from embedlab.tables import numeric_column, read_table, require_columns
    from embedlab.bundled import PairSet, lee_sts

    if args.data == "lee":
        return lee_sts()
    df = read_table(args.data)
    require_columns(df, [args.col1, args.col2, args.score])
    s1, s2 = df[args.col1].astype(str).tolist(), df[args.col2].astype(str).tolist()
    empty = [i + 1 for i, (a, b) in enumerate(zip(s1, s2)) if not a.strip() or not b.strip()]
    if empty:
        raise DataError(f"{len(empty)} pair(s) have an empty sentence (first at row {empty[0]}).")
    return PairSet(Path(args.data).name, s1, s2, numeric_column(df, args.score).to_numpy())


def cmd_eval_sts(args: argparse.Namespace) -> int:
    from embedlab.evaluation.sts import evaluate_sts
    from embedlab.models import load_model

    pairs = _sts_pairs(args)
    model = load_model(args.model)
    start = time.perf_counter()
    result = evaluate_sts(model, pairs.sentences1, pairs.sentences2, pairs.scores,
                          batch_size=args.batch_size, progress=_progress(f"encoding with {model.name}"))
    record = {**result.to_dict(), "data": pairs.name, "seconds": round(time.perf_counter() - start, 2)}
    if args.json:
        _print_json(record)
    else:
        print(f"STS  model={record['model']}  data={record['data']}  pairs={record['n_pairs']}")
        print(f"cosine Spearman  {result.cosine_spearman:.4f}")
        print(f"cosine Pearson   {result.cosine_pearson:.4f}")
    return 0


def _retrieval_data(args: argparse.Namespace):
    from embedlab.retrieval.corpus import assemble, bbc_title_to_article, load_beir

    given = [args.corpus, args.queries, args.qrels]
    if args.data and any(given):
        raise DataError("Give either --data (bbc or a BEIR folder) or --corpus/--queries/--qrels, not both.")
    if args.data == "bbc":
        data = bbc_title_to_article()
    elif args.data:
        data = load_beir(args.data, args.split, ignore_identical_ids={"auto": None, "yes": True, "no": False}[
            args.ignore_identical_ids])
    elif all(given):
        data = assemble(Path(args.corpus).parent.name or "data", args.corpus, args.queries, args.qrels)
        data.ignore_identical_ids = args.ignore_identical_ids == "yes"
    else:
        raise DataError("Retrieval needs --data bbc, --data BEIR_FOLDER, or all three of --corpus, --queries, --qrels.")
    return data.subset_queries(args.max_queries) if args.max_queries else data


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from embedlab.models import load_model
    from embedlab.retrieval import pipeline as P
    from embedlab.retrieval.metrics import DEFAULT_METRICS
    from embedlab.retrieval.rerank import load_reranker

    data = _retrieval_data(args)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    names = [n.strip() for n in (args.model or "").split(",") if n.strip()]
    if not names and not args.bm25:
        raise DataError("Nothing to evaluate: give --model (comma-separated for several) and/or --bm25.")
    rerankers = [load_reranker(r.strip()) for r in (args.rerank or "").split(",") if r.strip()]
    models = [load_model(n) for n in names]  # fail on a bad name before any long work
    stages = []
    lexical = P.bm25_search(data, k=args.top_k) if (args.bm25 or args.hybrid) else None
    if args.bm25:
        stages.append(lexical)
    for model in models:
        dense = P.dense_search(data, model, k=args.top_k, progress=_progress(f"embedding with {model.name}"))
        stages.append(dense)
        if args.hybrid:
            stages.append(P.hybrid(dense, lexical, k=args.top_k))
        for reranker in rerankers:
            stages.append(P.rerank(dense, data, reranker, depth=args.rerank_depth,
                                   progress=_progress(f"reranking with {reranker.name}")))
    if not models:
        for reranker in rerankers:
            stages.append(P.rerank(lexical, data, reranker, depth=args.rerank_depth))
    table = P.summary_table(stages, data, DEFAULT_METRICS)
    record = {"data": data.name, "documents": len(data.doc_ids), "queries": len(data.query_ids),
              "notes": data.notes, "top_k": args.top_k, "ignore_identical_ids": data.ignore_identical_ids,
              "results": [{"pipeline": name, **row} for name, row in table.to_dict(orient="index").items()]}
    if args.per_query:
        record["per_query"] = {st.name: st.evaluate(data).round(5).to_dict(orient="index") for st in stages}
    if args.json:
        _print_json(record)
        return 0
    print(f"Retrieval  data={data.name}  {data.summary()}  (top {args.top_k} per query)")
    shown = table.copy()
    for name in DEFAULT_METRICS:
        shown[name] = shown[name].map(lambda v: f"{v:.4f}")
    print(shown.to_string())
    return 0


# ---- finetune -----------------------------------------------------------------------------------
def _finetune_data(args: argparse.Namespace):
    from embedlab.tables import read_table
    from embedlab.finetune.trainset import bbc_triplets, from_table

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
        _print_json(result.to_dict())
        return 0
    print(f"Fine-tuned {config.model} -> {result.name} ({result.kind}), {config.workflow}/{config.loss}, "
          f"{result.train_rows} training rows, {result.train_seconds:.0f} s; saved to {result.path}")
    print(f"Held-out: {result.held_out_rows} rows")
    print(result.table.to_string(float_format=lambda v: f"{v:.4f}"))
    return 0


# ---- cluster ------------------------------------------------------------------------------------
def _corpus(path: str):
    from embedlab.tables import read_table
    from embedlab.bundled import bbc_news

    return bbc_news() if path == "bbc" else read_table(path)


def cmd_cluster(args: argparse.Namespace) -> int:
    from embedlab.explorer.clustering import ClusterConfig
    from embedlab.explorer.compare import label_scores
    from embedlab.tables import require_columns, text_column
    from embedlab.explorer.pipeline import ExploreConfig, explore
    from embedlab.models import load_model
    from embedlab.explorer.projection import ProjectionConfig

    df = _corpus(args.input)
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
    result = explore(column.texts, model, config, progress=_progress(f"embedding with {model.name}"))
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
        _print_json(record)
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


# ---- MTEB on your data: eval clustering / classification / pair-classification / dedup, bench ------
def _labelled_texts(args: argparse.Namespace) -> tuple[str, list[str], list, list[int]]:
    """(data name, texts, labels, table rows) from --data bbc|FILE; rows without text or label are skipped."""
    from embedlab.tables import require_columns, text_column

    df = _corpus(args.data)
    column = text_column(df, args.text_column)
    require_columns(df, [args.label_column])
    raw = df[args.label_column].tolist()
    texts, labels, rows = [], [], []
    for text, row in zip(column.texts, column.rows):
        label = raw[row]
        if label is None or (isinstance(label, float) and np.isnan(label)) or (isinstance(label, str) and not label.strip()):
            continue
        texts.append(text)
        labels.append(label.strip() if isinstance(label, str) else label)
        rows.append(row)
    skipped = len(df) - len(texts)
    if skipped:
        print(f"warning: skipped {skipped} row(s) without text in {args.text_column!r} or without a label in "
              f"{args.label_column!r}.", file=sys.stderr)
    if not texts:
        raise DataError(f"No row has both a text in {args.text_column!r} and a label in {args.label_column!r}.")
    return ("bbc" if args.data == "bbc" else Path(args.data).name), texts, labels, rows


def _run_eval_task(args: argparse.Namespace, task) -> dict:
    """Load the model, run (or fetch from the results cache) one task; a record for --json."""
    from embedlab.evaluation import bench

    model = bench.default_loader(args.model)
    result = bench.run_task(model, task, name=args.model, progress=_progress(f"encoding with {args.model}"),
                            cache=not args.no_cache)
    return {"model": args.model, "task": task.info(), "metrics": result.metrics,
            "seconds": round(result.seconds or 0.0, 2), "cached": result.cached}


def _report(args: argparse.Namespace, record: dict, what: str) -> dict | None:
    """Print ``record`` as JSON (returns None: nothing more to print), or the table header line
    and return the metrics for the command to print."""
    if args.json:
        _print_json(record)
        return None
    info = record["task"]
    size = "  ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in info["size"].items())
    cached = "  (cached result)" if record["cached"] else ""
    print(f"{what}  model={record['model']}  data={record['data']}  {size}{cached}")
    return record["metrics"]


def cmd_eval_clustering(args: argparse.Namespace) -> int:
    from embedlab.evaluation.bench import clustering_task

    name, texts, labels, _ = _labelled_texts(args)
    task = clustering_task("bbc-clustering" if name == "bbc" else f"clustering:{name}", texts, labels,
                           seed=args.seed, n_runs=args.runs, run_size=args.run_size,
                           max_fraction=args.max_fraction, max_documents=args.max_documents)
    record = {**_run_eval_task(args, task), "data": name}
    m = _report(args, record, "Clustering")
    if m is None:
        return 0
    print(f"V-measure  {m['v_measure']:.4f} ± {m['v_measure_std']:.4f}  (main score; {m['n_runs']} runs of "
          f"{m['run_size']:,} draws, k={m['n_clusters']})")
    print(f"AMI        {m['ami']:.4f} ± {m['ami_std']:.4f}")
    return 0


def cmd_eval_classification(args: argparse.Namespace) -> int:
    from embedlab.evaluation.bench import classification_task

    name, texts, labels, _ = _labelled_texts(args)
    test_texts = test_labels = None
    if args.test_data:
        test_args = argparse.Namespace(**{**vars(args), "data": args.test_data})
        _, test_texts, test_labels, _ = _labelled_texts(test_args)
    task = classification_task("bbc-classification" if name == "bbc" and not args.test_data
                               else f"classification:{name}", texts, labels, test_texts=test_texts,
                               test_labels=test_labels, test_size=args.test_size, seed=args.seed,
                               n_experiments=args.experiments, samples_per_label=args.samples_per_label)
    record = {**_run_eval_task(args, task), "data": name}
    m = _report(args, record, "Classification")
    if m is None:
        return 0
    print(f"accuracy         {m['accuracy']:.4f}  (main score; mean of {len(m['scores_per_experiment'])} experiments, "
          f"{args.samples_per_label} training texts per label)")
    print(f"F1 (macro)       {m['f1']:.4f}")
    print(f"F1 (weighted)    {m['f1_weighted']:.4f}")
    print(f"precision/recall {m['precision']:.4f} / {m['recall']:.4f} (macro)")
    return 0


def cmd_eval_pair_classification(args: argparse.Namespace) -> int:
    from embedlab.tables import numeric_column, read_table, require_columns
    from embedlab.evaluation.bench import pair_classification_task

    df = read_table(args.data)
    require_columns(df, [args.col1, args.col2, args.label])
    s1, s2 = df[args.col1].astype(str).tolist(), df[args.col2].astype(str).tolist()
    empty = [i + 1 for i, (a, b) in enumerate(zip(s1, s2)) if not a.strip() or not b.strip()]
    if empty:
        raise DataError(f"{len(empty)} pair(s) have an empty sentence (first at row {empty[0]}).")
    labels = numeric_column(df, args.label).tolist()
    name = Path(args.data).name
    task = pair_classification_task(f"pair-classification:{name}", s1, s2, labels)
    record = {**_run_eval_task(args, task), "data": name}
    m = _report(args, record, "Pair classification")
    if m is None:
        return 0
    print(f"max AP   {m['max_ap']:.4f}  (main score: best of cosine, manhattan, euclidean, dot)")
    print(f"cosine   AP {m['cosine_ap']:.4f}  accuracy {m['cosine_accuracy']:.4f} (threshold "
          f"{m['cosine_accuracy_threshold']:.4f})  F1 {m['cosine_f1']:.4f} (threshold {m['cosine_f1_threshold']:.4f})")
    print(f"max      accuracy {m['max_accuracy']:.4f}  F1 {m['max_f1']:.4f}  precision {m['max_precision']:.4f}  "
          f"recall {m['max_recall']:.4f}")
    return 0


def cmd_eval_dedup(args: argparse.Namespace) -> int:
    from embedlab.tables import text_column
    from embedlab.evaluation.bench import dedup_task

    df = _corpus(args.data)
    column = text_column(df, args.text_column)
    if column.report:
        print(f"warning: {column.report}", file=sys.stderr)
    name = "bbc" if args.data == "bbc" else Path(args.data).name
    task = dedup_task(f"dedup:{name}", column.texts, args.threshold)
    record = {**_run_eval_task(args, task), "data": name}
    # groups as table rows (0-based positions in the file, as `cluster` reports them) with their texts
    record["groups"] = [{"rows": [column.rows[i] for i in group], "texts": [column.texts[i] for i in group]}
                        for group in record["metrics"]["groups"]]
    m = _report(args, record, "Near-duplicates")
    if m is None:
        return 0
    print(f"{m['n_groups']:,} group(s) at cosine >= {m['threshold']:g}: {m['n_in_groups']:,} of {m['n_texts']:,} texts; "
          f"keeping one per group removes {m['n_in_groups'] - m['n_groups']:,} ({m['duplicate_share']:.1%})")
    for group in record["groups"][:args.show]:
        print(f"rows {', '.join(map(str, group['rows']))}")
        for text in group["texts"]:
            print(f"    {text[:100]}{'…' if len(text) > 100 else ''}")
    if len(record["groups"]) > args.show:
        print(f"... {len(record['groups']) - args.show} more group(s); use --show or --json to see all")
    return 0


def _bench_progress():
    if not sys.stderr.isatty():
        return None

    def report(label: str, done: int, total: int) -> None:
        print(f"\r\033[K{label}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)

    return report


def cmd_bench(args: argparse.Namespace) -> int:
    from embedlab.evaluation import bench

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise DataError("--models needs at least one model name (comma-separated for several).")
    tasks = bench.bundled_tasks(args.tasks)  # unknown names fail here, before any model loads
    if args.csv and Path(args.csv).is_dir():
        raise DataError(f"--csv {args.csv} is a folder; give a file name.")
    board = bench.run_bench(models, tasks, progress=_bench_progress(), cache=not args.no_cache)
    if args.csv:
        board.to_csv(args.csv)
    if args.json:
        print(board.to_json())
    else:
        cells = [r for cells in board.results.values() for r in cells.values()]
        cached = sum(r.cached for r in cells)
        print(f"Leaderboard: {len(models)} model(s) × {len(tasks)} task(s)"
              + (f"  ({cached} of {len(cells)} results from the cache)" if cached else ""))
        shown = board.table.copy()
        print(shown.to_string(float_format=lambda v: f"{v:.4f}", na_rep="-",
                              formatters={"seconds": lambda v: "-" if v != v else f"{v:.1f}"}))
        averaged = [t.name for t in tasks if t.averaged]
        if averaged:
            print(f"average = mean of {', '.join(averaged)} (empty unless the model has all of them)")
        if args.csv:
            print(f"wrote {args.csv}")
    for model, problems in board.errors.items():
        for where, message in problems.items():
            print(f"error: {model}: {'loading' if where == 'load' else where}: {message}", file=sys.stderr)
    return EXIT_USAGE if board.errors else 0


# ---- parser -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m embedlab", description="Explore and evaluate text embedding models.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is happening")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list the models that can be used by name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("embed", help="embed one text column of a file")
    p.add_argument("--model", required=True, help="model name, NAME@POOLING, folder or hub ID")
    p.add_argument("--input", required=True, help="CSV, TSV, JSONL, Parquet or TXT file")
    p.add_argument("--text-column", default="text")
    p.add_argument("--output", required=True, help="OUT.npy or OUT.parquet")
    p.add_argument("--role", choices=("document", "query"), default="document")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=cmd_embed)

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

    ev = sub.add_parser("eval", help="evaluate a model the way MTEB does")
    tasks = ev.add_subparsers(dest="task", required=True)
    p = tasks.add_parser("sts", help="STS: cosine Spearman/Pearson against gold scores")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="a pairs file (CSV/TSV/JSONL/Parquet) or 'lee' for the bundled Lee corpus")
    p.add_argument("--col1", default="sentence1")
    p.add_argument("--col2", default="sentence2")
    p.add_argument("--score", default="score")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_sts)

    p = tasks.add_parser("retrieval", help="retrieval: nDCG@10, MRR@10, Recall@1/10/100, MAP@100 (as mteb/pytrec_eval)")
    p.add_argument("--model", help="model name(s), comma-separated")
    p.add_argument("--data", help="'bbc' (titles -> articles) or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)")
    p.add_argument("--split", default="test", help="qrels split in a BEIR folder")
    p.add_argument("--corpus", help="corpus file: _id/id, title (optional), text")
    p.add_argument("--queries", help="queries file: _id/id, text")
    p.add_argument("--qrels", help="qrels: query-id, corpus-id, score (BEIR TSV, CSV, or TREC 4-column)")
    p.add_argument("--rerank", help="reranker(s), comma-separated: maxsim:MODEL, qlm:MODEL, llm:MODEL, cross-encoder:WHERE")
    p.add_argument("--rerank-depth", type=int, default=100, help="how many first-stage results to rerank")
    p.add_argument("--bm25", action="store_true", help="add the BM25 baseline")
    p.add_argument("--hybrid", action="store_true", help="add BM25 + model fused by reciprocal rank")
    p.add_argument("--top-k", type=int, default=1000, help="results kept per query (mteb uses 1000)")
    p.add_argument("--ignore-identical-ids", choices=("auto", "yes", "no"), default="auto",
                   help="drop a result whose id equals the query id before scoring; auto = as mteb does for the "
                        "BEIR folder's name (ArguAna, Quora, FiQA, FEVER, MSMARCO)")
    p.add_argument("--max-queries", type=int, help="evaluate a seeded random subset of the queries")
    p.add_argument("--per-query", action="store_true", help="with --json: every query's metrics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_retrieval)

    def _result_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--no-cache", action="store_true", help="recompute even if this result is cached")
        p.add_argument("--json", action="store_true")

    def _labelled_data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", required=True)
        p.add_argument("--data", required=True, help="'bbc' for the bundled BBC News, or a CSV/TSV/JSONL/Parquet file")
        p.add_argument("--text-column", default="text")
        p.add_argument("--label-column", default="label")
        p.add_argument("--seed", type=int, default=42)

    p = tasks.add_parser("clustering", help="clustering: V-measure of MiniBatchKMeans against labels (mteb)")
    _labelled_data_args(p)
    p.add_argument("--runs", type=int, default=10, help="bootstrap runs (mteb: 10)")
    p.add_argument("--run-size", type=int, default=16_384, help="texts drawn per run, with replacement (mteb: 16,384)")
    p.add_argument("--max-fraction", type=float, default=None,
                   help="embed only this random fraction of the texts, as mteb's v2 clustering tasks do "
                        "(their default 0.04; give it to reproduce a published number); default: all")
    p.add_argument("--max-documents", type=int, default=None, help="embed at most this many random texts")
    _result_args(p)
    p.set_defaults(func=cmd_eval_clustering)

    p = tasks.add_parser("classification", help="classification: logistic-regression probe accuracy (mteb)")
    _labelled_data_args(p)
    p.add_argument("--test-data", help="a separate test file (same columns); default: a seeded stratified split")
    p.add_argument("--test-size", type=float, default=0.5, help="test share of the split (without --test-data)")
    p.add_argument("--samples-per-label", type=int, default=8, help="training texts per label per experiment (mteb: 8)")
    p.add_argument("--experiments", type=int, default=10, help="experiments averaged (mteb: 10)")
    _result_args(p)
    p.set_defaults(func=cmd_eval_classification)

    p = tasks.add_parser("pair-classification", help="pair classification: max AP, best-threshold accuracy/F1 (mteb)")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="a pairs file (CSV/TSV/JSONL/Parquet) with 0/1 labels")
    p.add_argument("--col1", default="sentence1")
    p.add_argument("--col2", default="sentence2")
    p.add_argument("--label", default="label", help="column of 0/1 labels (1 = the texts are a pair)")
    _result_args(p)
    p.set_defaults(func=cmd_eval_pair_classification)

    p = tasks.add_parser("dedup", help="near-duplicate groups at a cosine threshold")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="a corpus file, or 'bbc'")
    p.add_argument("--text-column", default="text")
    p.add_argument("--threshold", type=float, default=0.9, help="cosine at or above which two texts are linked")
    p.add_argument("--show", type=int, default=20, help="groups to print (all are in --json)")
    _result_args(p)
    p.set_defaults(func=cmd_eval_dedup)

    p = sub.add_parser("bench", help="MTEB on your data: a leaderboard of models across tasks (results cached)")
    p.add_argument("--models", required=True, help="model names, comma-separated")
    p.add_argument("--tasks", default="lee-sts,bbc-clustering,bbc-classification,bbc-retrieval",
                   help="bundled tasks, comma-separated: lee-sts, bbc-clustering, bbc-classification, bbc-retrieval")
    p.add_argument("--csv", help="also write the leaderboard to this CSV file")
    p.add_argument("--no-cache", action="store_true", help="recompute every result (and do not store them)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except EmbedlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # invalid option values raised by the core (pooling, batch size...)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
