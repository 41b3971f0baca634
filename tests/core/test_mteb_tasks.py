"""MTEB-style tasks on precomputed embeddings: known answers, and equality with mteb's own code.

The equality tests run mteb's real task classes (``_evaluate_subset`` / ``evaluate``) with a fake
encoder that returns fixed vectors per text, so mteb's data loaders, samplers, evaluators and
metric code all run unchanged on the same numbers we score.
"""

import math

import numpy as np
import pytest

from embedlab.errors import DataError
from embedlab.evaluation.tasks import (classification_scores, clustering_scores, dedup_disagreement,
                                       dedup_groups, pair_classification_scores,
                                       train_test_split_for_probe)

TOL = 1e-6


# ---------------------------------------------------------------- helpers


def blobs(n_per_class, n_classes, dim=8, spread=0.01, seed=0):
    """Tight, far-apart clusters: class c sits at 10 * e_c."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    centres = 10 * np.eye(dim)[:n_classes]
    return centres[labels] + spread * rng.normal(size=(len(labels), dim)), labels


def noisy_classes(n, n_classes, dim=16, signal=1.0, seed=0):
    """Random embeddings with a class signal: the probe is neither perfect nor at chance."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    centres = rng.normal(size=(n_classes, dim))
    return signal * centres[labels] + rng.normal(size=(n, dim)), labels


def unit(deg):
    a = math.radians(deg)
    return [math.cos(a), math.sin(a)]


def pairs_with_cosines(cosines):
    """emb1 = e_x, emb2 at the angle whose cosine is given: cos(emb1[i], emb2[i]) = cosines[i]."""
    e1 = np.tile([1.0, 0.0], (len(cosines), 1))
    e2 = np.array([[c, math.sqrt(1 - c * c)] for c in cosines])
    return e1, e2


# ---------------------------------------------------------------- clustering: known answers


def test_clustering_separated_blobs_score_one():
    x, y = blobs(40, 3)
    out = clustering_scores(x, y, n_runs=3, run_size=200)
    assert out["v_measure"] == pytest.approx(1.0)
    assert out["v_measures"] == pytest.approx([1.0] * 3)
    assert out["v_measure_std"] == pytest.approx(0.0, abs=1e-12)
    assert out["ami"] == pytest.approx(1.0)
    assert out["main_score"] == out["v_measure"]
    assert (out["n_documents"], out["n_clusters"], out["n_runs"]) == (120, 3, 3)


def test_clustering_labels_unrelated_to_embeddings_score_near_zero():
    x, y = blobs(40, 3)
    shuffled = np.random.default_rng(1).permutation(y)
    out = clustering_scores(x, shuffled, n_runs=3, run_size=500)
    assert out["v_measure"] < 0.1
    assert abs(out["ami"]) < 0.1


def test_clustering_drops_minus_one_labels_and_subsamples():
    x, y = blobs(20, 3)
    y = y.copy()
    y[:5] = -1  # mteb's "no label" marker
    assert clustering_scores(x, y, n_runs=2, run_size=50)["n_documents"] == 55
    assert clustering_scores(x, y, n_runs=2, run_size=50, max_documents=30)["n_documents"] <= 30
    # int(0.5 * 60) rows are drawn before the -1 rows are dropped
    sub = clustering_scores(x, np.arange(60) % 3, n_runs=2, run_size=50, max_fraction=0.5)
    assert sub["n_documents"] == 30


def test_clustering_same_seed_same_scores_other_seed_other_samples():
    x, y = noisy_classes(150, 4, seed=3)
    a = clustering_scores(x, y, n_runs=2, run_size=100, seed=7)
    assert clustering_scores(x, y, n_runs=2, run_size=100, seed=7)["v_measures"] == a["v_measures"]
    assert clustering_scores(x, y, n_runs=2, run_size=100, seed=8)["v_measures"] != a["v_measures"]


# ---------------------------------------------------------------- classification: known answers


def test_probe_perfect_on_separated_classes():
    x, y = blobs(10, 2)
    out = classification_scores(x, y, x, y, n_experiments=3)
    for key in ("accuracy", "f1", "f1_weighted", "precision", "recall", "ap", "ap_weighted"):
        assert out[key] == pytest.approx(1.0), key
    assert out["main_score"] == out["accuracy"]
    assert len(out["scores_per_experiment"]) == 3


def test_probe_hand_computed_scores_with_one_mislabelled_test_point():
    x, y = blobs(10, 2)
    # test rows: two class-0 points, two class-1 points, but the second "0" lies in class 1's blob
    x_test = np.array([x[0], x[15], x[12], x[18]])
    y_test = [0, 0, 1, 1]
    out = classification_scores(x, y, x_test, y_test, n_experiments=2)
    # predictions [0, 1, 1, 1]
    assert out["accuracy"] == pytest.approx(0.75)
    assert out["f1"] == pytest.approx((2 / 3 + 0.8) / 2)  # class 0: P 1, R 1/2; class 1: P 2/3, R 1
    assert out["recall"] == pytest.approx((0.5 + 1) / 2)
    assert out["ap"] == pytest.approx(2 / 3)  # AP of hard predictions: one step at recall 1, precision 2/3


def test_probe_undersamples_each_class_to_samples_per_label():
    x, y = blobs(1, 3, dim=4)
    counts = {"a": 5, "b": 3, "c": 2}
    labels = [k for k, v in counts.items() for _ in range(v)]
    rng = np.random.default_rng(0)
    x_train = np.array([[10.0 * "abc".index(k), 1, 0, 0] for k in labels]) + rng.normal(size=(10, 4))
    out = classification_scores(x_train, labels, x_train, labels, samples_per_label=4, n_experiments=3)
    assert out["n_train_per_experiment"] == [4 + 3 + 2] * 3
    assert out["ap"] != out["ap"]  # three classes: mteb reports no AP, the average is NaN


def test_stratified_split_keeps_class_shares():
    labels = ["a"] * 10 + ["b"] * 6 + ["c"] * 4
    train, test = train_test_split_for_probe(labels, seed=1, test_size=0.5)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(20))
    picked = [labels[i] for i in test]
    assert (picked.count("a"), picked.count("b"), picked.count("c")) == (5, 3, 2)
    again, _ = train_test_split_for_probe(labels, seed=1, test_size=0.5)
    assert again.tolist() == train.tolist()


# ---------------------------------------------------------------- pair classification: known answers


def test_pair_scores_by_hand():
    e1, e2 = pairs_with_cosines([0.9, 0.8, 0.7, 0.6, 0.5])
    out = pair_classification_scores(e1, e2, [1, 0, 1, 0, 0])
    assert out["cosine_ap"] == pytest.approx((1 + 2 / 3) / 2)  # positives at ranks 1 and 3
    # best accuracy 4/5 first reached by cutting after rank 1; best F1 0.8 after rank 3
    assert out["cosine_accuracy"] == pytest.approx(0.8)
    assert out["cosine_accuracy_threshold"] == pytest.approx(0.85)
    assert out["cosine_f1"] == pytest.approx(0.8)
    assert out["cosine_precision"] == pytest.approx(2 / 3)
    assert out["cosine_recall"] == pytest.approx(1.0)
    assert out["cosine_f1_threshold"] == pytest.approx(0.65)
    # unit vectors: Euclidean distance ranks like cosine, and its thresholds are distances
    assert out["euclidean_ap"] == pytest.approx(out["cosine_ap"])
    assert out["euclidean_accuracy_threshold"] == pytest.approx(
        (math.sqrt(2 - 2 * 0.9) + math.sqrt(2 - 2 * 0.8)) / 2)
    assert out["main_score"] == out["max_ap"] >= out["cosine_ap"]


def test_pair_optional_model_similarity_row_joins_the_maximum():
    e1, e2 = pairs_with_cosines([0.9, 0.8, 0.7, 0.6, 0.5])
    labels = [1, 0, 1, 0, 0]
    out = pair_classification_scores(e1, e2, labels, similarity=[5, 1, 4, 2, 3])
    assert out["similarity_ap"] == pytest.approx(1.0)  # ranks both positives first
    assert out["max_ap"] == out["main_score"] == pytest.approx(1.0)
    assert out["cosine_ap"] == pytest.approx((1 + 2 / 3) / 2)
    assert "similarity_ap" not in pair_classification_scores(e1, e2, labels)


def test_pair_threshold_never_splits_tied_scores():
    e1, e2 = pairs_with_cosines([0.9, 0.9, 0.5])
    out = pair_classification_scores(e1, e2, [1, 0, 0])
    assert out["cosine_accuracy"] == pytest.approx(2 / 3)
    assert out["cosine_accuracy_threshold"] == pytest.approx(0.7)
    assert out["cosine_f1"] == pytest.approx(2 / 3)  # precision 1/2, recall 1


# ---------------------------------------------------------------- dedup: known answers


def test_dedup_groups_on_hand_made_vectors():
    e = np.array([
        [1, 0, 0], [2, 0, 0],      # same direction: cosine 1
        [0, 1, 0], [0, 1, 0.05],   # cosine 0.9988
        [0, 0, 1], [-1, 0, 0],     # alone
    ], dtype=np.float32)
    assert dedup_groups(e, 0.99) == [[0, 1], [2, 3]]
    assert dedup_groups(e, 1.0) == [[0, 1]]  # exact duplicates despite float rounding
    assert dedup_groups(e, -1.0) == [[0, 1, 2, 3, 4, 5]]


def test_dedup_links_are_transitive():
    e = np.array([unit(0), unit(10), unit(20), unit(90)])  # cos 10deg = 0.985, cos 20deg = 0.940
    assert dedup_groups(e, 0.98) == [[0, 1, 2]]
    assert dedup_groups(e, 0.99) == []


def test_dedup_blocks_give_the_same_components_as_the_full_matrix():
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(5)
    e = rng.normal(size=(60, 4))
    unit_rows = e / np.linalg.norm(e, axis=1, keepdims=True)
    adjacency = unit_rows @ unit_rows.T >= 0.8
    _, labels = connected_components(adjacency, directed=False)
    expected = sorted(
        [np.flatnonzero(labels == c).tolist() for c in np.unique(labels) if (labels == c).sum() > 1],
        key=lambda g: g[0])
    assert len(expected) > 1
    assert dedup_groups(e, 0.8) == expected
    assert dedup_groups(e, 0.8, chunk_size=1) == expected  # many blocks, links compressed often


def test_dedup_disagreement_lists_pairs_per_side():
    out = dedup_disagreement([[0, 1, 2]], [[1, 0], [3, 4]])
    assert out["only_a"] == [(0, 2), (1, 2)]
    assert out["only_b"] == [(3, 4)]
    assert out["n_both"] == 1


# ---------------------------------------------------------------- input validation


def _bad_inputs():
    x, y = blobs(3, 2)
    e1, e2 = pairs_with_cosines([0.9, 0.5])
    return [
        ("one label", lambda: clustering_scores(x, [0] * 6), "at least 2 different"),
        ("length mismatch", lambda: clustering_scores(x, y[:-1]), "must match"),
        ("1-D embeddings", lambda: clustering_scores(x[0], y), "2-D"),
        ("NaN", lambda: clustering_scores(np.full((6, 2), np.nan), y), "NaN"),
        ("both subsample knobs", lambda: clustering_scores(x, y, max_fraction=0.5, max_documents=3), "not both"),
        ("fraction out of range", lambda: clustering_scores(x, y, max_fraction=1.5), r"\(0, 1\]"),
        ("run smaller than k", lambda: clustering_scores(x, y, run_size=1), "run_size"),
        ("probe one class", lambda: classification_scores(x, [0] * 6, x, y), "at least 2 different"),
        ("probe class too small", lambda: classification_scores(x, [0, 0, 0, 1, 1, 2], x, y), "at least 2 training"),
        ("probe unseen test class", lambda: classification_scores(x, y, x[:2], [0, 7]), "never shows"),
        ("probe dims differ", lambda: classification_scores(x, y, x[:, :3], y), "dimension"),
        ("probe n_experiments", lambda: classification_scores(x, y, x, y, n_experiments=0), "positive integer"),
        ("split singleton class", lambda: train_test_split_for_probe([0, 0, 1]), "single example"),
        ("split too small", lambda: train_test_split_for_probe([0, 0, 1, 1], test_size=0.1), "adjust test_size"),
        ("pairs all positive", lambda: pair_classification_scores(e1, e2, [1, 1]), "both positive"),
        ("pairs not binary", lambda: pair_classification_scores(e1, e2, [1, 2]), "0 .* or 1"),
        ("pairs shapes", lambda: pair_classification_scores(e1, e2[:1], [1, 0]), "same shape"),
        ("pairs zero vector", lambda: pair_classification_scores(e1, np.zeros((2, 2)), [1, 0]), "all-zero"),
        ("pairs similarity length", lambda: pair_classification_scores(e1, e2, [1, 0], similarity=[1.0]), "one score per pair"),
        ("threshold above 1", lambda: dedup_groups(x, 1.5), r"\[-1, 1\]"),
        ("threshold below -1", lambda: dedup_groups(x, -1.01), r"\[-1, 1\]"),
        ("groups overlap", lambda: dedup_disagreement([[0, 1], [1, 2]], []), "two groups"),
        ("negative index", lambda: dedup_disagreement([[0, -1]], []), "non-negative"),
    ]


@pytest.mark.parametrize("name, call, message", _bad_inputs(), ids=[c[0] for c in _bad_inputs()])
def test_bad_input_raises_data_error(name, call, message):
    with pytest.raises(DataError, match=message):
        call()


# ---------------------------------------------------------------- equality with mteb's own code


class FixedEncoder:
    """An mteb EncoderProtocol that returns a fixed vector per text; similarity is cosine."""

    mteb_model_meta = None

    def __init__(self, table):
        self.table = table

    def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs):
        return np.asarray([self.table[text] for batch in inputs for text in batch["text"]])

    def similarity(self, a, b):
        raise NotImplementedError  # pair classification only needs the pairwise form

    def similarity_pairwise(self, a, b):
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        return np.sum(a * b, axis=1)


def encoder_for(prefix, embeddings):
    texts = [f"{prefix}-{i}" for i in range(len(embeddings))]
    return texts, dict(zip(texts, embeddings))


@pytest.fixture(scope="module")
def mteb_lib():
    return pytest.importorskip("mteb")


@pytest.mark.parametrize("config", [
    dict(n_runs=10, run_size=16_384, max_fraction=None, string_labels=False),  # mteb's run sizes
    dict(n_runs=4, run_size=300, max_fraction=0.5, string_labels=False),
    dict(n_runs=3, run_size=250, max_fraction=None, string_labels=True),
])
def test_clustering_equals_mteb_fast_clustering_task(mteb_lib, config):
    from datasets import Dataset
    from mteb.models import EncoderProtocol
    from mteb.timing import TimingStack

    x, y = noisy_classes(400, 5, dim=12, signal=0.8, seed=11)
    labels = [f"topic-{v}" for v in y] if config["string_labels"] else y.tolist()
    texts, table = encoder_for("doc", x)
    model = FixedEncoder(table)
    assert isinstance(model, EncoderProtocol)

    task = mteb_lib.get_task("BiorxivClusteringP2P.v2", eval_splits=["test"])
    task.max_fraction_of_documents_to_embed = config["max_fraction"]
    task.n_clusters, task.max_documents_per_cluster = config["n_runs"], config["run_size"]
    theirs = task._evaluate_subset(model, Dataset.from_dict({"sentences": texts, "labels": labels}),
                                   encode_kwargs={"batch_size": 64}, hf_split="test",
                                   hf_subset="default", timer=TimingStack())

    ours = clustering_scores(x, labels, seed=task.seed, n_runs=config["n_runs"],
                             run_size=config["run_size"], max_fraction=config["max_fraction"])
    assert ours["v_measures"] == pytest.approx(theirs["v_measures"]["Level 0"], abs=TOL)
    assert ours["v_measure"] == pytest.approx(theirs["v_measure"], abs=TOL)
    assert ours["v_measure_std"] == pytest.approx(theirs["v_measure_std"], abs=TOL)
    assert ours["ami"] == pytest.approx(theirs["ami"], abs=TOL)
    assert 0.05 < ours["v_measure"] < 0.95  # neither trivial nor perfect, so the test can tell


@pytest.mark.parametrize("config", [
    dict(n_classes=4, samples_per_label=8, n_experiments=10, string_labels=False),
    dict(n_classes=2, samples_per_label=16, n_experiments=5, string_labels=False),  # binary: AP too
    dict(n_classes=3, samples_per_label=32, n_experiments=3, string_labels=True),
])
def test_classification_equals_mteb_classification_task(mteb_lib, config):
    from datasets import Dataset, DatasetDict

    x, y = noisy_classes(260, config["n_classes"], dim=16, signal=0.8, seed=21)
    if config["string_labels"]:
        y = np.array([f"class-{v}" for v in y])
    x_train, y_train, x_test, y_test = x[:160], y[:160], x[160:], y[160:]
    train_texts, train_table = encoder_for("train", x_train)
    test_texts, test_table = encoder_for("test", x_test)

    task = mteb_lib.get_task("Banking77Classification")
    task.samples_per_label, task.n_experiments = config["samples_per_label"], config["n_experiments"]
    task.dataset = DatasetDict({
        "train": Dataset.from_dict({"text": train_texts, "label": y_train.tolist()}),
        "test": Dataset.from_dict({"text": test_texts, "label": y_test.tolist()}),
    })
    task.data_loaded = True
    theirs = task.evaluate(FixedEncoder({**train_table, **test_table}), "test",
                           encode_kwargs={"batch_size": 64})["default"]

    ours = classification_scores(x_train, y_train, x_test, y_test, seed=task.seed,
                                 n_experiments=config["n_experiments"],
                                 samples_per_label=config["samples_per_label"])
    for key in ("accuracy", "f1", "f1_weighted", "precision", "precision_weighted", "recall",
                "recall_weighted", "main_score"):
        assert ours[key] == pytest.approx(theirs[key], abs=TOL), key
    assert [s["accuracy"] for s in ours["scores_per_experiment"]] == pytest.approx(
        [s["accuracy"] for s in theirs["scores_per_experiment"]], abs=TOL)
    if config["n_classes"] == 2:
        assert ours["ap"] == pytest.approx(theirs["ap"], abs=TOL)
        assert ours["ap_weighted"] == pytest.approx(theirs["ap_weighted"], abs=TOL)
    else:
        assert math.isnan(ours["ap"]) and math.isnan(theirs["ap"])
    # the experiments really differ, so a wrong sampling order would show
    assert len({s["accuracy"] for s in ours["scores_per_experiment"]}) > 1


def _pair_data(kind):
    rng = np.random.default_rng(31)
    n = 300
    labels = rng.integers(0, 2, n)
    if kind == "ties":  # few distinct vectors: many tied scores of every kind
        e1 = rng.integers(0, 2, size=(n, 3)).astype(float) + np.array([1.0, 0, 0])
        e2 = np.where(labels[:, None] == 1, e1, rng.integers(0, 2, size=(n, 3)) + np.array([0, 1.0, 0]))
        return e1, e2, labels
    e1 = rng.normal(size=(n, 8))
    e2 = e1 * labels[:, None] * 0.7 + rng.normal(size=(n, 8)) * 1.3 + 0.5
    if kind == "float32":
        return e1.astype(np.float32), e2.astype(np.float32), labels
    return e1, e2, labels


@pytest.mark.parametrize("kind", ["float64", "float32", "ties"])
def test_pair_classification_equals_mteb_pair_task(mteb_lib, kind):
    from datasets import Dataset
    from mteb._evaluators import PairClassificationEvaluator
    from mteb.timing import TimingStack

    e1, e2, labels = _pair_data(kind)
    texts1, table1 = encoder_for("left", e1)
    texts2, table2 = encoder_for("right", e2)
    model = FixedEncoder({**table1, **table2})
    data = Dataset.from_dict({"sentence1": texts1, "sentence2": texts2, "labels": labels.tolist()})
    task = mteb_lib.get_task("TwitterSemEval2015")
    call = dict(hf_split="test", hf_subset="default", encode_kwargs={"batch_size": 64})

    theirs = task._evaluate_subset(model, data, timer=TimingStack(), **call)
    ours = pair_classification_scores(e1, e2, labels, similarity=model.similarity_pairwise(e1, e2))
    for kind_name in ("similarity", "cosine", "manhattan", "euclidean", "dot"):
        for metric in ("accuracy", "f1", "precision", "recall", "ap"):
            key = f"{kind_name}_{metric}"
            assert ours[key] == pytest.approx(theirs[key], abs=TOL), key
    for metric in ("accuracy", "f1", "precision", "recall", "ap"):
        assert ours[f"max_{metric}"] == pytest.approx(theirs[f"max_{metric}"], abs=TOL), metric
    without_model_row = pair_classification_scores(e1, e2, labels)
    if kind == "ties":  # rounding in the model's own cosine breaks ties that sklearn's cosine keeps
        assert theirs["similarity_ap"] != pytest.approx(theirs["cosine_ap"], abs=TOL)
    else:  # no ties: the model's cosine row repeats the cosine row, so leaving it out is harmless
        assert without_model_row["max_ap"] == pytest.approx(theirs["max_ap"], abs=TOL)

    # thresholds: mteb computes but does not report them, so ask its helpers directly
    distances = PairClassificationEvaluator(
        data, input1_column_name="sentence1", input2_column_name="sentence2",
        task_metadata=task.metadata, input1_prompt_type=None, input2_prompt_type=None,
        timer=TimingStack(), hf_split="test", hf_subset="default",
    )(model, encode_kwargs={"batch_size": 64})
    y = np.asarray(labels, dtype=np.int64)
    for kind_name, column, higher in (("cosine", "cosine_scores", True),
                                      ("manhattan", "manhattan_distances", False)):
        acc, acc_t = task._find_best_acc_and_threshold(distances[column], y, higher)
        f1, _, _, f1_t = task._find_best_f1_and_threshold(distances[column], y, higher)
        assert (ours[f"{kind_name}_accuracy"], ours[f"{kind_name}_f1"]) == pytest.approx((acc, f1), abs=TOL)
        assert ours[f"{kind_name}_accuracy_threshold"] == pytest.approx(acc_t, abs=TOL)
        assert ours[f"{kind_name}_f1_threshold"] == pytest.approx(f1_t, abs=TOL)
    assert 0.5 < ours["cosine_ap"] < 1.0
