"""A benchmark task whose documents are a collection's (``embedlab index``): the user's queries and qrels,
each model searched through the collection's ANN index with ``store.evaluate.evaluate_collection``.

Only a model whose vectors the collection holds can run it (the documents are not embedded again: that is
the point of a collection); the main score is the nDCG@10 a user gets through the index, and the metrics
also say what the index costs against exact search (recall@10, exact nDCG@10) and its latency.
"""

from __future__ import annotations

from embedlab.errors import DataError
from embedlab.evaluation.bench.speed import speed_sample
from embedlab.evaluation.bench.task import Task, data_key
from embedlab.store.collection import TEXT, Collection
from embedlab.store.evaluate import evaluate_collection, judged_documents, judged_queries

TOP_K = 100  # results kept per query: Recall@100 and MAP@100 need 100
SPEED_ROWS = 2_000  # the collection's first rows its speed sample is drawn from


def collection_models(collection: Collection) -> list[str]:
    """The models whose vectors the collection holds (a model registered but never embedded is not one)."""
    return [name for name, m in collection.summary()["models"].items() if m["embedded"]]


def collection_task(name: str, uri: str, queries_source, qrels_source, *, exact: bool = False,
                    top_k: int = TOP_K, description: str = "") -> Task:
    """Retrieval over the collection at ``uri`` for the judged queries of ``queries_source``; the inputs are
    checked now (queries judged, judged documents in the collection, a model with vectors), not at run time."""
    # 1. What the task holds, checked before it joins a run.
    collection = Collection.open(uri)
    qids, texts, qrels = judged_queries(queries_source, qrels_source)
    judged_documents(collection, qrels)
    models = collection_models(collection)
    if not models:
        raise DataError(f"Collection {collection.uri} has no vectors yet: add them with "
                        f"`embedlab index --collection {collection.uri} --model NAME`.")
    documents, version = collection.count(), collection.docs().version

    # 2. A run: the model's vectors in the collection, the queries embedded now.
    def compute(model, progress):
        found = evaluate_collection(Collection.open(uri), model, queries_source, qrels_source, top_k=top_k,
                                    exact=exact, progress=(lambda _what, done, total: progress(done, total))
                                    if progress else None)
        main, *others = found.results  # ANN (or exact) first, then exact when the index was used
        metrics = {"main_score": found.results[main]["nDCG@10"], **found.results[main],
                   "p50 ms": found.latency_ms[main]["p50"], "p95 ms": found.latency_ms[main]["p95"],
                   "n_queries": found.queries, "n_documents": found.documents, "ann_index": found.ann_index}
        if others:
            metrics.update({"exact nDCG@10": found.results[others[0]]["nDCG@10"],
                            "exact p50 ms": found.latency_ms[others[0]]["p50"],
                            "ANN recall@10 vs exact": found.recall_at_10_vs_exact})
        return metrics

    # 3. The data key: the collection's version (rows or vectors added change it) and the judgements.
    key = data_key("collection-retrieval", {"uri": collection.uri, "version": version, "query_ids": qids,
                                            "queries": texts, "qrels": {q: dict(sorted(v.items()))
                                                                        for q, v in sorted(qrels.items())},
                                            "exact": exact, "top_k": top_k})
    sample = collection.docs().head(min(SPEED_ROWS, documents)).column(TEXT).to_pylist()
    how = "exact search" if exact else "its ANN index (exact search while it has none)"
    return Task(name, "retrieval", description or f"Retrieval over collection {collection.uri} ({documents:,} "
                f"documents) for {len(qids):,} judged queries through {how}: nDCG@10 of the top {top_k}. "
                f"Models with vectors in it: {', '.join(models)}.", key, "main_score", compute,
                size={"documents": documents, "queries": len(qids)}, speed_texts=speed_sample(sample))
