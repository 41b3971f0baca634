"""Known answers for the exact neighbour graph the explorer hands to both UMAP reductions."""

import numpy as np
import pytest

from embedlab.errors import OptionError
from embedlab.explorer.knn import EXACT_METRICS, nearest_neighbours


def brute_force(x: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Every pairwise distance in float64, self first (UMAP's convention), then ascending."""
    x = x.astype(np.float64)
    if metric == "correlation":
        x = x - x.mean(axis=1, keepdims=True)
    if metric == "euclidean":
        d = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
    else:
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        d = 1 - unit @ unit.T
    np.fill_diagonal(d, -1)  # itself first
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    dist = np.take_along_axis(d, idx, axis=1)
    dist[:, 0] = 0
    return idx, dist


@pytest.mark.parametrize("metric", EXACT_METRICS)
@pytest.mark.parametrize("block", [7, 1024])
def test_exact_graph_matches_brute_force(metric, block):
    x = np.random.default_rng(3).normal(size=(150, 12)).astype(np.float32)
    graph = nearest_neighbours(x, 10, metric=metric, block=block)
    idx, dist = brute_force(x, 10, metric)
    assert graph.indices.dtype == np.int32 and graph.distances.dtype == np.float32
    np.testing.assert_array_equal(graph.indices, idx)
    np.testing.assert_allclose(graph.distances, dist, atol=1e-5)
    assert (graph.indices[:, 0] == np.arange(150)).all() and (graph.distances[:, 0] == 0).all()
    assert (np.diff(graph.distances, axis=1) >= 0).all()


def test_itself_comes_first_even_beside_an_exact_duplicate():
    x = np.array([[1, 0], [1, 0], [0, 1], [0.1, 1]], dtype=np.float32)
    graph = nearest_neighbours(x, 2)
    assert graph.indices.tolist() == [[0, 1], [1, 0], [2, 3], [3, 2]]
    assert graph.distances[0].tolist() == [0, 0]


def test_cosine_ignores_length_and_known_distances():
    x = np.array([[1, 0], [0, 3], [2, 2]], dtype=np.float32)  # 45 degrees between [2,2] and each axis
    graph = nearest_neighbours(x, 3)
    assert graph.indices[0].tolist() == [0, 2, 1]
    np.testing.assert_allclose(graph.distances[0], [0, 1 - np.sqrt(0.5), 1], atol=1e-6)


def test_for_umap_gives_fresh_truncated_copies():
    graph = nearest_neighbours(np.random.default_rng(0).normal(size=(20, 4)), 6)
    idx, dist = graph.for_umap(4)
    assert idx.shape == dist.shape == (20, 4) and idx.flags.c_contiguous
    idx[:] = -1  # UMAP writes into the arrays it is given; the graph must not change
    assert (graph.indices[:, 0] == np.arange(20)).all()
    with pytest.raises(OptionError, match="6 neighbours per point; 7 were asked"):
        graph.for_umap(7)


def test_errors_name_the_valid_values():
    x = np.ones((5, 3), dtype=np.float32)
    with pytest.raises(OptionError, match="Exact metrics: cosine, correlation, euclidean"):
        nearest_neighbours(x, 2, metric="manhattan")
    with pytest.raises(OptionError, match="between 1 and 5"):
        nearest_neighbours(x, 6)
