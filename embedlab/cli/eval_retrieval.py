"""``embedlab eval retrieval``: retrieval pipelines scored as mteb/pytrec_eval score them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from embedlab.cli._common import bench_progress, nonnegative_int, print_json
from embedlab.cli._variants import model_names, prompt_args
from embedlab.errors import DataError
from embedlab.models.prompts import split_names
from embedlab.retrieval.pipeline import RERANK_DEPTH, TOP_K, RetrievalPlan

IGNORE_IDENTICAL_IDS = {"auto": None, "yes": True, "no": False}


def _plan(args: argparse.Namespace) -> RetrievalPlan:
    from embedlab.retrieval.pipeline import check_names

    if not split_names(args.model) and not args.bm25:
        raise DataError("Nothing to evaluate: give --model (comma-separated for several) and/or --bm25.")
    models = model_names(args) if split_names(args.model) else ()
    plan = RetrievalPlan(models=models, bm25=args.bm25, hybrid=args.hybrid,
                         rerankers=split_names(args.rerank), depth=args.rerank_depth, top_k=args.top_k)
    check_names(plan)
    return plan


def _retrieval_data(args: argparse.Namespace):
    from embedlab.retrieval.corpus import assemble, bbc_title_to_article, load_beir

    given = [args.corpus, args.queries, args.qrels]
    if args.data and any(given):
        raise DataError("Give either --data (bbc or a BEIR folder) or --corpus/--queries/--qrels, not both.")
    ignore = IGNORE_IDENTICAL_IDS[args.ignore_identical_ids]
    if args.data == "bbc":
        data = bbc_title_to_article()
    elif args.data:
        data = load_beir(args.data, args.split, ignore_identical_ids=ignore)
    elif all(given):
        data = assemble(Path(args.corpus).parent.name or "data", args.corpus, args.queries, args.qrels,
                        ignore_identical_ids=bool(ignore))
    else:
        raise DataError("Retrieval needs --data bbc, --data BEIR_FOLDER, or all three of --corpus, --queries, --qrels.")
    return data.subset_queries(args.max_queries) if args.max_queries else data


def cmd_eval_collection(args: argparse.Namespace) -> int:
    """``--collection``: the documents are the collection's; queries and qrels from files or a BEIR folder."""
    from embedlab.models import load_model
    from embedlab.retrieval.corpus import IDENTICAL_ID_SETS
    from embedlab.store.collection import Collection
    from embedlab.store.evaluate import evaluate_collection

    names = model_names(args)
    if len(names) != 1 or args.bm25 or args.rerank or args.corpus:
        raise DataError("With --collection give one --model (the collection holds the documents and their "
                        "vectors; --corpus, --bm25 and --rerank do not apply; --hybrid uses its full-text index).")
    if args.data:
        folder = Path(args.data)
        queries, qrels = folder / "queries.jsonl", folder / "qrels" / f"{args.split}.tsv"
    elif args.queries and args.qrels:
        queries, qrels = Path(args.queries), Path(args.qrels)
    else:
        raise DataError("With --collection give --queries and --qrels, or --data BEIR_FOLDER for its queries and qrels.")
    ignore = IGNORE_IDENTICAL_IDS[args.ignore_identical_ids]
    if ignore is None:
        ignore = "".join(ch for ch in queries.parent.name.lower() if ch.isalnum()) in IDENTICAL_ID_SETS
    collection = Collection.open(args.collection)
    model = load_model(names[0])
    result = evaluate_collection(collection, model, queries, qrels, top_k=min(args.top_k, 100) if args.top_k else 100,
                                 exact=args.exact, hybrid=args.hybrid, ignore_identical_ids=ignore,
                                 max_queries=args.max_queries or 0, progress=bench_progress())
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print_json(result)
        return 0
    print(f"Retrieval  collection={result.collection}  {result.documents:,} documents · {result.queries:,} queries")
    print(result.table().to_string(float_format=lambda v: f"{v:.4f}"))
    if result.recall_at_10_vs_exact is not None:
        print(f"ANN recall@10 against exact search: {result.recall_at_10_vs_exact:.4f}")
    return 0


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    if args.collection:
        return cmd_eval_collection(args)
    if args.exact:
        raise DataError("--exact applies to --collection (an in-memory corpus is always searched exactly).")
    from embedlab.models import load_model
    from embedlab.retrieval.metrics import DEFAULT_METRICS
    from embedlab.retrieval.pipeline import run_plan, summary_table
    from embedlab.retrieval.rerank import load_reranker

    plan = _plan(args)
    data = _retrieval_data(args)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    rerankers = {name: load_reranker(name) for name in plan.rerankers}
    models = {name: load_model(name) for name in plan.models}
    rankings = run_plan(plan, data, models=models, rerankers=rerankers, progress=bench_progress())
    table = summary_table(rankings, data, DEFAULT_METRICS)
    record = {"data": data.name, "documents": len(data.doc_ids), "queries": len(data.query_ids),
              "notes": data.notes, "top_k": plan.top_k, "ignore_identical_ids": data.ignore_identical_ids,
              "results": [{"pipeline": name, **row} for name, row in table.to_dict(orient="index").items()]}
    if args.per_query:
        record["per_query"] = {r.name: r.evaluate(data).round(5).to_dict(orient="index") for r in rankings}
    if args.json:
        print_json(record)
        return 0
    print(f"Retrieval  data={data.name}  {data.summary()}  (top {plan.top_k} per query)")
    shown = table.copy()
    for name in DEFAULT_METRICS:
        shown[name] = shown[name].map(lambda v: f"{v:.4f}")
    print(shown.to_string())
    return 0


def register(tasks) -> None:
    p = tasks.add_parser("retrieval", help="retrieval: nDCG@10, MRR@10, Recall@1/10/100, MAP@100 (as mteb/pytrec_eval)")
    p.add_argument("--model", help="model name(s), comma-separated; NAME~none / NAME~q=\"...\" run prompt "
                                    "variants (see --prompts)")
    p.add_argument("--collection", help="a collection (embedlab index): its documents and vectors, searched "
                                        "through its ANN index; with --queries/--qrels or --data BEIR_FOLDER")
    p.add_argument("--exact", action="store_true", help="with --collection: exact search instead of the ANN index")
    p.add_argument("--data", help="'bbc' (titles -> articles) or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)")
    p.add_argument("--split", default="test", help="qrels split in a BEIR folder")
    p.add_argument("--corpus", help="corpus file: _id/id, title (optional), text")
    p.add_argument("--queries", help="queries file: _id/id, text")
    p.add_argument("--qrels", help="qrels: query-id, corpus-id, score (BEIR TSV, CSV, or TREC 4-column)")
    p.add_argument("--rerank", help="reranker(s), comma-separated: maxsim:MODEL, qlm:MODEL, llm:MODEL, cross-encoder:WHERE")
    p.add_argument("--rerank-depth", type=int, default=RERANK_DEPTH, help="how many first-stage results to rerank")
    p.add_argument("--bm25", action="store_true", help="add the BM25 baseline")
    p.add_argument("--hybrid", action="store_true", help="add BM25 + model fused by reciprocal rank")
    p.add_argument("--top-k", type=int, default=TOP_K, help="results kept per query (mteb uses 1000)")
    p.add_argument("--ignore-identical-ids", choices=tuple(IGNORE_IDENTICAL_IDS), default="auto",
                   help="drop a result whose id equals the query id before scoring; auto = as mteb does for the "
                        "BEIR folder's name (ArguAna, Quora, FiQA, FEVER, MSMARCO)")
    p.add_argument("--max-queries", type=nonnegative_int,
                   help="evaluate a seeded random subset of this many queries (0 = all)")
    p.add_argument("--per-query", action="store_true", help="with --json: every query's metrics")
    p.add_argument("--json", action="store_true")
    prompt_args(p)
    p.set_defaults(func=cmd_eval_retrieval)
