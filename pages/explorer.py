"""Corpus explorer: upload a corpus, map and cluster it with 1-3 models, compare the models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedlab import bundled
from embedlab.errors import EmbedlabError
from embedlab.explorer import export as exports
from embedlab.explorer.clustering import NOISE, SPACES, auto_min_cluster_size
from embedlab.explorer.compare import (
    cluster_agreement,
    label_scores,
    neighbourhood_agreement,
)
from embedlab.explorer.pipeline import ExploreConfig, ModelMap, explore, explore_config
from embedlab.explorer.projection import METHODS, UMAP_METRICS, procrustes_align
from embedlab.tables import Documents, read_table, table_documents
from ui import charts, glossary, shell, state
from ui.models import load_many, model_choices

shell.require_router()

BBC = "BBC News (bundled, 2,225 articles, 5 topics)"
UPLOAD = "Upload a file"
NONE = "(none)"
MAP_MAX_POINTS = 20_000
SPACE_LABELS = {"umap-5d": "5-D UMAP reduction", "raw": "raw embeddings"}


def corpus_section() -> Documents:
    """1. The corpus, and which of its columns hold texts, labels and ids."""
    source = st.radio("Corpus", [BBC, UPLOAD], key=state.EXP_SOURCE, horizontal=True)
    if source == BBC:
        table, (text_col, label_col, id_col) = bundled.bbc_news(), ("text", "label", "id")
        st.caption("Article bodies as texts, the 5 topic folders as labels.")
    else:
        table = uploaded_table()
        text_col, label_col, id_col = column_choices(list(table.columns))
    try:
        docs = table_documents(table, text_col, label_col=label_col, id_col=id_col)
    except EmbedlabError as exc:
        st.error(str(exc))
        st.stop()
    st.write(f"**{len(docs.texts):,} documents**"
             + (f" · {len(set(docs.labels))} labels" if docs.labels is not None else "")
             + (f" · {docs.column.report}" if docs.column.report else ""))
    if len(docs.texts) < 5:
        st.error("At least 5 non-empty documents are needed to make a map and clusters.")
        st.stop()
    return docs


def uploaded_table() -> pd.DataFrame:
    """The upload, or the one made earlier in this session (the uploader forgets it on a page switch)."""
    upload = st.file_uploader("CSV, TSV, JSONL, Parquet, or plain text (one document per line); up to 100,000 rows",
                              type=["csv", "tsv", "jsonl", "json", "parquet", "txt"], key=state.EXP_UPLOAD)
    if upload is not None:
        file_name, file_bytes = upload.name, upload.getvalue()
    elif st.session_state.get(state.EXP_FILE):
        file_name, file_bytes = st.session_state[state.EXP_FILE]
        st.caption(f"Using **{file_name}**, uploaded earlier in this session.")
    else:
        st.info("Upload a file to explore it, or pick the bundled BBC News corpus.")
        st.stop()
    try:
        table = read_table(file_bytes, filename=file_name)
    except EmbedlabError as exc:  # a bad new upload leaves the earlier good one and its results in place
        st.error(f"Could not use {file_name}: {exc}")
        st.stop()
    st.session_state[state.EXP_FILE] = (file_name, file_bytes)
    for note in table.attrs.get("notes", []):  # e.g. a ';'-separated .csv
        st.caption(note)
    return table


def column_choices(columns: list[str]) -> tuple[str, str | None, str | None]:
    """The text column, and the label and id columns if the user names them."""
    text_guess = "text" if "text" in columns else columns[0]
    c1, c2, c3 = st.columns(3)
    text_col = c1.selectbox("Text column", columns, index=columns.index(text_guess), key="exp_text_col")
    label_col = c2.selectbox("Label column (optional)", [NONE, *columns], key="exp_label_col")
    id_col = c3.selectbox("Id column (optional)", [NONE, *columns], key="exp_id_col")
    return text_col, None if label_col == NONE else label_col, None if id_col == NONE else id_col


def settings_section(n_docs: int) -> tuple[list[str], dict]:
    """2. The models, and the map and clustering settings as ``explore_config`` keywords."""
    names = st.multiselect("Models (1 to 3)", list(dict.fromkeys([*model_choices(), *st.session_state[state.EXP_MODELS]])),
                           key=state.EXP_MODELS, max_selections=3, accept_new_options=True)
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
    return names, {"map_method": method, "n_neighbors": neighbors, "min_dist": min_dist, "metric": metric,
                   "min_cluster_size": int(min_cluster), "min_samples": int(min_samples), "space": space}


def run_section(docs: Documents, names: list[str], settings: dict) -> None:
    """The Run button: each chosen model through the pipeline; a failed run keeps the previous results."""
    if not st.button("Run", type="primary", key="exp_run", disabled=not names):
        return
    try:
        config = explore_config(len(docs.texts), **settings)
    except EmbedlabError as exc:
        st.error(str(exc))
        st.stop()
    models, errors = load_many(names)
    for name, message in errors.items():
        st.error(f"**{name}** could not be used: {message}")
    maps = run_models(docs.texts, models, config)
    if maps:
        st.session_state[state.EXP_RESULTS] = {"corpus": docs.key, "maps": maps}


def run_models(texts: list[str], models: dict, config: ExploreConfig) -> dict[str, ModelMap]:
    maps = {}
    with st.status("Running the pipeline…", expanded=True) as status:
        bar = st.progress(0.0)
        for name, model in models.items():
            try:
                result = explore(
                    texts, model, config, note=lambda msg: status.update(label=msg),
                    progress=lambda d, t, n=name: bar.progress(d / max(t, 1), text=f"{n}: embedding {d:,}/{t:,}"),
                )
            # UMAP and HDBSCAN reject some degenerate inputs (e.g. identical vectors) with a ValueError.
            except (EmbedlabError, ValueError) as exc:
                st.error(f"**{name}** failed: {exc}")
                continue
            maps[name] = result
            status.write(f"{name}: {len([c for c in result.clusters if c.cluster != NOISE])} clusters, "
                         + ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items()))
        status.update(label="Done" if maps else "Nothing finished", state="complete" if maps else "error",
                      expanded=False)
    return maps


def saved_maps(docs: Documents) -> dict[str, ModelMap]:
    results = st.session_state.get(state.EXP_RESULTS)
    if not results or results["corpus"] != docs.key:
        st.info("Pick models and press Run.")
        st.stop()
    return results["maps"]


def drawn_rows(n_docs: int) -> np.ndarray:
    """Which documents the maps draw: all, or a fixed random sample of a very large corpus."""
    if n_docs <= MAP_MAX_POINTS:
        return np.arange(n_docs)
    st.caption(f"Maps draw a random {MAP_MAX_POINTS:,} of {n_docs:,} documents; clusters use all of them.")
    return np.sort(np.random.default_rng(0).choice(n_docs, MAP_MAX_POINTS, replace=False))


def docs_table(rows, model_map: ModelMap, docs: Documents) -> pd.DataFrame:
    rows = list(rows)
    frame = pd.DataFrame({"id": [docs.ids[i] for i in rows], "cluster": model_map.labels[rows],
                          "text": [docs.texts[i][:300] for i in rows]})
    if docs.labels is not None:
        frame.insert(2, "label", docs.labels[rows])
    return frame


def map_tab(name: str, model_map: ModelMap, docs: Documents, rows: np.ndarray) -> None:
    """3. One model's map, coloured by cluster or label, with a text search highlighted."""
    for note in model_map.notes:  # what was used instead of the settings, and why
        st.warning(note)
    c1, c2 = st.columns([1, 2])
    colour = c1.radio("Colour by", ["cluster", "label"] if docs.labels is not None else ["cluster"],
                      key=f"exp_colour_{name}", horizontal=True)
    query = c2.text_input("Highlight documents containing", key=f"exp_search_{name}")
    groups = (["noise" if l == NOISE else f"cluster {l}" for l in model_map.labels] if colour == "cluster"
              else docs.labels.tolist())
    highlight = np.array([query.lower() in t.lower() for t in docs.texts]) if query.strip() else None
    extra = [model_map.keywords_of(l) for l in model_map.labels]
    event = st.plotly_chart(
        charts.corpus_map(model_map.coords, groups, docs.texts, rows=rows, highlight=highlight, extra=extra),
        key=f"exp_map_{name}", on_select="rerun", selection_mode=("points", "box", "lasso"),
    )
    if highlight is not None:
        st.caption(f"{int(highlight.sum())} documents contain {query!r}.")
    if docs.labels is not None:
        scores = label_scores(model_map.labels, docs.labels)
        st.caption(f"Against the labels: V-measure {scores.v_measure:.3f}, ARI {scores.ari:.3f} "
                   f"(noise, {scores.noise_share:.1%} of documents, counted as its own cluster).",
                   help=glossary.helps("V-measure", "ARI"))
    picked = [p["customdata"] for p in (event.selection.points if event else []) if "customdata" in p]
    clusters_section(name, model_map, docs, picked)


def clusters_section(name: str, model_map: ModelMap, docs: Documents, picked: list[int]) -> None:
    """The clusters' keywords, and the documents of one cluster or of the selection on the map."""
    summary = pd.DataFrame([{"cluster": "noise" if c.cluster == NOISE else str(c.cluster), "size": c.size,
                             "keywords": ", ".join(c.keywords),
                             "most central document": docs.texts[c.central_docs[0]][:160] if c.central_docs else ""}
                            for c in model_map.clusters])
    st.dataframe(summary, hide_index=True, key=f"exp_clusters_{name}",
                 column_config=glossary.column_help({"keywords": "c-TF-IDF"}))
    choice = st.selectbox("Show the documents of", ["(selection on the map)", *summary["cluster"].astype(str)],
                          key=f"exp_pick_{name}")
    if choice != "(selection on the map)":
        label_value = NOISE if choice == "noise" else int(choice)
        central = next(c for c in model_map.clusters if c.cluster == label_value).central_docs
        rest = [i for i in np.flatnonzero(model_map.labels == label_value) if i not in central]
        st.dataframe(docs_table(central + rest, model_map, docs), hide_index=True)
    elif picked:
        st.dataframe(docs_table(picked, model_map, docs), hide_index=True)
    else:
        st.caption("Select points on the map (box or lasso) to list them here.")


def compare_tab(maps: dict[str, ModelMap], docs: Documents, rows: np.ndarray) -> None:
    """4. Two models side by side: where their neighbourhoods and clusters agree."""
    names_list = list(maps)
    c1, c2, c3 = st.columns(3)
    a = c1.selectbox("Model A", names_list, index=0, key="exp_cmp_a")
    b = c2.selectbox("Model B", names_list, index=1, key="exp_cmp_b")
    k = c3.slider("Neighbours (k)", 5, 50, 10, key="exp_cmp_k", help=glossary.helps("kNN Jaccard"))
    if a == b:
        st.info("Pick two different models.")
        return
    k = min(k, len(docs.texts) - 1)
    agreement = neighbourhood_agreement(maps[a].vectors, maps[b].vectors, k=k)
    aligned_b = procrustes_align(maps[a].coords, maps[b].coords)
    left, right = st.columns(2)
    left.plotly_chart(charts.agreement_map(maps[a].coords, agreement, docs.texts, rows=rows, title=a),
                      key="exp_cmp_map_a")
    right.plotly_chart(charts.agreement_map(aligned_b, agreement, docs.texts, rows=rows,
                                            title=f"{b} (aligned to {a} by Procrustes)"), key="exp_cmp_map_b")
    agree = cluster_agreement(maps[a].labels, maps[b].labels)
    st.markdown(f"Mean neighbourhood agreement (Jaccard of {k}-NN sets): **{agreement.mean():.3f}**. "
                f"Cluster agreement between the models: ARI **{agree.ari:.3f}**, NMI **{agree.nmi:.3f}**. "
                f"The right map is rotated onto the left one by Procrustes.",
                help=glossary.helps("kNN Jaccard", "ARI", "NMI", "Procrustes"))
    if docs.labels is not None:
        st.markdown("**Against the labels**")
        st.dataframe(label_scores_table(maps, docs.labels).style.format(precision=3), key="exp_label_scores",
                     column_config=glossary.column_help({"V-measure": "V-measure", "ARI": "ARI"}))
    worst = np.argsort(agreement)[:20]
    st.markdown("**Documents whose neighbourhoods differ most**")
    st.dataframe(pd.DataFrame({"id": [docs.ids[i] for i in worst], "agreement": agreement[worst],
                               f"cluster ({a})": maps[a].labels[worst], f"cluster ({b})": maps[b].labels[worst],
                               "text": [docs.texts[i][:200] for i in worst]}), hide_index=True, key="exp_worst",
                 column_config=glossary.column_help({"agreement": "kNN Jaccard"}))


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


st.title("Corpus explorer")
st.caption("What is in this corpus, and which embedder organises it best? Embed → 2-D map (UMAP or PCA) → "
           "HDBSCAN clusters → c-TF-IDF keywords, for up to three models side by side.",
           help=glossary.helps("UMAP", "PCA", "HDBSCAN", "c-TF-IDF"))
documents = corpus_section()
chosen, settings = settings_section(len(documents.texts))
run_section(documents, chosen, settings)
model_maps = saved_maps(documents)
rows_drawn = drawn_rows(len(documents.texts))
tab_names = [f"Map: {n}" for n in model_maps] + (["Compare"] if len(model_maps) >= 2 else []) + ["Export"]
tabs = dict(zip(tab_names, st.tabs(tab_names)))
for model_name, one_map in model_maps.items():
    with tabs[f"Map: {model_name}"]:
        map_tab(model_name, one_map, documents, rows_drawn)
if "Compare" in tabs:
    with tabs["Compare"]:
        compare_tab(model_maps, documents, rows_drawn)
with tabs["Export"]:
    export_tab(model_maps, documents)
