"""Clustering task: V-measure of MiniBatchKMeans clusters against labels, as mteb scores it.

mteb 2.x has two clustering task classes. Its v2 tasks (BiorxivClusteringP2P.v2,
TwentyNewsgroupsClustering.v2, StackExchangeClustering.v2, ArXivHierarchicalClustering*, ... i.e.
every clustering task of the MTEB(eng, v2) benchmark) derive from the *fast* ``AbsTaskClustering``
(mteb/abstasks/clustering.py), so this module follows that one, not ``AbsTaskClusteringLegacy``
(mteb/abstasks/clustering_legacy.py, which fits one MiniBatchKMeans with batch_size=500 and
n_init="auto" per pre-split cluster set via mteb/_evaluators/clustering_evaluator.py and averages
the sets' V-measures).

The fast task, step by step (mteb/abstasks/clustering.py, ``_evaluate_subset`` and
``_evaluate_clustering_bootstrapped``):

1. One ``random.Random(seed)`` drives all sampling (``AbsTask.__init__`` -> mteb/_set_seed.py).
2. Optionally embed only a random subset: ``max_fraction_of_documents_to_embed`` (class default
   0.04) or ``max_document_to_embed``; ``rng.sample`` without replacement.
3. Rows labelled -1 are dropped: -1 is mteb's "no label at this level" marker for hierarchical
   labels, so a flat label of -1 is dropped too.
4. k = number of distinct labels in what is left; one ``MiniBatchKMeans(n_clusters=k,
   batch_size=512, init="k-means++", n_init=1, random_state=seed)``.
5. ``n_clusters`` (=10) runs: draw ``max_documents_per_cluster`` (=16,384) rows *with replacement*
   (``rng.choices``) and ``fit_predict`` them with that same estimator; V-measure and AMI per run.
6. Report the mean and population std (``np.std``) of the per-run scores.
"""

from __future__ import annotations

import random
from typing import Sequence, TypedDict

import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics.cluster import adjusted_mutual_info_score, v_measure_score

from embedlab.errors import DataError
from embedlab.evaluation._checks import (
    embedding_matrix,
    label_list,
    positive_int,
    require_classes,
)

# mteb's sentinel for "no gold label at this level" (mteb/abstasks/clustering.py)
MISSING_LABEL = -1


class ClusteringScores(TypedDict):
    main_score: float  # = v_measure, as in mteb's clustering task metadata
    v_measure: float
    v_measure_std: float
    v_measures: list[float]  # per run; mteb nests this as {"Level 0": [...]}
    ami: float
    ami_std: float
    ami_scores: list[float]
    n_documents: int  # rows clustered after sub-sampling and dropping -1 labels
    n_clusters: int  # k given to k-means: distinct labels among those rows
    n_runs: int
    run_size: int


def clustering_scores(
    embeddings: np.ndarray,
    labels: Sequence,
    *,
    seed: int = 42,
    n_runs: int = 10,
    run_size: int = 16_384,
    kmeans_batch_size: int = 512,
    max_fraction: float | None = None,
    max_documents: int | None = None,
) -> ClusteringScores:
    """Cluster ``embeddings`` (n, dim) with MiniBatchKMeans and score against ``labels`` like mteb.

    ``n_runs``, ``run_size`` and ``kmeans_batch_size`` are mteb's ``n_clusters``,
    ``max_documents_per_cluster`` and ``k_mean_batch_size``, with mteb's defaults. Each run clusters
    ``run_size`` rows drawn with replacement, so a set smaller than ``run_size`` is clustered with
    repeated rows, exactly as mteb does.

    ``max_fraction`` / ``max_documents`` are mteb's ``max_fraction_of_documents_to_embed`` /
    ``max_document_to_embed``. mteb's class default is 0.04 (cluster a random 4%), sized for its
    50k-1M document sets; on your own data that would leave a handful of rows, so the default here
    is None (all rows, as StackExchangeClustering.v2 runs). Pass ``max_fraction=0.04`` to reproduce
    a v2 task such as BiorxivClusteringP2P.v2 exactly.
    """
    # 1. Validate
    x = embedding_matrix(embeddings)
    y = label_list(labels, len(x))
    n_runs = positive_int(n_runs, "n_runs")
    run_size = positive_int(run_size, "run_size")
    kmeans_batch_size = positive_int(kmeans_batch_size, "kmeans_batch_size")
    require_classes([v for v in y if v != MISSING_LABEL], name="labels (ignoring -1)")
    rng = random.Random(seed)

    # 2. Sub-sample what mteb would embed (mteb/abstasks/clustering.py, _evaluate_subset)
    keep = _documents_to_embed(len(x), max_fraction, max_documents, rng)
    if keep is not None:
        x, y = x[keep], [y[i] for i in keep]

    # 3. Drop -1 labels (mteb/abstasks/clustering.py, _evaluate_clustering_bootstrapped)
    x, y_arr, k = _labelled_rows(x, y, run_size)

    # 4.-5. One estimator, refitted on each bootstrap sample (same code path as mteb)
    model = MiniBatchKMeans(n_clusters=k, batch_size=kmeans_batch_size, init="k-means++",
                            n_init=1, random_state=seed)
    v_measures, amis = _bootstrap_runs(model, x, y_arr, rng, n_runs=n_runs, run_size=run_size)

    # 6. Mean and population std over runs
    return ClusteringScores(
        main_score=float(np.mean(v_measures)),
        v_measure=float(np.mean(v_measures)),
        v_measure_std=float(np.std(v_measures)),
        v_measures=v_measures,
        ami=float(np.mean(amis)),
        ami_std=float(np.std(amis)),
        ami_scores=amis,
        n_documents=int(len(x)),
        n_clusters=k,
        n_runs=n_runs,
        run_size=run_size,
    )


def _labelled_rows(x: np.ndarray, y: list, run_size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(rows, labels, k) without the -1 rows; k = distinct labels left, at least 2 and at most ``run_size``."""
    y_arr = np.array(y)
    valid = np.array([label != MISSING_LABEL for label in y_arr], dtype=bool)
    x, y_arr = x[valid], y_arr[valid]
    k = int(np.unique(y_arr).size)
    if k < 2:
        raise DataError(f"After sub-sampling only {k} distinct label(s) remain among {len(y_arr)} "
                        "rows; raise max_fraction/max_documents or use more data.")
    if run_size < k:
        raise DataError(f"run_size ({run_size}) must be at least the number of labels ({k}): "
                        "k-means cannot find more clusters than it has points.")
    return x, y_arr, k


def _bootstrap_runs(model: MiniBatchKMeans, x: np.ndarray, y: np.ndarray, rng: random.Random, *,
                    n_runs: int, run_size: int) -> tuple[list[float], list[float]]:
    """(V-measures, AMIs) of ``n_runs`` fits on ``run_size`` rows drawn with replacement."""
    v_measures, amis = [], []
    for _ in range(n_runs):
        rows = rng.choices(range(len(x)), k=run_size)
        assigned = model.fit_predict(x[rows])
        v_measures.append(float(v_measure_score(y[rows], assigned)))
        amis.append(float(adjusted_mutual_info_score(y[rows], assigned)))
    return v_measures, amis


def _documents_to_embed(n: int, max_fraction: float | None, max_documents: int | None,
                        rng: random.Random) -> list[int] | None:
    """Indices mteb would embed, or None for all of them (no draw from ``rng`` then, as in mteb)."""
    check_subsample(max_fraction, max_documents)
    if max_fraction is None and max_documents is None:
        return None
    count = min(n, int(max_fraction * n) if max_fraction is not None else int(max_documents))
    if count < 2:
        raise DataError(f"Sub-sampling {n} rows leaves {count}; clustering needs at least 2. "
                        "Raise max_fraction/max_documents or leave both unset.")
    return rng.sample(range(n), k=count)


def check_subsample(max_fraction: float | None, max_documents: int | None) -> None:
    """The sub-sampling options are valid (checked before anything is embedded, too)."""
    if max_fraction is not None and max_documents is not None:
        raise DataError("Set max_fraction or max_documents, not both (mteb refuses both too).")
    if max_fraction is not None and not 0 < max_fraction <= 1:
        raise DataError(f"max_fraction must be in (0, 1], got {max_fraction!r}.")
    if max_documents is not None:
        positive_int(max_documents, "max_documents")
