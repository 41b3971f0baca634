"""Known answers for what the explorer's map shows beyond the pipeline: cluster label positions,
one document's neighbours in each model, and two models' clusters matched by overlap."""

import numpy as np
import pytest

from embedlab.errors import DataError, OptionError
from embedlab.explorer.compare import match_clusters
from embedlab.explorer.neighbours import nearest, neighbours_by_model
from embedlab.explorer.topics import cluster_centres


def unit(degrees):
    r = np.radians(np.asarray(degrees, dtype=float))
    return np.stack([np.cos(r), np.sin(r)], axis=1)


# -- label positions -------------------------------------------------------------------------------
def test_cluster_centres_are_per_axis_medians_and_noise_has_none():
    coords = np.array([[0, 0], [1, 10], [100, 2], [5, 5], [7, 9], [-3, -3]], dtype=float)
    labels = np.array([0, 0, 0, 1, 1, -1])
    centres = cluster_centres(coords, labels)
    assert centres == {0: (1.0, 2.0), 1: (6.0, 7.0)}  # the far point 100 moves a mean, not the median
    assert cluster_centres(coords, np.full(6, -1)) == {}


# -- neighbours ------------------------------------------------------------------------------------
def test_nearest_by_cosine_leaves_the_document_out_and_ignores_length():
    vectors = unit([0, 10, 30, 90, 180]) * np.array([[1], [5], [0.1], [2], [1]])  # lengths must not matter
    idx, cos = nearest(vectors, 0, k=3)
    assert idx.tolist() == [1, 2, 3]
    np.testing.assert_allclose(cos, np.cos(np.radians([10, 30, 90])), atol=1e-12)
    idx, _ = nearest(vectors, 4, k=1)
    assert idx.tolist() == [3]  # 90 degrees away; 30 is 150 away, 0 and 10 further still


def test_equal_cosines_keep_row_order_and_bad_arguments_are_refused():
    vectors = unit([0, 20, -20, 20])
    assert nearest(vectors, 0, k=3)[0].tolist() == [1, 2, 3]
    with pytest.raises(OptionError, match="k must be between 1 and 3"):
        nearest(vectors, 0, k=4)
    with pytest.raises(OptionError, match="Document 7 does not exist"):
        nearest(vectors, 7, k=1)


def test_neighbours_in_each_model_say_which_other_models_share_them():
    a = unit([0, 10, 30, 90, 180])  # around doc 0: 1, then 2
    b = unit([0, 40, 170, 100, 5])  # around doc 0: 4, then 1
    c = unit([0, 1, 2, 170, 100])  # around doc 0: 1, then 2
    found = neighbours_by_model({"a": a, "b": b, "c": c}, 0, k=2)
    assert [(n.index, n.shared_with) for n in found["a"]] == [(1, ("b", "c")), (2, ("c",))]
    assert [(n.index, n.shared_with) for n in found["b"]] == [(4, ()), (1, ("a", "c"))]
    assert [(n.index, n.shared_with) for n in found["c"]] == [(1, ("a", "b")), (2, ("a",))]
    assert found["b"][0].cosine == pytest.approx(np.cos(np.radians(5)))
    with pytest.raises(DataError, match="different numbers of documents"):
        neighbours_by_model({"a": a, "short": a[:4]}, 0, k=2)


# -- cluster matching ------------------------------------------------------------------------------
def test_b_as_a_permutation_of_a_is_renumbered_to_a_exactly_and_noise_stays():
    a = np.array([0, 0, 1, 1, 1, 2, -1, 2, -1, 3])
    permutation = {0: 3, 1: 0, 2: 1, 3: 2, -1: -1}
    b = np.array([permutation[x] for x in a])
    matching = match_clusters(a, b)
    np.testing.assert_array_equal(matching.labels_b, a)
    assert [(p.cluster, p.original_b, p.overlap) for p in matching.pairs] == [(0, 3, 2), (1, 0, 3), (2, 1, 2),
                                                                               (3, 2, 1)]
    assert all(p.jaccard == 1.0 for p in matching.pairs)


def test_the_assignment_maximises_total_overlap_not_each_greedy_pick():
    # A0 shares 3 with B0 and 2 with B1; A1 shares 3 with B0 and nothing with B1. Greedy (A0->B0) would
    # leave A1 unmatched (total 3); the assignment gives A0->B1, A1->B0 (total 5).
    a = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    b = np.array([0, 0, 0, 1, 1, 0, 0, 0])
    matching = match_clusters(a, b)
    assert [(p.cluster, p.original_b, p.overlap) for p in matching.pairs] == [(0, 1, 2), (1, 0, 3)]
    np.testing.assert_array_equal(matching.labels_b, [1, 1, 1, 0, 0, 1, 1, 1])


def test_unmatched_clusters_get_new_numbers_after_a_largest_first():
    a = np.array([0, 0, 0, 0, 2, 2, 2, -1, -1, -1, -1])  # A's numbers need not be contiguous
    b = np.array([7, 7, 7, 5, 5, 5, 4, 9, 9, 9, -1])  # B splits A2; B9 lies in A's noise
    matching = match_clusters(a, b)
    # A0 <- B7 (3 shared) and A2 <- B5 (2 shared); B9 (3 documents) and B4 (1) are left: 3 and 4.
    np.testing.assert_array_equal(matching.labels_b, [0, 0, 0, 2, 2, 2, 4, 3, 3, 3, -1])
    assert [(p.cluster, p.original_b, p.size_a, p.size_b, p.overlap) for p in matching.pairs] == [
        (0, 7, 4, 3, 3), (2, 5, 3, 3, 2), (3, 9, 0, 3, 0), (4, 4, 0, 1, 0)]
    assert [p.cluster for p in matching.matched] == [0, 2]
    assert matching.pairs[1].jaccard == pytest.approx(2 / 4)


def test_a_pair_that_shares_no_document_is_not_a_match():
    a = np.array([0, 0, 1, 1])
    b = np.array([0, 0, -1, -1])  # B has one cluster, inside A0; A1 has nothing to match
    matching = match_clusters(a, b)
    assert [(p.cluster, p.original_b) for p in matching.pairs] == [(0, 0), (1, None)]
    matching = match_clusters(np.array([-1, -1, 0]), np.array([0, 0, -1]))  # only noise overlaps B0
    np.testing.assert_array_equal(matching.labels_b, [1, 1, -1])
    with pytest.raises(DataError, match="different numbers of documents: 2 vs 3"):
        match_clusters(np.zeros(2), np.zeros(3))
