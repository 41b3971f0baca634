"""Corpus explorer: upload a corpus, map and cluster it with 1-3 models, compare the models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedlab import bundled, estimate
from embedlab.columns import guess_columns, refuse_non_text
from embedlab.durations import format_seconds
from embedlab.errors import EmbedlabError
from embedlab.explorer.clustering import NOISE
from embedlab.explorer.compare import (
    label_scores,
)
from embedlab.explorer.neighbours import neighbours_by_model
from embedlab.explorer.pipeline import ExploreConfig, ModelMap, explore, explore_config
from embedlab.explorer.topics import cluster_centres
from embedlab.jobs import Job, JobContext, Stopped
from embedlab.tables import Documents, read_table, table_documents
from embedlab.vectors import PrecomputedEmbedder
from ui import charts, glossary, jobs, jobview, shell, state
from ui.explorer_collection import collection_view
from ui.explorer_tabs import (
    DEFAULT_MAP_PACE,
    MAP_PACE,
    cluster_keywords,
    compare_tab,
    export_tab,
    map_settings,
)
from ui.models import load_many, model_choices
from ui.vectors import own_vectors

shell.require_router()

BBC = "BBC News (bundled, 2,225 articles, 5 topics)"
UPLOAD = "Upload a file"
COLLECTION = "A collection"
NONE = "(none)"
MAP_MAX_POINTS = 20_000
EXPLORE = "explorer"  # the job kind
EXP_ADOPTED = "exp_adopted_job"  # the finished job whose result this session has taken


def corpus_section(source: str) -> Documents:
    """1. The corpus, and which of its columns hold texts, labels and ids."""
    if source == BBC:
        table, (text_col, label_col, id_col) = bundled.bbc_news(), ("text", "label", "id")
        st.caption("Article bodies as texts, the 5 topic folders as labels.")
    else:
        table = uploaded_table()
        text_col, label_col, id_col = column_choices(table)
    try:
        refuse_non_text(table, text_col)
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


def column_choices(table: pd.DataFrame) -> tuple[str, str | None, str | None]:
    """The text, label and id columns: guessed (by name and content) for each new upload, then the user's."""
    columns = [str(c) for c in table.columns]
    upload = (table.attrs.get("source"), tuple(columns), len(table))
    keys = (state.EXP_TEXT_COL, state.EXP_LABEL_COL, state.EXP_ID_COL)
    if st.session_state.get(state.EXP_COLUMNS_OF) != upload or st.session_state.get(keys[0]) not in columns:
        guess = guess_columns(table)
        for key, column in zip(keys, (guess.text or columns[0], guess.label or NONE, guess.id or NONE)):
            st.session_state[key] = column
        st.session_state[state.EXP_COLUMNS_OF] = upload
    c1, c2, c3 = st.columns(3)
    text_col = c1.selectbox("Text column", columns, key=state.EXP_TEXT_COL,
                            help="Guessed: a column named like text/body/content/abstract, else the longest texts.")
    label_col = c2.selectbox("Label column (optional)", [NONE, *columns], key=state.EXP_LABEL_COL,
                             help="Guessed: a column named like label/category/topic/class, else a column "
                                  "with a few repeated values.")
    id_col = c3.selectbox("Id column (optional)", [NONE, *columns], key=state.EXP_ID_COL,
                          help="Guessed: a column named like id/doc_id, else one with a different value per row.")
    return text_col, None if label_col == NONE else label_col, None if id_col == NONE else id_col


def settings_section(docs: Documents) -> tuple[list[str], PrecomputedEmbedder | None, dict]:
    """2. The models, the user's own vectors (an extra model), and the map and clustering settings as
    ``explore_config`` keywords."""
    n_docs = len(docs.texts)
    names = st.multiselect("Models (1 to 3)", list(dict.fromkeys([*model_choices(), *st.session_state[state.EXP_MODELS]])),
                           key=state.EXP_MODELS, max_selections=3, accept_new_options=True)
    column = docs.column
    own = own_vectors(state.EXP_VECTORS, texts=docs.texts, ids=docs.ids, rows=column.rows,
                      table_rows=len(column.rows) + len(column.skipped_empty) + len(column.skipped_non_text))
    return names, own, map_settings(n_docs)


def run_section(docs: Documents, names: list[str], settings: dict, own: PrecomputedEmbedder | None = None) -> None:
    """The Run button and the run: each chosen model (and the user's own vectors) through the pipeline
    in a background job that keeps going (and keeps its result) while the user is on other pages."""
    job = jobs.latest(EXPLORE)
    running = job is not None and job.running
    try:
        config = explore_config(len(docs.texts), **settings)
    except EmbedlabError as exc:
        st.error(str(exc))
        st.stop()
    models, errors = load_many(names) if names and not running else ({}, {})
    if own is not None and not running:
        models[own.name] = own
    for name, message in errors.items():
        st.error(f"**{name}** could not be used: {message}")
    if models:
        jobview.cost_lines(explore_cost(docs.texts, models), EXPLORE)
    if st.button("Run", type="primary", key="exp_run", disabled=not models or running,
                 help="Runs in the background: you can switch pages and come back."):
        start_run(docs, models, config)
    job = jobview.panel(EXPLORE)
    result = jobview.fresh_result(job, EXP_ADOPTED)
    if result and result["maps"]:
        st.session_state[state.EXP_RESULTS] = result
    if job is not None and not job.running and job.result:
        for name, message in job.result["errors"].items():
            st.error(f"**{name}** failed: {message}")


def explore_cost(texts: list[str], models: dict) -> list[str]:
    """One line per model: what embedding will cost; then the map and clusters at the remembered pace."""
    lines = [estimate.estimate_encode(model, texts).describe("documents") for model in models.values()]
    pace = estimate.remembered_pace(MAP_PACE)
    if pace is not None:
        lines.append(f"then map and clusters: about {format_seconds(pace * len(texts))} per model")
    return lines


def start_run(docs: Documents, models: dict, config: ExploreConfig) -> None:
    texts, key = list(docs.texts), docs.key
    estimates = {name: estimate.estimate_encode(model, texts) for name, model in models.items()}
    pace = estimate.remembered_pace(MAP_PACE) or DEFAULT_MAP_PACE
    weights = {name: ((e.seconds if e.seconds is not None else e.to_encode / 50), pace * len(texts))
               for name, e in estimates.items()}
    total = sum(a + b for a, b in weights.values()) or 1.0

    def task(ctx: JobContext) -> dict:
        maps, errors, done = {}, {}, 0.0
        for name, model in models.items():
            embed_w, map_w = (w / total for w in weights[name])
            spans = {"embed": (done, done + embed_w), "map": (done + embed_w, done + embed_w + 0.45 * map_w),
                     "cluster": (done + embed_w + 0.45 * map_w, done + embed_w + 0.95 * map_w),
                     "describe": (done + embed_w + 0.95 * map_w, done + embed_w + map_w)}
            try:
                maps[name] = explore(texts, model, config, progress=ctx.progress,
                                     note=lambda step, msg: ctx.section(*spans[step], msg))
            except Stopped:
                break  # the models finished before the stop are kept
            # UMAP and HDBSCAN reject some degenerate inputs (e.g. identical vectors) with a ValueError.
            except (EmbedlabError, ValueError) as exc:
                errors[name] = str(exc)
            else:
                learn(model, texts, maps[name])
            done += embed_w + map_w
        return {"corpus": key, "maps": maps, "errors": errors}

    try:
        jobs.submit(Job(EXPLORE, f"Explorer run ({', '.join(models)}, {len(texts):,} documents)", task,
                        settings={"widgets": state.snapshot(state.EXPLORER_KEYS)},
                        estimate_seconds=sum(a + b for a, b in weights.values())))
    except RuntimeError as exc:
        st.error(str(exc))


def learn(model, texts: list[str], result: ModelMap) -> None:
    """Remember this run's pace, so the next estimate is from this machine."""
    estimate.learn_from_run(model, texts, result.seconds["embed"], source="explorer run")
    estimate.remember_pace(MAP_PACE, units=len(texts), seconds=result.seconds["map"] + result.seconds["cluster"])


def saved_maps(docs: Documents) -> dict[str, ModelMap]:
    results = st.session_state.get(state.EXP_RESULTS)
    if not results or results["corpus"] != docs.key:
        if not (jobs.latest(EXPLORE) and jobs.latest(EXPLORE).running):
            st.info("Pick up to three models and press Run: the map, clusters and keywords appear here.")
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


def map_tab(name: str, model_map: ModelMap, docs: Documents, rows: np.ndarray,
            maps: dict[str, ModelMap] | None = None) -> None:
    """3. One model's map, coloured by cluster or label, with each cluster's keywords written at its centre,
    a text search ringed, the cluster picked in the table below drawn strong. Clicking a point shows its
    nearest neighbours in every model of ``maps``."""
    for note in model_map.notes:  # what was used instead of the settings, and why
        st.warning(note)
    c1, c2 = st.columns([1, 2])
    colour = c1.radio("Colour by", ["cluster", "label"] if docs.labels is not None else ["cluster"],
                      key=f"exp_colour_{name}", horizontal=True)
    query = c2.text_input("Highlight documents containing", key=f"exp_search_{name}")
    highlight = np.array([query.lower() in t.lower() for t in docs.texts]) if query.strip() else None
    groups, colours, marks, focus = docs.labels.tolist() if docs.labels is not None else [], None, None, None
    if colour == "cluster":
        groups = [charts.cluster_group(l) for l in model_map.labels]
        colours = charts.cluster_colours(model_map.labels)
        marks = charts.cluster_labels(cluster_centres(model_map.coords, model_map.labels), cluster_keywords(model_map))
        picked_label = picked_cluster(name, model_map)
        focus = None if picked_label is None else charts.cluster_group(picked_label)
    extra = [model_map.keywords_of(l) for l in model_map.labels]
    event = st.plotly_chart(
        charts.corpus_map(model_map.coords, groups, docs.texts, rows=rows, highlight=highlight, extra=extra,
                          colours=colours, labels=marks, focus=focus),
        key=f"exp_map_{name}", on_select="rerun", selection_mode=("points", "box", "lasso"),
    )
    picked = selected_documents(event)
    notes = [f"{len(picked):,} point{'s' if len(picked) != 1 else ''} selected" if picked else
             "Click a point to see its nearest neighbours in each model; pick the box or lasso tool in the "
             "chart's toolbar to select many."]
    if highlight is not None:
        notes.append(f"{int(highlight.sum())} documents contain {query!r} (ringed in black).")
    st.caption(" · ".join(notes))
    if docs.labels is not None:
        scores = label_scores(model_map.labels, docs.labels)
        st.caption(f"Against the labels: V-measure {scores.v_measure:.3f}, ARI {scores.ari:.3f} "
                   f"(noise, {scores.noise_share:.1%} of documents, counted as its own cluster).",
                   help=glossary.helps("V-measure", "ARI"))
    if len(picked) == 1:
        neighbours_section(picked[0], {name: model_map, **(maps or {})}, docs, tab=name)
    elif picked:
        st.dataframe(docs_table(picked, model_map, docs), hide_index=True, key=f"exp_selected_{name}")
    clusters_section(name, model_map, docs)


def selected_documents(event) -> list[int]:
    """The documents a map's selection event holds (a click: one; a box or lasso: many), each once, in
    order. A ringed search match is a second point on the same document, hence the de-duplication."""
    points = (event or {}).get("selection", {}).get("points", [])
    return list(dict.fromkeys(int(p["customdata"]) for p in points if p.get("customdata") is not None))


def cluster_rows(model_map: ModelMap, docs: Documents) -> pd.DataFrame:
    return pd.DataFrame([{"cluster": "noise" if c.cluster == NOISE else str(c.cluster), "size": c.size,
                          "keywords": ", ".join(c.keywords),
                          "most central document": docs.texts[c.central_docs[0]][:160] if c.central_docs else ""}
                         for c in model_map.clusters])


def picked_cluster(name: str, model_map: ModelMap) -> int | None:
    """The cluster whose row is selected in the cluster table (its state is known before it is drawn)."""
    table = st.session_state.get(f"exp_clusters_{name}")
    rows = table["selection"]["rows"] if table else []
    return model_map.clusters[rows[0]].cluster if rows and rows[0] < len(model_map.clusters) else None


def clusters_section(name: str, model_map: ModelMap, docs: Documents) -> None:
    """The clusters' keywords; clicking a row draws that cluster strong on the map and lists its documents."""
    st.markdown("**Clusters** · click a row to pick a cluster out on the map and list its documents")
    st.dataframe(cluster_rows(model_map, docs), hide_index=True, key=f"exp_clusters_{name}",
                 on_select="rerun", selection_mode="single-row")
    label_value = picked_cluster(name, model_map)
    if label_value is None:
        return
    central = next(c for c in model_map.clusters if c.cluster == label_value).central_docs
    rest = [i for i in np.flatnonzero(model_map.labels == label_value) if i not in central]
    st.markdown(f"**Documents of {'noise' if label_value == NOISE else f'cluster {label_value}'}** "
                f"({len(central) + len(rest):,}, the most central first)")
    st.dataframe(docs_table(central + rest, model_map, docs), hide_index=True, key=f"exp_cluster_docs_{name}")


NEIGHBOURS_K = 10


def neighbours_section(index: int, maps: dict[str, ModelMap], docs: Documents, *, tab: str) -> None:
    """Document ``index``'s nearest neighbours in each model side by side, marking the ones other models share."""
    k = min(NEIGHBOURS_K, len(docs.texts) - 1)
    st.markdown(f"**Nearest {k} neighbours of document {docs.ids[index]}** "
                f"(cluster {maps[next(iter(maps))].labels[index]}): {docs.texts[index][:200]}")
    found = neighbours_by_model({n: m.vectors for n, m in maps.items()}, index, k=k)
    for column, (name, neighbours) in zip(st.columns(len(found)), found.items()):
        frame = pd.DataFrame({"id": [docs.ids[nb.index] for nb in neighbours],
                              "cosine": [nb.cosine for nb in neighbours],
                              "cluster": [int(maps[name].labels[nb.index]) for nb in neighbours],
                              "text": [docs.texts[nb.index][:160] for nb in neighbours]})
        title = f"**{name}**"
        if len(found) > 1:
            frame.insert(2, "also in", [", ".join(nb.shared_with) or "only here" for nb in neighbours])
            everywhere = sum(len(nb.shared_with) == len(found) - 1 for nb in neighbours)
            title += f" · {everywhere} of {k} shared by {'both' if len(found) == 2 else 'all'} models"
        column.markdown(title)
        column.dataframe(frame.style.format({"cosine": "{:.3f}"}), hide_index=True, key=f"exp_nn_{tab}_{name}")


st.title("Corpus explorer")
st.caption("What is in this corpus, and which embedder organises it best? Embed → 2-D map (UMAP or PCA) → "
           "HDBSCAN clusters → c-TF-IDF keywords, for up to three models side by side.",
           help=glossary.helps("UMAP", "PCA", "HDBSCAN", "c-TF-IDF"))
corpus_source = st.radio("Corpus", [BBC, UPLOAD, COLLECTION], key=state.EXP_SOURCE, horizontal=True,
                         help="A collection: a LanceDB folder built with `embedlab index`, for corpora too large "
                              "to upload (a map of a sample, clusters assigned to every document).")
if corpus_source == COLLECTION:
    collection_view()
    st.stop()
documents = corpus_section(corpus_source)
chosen, own_model, settings = settings_section(documents)
run_section(documents, chosen, settings, own_model)
model_maps = saved_maps(documents)
rows_drawn = drawn_rows(len(documents.texts))
tab_names = [f"Map: {n}" for n in model_maps] + (["Compare"] if len(model_maps) >= 2 else []) + ["Export"]
tabs = dict(zip(tab_names, st.tabs(tab_names)))
for model_name, one_map in model_maps.items():
    with tabs[f"Map: {model_name}"]:
        map_tab(model_name, one_map, documents, rows_drawn, model_maps)
if "Compare" in tabs:
    with tabs["Compare"]:
        compare_tab(model_maps, documents, rows_drawn)
with tabs["Export"]:
    export_tab(model_maps, documents)
