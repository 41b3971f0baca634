"""The bundled tasks, on the data that ships with embedlab. Their names are defined here once; the
CLI, the Benchmark page and its state defaults read them from ``BUNDLED_TASK_NAMES``."""

from __future__ import annotations

from typing import Callable, Sequence

from embedlab.errors import DataError
from embedlab.evaluation.bench.kinds import (
    classification_task,
    clustering_task,
    retrieval_task,
    sts_task,
)
from embedlab.evaluation.bench.task import Task

LEE_STS = "lee-sts"
BBC_CLUSTERING = "bbc-clustering"
BBC_CLASSIFICATION = "bbc-classification"
BBC_RETRIEVAL = "bbc-retrieval"
BUNDLED_TASK_NAMES = (LEE_STS, BBC_CLUSTERING, BBC_CLASSIFICATION, BBC_RETRIEVAL)


def _lee_sts() -> Task:
    from embedlab.bundled import lee_sts

    pairs = lee_sts()
    return sts_task(LEE_STS, pairs.sentences1, pairs.sentences2, pairs.scores.tolist(), description=(
        "Lee et al. (2005, gensim's test data): 50 news documents, all 1,225 pairs with their mean "
        "human similarity (0-1). Cosine Spearman, as mteb's STS."))


def _bbc_texts_and_labels() -> tuple[list[str], list]:
    from embedlab.bundled import bbc_news

    frame = bbc_news()
    return frame["text"].tolist(), frame["label"].tolist()


def _bbc_clustering() -> Task:
    return clustering_task(BBC_CLUSTERING, *_bbc_texts_and_labels(), description=(
        "BBC News: the 2,225 article bodies (title not included), label = one of 5 topics. "
        "V-measure of MiniBatchKMeans(k=5), 10 bootstrap runs of 16,384 draws (mteb's defaults)."))


def _bbc_classification() -> Task:
    return classification_task(BBC_CLASSIFICATION, *_bbc_texts_and_labels(), description=(
        "BBC News: the 2,225 article bodies, label = topic (5). Seeded stratified half/half split "
        "(seed 42); mteb's logistic-regression probe on 8 examples per label, 10 experiments; accuracy."))


def _bbc_retrieval() -> Task:
    from embedlab.retrieval.corpus import bbc_title_to_article

    return retrieval_task(BBC_RETRIEVAL, bbc_title_to_article(), description=(
        "BBC News title → article: each title is a query, its own article body (duplicates kept once) "
        "the one relevant document. Exact cosine top 1000, nDCG@10 (trec_eval), as mteb's retrieval."))


_BUILDERS: dict[str, Callable[[], Task]] = {
    LEE_STS: _lee_sts,
    BBC_CLUSTERING: _bbc_clustering,
    BBC_CLASSIFICATION: _bbc_classification,
    BBC_RETRIEVAL: _bbc_retrieval,
}
assert tuple(_BUILDERS) == BUNDLED_TASK_NAMES


def bundled_task(name: str) -> Task:
    """A bundled task by name (one of ``BUNDLED_TASK_NAMES``)."""
    build = _BUILDERS.get(name.strip())
    if build is None:
        raise DataError(f"Unknown task {name!r}. Bundled tasks: {', '.join(BUNDLED_TASK_NAMES)}.")
    return build()


def bundled_tasks(names: Sequence[str] | str | None = None) -> list[Task]:
    """Several bundled tasks: a list, a comma-separated string, or None for all of them."""
    if names is None:
        names = list(BUNDLED_TASK_NAMES)
    elif isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise DataError(f"No task given. Bundled tasks: {', '.join(BUNDLED_TASK_NAMES)}.")
    unknown = [n for n in names if n.strip() not in _BUILDERS]
    if unknown:
        raise DataError(f"Unknown task(s) {', '.join(map(repr, unknown))}. "
                        f"Bundled tasks: {', '.join(BUNDLED_TASK_NAMES)}.")
    return [bundled_task(n) for n in dict.fromkeys(n.strip() for n in names)]
