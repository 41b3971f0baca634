"""Corpus explorer: upload a corpus, map and cluster it with 1-3 models, compare the models."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from embedlab import bundled
from embedlab.errors import EmbedlabError
from embedlab.explorer import export as exports
from embedlab.explorer.clustering import ClusterConfig
from embedlab.explorer.compare import (
    cluster_agreement,
    label_scores,
    neighbourhood_agreement,
)
from embedlab.explorer.pipeline import ExploreConfig, explore
from embedlab.explorer.projection import (
    UMAP_METRICS,
    ProjectionConfig,
    procrustes_align,
)
from embedlab.tables import read_table, text_column
from ui import charts, shell, state
from ui.models import load_many, model_choices

shell.require_router()

BBC = "BBC News (bundled, 2,225 articles, 5 topics)"
UPLOAD = "Upload a file"
NONE = "(none)"
MAP_MAX_POINTS = 20_000

st.title("Corpus explorer")
st.caption("What is in this corpus, and which embedder organises it best? Embed → 2-D map (UMAP or PCA) → "
           "HDBSCAN clusters → c-TF-IDF keywords, for up to three models side by side.")

# 1. Corpus --------------------------------------------------------------------------------------
source = st.radio("Corpus", [BBC, UPLOAD], key=state.EXP_SOURCE, horizontal=True)
if source == BBC:
    table = bundled.bbc_news()
    text_col, label_col, id_col = "text", "label", "id"
    st.caption("Article bodies as texts, the 5 topic folders as labels.")
else:
    upload = st.file_uploader("CSV, TSV, JSONL, Parquet, or plain text (one document per line); up to 100,000 rows",
                              type=["csv", "tsv", "jsonl", "json", "parquet", "txt"], key=state.EXP_UPLOAD)
    if upload is not None:
        try:
            table = read_table(upload.getvalue(), filename=upload.name)
        except EmbedlabError as exc:  # the earlier good upload and results are kept
            st.error(f"Could not use {upload.name}: {exc}")
            st.stop()
        st.session_state[state.EXP_FILE] = (upload.name, upload.getvalue())
    elif st.session_state.get(state.EXP_FILE):
        file_name, file_bytes = st.session_state[state.EXP_FILE]
        st.caption(f"Using **{file_name}**, uploaded earlier in this session.")
        table = read_table(file_bytes, filename=file_name)
    else:
        st.info("Upload a file to explore it, or pick the bundled BBC News corpus.")
        st.stop()
    columns = list(table.columns)
    text_guess = "text" if "text" in columns else columns[0]
    c1, c2, c3 = st.columns(3)
    text_col = c1.selectbox("Text column", columns, index=columns.index(text_guess), key="exp_text_col")
    label_col = c2.selectbox("Label column (optional)", [NONE, *columns], key="exp_label_col")
    id_col = c3.selectbox("Id column (optional)", [NONE, *columns], key="exp_id_col")

try:
    column = text_column(table, text_col)
except EmbedlabError as exc:
    st.error(str(exc))
    st.stop()
texts = column.texts
kept = table.iloc[column.rows].reset_index(drop=True)
labels = kept[label_col].astype(str).to_numpy() if label_col != NONE else None
ids = kept[id_col].astype(str).tolist() if id_col != NONE else [str(r + 1) for r in column.rows]
st.write(f"**{len(texts):,} documents**" + (f" · {len(set(labels))} labels" if labels is not None else "")
         + (f" · {column.report}" if column.report else ""))
if len(texts) < 5:
    st.error("At least 5 non-empty documents are needed to make a map and clusters.")
    st.stop()
corpus_key = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()

# 2. Models and settings -------------------------------------------------------------------------
names = st.multiselect("Models (1 to 3)", list(dict.fromkeys([*model_choices(), *st.session_state[state.EXP_MODELS]])),
                       key=state.EXP_MODELS, max_selections=3, accept_new_options=True)
auto_mcs = max(5, min(15, len(texts) // 20))
with st.expander("Map and clustering settings"):
    s1, s2, s3, s4 = st.columns(4)
    method = s1.selectbox("Map", ["umap", "pca"], key=state.EXP_METHOD, help="PCA is instant; UMAP shows local structure.")
    neighbors = s2.slider("UMAP n_neighbors", 2, 100, key=state.EXP_NEIGHBORS)
    min_dist = s3.slider("UMAP min_dist", 0.0, 1.0, step=0.05, key=state.EXP_MIN_DIST)
    metric = s4.selectbox("UMAP metric", UMAP_METRICS, key=state.EXP_METRIC)
    h1, h2, h3 = st.columns(3)
    min_cluster = h1.number_input("HDBSCAN min_cluster_size (0 = automatic)", 0, 5000, key=state.EXP_MCS,
                                  help=f"Automatic: corpus size / 20, between 5 and 15 (here {auto_mcs}).")
    min_samples = h2.number_input("HDBSCAN min_samples (0 = same as min_cluster_size)", 0, 5000, key=state.EXP_MS)
    space = h3.selectbox("Cluster on", ["umap-5d", "raw"], key=state.EXP_SPACE,
                         format_func=lambda s: "5-D UMAP reduction" if s == "umap-5d" else "raw embeddings")
min_cluster = int(min_cluster) or auto_mcs

if st.button("Run", type="primary", key="exp_run", disabled=not names):
    try:
        config = ExploreConfig(
            projection=ProjectionConfig(method=method, n_neighbors=neighbors, min_dist=min_dist, metric=metric),
            clustering=ClusterConfig(min_cluster_size=int(min_cluster), min_samples=int(min_samples) or None,
                                     space=space, umap_neighbors=neighbors),
        )
        if int(min_cluster) > len(texts):
            raise ValueError(f"min_cluster_size {int(min_cluster)} is larger than the corpus ({len(texts)} documents).")
    except ValueError as exc:
        st.error(str(exc))
        st.stop()
    models, errors = load_many(names)
    for name, message in errors.items():
        st.error(f"**{name}** could not be used: {message}")
    maps = {}
    with st.status("Running the pipeline…", expanded=True) as status:
        bar = st.progress(0.0)
        for name, model in models.items():
            try:
                maps[name] = explore(
                    texts, model, config, stage=lambda msg: status.update(label=msg),
                    progress=lambda d, t, n=name: bar.progress(d / max(t, 1), text=f"{n}: embedding {d:,}/{t:,}"),
                )
                status.write(f"{name}: {len([c for c in maps[name].clusters if c.cluster != -1])} clusters, "
                             + ", ".join(f"{k} {v:.1f}s" for k, v in maps[name].seconds.items()))
            except (EmbedlabError, ValueError) as exc:
                st.error(f"**{name}** failed: {exc}")
        status.update(label="Done" if maps else "Nothing finished", state="complete" if maps else "error",
                      expanded=False)
    if maps:  # a failed run leaves the previous results in place
        st.session_state[state.EXP_RESULTS] = {"corpus": corpus_key, "maps": maps}

results = st.session_state.get(state.EXP_RESULTS)
if not results or results["corpus"] != corpus_key:
    st.info("Pick models and press Run.")
    st.stop()
maps = results["maps"]
rows_to_draw = np.arange(len(texts))
if len(texts) > MAP_MAX_POINTS:
    rows_to_draw = np.sort(np.random.default_rng(0).choice(len(texts), MAP_MAX_POINTS, replace=False))
    st.caption(f"Maps draw a random {MAP_MAX_POINTS:,} of {len(texts):,} documents; clusters use all of them.")


def docs_table(rows, model_map) -> pd.DataFrame:
    rows = list(rows)
    frame = pd.DataFrame({"id": [ids[i] for i in rows], "cluster": model_map.labels[rows],
                          "text": [t[:300] for t in (texts[i] for i in rows)]})
    if labels is not None:
        frame.insert(2, "label", labels[rows])
    return frame


# 3. Per-model maps ------------------------------------------------------------------------------
tab_names = [f"Map: {n}" for n in maps] + (["Compare"] if len(maps) >= 2 else []) + ["Export"]
tabs = dict(zip(tab_names, st.tabs(tab_names)))
for name, model_map in maps.items():
    with tabs[f"Map: {name}"]:
        c1, c2 = st.columns([1, 2])
        colour = c1.radio("Colour by", ["cluster", "label"] if labels is not None else ["cluster"],
                          key=f"exp_colour_{name}", horizontal=True)
        query = c2.text_input("Highlight documents containing", key=f"exp_search_{name}")
        groups = (["noise" if l == -1 else f"cluster {l}" for l in model_map.labels] if colour == "cluster"
                  else labels.tolist())
        highlight = np.array([query.lower() in t.lower() for t in texts]) if query.strip() else None
        extra = [model_map.keywords_of(l) for l in model_map.labels]
        event = st.plotly_chart(
            charts.corpus_map(model_map.coords, groups, texts, rows=rows_to_draw, highlight=highlight, extra=extra),
            key=f"exp_map_{name}", on_select="rerun", selection_mode=("points", "box", "lasso"),
        )
        if highlight is not None:
            st.caption(f"{int(highlight.sum())} documents contain {query!r}.")
        if labels is not None:
            scores = label_scores(model_map.labels, labels)
            st.caption(f"Against the labels: V-measure {scores.v_measure:.3f}, ARI {scores.ari:.3f} "
                       f"(noise, {scores.noise_share:.1%} of documents, counted as its own cluster).")
        summary = pd.DataFrame([{"cluster": "noise" if c.cluster == -1 else str(c.cluster), "size": c.size,
                                 "keywords": ", ".join(c.keywords),
                                 "most central document": texts[c.central_docs[0]][:160] if c.central_docs else ""}
                                for c in model_map.clusters])
        st.dataframe(summary, hide_index=True, key=f"exp_clusters_{name}")
        picked = [p["customdata"] for p in (event.selection.points if event else []) if "customdata" in p]
        choice = st.selectbox("Show the documents of", ["(selection on the map)", *summary["cluster"].astype(str)],
                              key=f"exp_pick_{name}")
        if choice == "(selection on the map)":
            if picked:
                st.dataframe(docs_table(picked, model_map), hide_index=True)
            else:
                st.caption("Select points on the map (box or lasso) to list them here.")
        else:
            label_value = -1 if choice == "noise" else int(choice)
            members = np.flatnonzero(model_map.labels == label_value)
            summary_row = next(c for c in model_map.clusters if c.cluster == label_value)
            central = summary_row.central_docs
            rest = [i for i in members if i not in central]
            st.dataframe(docs_table(central + rest, model_map), hide_index=True)

# 4. Compare two models --------------------------------------------------------------------------
if "Compare" in tabs:
    with tabs["Compare"]:
        names_list = list(maps)
        c1, c2, c3 = st.columns(3)
        a = c1.selectbox("Model A", names_list, index=0, key="exp_cmp_a")
        b = c2.selectbox("Model B", names_list, index=1, key="exp_cmp_b")
        k = c3.slider("Neighbours (k)", 5, 50, 10, key="exp_cmp_k")
        if a == b:
            st.info("Pick two different models.")
        else:
            k = min(k, len(texts) - 1)
            agreement = neighbourhood_agreement(maps[a].vectors, maps[b].vectors, k=k)
            aligned_b = procrustes_align(maps[a].coords, maps[b].coords)
            left, right = st.columns(2)
            left.plotly_chart(charts.agreement_map(maps[a].coords, agreement, texts, rows=rows_to_draw, title=a),
                              key="exp_cmp_map_a")
            right.plotly_chart(charts.agreement_map(aligned_b, agreement, texts, rows=rows_to_draw,
                                                    title=f"{b} (aligned to {a} by Procrustes)"), key="exp_cmp_map_b")
            agree = cluster_agreement(maps[a].labels, maps[b].labels)
            st.markdown(f"Mean neighbourhood agreement (Jaccard of {k}-NN sets): **{agreement.mean():.3f}**. "
                        f"Cluster agreement between the models: ARI **{agree.ari:.3f}**, NMI **{agree.nmi:.3f}**.")
            if labels is not None:
                rows = []
                for name, model_map in maps.items():
                    s = label_scores(model_map.labels, labels)
                    rows.append({"model": name, "V-measure": s.v_measure, "ARI": s.ari, "noise share": s.noise_share,
                                 "clusters": len([c for c in model_map.clusters if c.cluster != -1])})
                st.markdown("**Against the labels**")
                st.dataframe(pd.DataFrame(rows).set_index("model").style.format(precision=3), key="exp_label_scores")
            worst = np.argsort(agreement)[:20]
            st.markdown("**Documents whose neighbourhoods differ most**")
            st.dataframe(pd.DataFrame({"id": [ids[i] for i in worst], "agreement": agreement[worst],
                                       f"cluster ({a})": maps[a].labels[worst], f"cluster ({b})": maps[b].labels[worst],
                                       "text": [texts[i][:200] for i in worst]}), hide_index=True, key="exp_worst")

# 5. Export --------------------------------------------------------------------------------------
with tabs["Export"]:
    docs = exports.documents_frame(ids, texts, labels, maps)
    st.dataframe(docs.head(20), hide_index=True)
    e1, e2 = st.columns(2)
    e1.download_button("Documents with clusters, coordinates, keywords (CSV)", docs.to_csv(index=False).encode(),
                       "embedlab_documents.csv", "text/csv", key="exp_dl_csv")
    e2.download_button("… as Parquet", exports.to_parquet_bytes(docs), "embedlab_documents.parquet",
                       "application/octet-stream", key="exp_dl_parquet")
    for name, model_map in maps.items():
        f1, f2 = st.columns(2)
        f1.download_button(f"{name} embeddings (.npy)", exports.to_npy_bytes(model_map.vectors),
                           f"embeddings_{exports.safe(name)}.npy", key=f"exp_dl_npy_{name}")
        f2.download_button(f"{name} embeddings (Parquet, with ids)",
                           exports.embeddings_parquet_bytes(ids, model_map.vectors),
                           f"embeddings_{exports.safe(name)}.parquet", key=f"exp_dl_emb_{name}")
