"""Known answers for the explorer's building blocks, on synthetic data."""

import numpy as np
import pytest

from embedlab.errors import DataError, OptionError
from embedlab.explorer.clustering import (
    ClusterConfig,
    auto_min_cluster_size,
    cluster,
    min_cluster_size_for,
)
from embedlab.explorer.compare import (
    cluster_agreement,
    knn_indices,
    label_scores,
    majority_labels,
    neighbourhood_agreement,
)
from embedlab.explorer.export import documents_frame, safe
from embedlab.explorer.knn import nearest_neighbours
from embedlab.explorer.pipeline import (
    ExploreConfig,
    explore,
    explore_config,
    shared_graph,
    warm_up,
)
from embedlab.explorer.projection import (
    ProjectionConfig,
    procrustes_align,
    project,
    reduce_dimensions,
)
from embedlab.explorer.topics import ctfidf_keywords, describe_clusters
from tests.fakes import TableEmbedder


def blobs(n_per=40, centers=3, dim=16, spread=0.05, seed=0):
    rng = np.random.default_rng(seed)
    means = np.eye(dim)[:centers] * 5
    x = np.concatenate([m + rng.normal(scale=spread, size=(n_per, dim)) for m in means])
    return x.astype(np.float32), np.repeat(np.arange(centers), n_per)


def test_pca_recovers_the_dominant_direction():
    t = np.linspace(-5, 5, 50)
    x = np.stack([t, 2 * t, np.zeros_like(t)], axis=1) + 0.01 * np.random.default_rng(0).normal(size=(50, 3))
    coords = project(x, ProjectionConfig(method="pca", n_components=2))
    # The first coordinate is the position along the line (up to sign, which is fixed deterministically).
    assert abs(np.corrcoef(coords[:, 0], t)[0, 1]) > 0.999
    assert np.allclose(coords, project(x, ProjectionConfig(method="pca", n_components=2)))


def test_umap_map_keeps_blobs_apart():
    x, truth = blobs()
    coords = project(x, ProjectionConfig(method="umap", n_neighbors=10))
    assert coords.shape == (120, 2)
    centroids = np.stack([coords[truth == c].mean(axis=0) for c in range(3)])
    within = max(np.linalg.norm(coords[truth == c] - centroids[c], axis=1).mean() for c in range(3))
    between = min(np.linalg.norm(centroids[a] - centroids[b]) for a in range(3) for b in range(a + 1, 3))
    assert between > 3 * within


def test_projection_config_errors_list_valid_values():
    with pytest.raises(OptionError, match="Valid methods: umap, pca"):
        ProjectionConfig(method="tsne")
    with pytest.raises(OptionError, match="Valid metrics: cosine"):
        ProjectionConfig(metric="hamming")
    with pytest.raises(DataError, match="at least 3 documents"):
        project(np.ones((2, 4)))


def test_too_few_documents_for_umap_is_said_not_hidden():
    x = np.random.default_rng(0).normal(size=(3, 8))
    reduced = reduce_dimensions(x, ProjectionConfig(method="umap"))
    assert reduced.method == "pca" and reduced.coords.shape == (3, 2)
    assert len(reduced.notes) == 1 and "PCA was used instead of UMAP" in reduced.notes[0]
    asked = reduce_dimensions(x, ProjectionConfig(method="pca"))  # asked for PCA: nothing to say
    assert asked.method == "pca" and asked.notes == ()
    np.testing.assert_array_equal(asked.coords, reduced.coords)


def test_umap_on_a_small_corpus_says_it_lowered_n_neighbors():
    x, _ = blobs(n_per=4)
    reduced = reduce_dimensions(x, ProjectionConfig(method="umap", n_neighbors=15))
    assert reduced.method == "umap" and reduced.notes == (
        "UMAP used n_neighbors=11 instead of 15: there are only 12 documents.",)


def test_procrustes_undoes_rotation_scale_and_shift():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(30, 2))
    angle = 1.1
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (ref @ rot) * 3.0 + np.array([10.0, -4.0])
    moved[:, 0] *= -1  # and a reflection
    np.testing.assert_allclose(procrustes_align(ref, moved), ref, atol=1e-5)


@pytest.mark.parametrize("space", ["raw", "umap-5d"])
def test_hdbscan_finds_separated_blobs_and_marks_outliers_as_noise(space):
    x, truth = blobs()
    outliers = np.random.default_rng(2).normal(scale=0.01, size=(3, 16)).astype(np.float32)
    outliers[:, 5:8] = [[7, 0, 0], [0, 7, 0], [0, 0, 7]]
    result = cluster(np.concatenate([x, outliers]), ClusterConfig(min_cluster_size=10, space=space))
    labels = result.labels
    assert result.space == space and result.notes == ()
    assert label_scores(labels[:120], truth).ari == pytest.approx(1.0)
    if space == "raw":
        assert (labels[120:] == -1).all()


def test_cluster_config_errors():
    with pytest.raises(OptionError, match="Valid spaces: umap-5d, raw"):
        ClusterConfig(space="tsne")
    with pytest.raises(DataError, match="fewer than min_cluster_size"):
        cluster(np.ones((5, 3)), ClusterConfig(min_cluster_size=10))


def test_clustering_a_tiny_corpus_says_it_reduced_with_pca():
    x, _ = blobs(n_per=3, centers=2)
    result = cluster(x, ClusterConfig(min_cluster_size=2))
    assert result.space == "pca-5d" and result.notes[0].startswith("Clustering: PCA was used instead of UMAP")


@pytest.mark.parametrize("n_docs, expected", [(5, 5), (100, 5), (120, 6), (299, 14), (300, 15), (2225, 15)])
def test_automatic_min_cluster_size(n_docs, expected):
    assert auto_min_cluster_size(n_docs) == expected
    assert min_cluster_size_for(n_docs) == expected


def test_min_cluster_size_is_checked_against_the_corpus_before_embedding():
    assert min_cluster_size_for(60, 8) == 8
    with pytest.raises(DataError, match="3 documents are fewer than min_cluster_size=5"):
        min_cluster_size_for(3)
    with pytest.raises(DataError, match="fewer than min_cluster_size=61"):
        explore_config(60, min_cluster_size=61)


def test_explore_config_reads_like_the_page_settings():
    config = explore_config(2225, map_method="pca", n_neighbors=30, min_samples=0, space="raw", seed=7)
    assert config.projection == ProjectionConfig(method="pca", n_neighbors=30, seed=7)
    assert config.clustering == ClusterConfig(min_cluster_size=15, min_samples=None, space="raw",
                                              umap_neighbors=30, seed=7)
    assert explore_config(60, min_samples=3).clustering.min_samples == 3


def test_ctfidf_picks_each_clusters_own_words():
    texts = ["apple banana fruit market", "banana apple smoothie", "apple orchard fruit",
             "goal striker match", "match referee goal", "striker goal penalty",
             "market shares rally", "shares market investors", "investors shares bonds"]
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    kw = ctfidf_keywords(texts, labels, top_n=2)
    assert kw[0][0][0] == "apple" and kw[1][0][0] == "goal" and kw[2][0][0] == "shares"
    # "market" appears in clusters 0 and 2, so it ranks below "shares" in cluster 2.
    assert [w for w, _ in kw[2]].index("shares") < len(kw[2])


def test_words_in_most_clusters_are_dropped_with_five_or_more():
    texts = [f"said topic{c} word{c}" for c in range(6)]
    kw = ctfidf_keywords(texts, np.arange(6), top_n=3)
    assert all("said" not in [w for w, _ in kw[c]] for c in range(6))


def test_describe_clusters_orders_by_size_noise_last_and_finds_central_docs():
    vectors = np.array([[1, 0], [0.9, 0.1], [0.8, 0.2], [0, 1], [0.1, 0.9], [1, 1]], dtype=np.float32)
    labels = np.array([0, 0, 0, 1, 1, -1])
    texts = ["a x", "a y", "a z", "b x", "b y", "c"]
    summary = describe_clusters(texts, vectors, labels, top_docs=1)
    assert [s.cluster for s in summary] == [0, 1, -1]
    assert summary[0].size == 3 and summary[0].central_docs == [1]


def test_knn_and_neighbourhood_agreement():
    x = np.array([[1, 0], [0.99, 0.1], [0, 1], [0.1, 0.99]], dtype=np.float32)
    assert knn_indices(x, 1)[:, 0].tolist() == [1, 0, 3, 2]
    assert neighbourhood_agreement(x, x * 7, k=1).tolist() == [1, 1, 1, 1]
    swapped = x[:, ::-1].copy()
    swapped[1] = [0.0, -1.0]  # document 1 moves away from document 0 in "model B"
    agreement = neighbourhood_agreement(x, swapped, k=1)
    assert agreement[1] == 0 and agreement[2] == 1


def test_knn_chunking_gives_the_same_answer():
    x, _ = blobs(n_per=30)
    np.testing.assert_array_equal(knn_indices(x, 5, chunk=7)[:, 0], knn_indices(x, 5)[:, 0])


def test_agreement_and_label_scores_known_answers():
    same = cluster_agreement(np.array([0, 0, 1, 1]), np.array([5, 5, 9, 9]))
    assert same.ari == pytest.approx(1) and same.nmi == pytest.approx(1)
    scores = label_scores(np.array([0, 0, 1, -1]), ["a", "a", "b", "b"])
    assert scores.noise_share == 0.25 and scores.v_measure < 1


def test_majority_label_of_each_cluster():
    clusters = np.array([0, 0, 0, 1, 1, -1])
    truth = ["a", "a", "b", "b", "b", "c"]
    assert majority_labels(clusters, truth) == {0: ("a", pytest.approx(2 / 3)), 1: ("b", 1.0), -1: ("c", 1.0)}


def test_explore_pipeline_with_a_table_embedder_and_export():
    x, truth = blobs(n_per=12, centers=2, dim=4)
    words = {0: "alpha beta", 1: "gamma delta"}
    texts = [f"{words[t]} doc{i}" for i, t in enumerate(truth)]
    enc = TableEmbedder({t: v.tolist() for t, v in zip(texts, x)})
    result = explore(texts, enc, ExploreConfig(projection=ProjectionConfig(method="pca"),
                                                clustering=ClusterConfig(min_cluster_size=5, space="raw")))
    assert len(enc.calls) == 1 and result.coords.shape == (24, 2)
    assert label_scores(result.labels, truth).v_measure == pytest.approx(1.0)
    assert set(result.seconds) == {"embed", "map", "cluster"}
    assert (result.map_method, result.cluster_space, result.notes) == ("pca", "raw", ())
    frame = documents_frame([str(i) for i in range(24)], texts, truth, {"m@cls": result})
    assert {"cluster_m_cls", "x_m_cls", "y_m_cls", "keywords_m_cls", "label"} <= set(frame.columns)
    assert safe("a/b@c") == "a_b_c"


def test_umap_from_a_given_graph_equals_umap_building_its_own_and_repeats_with_the_seed():
    x, _ = blobs(n_per=20)
    graph = nearest_neighbours(x, 15)
    config = ProjectionConfig(method="umap", n_neighbors=10)  # a graph with more neighbours is cut to 10
    given = reduce_dimensions(x, config, knn=graph)
    np.testing.assert_array_equal(given.coords, reduce_dimensions(x, config).coords)
    np.testing.assert_array_equal(given.coords, reduce_dimensions(x, config, knn=graph).coords)
    assert not np.array_equal(given.coords, reduce_dimensions(x, ProjectionConfig(n_neighbors=10, seed=7)).coords)
    clusters = ClusterConfig(min_cluster_size=10, umap_neighbors=10)
    np.testing.assert_array_equal(cluster(x, clusters, knn=graph).labels, cluster(x, clusters).labels)


def test_a_graph_of_another_metric_is_not_used():
    x, _ = blobs(n_per=20)
    euclidean = nearest_neighbours(x, 15, metric="euclidean")
    config = ProjectionConfig(n_neighbors=15)
    np.testing.assert_array_equal(reduce_dimensions(x, config, knn=euclidean).coords, reduce_dimensions(x, config).coords)


def test_explore_shares_one_graph_only_when_both_reductions_can_use_it():
    x, _ = blobs(n_per=20)
    both = shared_graph(x, explore_config(60, n_neighbors=12))
    assert both.metric == "cosine" and both.indices.shape == (60, 12)
    assert shared_graph(x, explore_config(60, map_method="pca")) is None  # only the clustering uses UMAP
    assert shared_graph(x, explore_config(60, space="raw")) is None  # only the map does
    assert shared_graph(x, explore_config(60, metric="euclidean")) is None  # map and clusters differ in metric
    assert shared_graph(x, explore_config(60, metric="manhattan")) is None


@pytest.mark.slow
def test_large_corpora_share_the_nn_descent_graph_umap_would_search_itself():
    large = np.random.default_rng(0).normal(size=(4096, 8)).astype(np.float32)
    graph = shared_graph(large, explore_config(4096, seed=42))
    assert graph.indices.shape == (4096, 15) and (graph.indices[:, 0] == np.arange(4096)).all()
    exact = nearest_neighbours(large, 15)
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(graph.indices, exact.indices)])
    assert recall > 0.9  # approximate, but nearly every neighbour found
    import umap

    own = umap.UMAP(n_neighbors=15, metric="cosine", random_state=42, n_jobs=1, n_epochs=1).fit(large)
    np.testing.assert_array_equal(graph.indices, own._knn_indices)


def test_explore_with_the_shared_graph_gives_the_same_map_and_clusters_as_separate_steps():
    x, truth = blobs(n_per=20)
    texts = [f"doc{i} topic{t}" for i, t in enumerate(truth)]
    config = explore_config(60, n_neighbors=10, min_cluster_size=10)
    result = explore(texts, TableEmbedder({t: v.tolist() for t, v in zip(texts, x)}), config)
    assert result.coords.shape == (60, 2) and result.labels.shape == (60,)
    assert (result.map_method, result.cluster_space) == ("umap", "umap-5d")
    vectors = result.vectors  # what the embedder returned (unit length), as the steps saw them
    np.testing.assert_array_equal(result.coords, reduce_dimensions(vectors, config.projection).coords)
    separate = cluster(vectors, config.clustering).labels
    np.testing.assert_array_equal(result.labels, separate)
    assert result.labels.max() + 1 == 3 and label_scores(result.labels, truth).ari == pytest.approx(1.0)


def test_warm_up_runs_the_map_and_clustering_path():
    warm_up()  # compiles numba's kernels on a tiny random corpus; must not raise
