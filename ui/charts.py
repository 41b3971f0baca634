"""Plotly figures. Pure functions of arrays, so they can be tested without a browser."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots


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
                      height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"})
    return fig


def pair_histograms(values: dict[str, np.ndarray]) -> go.Figure:
    fig = go.Figure()
    for name, v in values.items():
        fig.add_histogram(x=v, name=name, opacity=0.6, nbinsx=40, histnorm="probability")
    fig.update_layout(barmode="overlay", xaxis_title="cosine between random pairs", height=300,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"})
    return fig
