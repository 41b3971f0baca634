"""MTEB on your data: tasks, a runner that scores several models on them, and a results cache.

A ``Task`` is one evaluation (kind, data, parameters) that turns a model into a dict of metrics
with a ``main_score``, each kind computed the way mteb computes it:

- ``sts``: ``evaluation.sts.evaluate_sts``; main score = cosine Spearman (mteb's STS main score).
- ``retrieval``: ``retrieval.pipeline.dense_search`` (exact cosine, top 1000 per query) scored by
  ``retrieval.metrics`` (trec_eval definitions, as pytrec_eval computes them for mteb), averaged
  over the judged queries; main score = nDCG@10.
- ``clustering``: ``evaluation.tasks.clustering_scores`` (mteb's fast ``AbsTaskClustering``);
  main score = V-measure, mean over the bootstrap runs.
- ``classification``: ``evaluation.tasks.classification_scores`` (mteb's logistic-regression probe);
  main score = accuracy, mean over the experiments.
- ``pair-classification``: ``evaluation.tasks.pair_classification_scores``; main score = max AP
  over the cosine/manhattan/euclidean/dot rows (mteb's ``max_ap``).
- ``dedup``: ``evaluation.tasks.dedup_groups``; no main score (not an mteb task, and more or
  fewer duplicates is neither better nor worse). The leaderboard shows its ``duplicate_share``
  and leaves it out of the average.

Texts of the symmetric tasks (everything but retrieval) are embedded with the model's
``document`` role, as ``evaluate_sts`` does; mteb gives those tasks no query/document prompt type,
and the bundled models have no prompts. Retrieval embeds queries as ``query`` and documents as
``document``, as mteb does. Each distinct text is encoded once per task; across tasks, embeddings
are shared through the model's on-disk embedding cache (``load_model`` wraps every model in a
``CachedEmbedder`` keyed by text), so the three BBC tasks embed the 2,225 article bodies once.

``run_bench`` loads each model once, runs every task, times each, and returns a ``Leaderboard``.
Results are cached on disk (``<cache_dir>/bench/``), keyed by the model's fingerprint, the task's
name, kind and data key, and ``BENCH_VERSION``; see ``result_key``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from embedlab.embedder import Progress
from embedlab.errors import DataError, EmbedlabError
from embedlab.paths import atomic_write_json

log = logging.getLogger(__name__)

BENCH_VERSION = 1
"""Bump when a change to a task's computation changes its numbers: cached results stop matching."""

TASK_KINDS = ("sts", "retrieval", "clustering", "classification", "pair-classification", "dedup")
RETRIEVAL_METRICS = ("nDCG@1", "nDCG@10", "nDCG@100", "MRR@10", "MAP@100", "Recall@1", "Recall@10",
                     "Recall@100", "Recall@1000", "P@1", "P@10")
RETRIEVAL_TOP_K = 1000  # mteb keeps the top max(k_values) = 1000 per query

BenchProgress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: label is ``"MODEL · TASK (i/n)"``; done/total count the texts
encoded for that task (``(label, 1, 1)`` when a task is finished or served from the cache)."""


# ---- tasks --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Task:
    """One evaluation. ``run(model)`` returns its metrics; ``data_key`` hashes everything (data and
    parameters) that decides them, so it can key a results cache."""

    name: str
    kind: str
    description: str
    data_key: str
    main_metric: str  # the metric shown in the leaderboard column ("main_score" where there is one)
    compute: Callable[[Any, Progress | None], dict] = field(repr=False)
    averaged: bool = True  # counts towards the leaderboard's average
    size: dict = field(default_factory=dict)  # what the task holds, e.g. {"texts": 2225, "labels": 5}

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(f"Unknown task kind {self.kind!r}. Valid kinds: {', '.join(TASK_KINDS)}.")
        if not self.name or not self.name.strip():
            raise DataError("A task needs a non-empty name.")

    def run(self, model, progress: Progress | None = None) -> dict:
        """Embed this task's texts with ``model`` and score them; a plain, JSON-ready dict
        (NaN becomes None) with ``main_score`` (None for dedup)."""
        metrics = _plain(self.compute(model, progress))
        metrics.setdefault("main_score", None)
        return metrics

    def info(self) -> dict:
        return {"name": self.name, "kind": self.kind, "description": self.description,
                "main_metric": self.main_metric, "averaged": self.averaged, "data_key": self.data_key,
                "size": dict(self.size)}


def sts_task(name: str, sentences1: Sequence[str], sentences2: Sequence[str], scores: Sequence[float], *,
             description: str = "") -> Task:
    """STS: cosine of each pair's embeddings against gold scores; main score = cosine Spearman."""
    s1 = _texts(sentences1, "sentences1")
    s2 = _texts(sentences2, "sentences2")
    gold = _numbers(scores, "scores")
    _same_length(("sentences1", s1), ("sentences2", s2), ("scores", gold))
    if len(gold) < 3:
        raise DataError(f"STS needs at least 3 scored pairs, got {len(gold)}.")
    if len(set(gold)) < 2:
        raise DataError("All gold scores are equal; a correlation is undefined.")

    def compute(model, progress):
        from embedlab.evaluation.sts import evaluate_sts

        result = evaluate_sts(model, s1, s2, gold, progress=progress)
        return {"main_score": result.cosine_spearman, "cosine_spearman": result.cosine_spearman,
                "cosine_pearson": result.cosine_pearson, "n_pairs": result.n_pairs}

    key = _data_key("sts", {"sentences1": s1, "sentences2": s2, "scores": gold})
    return Task(name, "sts", description or f"STS on {len(gold):,} scored pairs: cosine Spearman.", key,
                "main_score", compute, size={"pairs": len(gold)})


def clustering_task(name: str, texts: Sequence[str], labels: Sequence, *, seed: int = 42, n_runs: int = 10,
                    run_size: int = 16_384, kmeans_batch_size: int = 512, max_fraction: float | None = None,
                    max_documents: int | None = None, description: str = "") -> Task:
    """Clustering: MiniBatchKMeans with k = number of labels, V-measure over ``n_runs`` bootstrap
    samples of ``run_size`` texts (mteb's fast ``AbsTaskClustering`` and its defaults)."""
    from embedlab.evaluation._checks import label_list, require_classes
    from embedlab.evaluation.clustering_task import MISSING_LABEL

    docs = _texts(texts, "texts")
    y = _plain(label_list(labels, len(docs), rows_name="texts"))
    require_classes([v for v in y if v != MISSING_LABEL], name="labels (ignoring -1)")
    params = {"seed": seed, "n_runs": n_runs, "run_size": run_size, "kmeans_batch_size": kmeans_batch_size,
              "max_fraction": max_fraction, "max_documents": max_documents}

    def compute(model, progress):
        from embedlab.evaluation.clustering_task import clustering_scores

        vectors = _embed(model, docs, "document", progress)
        with _one_thread():
            return dict(clustering_scores(vectors, y, **params))

    key = _data_key("clustering", {"texts": docs, "labels": y, **params})
    n_labels = len({v for v in y if v != MISSING_LABEL})
    return Task(name, "clustering", description or f"Clustering {len(docs):,} texts into {n_labels} labels: "
                "V-measure of MiniBatchKMeans (mteb).", key, "main_score", compute,
                size={"texts": len(docs), "labels": n_labels})


def classification_task(name: str, texts: Sequence[str], labels: Sequence, *,
                        test_texts: Sequence[str] | None = None, test_labels: Sequence | None = None,
                        test_size: float = 0.5, seed: int = 42, n_experiments: int = 10,
                        samples_per_label: int = 8, description: str = "") -> Task:
    """Classification: mteb's logistic-regression probe, accuracy averaged over experiments.

    With ``test_texts``/``test_labels`` the first set trains and the second tests; otherwise one
    labelled set is split with ``train_test_split_for_probe(labels, seed=seed, test_size=test_size)``
    (stratified, seeded). ``samples_per_label`` and ``n_experiments`` default to mteb's class defaults.
    """
    from embedlab.evaluation._checks import label_list
    from embedlab.evaluation.classification_task import _check_probe_data, train_test_split_for_probe

    docs = _texts(texts, "texts")
    y = _plain(label_list(labels, len(docs), rows_name="texts"))
    if (test_texts is None) != (test_labels is None):
        raise DataError("Give both test_texts and test_labels, or neither (then the set is split).")
    if test_texts is None:
        train_idx, test_idx = train_test_split_for_probe(y, seed=seed, test_size=test_size)
        train, y_train = [docs[i] for i in train_idx], [y[i] for i in train_idx]
        test, y_test = [docs[i] for i in test_idx], [y[i] for i in test_idx]
        split = {"split": "stratified", "test_size": test_size}
    else:
        train, y_train = docs, y
        test = _texts(test_texts, "test_texts")
        y_test = _plain(label_list(test_labels, len(test), name="test_labels", rows_name="test_texts"))
        split = {"split": "given"}
    # The probe's own checks (two examples per class, no unseen test class), before any embedding
    _check_probe_data(np.zeros((len(train), 1)), y_train, np.zeros((len(test), 1)), y_test)
    params = {"seed": seed, "n_experiments": n_experiments, "samples_per_label": samples_per_label}

    def compute(model, progress):
        from embedlab.evaluation.classification_task import classification_scores

        vectors = _embed(model, [*train, *test], "document", progress)
        with _one_thread():
            scores = classification_scores(vectors[:len(train)], y_train, vectors[len(train):], y_test, **params)
        return {**scores, "n_train": len(train), "n_test": len(test)}

    key = _data_key("classification", {"train": train, "train_labels": y_train, "test": test,
                                       "test_labels": y_test, **params, **split})
    n_labels = len(set(y_train))
    how = (f"a seeded stratified split ({len(train):,} train / {len(test):,} test)" if test_texts is None
           else f"{len(train):,} train / {len(test):,} test texts")
    return Task(name, "classification", description or f"Classification into {n_labels} labels on {how}: "
                f"accuracy of mteb's logistic-regression probe ({samples_per_label} per label, "
                f"{n_experiments} experiments).", key, "main_score", compute,
                size={"train": len(train), "test": len(test), "labels": n_labels})


def pair_classification_task(name: str, sentences1: Sequence[str], sentences2: Sequence[str],
                             labels: Sequence[int], *, description: str = "") -> Task:
    """Pair classification: AP and best-threshold accuracy/F1 of pair similarities against 0/1
    labels; main score = max AP over cosine, manhattan, euclidean and dot (mteb's ``max_ap``)."""
    s1 = _texts(sentences1, "sentences1")
    s2 = _texts(sentences2, "sentences2")
    y = _plain(list(labels.tolist() if isinstance(labels, np.ndarray) else labels))
    _same_length(("sentences1", s1), ("sentences2", s2), ("labels", y))
    bad = [v for v in y if isinstance(v, str) or v not in (0, 1)]
    if bad:
        raise DataError(f"Pair labels must be 0 (not a pair) or 1 (a pair); got {bad[0]!r}.")
    y = [int(v) for v in y]
    if len(set(y)) < 2:
        raise DataError(f"All {len(y)} pair labels are {y[0]}; average precision needs both 0 and 1.")

    def compute(model, progress):
        from embedlab.evaluation.pair_classification_task import pair_classification_scores

        vectors = _embed(model, [*s1, *s2], "document", progress)
        with _one_thread():
            return pair_classification_scores(vectors[:len(s1)], vectors[len(s1):], y)

    key = _data_key("pair-classification", {"sentences1": s1, "sentences2": s2, "labels": y})
    return Task(name, "pair-classification", description or f"Pair classification on {len(y):,} pairs "
                f"({sum(y):,} positive): max AP (mteb).", key, "main_score", compute,
                size={"pairs": len(y), "positive": sum(y)})


def dedup_task(name: str, texts: Sequence[str], threshold: float = 0.9, *, description: str = "") -> Task:
    """Near-duplicate groups: texts linked at cosine >= ``threshold``, connected components.

    No main score (not an mteb task; more or fewer duplicates is not better or worse). The
    leaderboard shows ``duplicate_share`` = (texts in groups - groups) / texts, the share of texts
    that keeping one text per group would remove, and leaves it out of the average.
    """
    docs = _texts(texts, "texts")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not -1.0 <= float(threshold) <= 1.0 or math.isnan(float(threshold)):
        raise DataError(f"threshold is a cosine similarity and must be a number within [-1, 1], got {threshold!r}.")
    threshold = float(threshold)

    def compute(model, progress):
        from embedlab.evaluation.dedup import dedup_groups

        groups = dedup_groups(_embed(model, docs, "document", progress), threshold)
        in_groups = sum(len(g) for g in groups)
        return {"main_score": None, "duplicate_share": (in_groups - len(groups)) / len(docs),
                "n_groups": len(groups), "n_in_groups": in_groups, "n_texts": len(docs),
                "largest_group": max((len(g) for g in groups), default=0), "threshold": threshold,
                "groups": groups}

    key = _data_key("dedup", {"texts": docs, "threshold": threshold})
    return Task(name, "dedup", description or f"Near-duplicate groups among {len(docs):,} texts at cosine "
                f">= {threshold:g} (no main score).", key, "duplicate_share", compute, averaged=False,
                size={"texts": len(docs)})


def retrieval_task(name: str, data, *, top_k: int = RETRIEVAL_TOP_K,
                   metrics: Sequence[str] = RETRIEVAL_METRICS, description: str = "") -> Task:
    """Retrieval on a ``RetrievalData``: exact cosine top ``top_k`` per query (queries with the
    ``query`` role, ``title + " " + text`` documents with the ``document`` role), trec_eval metrics
    averaged over the judged queries; main score = nDCG@10."""
    from embedlab.retrieval.metrics import _metric

    for m in metrics:
        _metric(m)  # raises on an unknown name
    if "nDCG@10" not in metrics:
        metrics = ("nDCG@10", *metrics)
    if not data.query_ids or not data.doc_ids:
        raise DataError(f"Retrieval data {data.name!r} has no queries or no documents.")
    top_k = int(top_k)
    if top_k < 1:
        raise DataError(f"top_k must be at least 1, got {top_k}.")

    def compute(model, progress):
        from embedlab.retrieval.pipeline import dense_search

        stage = dense_search(data, model, k=top_k, progress=progress)
        per_query = stage.evaluate(data, metrics)
        if per_query.empty:
            raise DataError("No judged query got results: nothing to evaluate.")
        means = {m: float(per_query[m].mean()) for m in metrics}
        return {"main_score": means["nDCG@10"], **means, "n_queries": len(per_query),
                "n_documents": len(data.doc_ids), "top_k": top_k}

    qrels = {q: dict(sorted(v.items())) for q, v in sorted(data.qrels.items())}
    key = _data_key("retrieval", {"doc_ids": data.doc_ids, "titles": data.titles, "bodies": data.bodies,
                                  "query_ids": data.query_ids, "queries": data.queries, "qrels": qrels,
                                  "ignore_identical_ids": data.ignore_identical_ids, "top_k": top_k,
                                  "metrics": list(metrics)})
    return Task(name, "retrieval", description or f"Retrieval over {len(data.doc_ids):,} documents for "
                f"{len(data.query_ids):,} queries: nDCG@10 of the top {top_k}.", key, "main_score", compute,
                size={"documents": len(data.doc_ids), "queries": len(data.query_ids)})


# ---- bundled tasks ------------------------------------------------------------------------------
def _lee_sts() -> Task:
    from embedlab.bundled import lee_sts

    pairs = lee_sts()
    return sts_task("lee-sts", pairs.sentences1, pairs.sentences2, pairs.scores.tolist(), description=(
        "Lee et al. (2005, gensim's test data): 50 news documents, all 1,225 pairs with their mean "
        "human similarity (0-1). Cosine Spearman, as mteb's STS."))


def _bbc(name: str) -> Task:
    from embedlab.bundled import bbc_news

    frame = bbc_news()
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    if name == "bbc-clustering":
        return clustering_task(name, texts, labels, description=(
            "BBC News: the 2,225 article bodies (title not included), label = one of 5 topics. "
            "V-measure of MiniBatchKMeans(k=5), 10 bootstrap runs of 16,384 draws (mteb's defaults)."))
    return classification_task(name, texts, labels, description=(
        "BBC News: the 2,225 article bodies, label = topic (5). Seeded stratified half/half split "
        "(seed 42); mteb's logistic-regression probe on 8 examples per label, 10 experiments; accuracy."))


def _bbc_retrieval() -> Task:
    from embedlab.retrieval.corpus import bbc_title_to_article

    return retrieval_task("bbc-retrieval", bbc_title_to_article(), description=(
        "BBC News title → article: each title is a query, its own article body (duplicates kept once) "
        "the one relevant document. Exact cosine top 1000, nDCG@10 (trec_eval), as mteb's retrieval."))


BUNDLED_TASKS: dict[str, Callable[[], Task]] = {
    "lee-sts": _lee_sts,
    "bbc-clustering": lambda: _bbc("bbc-clustering"),
    "bbc-classification": lambda: _bbc("bbc-classification"),
    "bbc-retrieval": _bbc_retrieval,
}


def bundled_task(name: str) -> Task:
    """A bundled task by name (``lee-sts``, ``bbc-clustering``, ``bbc-classification``, ``bbc-retrieval``)."""
    factory = BUNDLED_TASKS.get(name.strip())
    if factory is None:
        raise DataError(f"Unknown task {name!r}. Bundled tasks: {', '.join(BUNDLED_TASKS)}.")
    return factory()


def bundled_tasks(names: Sequence[str] | str | None = None) -> list[Task]:
    """Several bundled tasks: a list, a comma-separated string, or None for all of them."""
    if names is None:
        names = list(BUNDLED_TASKS)
    elif isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise DataError(f"No task given. Bundled tasks: {', '.join(BUNDLED_TASKS)}.")
    unknown = [n for n in names if n.strip() not in BUNDLED_TASKS]
    if unknown:
        raise DataError(f"Unknown task(s) {', '.join(map(repr, unknown))}. Bundled tasks: {', '.join(BUNDLED_TASKS)}.")
    return [bundled_task(n) for n in dict.fromkeys(n.strip() for n in names)]


# ---- results cache ------------------------------------------------------------------------------
def model_fingerprint(model) -> dict | None:
    """What decides the model's vectors, as JSON-ready data; None if the model cannot tell.

    ``cache_key(role)`` (every embedlab model has it: weights fingerprint, pooling, prompt, max
    length, EOS, encode format version) for both roles, plus the spec when there is one. A model
    without ``cache_key`` (a bare test fake) has no fingerprint and its results are never cached.
    """
    key_of = getattr(model, "cache_key", None)
    if not callable(key_of):
        return None
    parts: dict = {"encode": {role: key_of(role) for role in ("query", "document")}}
    spec = getattr(model, "spec", None)
    if spec is not None and hasattr(spec, "to_json"):
        parts["spec"] = json.loads(spec.to_json())
    return parts


def result_key(model, task: Task) -> str | None:
    """SHA-256 of {model fingerprint, task name, kind, data key, BENCH_VERSION}; None = do not cache."""
    fingerprint = model_fingerprint(model)
    if fingerprint is None:
        return None
    parts = {"bench_version": BENCH_VERSION, "model": fingerprint, "task": task.name, "kind": task.kind,
             "data_key": task.data_key}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class ResultCache:
    """One JSON file per (model, task) result: ``<root>/<key[:2]>/<key>.json``, written atomically.
    An unreadable file is a miss, never a crash."""

    def __init__(self, root: Path | str | None = None) -> None:
        self._root = Path(root) if root is not None else None

    @property
    def root(self) -> Path:
        if self._root is not None:
            return self._root
        from embedlab.paths import cache_dir

        return cache_dir() / "bench"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict):
                raise ValueError("not a result record")
            return record
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable bench result %s: %s", path, exc)
            return None

    def put(self, key: str, record: dict) -> None:
        atomic_write_json(self.path(key), record)


@dataclass
class TaskResult:
    """One model on one task: metrics, or the error that stopped it."""

    model: str
    task: str
    metrics: dict | None
    seconds: float | None  # wall time of the computation (for a cached result: when it was computed)
    cached: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {"model": self.model, "task": self.task, "metrics": self.metrics, "seconds": self.seconds,
                "cached": self.cached, "error": self.error}


def run_task(model, task: Task, *, name: str | None = None, progress: Progress | None = None,
             cache: bool | ResultCache = True) -> TaskResult:
    """Run one task, or return its cached result. Errors propagate (``run_bench`` records them)."""
    name = name or getattr(model, "name", "model")
    store = (cache if isinstance(cache, ResultCache) else ResultCache()) if cache else None
    key = result_key(model, task) if store else None
    if key:
        hit = store.get(key)
        if hit is not None:
            return TaskResult(name, task.name, hit["metrics"], hit.get("seconds"), cached=True)
    start = time.perf_counter()
    metrics = task.run(model, progress)
    seconds = time.perf_counter() - start
    if key:
        store.put(key, {"metrics": metrics, "seconds": seconds, "task": task.info(), "model": name,
                        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return TaskResult(name, task.name, metrics, seconds)


# ---- runner and leaderboard ---------------------------------------------------------------------
def default_loader(name: str):
    """``load_model(name)`` with the embedding cache (tests replace this to inject fakes)."""
    from embedlab.models import load_model

    return load_model(name)


@dataclass
class Leaderboard:
    """``table``: one row per model (best average first; models with errors last), one column per
    task (its leaderboard metric), ``average`` (mean over the averaged tasks; NaN unless the model
    has all of them) and ``seconds`` (sum of the task times). ``results[model][task]`` holds every
    metric; ``errors[model]`` maps ``"load"`` or a task name to what went wrong."""

    table: pd.DataFrame
    tasks: list[Task]
    results: dict[str, dict[str, TaskResult]]
    errors: dict[str, dict[str, str]]
    load_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        rows = []
        for model, row in self.table.iterrows():
            rows.append({"model": model, "scores": {t.name: row[t.name] for t in self.tasks},
                         "average": row["average"], "seconds": row["seconds"],
                         "errors": self.errors.get(model, {})})
        return _plain({
            "bench_version": BENCH_VERSION,
            "tasks": [t.info() for t in self.tasks],
            "leaderboard": rows,
            "results": {m: {t: r.to_dict() for t, r in cells.items()} for m, cells in self.results.items()},
            "load_seconds": self.load_seconds,
        })

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """The table plus an ``error`` column (empty when the model ran every task)."""
        frame = self.table.copy()
        frame["error"] = ["; ".join(f"{where}: {msg}" for where, msg in self.errors.get(m, {}).items())
                          for m in frame.index]
        text = frame.to_csv()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def run_bench(models: Sequence[str], tasks: Sequence[Task], *, progress: BenchProgress | None = None,
              cache: bool | ResultCache = True, loader: Callable[[str], Any] | None = None) -> Leaderboard:
    """Score every model on every task: each model is loaded once (``loader``, default
    ``load_model``), each result comes from the results cache when it is there (``cache=False``
    neither reads nor writes it). A model that fails to load, or fails a task, gets an error entry;
    the other models and tasks still run."""
    names = list(dict.fromkeys(m.strip() for m in models if m and m.strip()))
    if not names:
        raise DataError("No model given.")
    tasks = list(tasks)
    if not tasks:
        raise DataError("No task given.")
    seen = [t.name for t in tasks]
    if len(set(seen)) != len(seen):
        raise DataError(f"Task names must be unique; repeated: {sorted({n for n in seen if seen.count(n) > 1})}.")
    load = loader or default_loader
    store = (cache if isinstance(cache, ResultCache) else ResultCache()) if cache else False
    results: dict[str, dict[str, TaskResult]] = {}
    errors: dict[str, dict[str, str]] = {}
    load_seconds: dict[str, float] = {}
    n_steps, step = len(names) * len(tasks), 0

    for name in names:
        results[name] = {}
        start = time.perf_counter()
        try:
            model = load(name)
        except Exception as exc:  # noqa: BLE001 - one bad model must not stop the others
            errors[name] = {"load": _describe(exc)}
            log.info("bench: model %s did not load: %s", name, errors[name]["load"])
            step += len(tasks)
            continue
        load_seconds[name] = time.perf_counter() - start
        for task in tasks:
            step += 1
            label = f"{name} · {task.name} ({step}/{n_steps})"
            relay = (lambda done, total, label=label: progress(label, done, total)) if progress else None
            try:
                result = run_task(model, task, name=name, progress=relay, cache=store)
            except Exception as exc:  # noqa: BLE001
                result = TaskResult(name, task.name, None, None, error=_describe(exc))
                errors.setdefault(name, {})[task.name] = result.error
                log.info("bench: %s failed on %s: %s", name, task.name, result.error)
            results[name][task.name] = result
            if progress:
                progress(label + (" (cached)" if result.cached else ""), 1, 1)
        del model  # one model in memory at a time

    return Leaderboard(_table(names, tasks, results), tasks, results, errors, load_seconds)


def _table(names: list[str], tasks: list[Task], results: dict[str, dict[str, TaskResult]]) -> pd.DataFrame:
    rows = {}
    for name in names:
        cells = results.get(name, {})
        row = {}
        for task in tasks:
            cell = cells.get(task.name)
            value = cell.metrics.get(task.main_metric) if cell is not None and cell.ok else None
            row[task.name] = float(value) if value is not None else math.nan
        averaged = [row[t.name] for t in tasks if t.averaged]
        row["average"] = float(np.mean(averaged)) if averaged and all(np.isfinite(averaged)) else math.nan
        times = [c.seconds for c in cells.values() if c.ok and c.seconds is not None]
        row["seconds"] = float(sum(times)) if cells else math.nan
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[*[t.name for t in tasks], "average", "seconds"])
    table.index.name = "model"
    return table.sort_values("average", ascending=False, na_position="last", kind="stable")


# ---- helpers ------------------------------------------------------------------------------------
def _describe(exc: BaseException) -> str:
    if isinstance(exc, (EmbedlabError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _texts(values: Sequence[str], what: str) -> list[str]:
    if isinstance(values, str):
        raise DataError(f"{what} must be a list of texts, not a single string.")
    texts = values.tolist() if isinstance(values, (np.ndarray, pd.Series)) else list(values)
    if not texts:
        raise DataError(f"{what} is empty.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"{what}[{i}] is {type(text).__name__}, not text.")
        if not text.strip():
            raise DataError(f"{what}[{i}] is empty; drop empty texts first.")
    return texts


def _numbers(values: Sequence[float], what: str) -> list[float]:
    try:
        out = [float(v) for v in (values.tolist() if isinstance(values, (np.ndarray, pd.Series)) else values)]
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numbers.") from None
    if not all(math.isfinite(v) for v in out):
        raise DataError(f"{what} contains NaN or infinite values.")
    return out


def _same_length(*named: tuple[str, list]) -> None:
    lengths = {name: len(values) for name, values in named}
    if len(set(lengths.values())) > 1:
        raise DataError("These must have one entry per pair: " + ", ".join(f"{k} has {v}" for k, v in lengths.items()) + ".")


def _one_thread():
    """Score with one BLAS/OpenMP thread. The probe and MiniBatchKMeans work in small pieces, and
    their threads spend more time waiting for each other than computing, badly so when the cores are
    busy: on a loaded 2-core machine BBC clustering took 46 s with two threads and 1.2 s with one.
    The numbers are the same (tests compare them with the pure functions run with default threads)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def _embed(model, texts: list[str], role: str, progress: Progress | None) -> np.ndarray:
    """Each distinct text encoded once, rows in ``texts`` order."""
    unique = list(dict.fromkeys(texts))
    vectors = np.asarray(model.encode(unique, role=role, progress=progress))
    if len(unique) == len(texts):
        return vectors
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]]


def _data_key(kind: str, payload: dict) -> str:
    text = json.dumps({"kind": kind, **payload}, sort_keys=True, ensure_ascii=False, default=_json_default)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _plain(value):
    """JSON-ready: numpy scalars/arrays to Python, tuples to lists, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
