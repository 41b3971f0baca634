"""Known answers on the data inside the figures ui/charts.py builds (plotly only; no browser, no Streamlit)."""

import numpy as np
import pandas as pd
import pytest

from ui import charts

TEXTS = ["The cat sat on the mat.", "A   cat\nwas sitting on a rug, quietly, all afternoon long.", "Stocks fell."]


def test_short_labels_number_collapse_whitespace_and_truncate():
    assert charts.short_labels(TEXTS, width=10) == ["1. The cat sa…", "2. A cat was …", "3. Stocks fel…"]
    assert charts.short_labels(["exactly10!"], width=10) == ["1. exactly10!"]


def test_heatmaps_share_one_colour_scale_from_the_lowest_cosine_to_one():
    a = np.array([[1.0, 0.2, -0.3], [0.2, 1.0, 0.1], [-0.3, 0.1, 1.0]])
    b = np.array([[1.0, 0.9, 0.8], [0.9, 1.0, 0.7], [0.8, 0.7, 1.0]])
    fig = charts.heatmaps({"a": a, "b": b}, TEXTS)
    assert [t.coloraxis for t in fig.data] == ["coloraxis", "coloraxis"]
    assert fig.layout.coloraxis.cmin == pytest.approx(-0.3) and fig.layout.coloraxis.cmax == 1.0
    np.testing.assert_array_equal(fig.data[1].z, b)
    assert list(fig.data[0].y) == charts.short_labels(TEXTS) and list(fig.data[1].y) == [1, 2, 3]
    assert fig.data[0].customdata[0][2].tolist() == ["The cat sat on the mat.", "Stocks fell."]
    assert fig.layout.height == 260 + 18 * 3
    # All similarities positive: the scale still starts at 0, so panels stay comparable.
    assert charts.heatmaps({"b": b}, TEXTS).layout.coloraxis.cmin == 0.0


def test_difference_is_symmetric_around_zero():
    a, b = np.eye(3), np.full((3, 3), 0.5)
    fig = charts.difference(a, b, TEXTS, "A", "B")
    heat = fig.data[0]
    np.testing.assert_allclose(heat.z, a - b)
    assert (heat.zmin, heat.zmid, heat.zmax) == (-0.5, 0, 0.5)
    assert fig.layout.title.text.startswith("A − B")
    assert charts.difference(a, a, TEXTS, "A", "A").data[0].zmax == pytest.approx(1e-6)  # no zero-width scale


def test_geometry_bars_plot_both_measures_and_leave_room_below_zero():
    rows = [{"model": "m1", "mean_cosine": 0.8, "top_pc_share": 0.3},
            {"model": "m2", "mean_cosine": -0.2, "top_pc_share": 0.1}]
    fig = charts.geometry_bars(rows)
    assert [list(t.y) for t in fig.data] == [[0.8, -0.2], [0.3, 0.1]]
    assert list(fig.data[0].text) == ["0.80", "-0.20"]
    assert fig.layout.yaxis.range == pytest.approx((-0.25, 1.1))


def test_pair_histograms_one_per_model():
    fig = charts.pair_histograms({"a": np.array([0.1, 0.2]), "b": np.array([0.5])})
    assert [(t.name, list(t.x)) for t in fig.data] == [("a", [0.1, 0.2]), ("b", [0.5])]
    assert all(t.histnorm == "probability" for t in fig.data)


def test_corpus_map_orders_groups_naturally_noise_last_and_grey():
    coords = np.arange(12, dtype=float).reshape(6, 2)
    groups = ["cluster 10", "noise", "cluster 2", "cluster 2", "cluster 10", "cluster 1"]
    texts = [f"doc {i}" for i in range(6)]
    fig = charts.corpus_map(coords, groups, texts, extra=["kw"] * 6)
    assert [t.name for t in fig.data] == ["cluster 1 (1)", "cluster 2 (2)", "cluster 10 (2)", "noise (1)"]
    assert fig.data[-1].marker.color == "#b0b0b0"
    assert len({t.marker.color for t in fig.data}) == 4
    two = fig.data[1]
    assert list(two.customdata) == [2, 3] and list(two.x) == [4.0, 6.0] and list(two.y) == [5.0, 7.0]
    assert two.hovertext[0] == "<b>cluster 2</b> · kw<br>doc 2"


def test_corpus_map_draws_only_the_sampled_rows_and_rings_search_matches():
    coords = np.zeros((5, 2))
    groups = ["cluster 0"] * 5
    highlight = np.array([True, False, True, False, True])
    fig = charts.corpus_map(coords, groups, ["t"] * 5, rows=np.array([0, 1, 4]), highlight=highlight)
    assert [t.name for t in fig.data] == ["cluster 0 (3)", "search matches (2)"]
    assert list(fig.data[1].customdata) == [0, 4]
    assert fig.data[0].marker.opacity == 0.25  # the rest is dimmed while matches are shown
    assert charts.corpus_map(coords, groups, ["t"] * 5).data[0].marker.opacity == 0.75


def test_agreement_map_colours_the_drawn_rows_by_agreement():
    coords = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    fig = charts.agreement_map(coords, np.array([0.1, 0.5, 0.9]), ["a", "b", "c"], rows=np.array([2, 0]), title="m")
    scatter = fig.data[0]
    assert list(scatter.x) == [4.0, 0.0] and list(scatter.marker.color) == [0.9, 0.1]
    assert (scatter.marker.cmin, scatter.marker.cmax) == (0, 1) and fig.layout.title.text == "m"


def test_token_heatmap_boxes_each_query_tokens_best_match():
    sims = np.array([[0.1, 0.9, 0.2], [0.7, 0.3, 0.6]])
    fig = charts.token_heatmap(["cat", "cat"], ["the", "cat", "sat"], sims)
    heat, boxes = fig.data
    assert list(heat.x) == ["the·0", "cat·1", "sat·2"] and list(heat.y) == ["cat·0", "cat·1"]
    assert list(boxes.x) == ["cat·1", "the·0"] and list(boxes.y) == ["cat·0", "cat·1"]
    assert heat.zmin == 0.0 and heat.zmax == 1


def test_metric_bars_sorted_with_values_as_text():
    table = pd.DataFrame({"nDCG@10": [0.5, 0.25, 0.75]}, index=["dense", "bm25", "hybrid"])
    bar = charts.metric_bars(table, "nDCG@10").data[0]
    assert list(bar.y) == ["bm25", "dense", "hybrid"] and list(bar.text) == ["0.250", "0.500", "0.750"]


def test_loss_curve_moving_average():
    losses = [(s, float(v)) for s, v in zip(range(1, 11), [10, 8, 6, 4, 2, 2, 2, 2, 2, 2])]
    fig = charts.loss_curve(losses, total=20)
    raw, smooth = fig.data
    assert list(raw.x) == list(range(1, 11))
    assert smooth.name == "mean of 2 steps"  # window = len // 5, between 1 and 25
    np.testing.assert_allclose(smooth.y, [9, 7, 5, 3, 2, 2, 2, 2, 2])
    assert list(smooth.x) == list(range(2, 11)) and fig.layout.xaxis.range == (0, 20)
    assert len(charts.loss_curve([(1, 1.0), (2, 0.5)]).data) == 1  # too short to smooth
    assert len(charts.loss_curve([]).data) == 0


def test_before_after_histograms_and_bars():
    before = {"positive": np.array([0.5]), "negative": np.array([0.4])}
    after = {"positive": np.array([0.9]), "negative": np.array([0.1])}
    fig = charts.before_after_histograms(before, after)
    assert [(t.name, t.showlegend, list(t.x)) for t in fig.data] == [
        ("positive", True, [0.5]), ("negative", True, [0.4]), ("positive", False, [0.9]), ("negative", False, [0.1])]
    table = pd.DataFrame({"before": [0.2, -0.1], "after": [0.6, 0.3]}, index=["nDCG@10", "MRR@10"])
    bars = charts.before_after_bars(table)
    assert [(t.name, list(t.y)) for t in bars.data] == [("before", [0.2, -0.1]), ("after", [0.6, 0.3])]
    assert bars.layout.yaxis.range == pytest.approx((-0.15, 1.15))


# -- the explorer map: cluster colours, labels, focus, search highlight, legend placement -------------
def _hsv(colour: str):
    import colorsys

    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)


def test_the_search_highlight_colour_is_one_no_cluster_uses():
    palette = {c.upper() for c in charts.CLUSTER_PALETTE}
    assert charts.HIGHLIGHT_COLOUR.upper() not in palette and charts.NOISE_COLOUR.upper() not in palette
    # Not merely a different hex code: every cluster colour is a clear hue, the highlight is black.
    assert all(s >= 0.45 and v >= 0.45 for s, v in (_hsv(c)[1:] for c in charts.CLUSTER_PALETTE))
    assert _hsv(charts.HIGHLIGHT_COLOUR)[2] == 0.0
    labels = np.arange(60) % 40 - 1  # 39 clusters and noise: the palette wraps around
    coords = np.random.default_rng(0).normal(size=(60, 2))
    fig = charts.corpus_map(coords, [charts.cluster_group(l) for l in labels], ["t"] * 60,
                            colours=charts.cluster_colours(labels), highlight=np.arange(60) < 5)
    ring = fig.data[-1]
    assert ring.name == "search matches (5)" and ring.marker.line.color == charts.HIGHLIGHT_COLOUR
    assert charts.HIGHLIGHT_COLOUR not in {t.marker.color for t in fig.data[:-1]}


def test_cluster_colours_follow_the_number_so_matched_maps_agree():
    a = charts.cluster_colours(np.array([0, 3, -1, 3]))
    b = charts.cluster_colours(np.array([3, 40]))
    assert a == {"cluster 0": charts.CLUSTER_PALETTE[0], "cluster 3": charts.CLUSTER_PALETTE[3],
                 "noise": charts.NOISE_COLOUR}
    assert b["cluster 3"] == a["cluster 3"]
    assert b["cluster 40"] == charts.CLUSTER_PALETTE[40 % len(charts.CLUSTER_PALETTE)]
    coords = np.zeros((3, 2))
    fig = charts.corpus_map(coords, ["cluster 3", "cluster 3", "cluster 0"], ["t"] * 3, colours=a)
    assert [(t.name, t.marker.color) for t in fig.data] == [("cluster 0 (1)", charts.CLUSTER_PALETTE[0]),
                                                           ("cluster 3 (2)", charts.CLUSTER_PALETTE[3])]


def test_cluster_keywords_are_written_at_each_centre_on_top_of_the_points():
    from embedlab.explorer.topics import cluster_centres

    coords = np.array([[0, 0], [2, 2], [4, 0], [10, 10], [12, 14], [50, 50]], dtype=float)
    labels = np.array([0, 0, 0, 1, 1, -1])
    keywords = {0: ["film", "actor", "oscar", "award"], 1: ["match", "goal"], -1: ["said"]}
    marks = charts.cluster_labels(cluster_centres(coords, labels), keywords)
    fig = charts.corpus_map(coords, [charts.cluster_group(l) for l in labels], ["t"] * 6,
                            colours=charts.cluster_colours(labels), labels=marks)
    notes = fig.layout.annotations
    assert [(n.x, n.y, n.text) for n in notes] == [(2.0, 0.0, "<b>0</b> film · actor · oscar"),
                                                   (11.0, 12.0, "<b>1</b> match · goal")]  # noise: none
    assert [n.bordercolor for n in notes] == [charts.CLUSTER_PALETTE[0], charts.CLUSTER_PALETTE[1]]
    assert all(n.showarrow is False and n.bgcolor.startswith("rgba(255,255,255") for n in notes)
    assert charts.cluster_labels({2: (0.0, 1.0)}, {2: ["a", "b", "c"]}, words=2)[0].text == "<b>2</b> a · b"


def test_a_focused_cluster_is_drawn_strong_and_the_rest_fades():
    coords = np.zeros((4, 2))
    labels = np.array([0, 0, 1, -1])
    marks = [charts.MapLabel(0, 0, "zero", "cluster 0"), charts.MapLabel(1, 1, "one", "cluster 1")]
    fig = charts.corpus_map(coords, [charts.cluster_group(l) for l in labels], ["t"] * 4,
                            colours=charts.cluster_colours(labels), labels=marks, focus="cluster 1")
    assert [(t.name, t.marker.opacity, t.marker.size) for t in fig.data] == [
        ("cluster 0 (2)", 0.08, 5), ("cluster 1 (1)", 0.95, 7), ("noise (1)", 0.08, 5)]
    assert [n.opacity for n in fig.layout.annotations] == [0.3, 1.0]


def test_the_legend_sits_outside_the_plot_below_the_toolbar():
    for fig in (charts.corpus_map(np.zeros((2, 2)), ["a", "b"], ["t", "u"]),
                charts.agreement_map(np.zeros((2, 2)), np.array([0.2, 0.8]), ["t", "u"], rows=np.arange(2), title="m")):
        legend = fig.layout.legend
        # Right of the plot area (x >= 1 in paper units), its top at the plot area's top (y = 1): the
        # toolbar, drawn in the top margin, is above it; the margin is taller than the ~30 px toolbar.
        assert (legend.x, legend.xanchor, legend.y, legend.yanchor) == (1.02, "left", 1.0, "top")
        assert fig.layout.margin.t >= 40 and fig.layout.modebar.orientation == "h"
    # Streamlit selects a clicked point only when the figure sets no lasso or box drag mode.
    assert charts.corpus_map(np.zeros((2, 2)), ["a", "b"], ["t", "u"]).layout.dragmode is None
    colorbar = fig.data[0].marker.colorbar
    assert colorbar.x >= 1.0 and colorbar.y == 1.0 and colorbar.yanchor == "top" and colorbar.len < 1


def test_labels_that_would_cover_each_other_are_moved_a_line_apart():
    h = charts.LABEL_HEIGHT
    assert charts.label_shifts([(0, 0), (500, 0)], [100, 100]) == [0, 0]  # apart: stay
    assert charts.label_shifts([(0, 0), (100, 0)], [100, 100]) == [0, 0]  # touching is not covering
    assert charts.label_shifts([(0, 0), (0, 0), (0, 0)], [100, 100, 100]) == [0, h, -h]
    assert charts.label_shifts([(0, 0), (60, 5)], [100, 100]) == [0, h]  # half over the first: one line up
    # Nowhere free within the tries: the label stays on its point.
    assert charts.label_shifts([(0, 0)] * 4, [100] * 4, tries=1) == [0, h, -h, 0]


def test_a_moved_label_points_back_to_its_centre_and_the_largest_cluster_keeps_its_place():
    coords = np.array([[0, 0], [0, 1], [1, 1], [1, 0], [0.5, 0.5]], dtype=float)
    labels = np.array([0, 1, 1, 1, 0])
    marks = [charts.MapLabel(0.5, 0.5, "small", "cluster 0"), charts.MapLabel(0.5, 0.5, "big", "cluster 1")]
    fig = charts.corpus_map(coords, [charts.cluster_group(l) for l in labels], ["t"] * 5,
                            colours=charts.cluster_colours(labels), labels=marks)
    big, small = fig.layout.annotations
    assert (big.text, big.showarrow) == ("big", False)
    assert (small.text, small.showarrow, small.ax, small.ay) == ("small", True, 0, -charts.LABEL_HEIGHT)
    assert small.arrowcolor == charts.CLUSTER_PALETTE[0]


def test_legends_sit_above_the_plot_never_on_the_x_axis_title():
    rows = [{"model": "m1", "mean_cosine": 0.8, "top_pc_share": 0.3}]
    table = pd.DataFrame({"before": [0.2], "after": [0.6]}, index=["nDCG@10"])
    both = {"positive": np.array([0.5]), "negative": np.array([0.4])}
    figures = {
        "geometry_bars": charts.geometry_bars(rows),
        "pair_histograms": charts.pair_histograms({"a": np.array([0.1])}),
        "loss_curve": charts.loss_curve([(1, 1.0)]),
        "before_after_bars": charts.before_after_bars(table),
        "before_after_histograms": charts.before_after_histograms(both, both),
        "quality_speed": charts.quality_speed(["a", "b"], [10.0, 100.0], [0.5, 0.4], [1, 0]),
    }
    for name, fig in figures.items():
        legend = fig.layout.legend
        assert legend.orientation == "h" and legend.yanchor == "bottom" and legend.y >= 1.0, name
        assert fig.layout.margin.t >= 40, name  # room for the legend row above the plot
    # The before/after panels have titles at the top edge: the legend goes above them.
    titles = [a.y for a in figures["before_after_histograms"].layout.annotations]
    assert figures["before_after_histograms"].layout.legend.y > max(titles)


def test_model_colours_follow_the_order_given_and_repeat_only_after_the_palette():
    colours = charts.model_colours(["b", "a", "b", "c"])
    assert list(colours) == ["b", "a", "c"]
    assert colours == {"b": charts.MODEL_PALETTE[0], "a": charts.MODEL_PALETTE[1], "c": charts.MODEL_PALETTE[2]}
    many = charts.model_colours([f"m{i}" for i in range(len(charts.MODEL_PALETTE) + 1)])
    assert len(set(many.values())) == len(charts.MODEL_PALETTE)
    assert charts.FRONT_COLOUR not in charts.MODEL_PALETTE


def test_benchmark_bars_and_quality_speed_colour_each_model_the_same_way():
    colours = charts.model_colours(["minilm", "wordllama", "mpnet"])
    bars = charts.task_bars({"wordllama": 0.41, "minilm": 0.8234}, "main_score", colours).data[0]
    assert list(bars.x) == ["wordllama", "minilm"] and list(bars.text) == ["0.410", "0.823"]
    assert list(bars.marker.color) == [colours["wordllama"], colours["minilm"]]
    fig = charts.quality_speed(["mpnet", "minilm", "wordllama"], [60.0, 240.0, 9000.0], [0.80, 0.82, 0.60],
                               [1, 2], colours=colours)
    points = fig.data[1]
    assert list(points.marker.color) == [colours["mpnet"], colours["minilm"], colours["wordllama"]]
    assert list(points.marker.line.color) == ["white", charts.FRONT_COLOUR, charts.FRONT_COLOUR]  # front ringed
    assert list(points.marker.line.width) == [1, 3, 3]
    assert list(fig.data[0].x) == [240.0, 9000.0]  # the front's dotted line, by rising speed
