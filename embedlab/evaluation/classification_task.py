"""Classification task: a logistic-regression probe on frozen embeddings, as mteb scores it.

Follows mteb/abstasks/classification.py (``AbsTaskClassification``) and
mteb/_evaluators/sklearn_evaluator.py (``SklearnEvaluator``: fit on the train embeddings, predict
the test embeddings):

- probe: ``LogisticRegression(max_iter=100)`` with ``random_state`` set to the task seed
  (``AbsTaskClassification.evaluator_model`` and ``evaluate``);
- ``n_experiments`` (=10) experiments, each on a class-balanced undersample of the training set
  holding at most ``samples_per_label`` (class default 8; many tasks set 16 or 32) rows per label
  (``_undersample_data``);
- per experiment accuracy, macro and weighted F1/precision/recall, and for a binary test set
  average precision of the *hard predictions* (``_calculate_scores``);
- the reported score is the plain mean over experiments (``_calculate_avg_scores``).

mteb's undersampling is unusual and is reproduced exactly: every experiment builds a fresh
``np.random.RandomState(seed)`` (the experiment number is not used) and shuffles the *previous*
experiment's permutation in place, then walks it keeping the first ``samples_per_label`` rows of
each label. Experiment i therefore uses the same permutation applied i+1 times.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence, TypedDict

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
)
from sklearn.model_selection import train_test_split

from embedlab.errors import DataError
from embedlab.evaluation._checks import (
    embedding_matrix,
    label_list,
    positive_int,
    require_classes,
)

# A class seen once gives the probe the same single point in every experiment, and a stratified
# split cannot put it on both sides; two is the least that makes the experiments differ.
MIN_TRAIN_PER_CLASS = 2
PROBE_MAX_ITER = 100  # mteb/abstasks/classification.py: LogisticRegression(max_iter=100)


class ExperimentScores(TypedDict):
    accuracy: float
    f1: float
    f1_weighted: float
    precision: float
    precision_weighted: float
    recall: float
    recall_weighted: float
    ap: float | None  # binary test sets only, as in mteb
    ap_weighted: float | None


class ClassificationScores(ExperimentScores):
    main_score: float  # = accuracy, the main score of mteb's classification tasks
    scores_per_experiment: list[ExperimentScores]
    n_train_per_experiment: list[int]


def classification_scores(
    train_emb: np.ndarray,
    train_labels: Sequence,
    test_emb: np.ndarray,
    test_labels: Sequence,
    *,
    seed: int = 42,
    n_experiments: int = 10,
    samples_per_label: int = 8,
) -> ClassificationScores:
    """Fit mteb's logistic-regression probe ``n_experiments`` times and average its test scores.

    ``train_emb`` (n_train, dim) and ``test_emb`` (n_test, dim) are precomputed embeddings. With a
    single labelled set, split it first with ``train_test_split_for_probe``.
    """
    # 1. Validate
    x_train = embedding_matrix(train_emb, "train_emb")
    x_test = embedding_matrix(test_emb, "test_emb")
    y_train = label_list(train_labels, len(x_train), name="train_labels", rows_name="train_emb")
    y_test = label_list(test_labels, len(x_test), name="test_labels", rows_name="test_emb")
    n_experiments = positive_int(n_experiments, "n_experiments")
    samples_per_label = positive_int(samples_per_label, "samples_per_label")
    _check_probe_data(x_train, y_train, x_test, y_test)

    # 2. mteb sets the probe's random_state to the task seed (AbsTaskClassification.evaluate)
    probe = LogisticRegression(max_iter=PROBE_MAX_ITER, random_state=seed)

    # 3. Undersample, fit, predict, score: once per experiment
    permutation = list(range(len(y_train)))
    per_experiment, n_train = [], []
    for _ in range(n_experiments):
        selected = _undersample(permutation, y_train, samples_per_label, seed)
        probe.fit(x_train[selected], [y_train[i] for i in selected])
        per_experiment.append(_experiment_scores(y_test, probe.predict(x_test)))
        n_train.append(len(selected))

    # 4. Plain mean over experiments; a metric that is None everywhere becomes NaN
    #    (mteb/abstasks/classification.py, _calculate_avg_scores)
    means = {key: _mean_or_nan([s[key] for s in per_experiment]) for key in per_experiment[0]}
    return ClassificationScores(main_score=means["accuracy"], **means,
                                scores_per_experiment=per_experiment,
                                n_train_per_experiment=n_train)


def train_test_split_for_probe(labels: Sequence, *, seed: int = 42,
                               test_size: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train_indices, test_indices) for a labelled set that has no train/test split.

    Not an mteb step: mteb's tasks ship their own splits, and its few single-split tasks use 5-fold
    cross-validation instead (``is_cross_validation`` in mteb/abstasks/classification.py). This is
    sklearn's ``train_test_split(stratify=labels, random_state=seed)``, so every class keeps its
    share on both sides. Half goes to test by default: the probe only ever trains on
    ``samples_per_label`` rows per class, so a large test side buys a steadier score at no cost.
    Both index arrays are sorted.
    """
    y = label_list(labels, len(labels))
    counts = require_classes(y)
    if not 0 < test_size < 1:
        raise DataError(f"test_size must be a fraction strictly between 0 and 1, got {test_size!r}.")
    rare = sorted((repr(k) for k, v in counts.items() if v < 2))
    if rare:
        raise DataError(f"Classes with a single example cannot be split into train and test: "
                        f"{', '.join(rare[:5])}. Add examples or drop those classes.")
    n_test = int(np.ceil(test_size * len(y)))
    if n_test < len(counts) or len(y) - n_test < len(counts):
        raise DataError(f"A stratified split of {len(y)} rows with test_size={test_size} leaves fewer "
                        f"rows than the {len(counts)} classes on one side; adjust test_size.")
    train_idx, test_idx = train_test_split(np.arange(len(y)), test_size=test_size,
                                           stratify=np.asarray(y), random_state=seed)
    return np.sort(train_idx), np.sort(test_idx)


def _check_probe_data(x_train: np.ndarray, y_train: list, x_test: np.ndarray, y_test: list) -> None:
    if x_train.shape[1] != x_test.shape[1]:
        raise DataError(f"train_emb has dimension {x_train.shape[1]} but test_emb has "
                        f"{x_test.shape[1]}; embed both with the same model.")
    check_probe_labels(y_train, y_test)


def check_probe_labels(y_train: list, y_test: list) -> None:
    """What the probe needs of its labels (checked before anything is embedded, too)."""
    counts = require_classes(y_train, name="train_labels")
    rare = sorted(repr(k) for k, v in counts.items() if v < MIN_TRAIN_PER_CLASS)
    if rare:
        raise DataError(f"The probe needs at least {MIN_TRAIN_PER_CLASS} training examples per class; "
                        f"too few for {', '.join(rare[:5])}. Add examples or drop those classes.")
    unseen = sorted({repr(v) for v in y_test if v not in counts})
    if unseen:
        raise DataError(f"test_labels has classes the training set never shows, so the probe can never "
                        f"predict them: {', '.join(unseen[:5])}.")


def _undersample(permutation: list[int], labels: list, samples_per_label: int, seed: int) -> list[int]:
    """mteb/abstasks/classification.py ``_undersample_data``; shuffles ``permutation`` in place."""
    np.random.RandomState(seed).shuffle(permutation)  # RandomState "for backward compatibility with v1"
    taken: dict = defaultdict(int)
    selected = []
    for i in permutation:
        if taken[labels[i]] < samples_per_label:
            selected.append(i)
            taken[labels[i]] += 1
    return selected


def _experiment_scores(y_true: list, y_pred: np.ndarray) -> ExperimentScores:
    """mteb/abstasks/classification.py ``_calculate_scores``."""
    scores = ExperimentScores(
        accuracy=float(accuracy_score(y_true, y_pred)),
        f1=float(f1_score(y_true, y_pred, average="macro")),
        f1_weighted=float(f1_score(y_true, y_pred, average="weighted")),
        precision=float(precision_score(y_true, y_pred, average="macro")),
        precision_weighted=float(precision_score(y_true, y_pred, average="weighted")),
        recall=float(recall_score(y_true, y_pred, average="macro")),
        recall_weighted=float(recall_score(y_true, y_pred, average="weighted")),
        ap=None,
        ap_weighted=None,
    )
    if len(np.unique(y_true)) == 2:
        # mteb scores the hard 0/1 predictions, not probabilities, with sklearn's default
        # pos_label=1. For labels that do not include 1 (e.g. strings) sklearn raises and mteb
        # would crash; we report no AP instead.
        try:
            scores["ap"] = float(average_precision_score(y_true, y_pred, average="macro"))
            scores["ap_weighted"] = float(average_precision_score(y_true, y_pred, average="weighted"))
        except ValueError:
            pass
    return scores


def _mean_or_nan(values: list) -> float:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else float("nan")
