"""The corpus explorer's Compare and Export tabs: two models' maps side by side with their clusters matched,
and the downloads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedlab.explorer import export as exports
from embedlab.explorer.clustering import NOISE, SPACES, auto_min_cluster_size
from embedlab.explorer.compare import (
    ClusterMatching,
    cluster_agreement,
    label_scores,
    match_clusters,
    neighbourhood_agreement,
)
from embedlab.explorer.pipeline import ModelMap
from embedlab.explorer.projection import METHODS, UMAP_METRICS, procrustes_align
from embedlab.explorer.topics import cluster_centres
from embedlab.tables import Documents
from ui import charts, glossary, state

SPACE_LABELS = {"umap-5d": "5-D UMAP reduction", "raw": "raw embeddings"}
MAP_PACE = "explorer map+clusters"  # remembered seconds per document
DEFAULT_MAP_PACE = 0.002  # only weighs the progress bar's parts until this machine's pace is known


def map_settings(n_docs: int) -> dict:
    """The map and clustering settings for ``n_docs`` documents, as ``explore_config`` keywords."""
    with st.expander("Map and clustering settings"):
        s1, s2, s3, s4 = st.columns(4)
        method = s1.selectbox("Map", METHODS, key=state.EXP_METHOD, help=glossary.helps("UMAP", "PCA"))
        neighbors = s2.slider("UMAP n_neighbors", 2, 100, key=state.EXP_NEIGHBORS, help=glossary.helps("n_neighbors"))
        min_dist = s3.slider("UMAP min_dist", 0.0, 1.0, step=0.05, key=state.EXP_MIN_DIST,
                             help=glossary.helps("min_dist"))
        metric = s4.selectbox("UMAP metric", UMAP_METRICS, key=state.EXP_METRIC, help=glossary.helps("UMAP metric"))
        h1, h2, h3 = st.columns(3)
        min_cluster = h1.number_input("HDBSCAN min_cluster_size (0 = automatic)", 0, 5000, key=state.EXP_MCS,
                                      help=glossary.helps("HDBSCAN", "min_cluster_size",
                                                          after="Automatic: corpus size / 20, between 5 and 15 "
                                                                f"(here {auto_min_cluster_size(n_docs)})."))
        min_samples = h2.number_input("HDBSCAN min_samples (0 = same as min_cluster_size)", 0, 5000, key=state.EXP_MS,
                                      help=glossary.helps("min_samples"))
        space = h3.selectbox("Cluster on", SPACES, key=state.EXP_SPACE, format_func=SPACE_LABELS.get,
                             help=glossary.helps("cluster space"))
    return {"map_method": method, "n_neighbors": neighbors, "min_dist": min_dist, "metric": metric,
            "min_cluster_size": int(min_cluster), "min_samples": int(min_samples), "space": space}


def compare_tab(maps: dict[str, ModelMap], docs: Documents, rows: np.ndarray) -> None:
    """4. Two models side by side: their clusters matched (same topic, same number and colour), and where
    their neighbourhoods agree."""
    names_list = list(maps)
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
    a = c1.selectbox("Model A", names_list, index=state.choice_index("exp_cmp_a", names_list, 0), key="exp_cmp_a")
    b = c2.selectbox("Model B", names_list, index=state.choice_index("exp_cmp_b", names_list, 1), key="exp_cmp_b")
    k = c3.slider("Neighbours (k)", 5, 50, state.first_value("exp_cmp_k", 10), key="exp_cmp_k",
                  help=glossary.helps("kNN Jaccard"))
    colour = c4.radio("Colour the maps by", ["matched cluster", "neighbourhood agreement"], key=state.EXP_CMP_COLOUR,
                      horizontal=True, help="Matched cluster: B's clusters renumbered after the A cluster they share "
                                            "most documents with (Hungarian assignment). Agreement: the share of a "
                                            "document's k nearest neighbours both models agree on (kNN Jaccard).")
    if a == b:
        st.info("Pick two different models.")
        return
    k = min(k, len(docs.texts) - 1)
    agreement = neighbourhood_agreement(maps[a].vectors, maps[b].vectors, k=k)
    matching = match_clusters(maps[a].labels, maps[b].labels)
    aligned_b = procrustes_align(maps[a].coords, maps[b].coords)
    title_b = f"{b} (aligned to {a} by Procrustes)"
    if colour == "matched cluster":
        fig_a = matched_map(maps[a].coords, maps[a].labels, cluster_keywords(maps[a]), docs, rows, title=a)
        fig_b = matched_map(aligned_b, matching.labels_b, matched_keywords(maps[b], matching), docs, rows,
                            title=title_b)
    else:
        fig_a = charts.agreement_map(maps[a].coords, agreement, docs.texts, rows=rows, title=a)
        fig_b = charts.agreement_map(aligned_b, agreement, docs.texts, rows=rows, title=title_b)
    left, right = st.columns(2)
    left.plotly_chart(fig_a, key="exp_cmp_map_a")
    right.plotly_chart(fig_b, key="exp_cmp_map_b")
    agree = cluster_agreement(maps[a].labels, maps[b].labels)
    st.markdown(f"Mean neighbourhood agreement (Jaccard of {k}-NN sets): **{agreement.mean():.3f}**. "
                f"Cluster agreement between the models: ARI **{agree.ari:.3f}**, NMI **{agree.nmi:.3f}**. "
                f"The right map is rotated onto the left one by Procrustes.",
                help=glossary.helps("kNN Jaccard", "ARI", "NMI", "Procrustes"))
    st.markdown(f"**Matched clusters** ({len(matching.matched)} pairs; B's clusters carry the number of the A "
                "cluster they share most documents with, unmatched ones new numbers after A's)")
    st.dataframe(matched_pairs_table(matching, maps[a], maps[b], a, b), hide_index=True, key="exp_cmp_pairs")
    if docs.labels is not None:
        st.markdown("**Against the labels**")
        st.dataframe(label_scores_table(maps, docs.labels).style.format(precision=3), key="exp_label_scores",
                     column_config=glossary.column_help({"V-measure": "V-measure", "ARI": "ARI"}))
    worst = np.argsort(agreement)[:20]
    st.markdown("**Documents whose neighbourhoods differ most**")
    st.dataframe(pd.DataFrame({"id": [docs.ids[i] for i in worst], "agreement": agreement[worst],
                               f"cluster ({a})": maps[a].labels[worst],
                               f"cluster ({b}, matched)": matching.labels_b[worst],
                               "text": [docs.texts[i][:200] for i in worst]}), hide_index=True, key="exp_worst",
                 column_config=glossary.column_help({"agreement": "kNN Jaccard"}))


def cluster_keywords(model_map: ModelMap) -> dict[int, list[str]]:
    return {c.cluster: c.keywords for c in model_map.clusters}


def matched_keywords(model_map: ModelMap, matching: ClusterMatching) -> dict[int, list[str]]:
    """B's keywords under B's new (matched) cluster numbers."""
    own = cluster_keywords(model_map)
    return {p.cluster: own.get(p.original_b, []) for p in matching.pairs if p.original_b is not None}


def matched_map(coords: np.ndarray, labels: np.ndarray, keywords: dict[int, list[str]], docs: Documents,
                rows: np.ndarray, *, title: str):
    fig = charts.corpus_map(coords, [charts.cluster_group(l) for l in labels], docs.texts, rows=rows,
                            colours=charts.cluster_colours(labels), legend=False, height=520, width=480,
                            labels=charts.cluster_labels(cluster_centres(coords, labels), keywords, words=2))
    return fig.update_layout(title={"text": title, "x": 0, "xanchor": "left", "y": 0.99, "yanchor": "top"})


def matched_pairs_table(matching: ClusterMatching, map_a: ModelMap, map_b: ModelMap, a: str, b: str) -> pd.DataFrame:
    kw_a, kw_b = cluster_keywords(map_a), cluster_keywords(map_b)
    return pd.DataFrame([{
        "cluster": p.cluster,
        f"{a} keywords": ", ".join(kw_a.get(p.cluster, [])[:4]) if p.size_a else "—",
        f"{a} size": p.size_a,
        f"{b} own number": "—" if p.original_b is None else str(p.original_b),
        f"{b} keywords": ", ".join(kw_b.get(p.original_b, [])[:4]) if p.original_b is not None else "—",
        f"{b} size": p.size_b,
        "shared documents": p.overlap,
        "Jaccard": round(p.jaccard, 3),
    } for p in matching.pairs])


def label_scores_table(maps: dict[str, ModelMap], labels: np.ndarray) -> pd.DataFrame:
    rows = []
    for name, model_map in maps.items():
        s = label_scores(model_map.labels, labels)
        rows.append({"model": name, "V-measure": s.v_measure, "ARI": s.ari, "noise share": s.noise_share,
                     "clusters": len([c for c in model_map.clusters if c.cluster != NOISE])})
    return pd.DataFrame(rows).set_index("model")


def export_tab(maps: dict[str, ModelMap], docs: Documents) -> None:
    """5. Downloads: the documents with clusters, coordinates and keywords; each model's embeddings."""
    table = exports.documents_frame(docs.ids, docs.texts, docs.labels, maps)
    st.dataframe(table.head(20), hide_index=True)
    e1, e2 = st.columns(2)
    e1.download_button("Documents with clusters, coordinates, keywords (CSV)", table.to_csv(index=False).encode(),
                       "embedlab_documents.csv", "text/csv", key="exp_dl_csv")
    e2.download_button("… as Parquet", exports.to_parquet_bytes(table), "embedlab_documents.parquet",
                       "application/octet-stream", key="exp_dl_parquet")
    for name, model_map in maps.items():
        f1, f2 = st.columns(2)
        f1.download_button(f"{name} embeddings (.npy)", exports.to_npy_bytes(model_map.vectors),
                           f"embeddings_{exports.safe(name)}.npy", key=f"exp_dl_npy_{name}")
        f2.download_button(f"{name} embeddings (Parquet, with ids)",
                           exports.embeddings_parquet_bytes(docs.ids, model_map.vectors),
                           f"embeddings_{exports.safe(name)}.parquet", key=f"exp_dl_emb_{name}")


