"""``embedlab eval sts|clustering|classification|pair-classification|dedup``: one MTEB-style task."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from embedlab.cli._common import (
    corpus,
    labelled_data_args,
    positive_int,
    print_json,
    progress,
    read_input,
    result_args,
)
from embedlab.cli._variants import DOCUMENT_ONLY, model_names, prompt_args
from embedlab.errors import OptionError


MODEL_HELP = "model name(s), comma-separated; NAME~none / NAME~q=\"...\" run prompt variants (see --prompts)"


def _data_name(path: str) -> str:
    return "bbc" if path == "bbc" else Path(path).name


def _warn(report: str) -> None:
    if report:
        print(f"warning: {report}", file=sys.stderr)


def cmd_eval_sts(args: argparse.Namespace) -> int:
    from embedlab.bundled import lee_sts
    from embedlab.evaluation.bench.from_table import sts_pairs
    from embedlab.evaluation.sts import evaluate_sts
    from embedlab.models import load_model

    names = model_names(args, roles=DOCUMENT_ONLY)
    pairs = lee_sts() if args.data == "lee" else sts_pairs(read_input(args.data), args.col1, args.col2,
                                                           args.score, name=Path(args.data).name)
    records = []
    for name in names:
        model = load_model(name)
        start = time.perf_counter()
        result = evaluate_sts(model, pairs.sentences1, pairs.sentences2, pairs.scores,
                              batch_size=args.batch_size, progress=progress(f"encoding with {model.name}"))
        records.append({**result.to_dict(), "data": pairs.name, "seconds": round(time.perf_counter() - start, 2)})
    if args.json:
        print_json(records[0] if len(records) == 1 else {"results": records})
    elif len(records) > 1:
        print(f"STS  data={pairs.name}  pairs={records[0]['n_pairs']}")
        _side_by_side(records, ["cosine_spearman", "cosine_pearson"])
    else:
        record = records[0]
        print(f"STS  model={record['model']}  data={record['data']}  pairs={record['n_pairs']}")
        print(f"cosine Spearman  {record['cosine_spearman']:.4f}")
        print(f"cosine Pearson   {record['cosine_pearson']:.4f}")
    return 0


def _side_by_side(records: list[dict], columns: list[str] | None = None) -> None:
    """One row per model (prompt variants side by side): ``columns`` of each record, or every number in
    its metrics, then the seconds."""
    import pandas as pd

    rows = {}
    for record in records:
        values = record if columns else record["metrics"]
        keys = columns or [k for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        rows[record["model"]] = {**{k: values[k] for k in keys}, "seconds": record["seconds"]}
    table = pd.DataFrame.from_dict(rows, orient="index")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


def _table_task(table, kind: str, name: str, columns: dict, **options):
    """The task from a table, with what was skipped said on stderr."""
    from embedlab.evaluation.bench.from_table import task_from_table

    built = task_from_table(table, kind, name=name, columns=columns, **options)
    _warn(built.report)
    return built


def _run_eval_task(args: argparse.Namespace, task) -> list[dict]:
    """Load each model (each prompt variant), run (or fetch from the results cache) the task; a record
    per model for --json."""
    from embedlab.evaluation.bench import runner

    records = []
    for name in model_names(args, roles=DOCUMENT_ONLY):
        model = runner.default_loader(name)
        result = runner.run_task(model, task, name=name, progress=progress(f"encoding with {name}"),
                                 cache=not args.no_cache)
        records.append({"model": name, "task": task.info(), "metrics": result.metrics,
                        "seconds": round(result.seconds or 0.0, 2), "cached": result.cached,
                        "data": _data_name(args.data)})
    return records


def _report(args: argparse.Namespace, records: list[dict], what: str) -> dict | None:
    """Print the records as JSON, or several models' numbers side by side (both return None: nothing
    more to print); for one model print the header line and return its metrics for the command to print."""
    if args.json:
        print_json(records[0] if len(records) == 1 else {"results": records})
        return None
    record = records[0]
    info = record["task"]
    size = "  ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in info["size"].items())
    if len(records) > 1:
        cached = [r["model"] for r in records if r["cached"]]
        print(f"{what}  data={record['data']}  {size}" + (f"  (cached: {', '.join(cached)})" if cached else ""))
        _side_by_side(records)
        return None
    cached = "  (cached result)" if record["cached"] else ""
    print(f"{what}  model={record['model']}  data={record['data']}  {size}{cached}")
    return record["metrics"]


def _labelled_columns(args: argparse.Namespace) -> dict:
    return {"text": args.text_column, "label": args.label_column}


def cmd_eval_clustering(args: argparse.Namespace) -> int:
    from embedlab.evaluation.bench.bundled import BBC_CLUSTERING

    name = BBC_CLUSTERING if args.data == "bbc" else f"clustering:{_data_name(args.data)}"
    built = _table_task(corpus(args.data), "clustering", name, _labelled_columns(args), seed=args.seed,
                        n_runs=args.runs, run_size=args.run_size, max_fraction=args.max_fraction,
                        max_documents=args.max_documents)
    m = _report(args, _run_eval_task(args, built.task), "Clustering")
    if m is None:
        return 0
    print(f"V-measure  {m['v_measure']:.4f} ± {m['v_measure_std']:.4f}  (main score; {m['n_runs']} runs of "
          f"{m['run_size']:,} draws, k={m['n_clusters']})")
    print(f"AMI        {m['ami']:.4f} ± {m['ami_std']:.4f}")
    return 0


def cmd_eval_classification(args: argparse.Namespace) -> int:
    from embedlab.evaluation.bench.bundled import BBC_CLASSIFICATION
    from embedlab.evaluation.bench.from_table import labelled_texts

    test = None
    if args.test_data:
        test = labelled_texts(corpus(args.test_data), args.text_column, args.label_column)
        _warn(test.report)
    name = (BBC_CLASSIFICATION if args.data == "bbc" and not args.test_data
            else f"classification:{_data_name(args.data)}")
    built = _table_task(corpus(args.data), "classification", name, _labelled_columns(args),
                        test_texts=test and test.texts, test_labels=test and test.labels,
                        test_size=args.test_size, seed=args.seed, n_experiments=args.experiments,
                        samples_per_label=args.samples_per_label)
    m = _report(args, _run_eval_task(args, built.task), "Classification")
    if m is None:
        return 0
    print(f"accuracy         {m['accuracy']:.4f}  (main score; mean of {len(m['scores_per_experiment'])} experiments, "
          f"{args.samples_per_label} training texts per label)")
    print(f"F1 (macro)       {m['f1']:.4f}")
    print(f"F1 (weighted)    {m['f1_weighted']:.4f}")
    print(f"precision/recall {m['precision']:.4f} / {m['recall']:.4f} (macro)")
    return 0


def cmd_eval_pair_classification(args: argparse.Namespace) -> int:

    built = _table_task(read_input(args.data), "pair-classification", f"pair-classification:{_data_name(args.data)}",
                        {"sentence1": args.col1, "sentence2": args.col2, "label": args.label})
    m = _report(args, _run_eval_task(args, built.task), "Pair classification")
    if m is None:
        return 0
    print(f"max AP   {m['max_ap']:.4f}  (main score: best of cosine, manhattan, euclidean, dot)")
    print(f"cosine   AP {m['cosine_ap']:.4f}  accuracy {m['cosine_accuracy']:.4f} (threshold "
          f"{m['cosine_accuracy_threshold']:.4f})  F1 {m['cosine_f1']:.4f} (threshold {m['cosine_f1_threshold']:.4f})")
    print(f"max      accuracy {m['max_accuracy']:.4f}  F1 {m['max_f1']:.4f}  precision {m['max_precision']:.4f}  "
          f"recall {m['max_recall']:.4f}")
    return 0


def cmd_eval_dedup(args: argparse.Namespace) -> int:
    if args.show < 0:
        raise OptionError(f"--show is how many groups to print: 0 or more, got {args.show}.")
    built = _table_task(corpus(args.data), "dedup", f"dedup:{_data_name(args.data)}", {"text": args.text_column},
                        threshold=args.threshold)
    records = _run_eval_task(args, built.task)
    for record in records:  # groups as table rows (0-based positions in the file, as `cluster` reports them)
        record["groups"] = [{"rows": [built.rows[i] for i in group], "texts": [built.texts[i] for i in group]}
                            for group in record["metrics"]["groups"]]
    m = _report(args, records, "Near-duplicates")
    if m is None:
        return 0
    record = records[0]
    print(f"{m['n_groups']:,} group(s) at cosine >= {m['threshold']:g}: {m['n_in_groups']:,} of {m['n_texts']:,} texts; "
          f"keeping one per group removes {m['n_in_groups'] - m['n_groups']:,} ({m['duplicate_share']:.1%})")
    for group in record["groups"][:args.show]:
        print(f"rows {', '.join(map(str, group['rows']))}")
        for text in group["texts"]:
            print(f"    {text[:100]}{'…' if len(text) > 100 else ''}")
    if len(record["groups"]) > args.show:
        print(f"... {len(record['groups']) - args.show} more group(s); use --show or --json to see all")
    return 0


def register(tasks) -> None:
    p = tasks.add_parser("sts", help="STS: cosine Spearman/Pearson against gold scores")
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument("--data", required=True, help="a pairs file (CSV/TSV/JSONL/Parquet) or 'lee' for the bundled Lee corpus")
    p.add_argument("--col1", default="sentence1")
    p.add_argument("--col2", default="sentence2")
    p.add_argument("--score", default="score")
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--json", action="store_true")
    prompt_args(p)
    p.set_defaults(func=cmd_eval_sts)

    p = tasks.add_parser("clustering", help="clustering: V-measure of MiniBatchKMeans against labels (mteb)")
    labelled_data_args(p)
    p.add_argument("--runs", type=int, default=10, help="bootstrap runs (mteb: 10)")
    p.add_argument("--run-size", type=int, default=16_384, help="texts drawn per run, with replacement (mteb: 16,384)")
    p.add_argument("--max-fraction", type=float, default=None,
                   help="embed only this random fraction of the texts, as mteb's v2 clustering tasks do "
                        "(their default 0.04; give it to reproduce a published number); default: all")
    p.add_argument("--max-documents", type=int, default=None, help="embed at most this many random texts")
    result_args(p)
    prompt_args(p)
    p.set_defaults(func=cmd_eval_clustering)

    p = tasks.add_parser("classification", help="classification: logistic-regression probe accuracy (mteb)")
    labelled_data_args(p)
    p.add_argument("--test-data", help="a separate test file (same columns); default: a seeded stratified split")
    p.add_argument("--test-size", type=float, default=0.5, help="test share of the split (without --test-data)")
    p.add_argument("--samples-per-label", type=int, default=8, help="training texts per label per experiment (mteb: 8)")
    p.add_argument("--experiments", type=int, default=10, help="experiments averaged (mteb: 10)")
    result_args(p)
    prompt_args(p)
    p.set_defaults(func=cmd_eval_classification)

    p = tasks.add_parser("pair-classification", help="pair classification: max AP, best-threshold accuracy/F1 (mteb)")
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument("--data", required=True, help="a pairs file (CSV/TSV/JSONL/Parquet) with 0/1 labels")
    p.add_argument("--col1", default="sentence1")
    p.add_argument("--col2", default="sentence2")
    p.add_argument("--label", default="label", help="column of 0/1 labels (1 = the texts are a pair)")
    result_args(p)
    prompt_args(p)
    p.set_defaults(func=cmd_eval_pair_classification)

    p = tasks.add_parser("dedup", help="near-duplicate groups at a cosine threshold")
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument("--data", required=True, help="a corpus file, or 'bbc'")
    p.add_argument("--text-column", default="text")
    p.add_argument("--threshold", type=float, default=0.9, help="cosine at or above which two texts are linked")
    p.add_argument("--show", type=int, default=20, help="groups to print (all are in --json)")
    result_args(p)
    prompt_args(p)
    p.set_defaults(func=cmd_eval_dedup)
