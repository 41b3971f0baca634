"""Prompt ablation on the bundled retrieval task (BBC News: title -> its article): each model with its own
prompts, with none, and with a typed instruction, scored as ``embedlab eval retrieval`` scores them.

Variants whose prompts are the same (every bundled model has no prompts of its own, so own = none) run
once; the notes say which. Document vectors are shared through the embedding cache whenever the document
prompt is the same (all variants here, unless --document-prompt is given): a variant then embeds only the
queries. ``seconds`` is the wall time of the variant's run (embedding what the cache lacks, searching,
scoring); ``queries_embedded``/``documents_embedded`` say what it had to embed.

    python benchmarks/prompt_ablation.py [--models minilm,smollm2] [--max-queries 0]
        [--query-prompt "Represent this news headline for retrieving its article: "] [--document-prompt ""]
        [--out benchmarks/results/prompt_ablation.json]

Smoke test: --models wordllama --max-queries 50 --out /tmp/ablation.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedlab.models import load_model  # noqa: E402
from embedlab.models.prompts import PromptChoice, expand, split_names  # noqa: E402
from embedlab.retrieval.corpus import bbc_title_to_article  # noqa: E402
from embedlab.retrieval.metrics import DEFAULT_METRICS  # noqa: E402
from embedlab.retrieval.pipeline import RetrievalPlan, run_plan, summary_table  # noqa: E402

INSTRUCTION = "Represent this news headline for retrieving its article: "


def one_variant(name: str, data) -> dict:
    """Load ``name``, count what the cache lacks, run its dense search, score it."""
    model = load_model(name)
    missing = {"queries_embedded": len(model.missing(data.queries, role="query")),
               "documents_embedded": len(model.missing(data.doc_texts, role="document"))}
    start = time.perf_counter()
    rankings = run_plan(RetrievalPlan(models=(name,)), data, models={name: model})
    seconds = time.perf_counter() - start
    row = summary_table(rankings, data, DEFAULT_METRICS).loc[name]
    return {"variant": name, "query_prompt": model.spec.query_prompt, "document_prompt": model.spec.document_prompt,
            **{m: round(float(row[m]), 4) for m in DEFAULT_METRICS}, "seconds": round(seconds, 1), **missing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="minilm")
    parser.add_argument("--query-prompt", default=INSTRUCTION)
    parser.add_argument("--document-prompt", default="")
    parser.add_argument("--max-queries", type=int, default=0, help="a seeded subset of the queries (0 = all)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "prompt_ablation.json"))
    args = parser.parse_args()

    data = bbc_title_to_article()
    data = data.subset_queries(args.max_queries) if args.max_queries else data
    choice = PromptChoice(own=True, none=True, typed=True, query_prompt=args.query_prompt,
                          document_prompt=args.document_prompt)
    variants = expand(split_names(args.models), choice)
    for note in variants.notes:
        print(f"note: {note}", file=sys.stderr)
    rows = []
    for name in variants.names:
        rows.append(one_variant(name, data))
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    record = {"data": data.name, "documents": len(data.doc_ids), "queries": len(data.query_ids),
              "notes": list(variants.notes), "results": rows,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    Path(args.out).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
