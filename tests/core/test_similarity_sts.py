import math

import numpy as np
import pytest

from embedlab.bundled import pair_kinds
from embedlab.errors import DataError
from embedlab.evaluation.sts import evaluate_sts, sts_scores
from embedlab.similarity import (cosine_matrix, geometry, kind_means, matrix_spearman,
                                 paraphrase_hits)
from tests.fakes import TableEmbedder


def unit(angle_deg):
    a = math.radians(angle_deg)
    return [math.cos(a), math.sin(a)]


def test_cosine_matrix_known_values():
    m = cosine_matrix(np.array([[1, 0], [0, 2], [1, 1]], dtype=float))
    assert m[0, 1] == pytest.approx(0)
    assert m[0, 2] == pytest.approx(1 / math.sqrt(2))
    assert np.allclose(np.diag(m), 1)


def test_geometry_of_identical_and_orthogonal_vectors():
    same = geometry(np.tile([[1.0, 2.0, 3.0]], (5, 1)))
    assert same.mean_cosine == pytest.approx(1.0)
    ortho = geometry(np.eye(4) * np.array([[1], [2], [3], [4]]))
    assert ortho.mean_cosine == pytest.approx(0.0)
    assert ortho.norm_mean == pytest.approx(2.5)
    assert ortho.norm_cv == pytest.approx(np.std([1, 2, 3, 4]) / 2.5)


def test_centering_removes_a_shared_offset():
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(200, 16))
    shifted = spread + 20.0  # everything pushed along one direction
    assert geometry(shifted).mean_cosine > 0.9
    assert abs(geometry(shifted, centered=True).mean_cosine) < 0.05
    assert geometry(shifted).mean_cosine > geometry(spread).mean_cosine


def test_top_pc_share_of_points_on_a_line():
    points = np.array([[t, 2 * t + 0.001 * (-1) ** i] for i, t in enumerate(np.linspace(1, 2, 20))])
    # Unit vectors of points on a line through the origin are (almost) identical: PC1 holds all variance
    assert geometry(points).top_pc_share > 0.99


def test_matrix_spearman_uses_off_diagonal_pairs():
    a = np.array([[1, 0.9, 0.1], [0.9, 1, 0.5], [0.1, 0.5, 1]])
    b = np.array([[7, 0.3, 0.1], [0.3, 7, 0.2], [0.1, 0.2, 7]])  # same order of the 3 pairs
    assert matrix_spearman(a, b) == pytest.approx(1.0)
    assert matrix_spearman(a, -b) == pytest.approx(-1.0)


def test_kind_means_and_paraphrase_hits():
    kinds = pair_kinds(["t", "t", "t", "u"], ["g1", "g1", "g2", "g3"])
    m = np.array([[1, 0.9, 0.5, 0.1], [0.9, 1, 0.4, 0.0], [0.5, 0.4, 1, 0.2], [0.1, 0.0, 0.2, 1]])
    means = kind_means(m, kinds)
    assert means == pytest.approx({"paraphrase": 0.9, "same topic": 0.45, "unrelated": 0.1})
    assert paraphrase_hits(m, kinds) == 2
    m[0, 2] = m[2, 0] = 0.95  # text 0 now prefers a same-topic text over its paraphrase
    assert paraphrase_hits(m, kinds) == 1


def test_sts_known_answer():
    # Cosines are cos(0), cos(30), cos(60), cos(90); gold follows them exactly -> Spearman 1.
    e1 = np.array([unit(0)] * 4)
    e2 = np.array([unit(0), unit(30), unit(60), unit(90)])
    gold = [5.0, 3.0, 2.0, 0.0]
    result = sts_scores(e1, e2, gold)
    assert result.cosine_spearman == pytest.approx(1.0)
    cos = np.array([1, math.sqrt(3) / 2, 0.5, 0])
    assert result.cosine_pearson == pytest.approx(np.corrcoef(cos, gold)[0, 1])
    assert sts_scores(e1, e2, gold[::-1]).cosine_spearman == pytest.approx(-1.0)


def test_sts_rejects_degenerate_gold():
    e = np.eye(3)
    with pytest.raises(DataError, match="equal"):
        sts_scores(e, e, [1, 1, 1])
    with pytest.raises(DataError, match="at least 3"):
        sts_scores(e[:2], e[:2], [1, 2])


def test_evaluate_sts_encodes_each_distinct_sentence_once():
    table = {"a": unit(0), "b": unit(10), "c": unit(50), "d": unit(80)}
    enc = TableEmbedder(table)
    result = evaluate_sts(enc, ["a", "a", "a", "b"], ["b", "c", "d", "c"], [4, 2, 0, 3])
    assert sorted(enc.calls[0]) == ["a", "b", "c", "d"] and len(enc.calls) == 1
    # cosines: cos10, cos50, cos80, cos40 -> ranks match gold 4, 2, 0, 3
    assert result.cosine_spearman == pytest.approx(1.0)
    assert result.n_pairs == 4
