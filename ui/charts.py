"""Plotly figures. Pure functions of arrays, so they can be tested without a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}
"""A horizontal legend sits above the plot: Plotly's default place for one is below the x axis, on
top of the axis title."""
MODEL_PALETTE = px.colors.qualitative.T10
FRONT_COLOUR = "#222222"  # the Pareto front's ring and line: a colour no model gets


def model_colours(names: list[str]) -> dict[str, str]:
    """One colour per model, by position in ``names``: every chart of a page passes the same list, so
    a model has the same colour in all of them."""
    return {name: MODEL_PALETTE[i % len(MODEL_PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def short_labels(texts: list[str], width: int = 28) -> list[str]:
    out = []
    for i, t in enumerate(texts, 1):
        t = " ".join(t.split())
        out.append(f"{i}. {t[:width]}{'…' if len(t) > width else ''}")
    return out


def _hover(texts: list[str]) -> np.ndarray:
    snippets = [" ".join(t.split())[:120] for t in texts]
    n = len(texts)
    return np.array([[[snippets[r], snippets[c]] for c in range(n)] for r in range(n)], dtype=object)


def heatmaps(matrices: dict[str, np.ndarray], texts: list[str]) -> go.Figure:
    """One heatmap per model on ONE colour scale, so brighter means more similar in every panel."""
    names = list(matrices)
    lo = min(0.0, min(float(m.min()) for m in matrices.values()))
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.03)
    labels = short_labels(texts)
    hover = _hover(texts)
    for k, name in enumerate(names, 1):
        fig.add_trace(
            go.Heatmap(
                z=matrices[name], x=list(range(1, len(texts) + 1)), y=labels if k == 1 else list(range(1, len(texts) + 1)),
                coloraxis="coloraxis", customdata=hover,
                hovertemplate="%{customdata[0]}<br>vs %{customdata[1]}<br>cosine %{z:.3f}<extra>" + name + "</extra>",
            ),
            row=1, col=k,
        )
        fig.update_yaxes(autorange="reversed", row=1, col=k, showticklabels=(k == 1))
    fig.update_layout(
        coloraxis={"colorscale": "Viridis", "cmin": lo, "cmax": 1.0, "colorbar": {"title": "cosine"}},
        height=260 + 18 * len(texts), margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def difference(a: np.ndarray, b: np.ndarray, texts: list[str], name_a: str, name_b: str) -> go.Figure:
    diff = a - b
    bound = float(max(np.abs(diff).max(), 1e-6))
    fig = go.Figure(
        go.Heatmap(
            z=diff, x=list(range(1, len(texts) + 1)), y=short_labels(texts), colorscale="RdBu", zmid=0,
            zmin=-bound, zmax=bound, customdata=_hover(texts), colorbar={"title": f"{name_a} − {name_b}"},
            hovertemplate="%{customdata[0]}<br>vs %{customdata[1]}<br>difference %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=260 + 18 * len(texts), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title=f"{name_a} − {name_b} (red: {name_b} judges more similar)")
    return fig


def geometry_bars(rows: list[dict]) -> go.Figure:
    """Mean random-pair cosine per model: the anisotropy at a glance."""
    names = [r["model"] for r in rows]
    fig = go.Figure()
    fig.add_bar(x=names, y=[r["mean_cosine"] for r in rows], name="mean cosine of random pairs",
                text=[f"{r['mean_cosine']:.2f}" for r in rows], textposition="outside")
    fig.add_bar(x=names, y=[r["top_pc_share"] for r in rows], name="variance share of top PC",
                text=[f"{r['top_pc_share']:.2f}" for r in rows], textposition="outside")
    fig.update_layout(barmode="group", yaxis={"range": [min(0, *[r["mean_cosine"] for r in rows]) - 0.05, 1.1]},
                      height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend=LEGEND_ABOVE)
    return fig


def pair_histograms(values: dict[str, np.ndarray]) -> go.Figure:
    fig = go.Figure()
    for name, v in values.items():
        fig.add_histogram(x=v, name=name, opacity=0.6, nbinsx=40, histnorm="probability")
    fig.update_layout(barmode="overlay", xaxis_title="cosine between random pairs", height=300,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend=LEGEND_ABOVE)
    return fig


def _snippet(text: str, width: int = 140) -> str:
    text = " ".join(text.split())
    return text[:width] + ("…" if len(text) > width else "")


def _natural_key(group: str):
    """'cluster 2' before 'cluster 10'; noise last."""
    return (group == "noise", [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", group)])


# Clusters get these colours by number (cluster n: CLUSTER_PALETTE[n % len]), so a cluster keeps its colour
# whichever others are drawn, and two maps whose clusters were matched agree. Saturated, not too dark and
# not pale yellow (invisible on white): Plotly's Dark24 and Light24 with the greys, near-blacks and pastels
# taken out. Noise is grey and a search match is ringed in black, two colours no cluster uses.
CLUSTER_PALETTE: tuple[str, ...] = (
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#B68100", "#750D86", "#EB663B", "#511CFB", "#00A08B",
    "#FB00D1", "#FC0080", "#6C7C32", "#862A16", "#A777F1", "#1616A7", "#DA60CA", "#AF0038", "#FD3216", "#00FE35",
    "#6A76FC", "#FE00CE", "#0DF9FF", "#FF9616", "#479B55", "#DC587D", "#D626FF", "#00B5F7", "#B68E00", "#FF0092",
    "#22FFA7", "#86CE00", "#FC6955", "#E48F72",
)
NOISE_COLOUR = "#b0b0b0"
HIGHLIGHT_COLOUR = "#000000"
NOISE_GROUP = "noise"


# Plotly draws its toolbar (the modebar) in the top-right corner of the figure. A top margin taller than
# the toolbar keeps it above the plot area, and the legend starts at the plot area's top, outside it to the
# right: the toolbar never covers the legend, and the legend never covers the (hidden) axes or the points.
MAP_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 44, "b": 10},
    "legend": {"x": 1.02, "xanchor": "left", "y": 1.0, "yanchor": "top", "itemsizing": "constant"},
    "modebar": {"orientation": "h"},
}


def cluster_group(label: int) -> str:
    """The legend name of a cluster number (-1: noise)."""
    return NOISE_GROUP if label < 0 else f"cluster {label}"


def cluster_colours(labels) -> dict[str, str]:
    """Each cluster's legend name -> its colour, by cluster number."""
    return {cluster_group(int(l)): NOISE_COLOUR if l < 0 else CLUSTER_PALETTE[int(l) % len(CLUSTER_PALETTE)]
            for l in set(np.asarray(labels).tolist())}


@dataclass(frozen=True)
class MapLabel:
    """Text written on a map at (x, y), framed in its group's colour."""

    x: float
    y: float
    text: str
    group: str


def cluster_labels(centres: dict[int, tuple[float, float]], keywords: dict[int, list[str]], *,
                   words: int = 3) -> list[MapLabel]:
    """One label per cluster centre: its number and its first ``words`` keywords."""
    return [MapLabel(x, y, f"<b>{c}</b> " + " · ".join(keywords.get(c, [])[:words]), cluster_group(c))
            for c, (x, y) in centres.items()]


LABEL_HEIGHT = 20  # px: a 12 px label line with its padding and frame
LABEL_CHAR = 6.8  # px: the mean width of a character at 12 px


def label_shifts(points: list[tuple[float, float]], widths: list[float], *, height: float = LABEL_HEIGHT,
                 tries: int = 6) -> list[float]:
    """How far (px, up positive) to move each label so that no two overlap, placing them in list order:
    a label stays on its point if it can, else takes the nearest free slot one label height above or
    below, up to ``tries`` heights away (if none is free, it stays where it is)."""
    placed: list[tuple[float, float, float, float]] = []
    shifts = []
    for (x, y), w in zip(points, widths):
        candidates = [0.0] + [s * k * height for k in range(1, tries + 1) for s in (1, -1)]
        free = (dy for dy in candidates
                if all(x + w / 2 <= l or x - w / 2 >= r or y + dy + height / 2 <= b or y + dy - height / 2 >= t
                       for l, b, r, t in placed))
        dy = next(free, 0.0)
        placed.append((x - w / 2, y + dy - height / 2, x + w / 2, y + dy + height / 2))
        shifts.append(dy)
    return shifts


def _label_annotations(fig: go.Figure, labels: list[MapLabel], colours: dict[str, str], *, drawn: np.ndarray,
                       sizes: dict[str, int], focus: str | None, plot_px: tuple[float, float]) -> None:
    """The labels on top of the points, largest group first, moved apart (with a line back to their
    centre) where they would cover each other. Pixel positions are estimated from ``plot_px``, the plot
    area's size, and the drawn points' range (the chart's width is the page's, unknown here)."""
    labels = sorted(labels, key=lambda m: -sizes.get(m.group, 0))
    low, span = drawn.min(axis=0), np.maximum(np.ptp(drawn, axis=0), 1e-9)
    points = [((m.x - low[0]) / span[0] * plot_px[0], (m.y - low[1]) / span[1] * plot_px[1]) for m in labels]
    widths = [LABEL_CHAR * len(re.sub(r"<[^>]+>", "", m.text)) + 10 for m in labels]
    for label, dy in zip(labels, label_shifts(points, widths)):
        colour = colours.get(label.group, NOISE_COLOUR)
        fig.add_annotation(
            x=label.x, y=label.y, text=label.text, font={"size": 12, "color": "#111111"},
            showarrow=bool(dy), ax=0, ay=-dy, arrowhead=0, arrowwidth=1, arrowcolor=colour,
            bgcolor="rgba(255,255,255,0.7)", bordercolor=colour, borderwidth=1.5, borderpad=2,
            opacity=1.0 if focus in (None, label.group) else 0.3)


def corpus_map(coords: np.ndarray, groups: list[str], texts: list[str], *, rows: np.ndarray | None = None,
               highlight: np.ndarray | None = None, extra: list[str] | None = None,
               colours: dict[str, str] | None = None, labels: list[MapLabel] | None = None,
               focus: str | None = None, legend: bool = True, height: int = 620, width: int = 900) -> go.Figure:
    """WebGL scatter, one trace per group (so the legend toggles groups). ``rows`` picks which
    documents to draw (a sample for very large corpora); customdata carries the document index.

    ``colours`` maps a group to its colour (default: ``CLUSTER_PALETTE`` in group order, noise grey);
    ``labels`` are written on top of the points, kept apart for a plot about ``width`` px wide;
    ``focus`` names a group drawn strong while the others fade; ``highlight`` rings the matching documents
    in ``HIGHLIGHT_COLOUR``.
    """
    rows = np.arange(len(coords)) if rows is None else rows
    group_arr = np.asarray(groups, dtype=object)
    order = sorted(set(group_arr[rows].tolist()), key=_natural_key)
    colours = colours or {g: NOISE_COLOUR if g == NOISE_GROUP else CLUSTER_PALETTE[k % len(CLUSTER_PALETTE)]
                          for k, g in enumerate(order)}
    dim = highlight is not None and highlight.any()
    fig = go.Figure()
    for group in order:
        sel = rows[group_arr[rows] == group]
        hover = [f"<b>{group}</b>{' · ' + extra[i] if extra else ''}<br>{_snippet(texts[i])}" for i in sel]
        strong = focus is None or group == focus
        fig.add_trace(go.Scattergl(
            x=coords[sel, 0], y=coords[sel, 1], mode="markers", name=f"{group} ({len(sel)})",
            customdata=sel, hovertext=hover, hoverinfo="text",
            marker={"size": 7 if focus == group else 5, "color": colours.get(group, NOISE_COLOUR),
                    "opacity": (0.95 if focus == group else 0.25 if dim else 0.75) if strong else 0.08},
        ))
    if dim:
        sel = rows[highlight[rows]]
        fig.add_trace(go.Scattergl(
            x=coords[sel, 0], y=coords[sel, 1], mode="markers", name=f"search matches ({len(sel)})",
            customdata=sel, hovertext=[_snippet(texts[i]) for i in sel], hoverinfo="text",
            marker={"size": 10, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": HIGHLIGHT_COLOUR}},
        ))
    if labels and len(rows):
        sizes = {g: int(np.sum(group_arr[rows] == g)) for g in order}
        margin = MAP_LAYOUT["margin"]
        _label_annotations(fig, labels, colours, drawn=coords[rows], sizes=sizes, focus=focus,
                           plot_px=(width, height - margin["t"] - margin["b"]))
    # No dragmode: Streamlit then pans on drag and selects the point a click lands on (with lasso or box
    # as the drag mode it turns click selection off); box and lasso stay one click away in the toolbar.
    fig.update_layout(height=height, showlegend=legend, xaxis={"visible": False}, yaxis={"visible": False},
                      **MAP_LAYOUT)
    return fig


def agreement_map(coords: np.ndarray, agreement: np.ndarray, texts: list[str], *, rows: np.ndarray,
                  title: str, height: int = 520) -> go.Figure:
    """Documents coloured by neighbourhood agreement (0 = the two models give it different neighbours)."""
    fig = go.Figure(go.Scattergl(
        x=coords[rows, 0], y=coords[rows, 1], mode="markers", customdata=rows,
        hovertext=[f"agreement {agreement[i]:.2f}<br>{_snippet(texts[i])}" for i in rows], hoverinfo="text",
        marker={"size": 5, "color": agreement[rows], "colorscale": "RdYlGn", "cmin": 0, "cmax": 1,
                "colorbar": {"title": {"text": "kNN Jaccard", "side": "right"}, "x": 1.02, "xanchor": "left",
                             "y": 1.0, "yanchor": "top", "len": 0.9}, "opacity": 0.8},
    ))
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left", "y": 0.99, "yanchor": "top"}, height=height,
                      xaxis={"visible": False}, yaxis={"visible": False}, **MAP_LAYOUT)
    return fig


def token_heatmap(query_tokens: list[str], doc_tokens: list[str], sims: np.ndarray, height: int = 320) -> go.Figure:
    """Query tokens (rows) x document tokens (columns) cosine; each row's best match is boxed.
    The MaxSim score is the mean of the row maxima."""
    cols = [f"{t}·{i}" for i, t in enumerate(doc_tokens)]  # positions keep repeated tokens apart
    rows = [f"{t}·{i}" for i, t in enumerate(query_tokens)]
    fig = go.Figure(go.Heatmap(z=sims, x=cols, y=rows, colorscale="Viridis", zmin=float(min(0.0, sims.min())), zmax=1,
                               colorbar={"title": "cosine"},
                               hovertemplate="query %{y}<br>doc %{x}<br>cosine %{z:.3f}<extra></extra>"))
    best = sims.argmax(axis=1)
    fig.add_trace(go.Scatter(x=[cols[j] for j in best], y=rows, mode="markers", showlegend=False,
                             marker={"symbol": "square-open", "size": 14, "color": "#ff4b4b", "line": {"width": 2}},
                             hovertemplate="best match for %{y}: %{x}<extra></extra>"))
    fig.update_layout(height=max(height, 40 + 22 * len(rows)), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"tickangle": -60, "showticklabels": len(cols) <= 120}, yaxis={"autorange": "reversed"})
    return fig


def metric_bars(table, metric: str) -> go.Figure:
    """One bar per pipeline for ``metric`` (table indexed by pipeline)."""
    ordered = table.sort_values(metric)
    fig = go.Figure(go.Bar(x=ordered[metric], y=ordered.index, orientation="h", text=[f"{v:.3f}" for v in ordered[metric]],
                           textposition="auto", marker_color="#4c78a8"))
    fig.update_layout(height=80 + 32 * len(ordered), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"title": metric, "range": [0, 1]})
    return fig


def loss_curve(losses: list[tuple[int, float]], total: int | None = None) -> go.Figure:
    """Training loss per step, with a moving average so the trend shows through batch noise."""
    fig = go.Figure()
    if losses:
        steps = np.array([s for s, _ in losses])
        values = np.array([v for _, v in losses], dtype=float)
        fig.add_scatter(x=steps, y=values, mode="lines+markers", name="loss per step",
                        line={"width": 1, "color": "#6baed6"}, marker={"size": 4})
        window = max(1, min(25, len(values) // 5))
        if window > 1:
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            fig.add_scatter(x=steps[window - 1:], y=smooth, mode="lines", name=f"mean of {window} steps",
                            line={"width": 2.5, "color": "#08519c"})
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title="step",
                      yaxis_title="training loss", legend=LEGEND_ABOVE,
                      xaxis={"range": [0, total]} if total else {})
    return fig


def before_after_histograms(before: dict[str, np.ndarray], after: dict[str, np.ndarray], *,
                            x_title: str = "cosine(anchor, text)") -> go.Figure:
    """Positive vs negative similarity, before (left) and after (right) training."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["before", "after"], shared_yaxes=True,
                        horizontal_spacing=0.05)
    colors = {"positive": "#2ca02c", "negative": "#d62728"}
    for col, values in enumerate((before, after), 1):
        for name, v in values.items():
            fig.add_histogram(x=v, name=name, opacity=0.6, nbinsx=30, marker_color=colors.get(name),
                              showlegend=col == 1, legendgroup=name, row=1, col=col)
        fig.update_xaxes(title_text=x_title, row=1, col=col)
    fig.update_layout(barmode="overlay", height=340, margin={"l": 10, "r": 10, "t": 70, "b": 10},
                      legend={**LEGEND_ABOVE, "y": 1.12}, yaxis_title="held-out rows")
    return fig


def before_after_bars(table) -> go.Figure:
    """Before and after for each metric (a table with index metric and columns before/after)."""
    fig = go.Figure()
    for col, color in (("before", "#9e9e9e"), ("after", "#1f77b4")):
        fig.add_bar(x=table.index.tolist(), y=table[col].tolist(), name=col, marker_color=color,
                    text=[f"{v:.3f}" for v in table[col]], textposition="outside")
    fig.update_layout(barmode="group", height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend=LEGEND_ABOVE, yaxis={"range": [min(0, float(table.values.min())) - 0.05, 1.15]})
    return fig


def quality_speed(names: list[str], speeds: list[float], scores: list[float], front: list[int], *,
                  colours: dict[str, str] | None = None, x_title: str = "texts per second (log scale)",
                  y_title: str = "average score") -> go.Figure:
    """Quality against speed, one labelled point per model (log x: speeds span orders of magnitude) in
    the model's colour (``colours``, as in the page's other charts); the Pareto front (``front``:
    indices in order of rising speed) ringed and joined by a dotted line."""
    on_front = set(front)
    colours = colours or model_colours(names)
    fig = go.Figure()
    fig.add_scatter(x=[speeds[i] for i in front], y=[scores[i] for i in front], mode="lines", name="Pareto front",
                    line={"color": FRONT_COLOUR, "width": 2, "dash": "dot"}, hoverinfo="skip")
    fig.add_scatter(x=speeds, y=scores, mode="markers+text", text=names, textposition="top center", name="models",
                    marker={"size": 12, "color": [colours[n] for n in names],
                            "line": {"width": [3 if i in on_front else 1 for i in range(len(names))],
                                     "color": [FRONT_COLOUR if i in on_front else "white" for i in range(len(names))]}},
                    customdata=[["on the Pareto front" if i in on_front else "beaten on both"] for i in range(len(names))],
                    hovertemplate="<b>%{text}</b><br>%{x:,.1f} texts/s<br>average %{y:.4f}<br>%{customdata[0]}"
                                  "<extra></extra>")
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend=LEGEND_ABOVE,
                      xaxis={"type": "log", "title": x_title}, yaxis={"title": y_title})
    return fig


def task_bars(scores: dict[str, float], metric: str, colours: dict[str, str]) -> go.Figure:
    """One task's main score, a bar per model in the model's colour (the same in every task's chart)."""
    names = list(scores)
    fig = go.Figure(go.Bar(x=names, y=[scores[n] for n in names], marker_color=[colours[n] for n in names],
                           text=[f"{scores[n]:.3f}" for n in names], textposition="outside"))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, yaxis_title=metric)
    return fig
