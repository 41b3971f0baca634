"""The corpus explorer on a collection (issue 15): a map of a seeded sample, clusters assigned to every
document, keywords from all of them, and search across the whole collection through its ANN index.
The work is ``embedlab.store.explore``; this module draws its widgets and results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedlab import estimate
from embedlab.durations import format_seconds
from embedlab.errors import EmbedlabError
from embedlab.explorer.clustering import NOISE
from embedlab.explorer.pipeline import explore_config
from embedlab.explorer.topics import cluster_centres
from embedlab.jobs import Job, JobContext
from embedlab.store.collection import Collection
from embedlab.store.explore import (
    MIN_SAMPLE,
    CollectionMap,
    Highlight,
    explore_collection,
    highlight,
    similar,
)
from ui import charts, jobs, jobview, state
from ui.collections import describe, pick_collection, summary
from ui.explorer_tabs import DEFAULT_MAP_PACE, MAP_PACE, map_settings
from ui.models import get_model

KIND = "explorer-collection"  # the job kind
ADOPTED = "exp_coll_adopted_job"
MAX_SAMPLE = 50_000  # a larger map takes long to compute and to draw in the browser
ASSIGN_PACE, DEFAULT_ASSIGN_PACE = "explorer assign to all", 0.0005  # seconds per document, remembered
MAX_COLOUR_VALUES = 20  # a column with more distinct values is no use as a colour
NEIGHBOURS_K = 10
MAP_LABELS = 20  # clusters named on the map, the largest first: a 20,000-document sample can form 150


def collection_view() -> None:
    """Everything the explorer shows for a collection: choose, run, then the results."""
    collection = pick_collection(state.EXP_COLL)
    if collection is None:
        st.stop()
    facts = summary(collection)
    st.write(describe(collection, facts))
    models = list(facts["models"])
    if not models:
        st.info(f"This collection has no vectors yet: `embedlab index --collection {collection.uri} --model minilm`.")
        st.stop()
    c1, c2, c3 = st.columns([2, 2, 1])
    model = c1.selectbox("Model", models, index=state.choice_index(state.EXP_COLL_MODEL, models),
                         key=state.EXP_COLL_MODEL, help="Whose stored vectors to map (one of the collection's models).")
    total = facts["models"][model]["embedded"]
    size = c2.number_input("Documents on the map (a seeded sample)", MIN_SAMPLE, MAX_SAMPLE, step=1_000,
                           key=state.EXP_COLL_SAMPLE, help="UMAP and HDBSCAN run on this many documents; every "
                           "document of the collection is then assigned to its nearest cluster centre.")
    seed = c3.number_input("Seed", 0, 10_000, key=state.EXP_COLL_SEED, help="The same seed draws the same sample.")
    n = min(int(size), total)
    settings = map_settings(n)
    run_section(collection, model, n, int(seed), total, settings)
    result = saved_result(collection, model)
    if result is not None:
        results_section(collection, result)


def run_section(collection: Collection, model: str, n: int, seed: int, total: int, settings: dict) -> None:
    job = jobs.latest(KIND)
    running = job is not None and job.running
    try:
        config = explore_config(n, **settings)
    except EmbedlabError as exc:
        st.error(str(exc))
        st.stop()
    weights = step_weights(n, total)
    jobview.cost_lines(cost_lines(n, total), KIND)
    if st.button("Run", type="primary", key="exp_coll_run", disabled=running or total < MIN_SAMPLE,
                 help="Runs in the background: you can switch pages and come back."):
        start_run(collection, model, config, n=n, seed=seed, total=total, weights=weights)
    if total < MIN_SAMPLE:
        st.error(f"Only {total:,} documents have {model!r} vectors; the explorer needs at least {MIN_SAMPLE}.")
    job = jobview.panel(KIND)
    result = jobview.fresh_result(job, ADOPTED)
    if result:
        st.session_state[state.EXP_COLL_RESULT] = result


def step_weights(n: int, total: int) -> dict[str, float]:
    """Expected seconds of each step, from this machine's remembered paces (or a rough guess)."""
    map_pace = estimate.remembered_pace(MAP_PACE) or DEFAULT_MAP_PACE
    assign_pace = estimate.remembered_pace(ASSIGN_PACE) or DEFAULT_ASSIGN_PACE
    return {"sample": total * 2e-5, "map": 0.45 * map_pace * n, "cluster": 0.5 * map_pace * n,
            "describe": 0.05 * map_pace * n, "assign": assign_pace * total}


def cost_lines(n: int, total: int) -> list[str]:
    lines = [f"Map of {n:,} of {total:,} documents; clusters then assigned to all {total:,}."]
    map_pace, assign_pace = estimate.remembered_pace(MAP_PACE), estimate.remembered_pace(ASSIGN_PACE)
    if map_pace is not None:
        lines.append(f"Map and clusters: about {format_seconds(map_pace * n)}")
    if assign_pace is not None:
        lines.append(f"Assigning all documents and their keywords: about {format_seconds(assign_pace * total)}")
    return lines


def start_run(collection: Collection, model: str, config, *, n: int, seed: int, total: int,
              weights: dict[str, float]) -> None:
    whole = sum(weights.values()) or 1.0
    spans, at = {}, 0.0
    for step, seconds in weights.items():
        spans[step] = (at, at + seconds / whole)
        at += seconds / whole

    def task(ctx: JobContext) -> dict:
        result = explore_collection(collection, model, config, size=n, seed=seed, progress=ctx.progress,
                                    note=lambda step, message: ctx.section(*spans[step], message))
        estimate.remember_pace(MAP_PACE, units=len(result.sample),
                               seconds=result.seconds["map"] + result.seconds["cluster"])
        estimate.remember_pace(ASSIGN_PACE, units=result.assignment.documents, seconds=result.seconds["assign"])
        ctx.note(f"Sample {format_seconds(result.seconds['sample'])}, map {format_seconds(result.seconds['map'])}, "
                 f"clusters {format_seconds(result.seconds['cluster'])}, all {result.assignment.documents:,} "
                 f"assigned with keywords {format_seconds(result.seconds['assign'])}")
        return {"uri": collection.uri, "model": model, "result": result}

    try:
        jobs.submit(Job(KIND, f"Explorer on {collection.uri} ({model}, {n:,} of {total:,} documents)", task,
                        settings={"widgets": state.snapshot(state.EXPLORER_KEYS)}, estimate_seconds=whole))
    except RuntimeError as exc:
        st.error(str(exc))


def saved_result(collection: Collection, model: str) -> CollectionMap | None:
    saved = st.session_state.get(state.EXP_COLL_RESULT)
    if not saved or saved["uri"] != collection.uri or saved["model"] != model:
        if not (jobs.latest(KIND) and jobs.latest(KIND).running):
            st.info("Press Run: the map of a sample, the clusters of every document and their keywords appear here.")
        return None
    return saved["result"]


def results_section(collection: Collection, result: CollectionMap) -> None:
    """The map with the search ringed, the clusters over the whole collection, the hits."""
    st.info(f"Showing a {result.describe()}.")
    for note in result.map.notes:
        st.warning(note)
    s1, s2 = st.columns([4, 1])
    query = s1.text_input("Search the whole collection (through its ANN index)", key=state.EXP_COLL_QUERY,
                          placeholder="e.g. interest rates")
    k = s2.number_input("Top k", 1, 1_000, key=state.EXP_COLL_K)
    found = search(collection, result, query, int(k)) if query.strip() else None
    colour = colour_choice(result)
    picked = picked_cluster(result)
    event = st.plotly_chart(collection_map(result, found, colour, picked), key="exp_coll_map", on_select="rerun",
                            selection_mode=("points", "box", "lasso"))
    clusters = len([c for c in result.assignment.counts if c != NOISE])
    notes = []
    if clusters > MAP_LABELS:
        notes.append(f"The {MAP_LABELS} largest of {clusters} clusters are named on the map (a cluster picked in the "
                     "table below is named too); hover a point for its cluster's keywords.")
    if found is not None:
        notes.append(f"{len(found.on_map)} of the top {len(found.hits)} hits for {found.query!r} are on the map "
                   f"(ringed); {found.off_map} of the top {len(found.hits)} hits are not in the sample. "
                   f"Search took {found.seconds * 1000:.0f} ms.")
        per_cluster = sorted(found.per_cluster().items(), key=lambda item: -item[1])
        named = [f"{'noise' if c == NOISE else c} ({n})" for c, n in per_cluster[:8]]
        more = f" and {len(per_cluster) - 8} more clusters" if len(per_cluster) > 8 else ""
        notes.append(f"Hits per cluster: {', '.join(named)}{more}.")
    if notes:
        st.caption(" ".join(notes))
    points = [int(p["customdata"]) for p in (event or {}).get("selection", {}).get("points", [])
              if p.get("customdata") is not None]
    points = list(dict.fromkeys(points))
    if len(points) == 1:
        neighbours_section(collection, result, points[0])
    elif points:
        st.dataframe(sample_table(result, points), hide_index=True, key="exp_coll_selected")
    clusters_section(result, found)
    if found is not None:
        st.markdown(f"**Top {len(found.hits)} hits for {found.query!r}** (the whole collection)")
        st.dataframe(hits_table(found), hide_index=True, key="exp_coll_hits")


def search(collection: Collection, result: CollectionMap, query: str, k: int) -> Highlight | None:
    """The hits for ``query``; the last search is kept, so redrawing the page does not search again."""
    asked = (id(result), query, k)
    last = st.session_state.get(state.EXP_COLL_FOUND)
    if last and last[0] == asked:
        return last[1]
    try:
        found = highlight(collection, get_model(result.model), result, query, k=k)
    except EmbedlabError as exc:
        st.error(f"Search failed: {exc}")
        return None
    st.session_state[state.EXP_COLL_FOUND] = (asked, found)
    return found


def colour_columns(result: CollectionMap) -> list[str]:
    """The collection's other columns with few enough values to colour the map by."""
    columns = result.sample.columns
    return [c for c in columns.columns if 1 < columns[c].nunique(dropna=False) <= MAX_COLOUR_VALUES]


def colour_choice(result: CollectionMap) -> str:
    options = ["cluster", *colour_columns(result)]
    if len(options) == 1:
        return "cluster"
    return st.radio("Colour by", options, index=state.choice_index(state.EXP_COLL_COLOUR, options),
                    key=state.EXP_COLL_COLOUR, horizontal=True)


def picked_cluster(result: CollectionMap) -> int | None:
    """The cluster whose row is selected in the cluster table (known before the table is drawn)."""
    table = st.session_state.get("exp_coll_clusters")
    rows = table["selection"]["rows"] if table else []
    order = cluster_order(result)
    return order[rows[0]] if rows and rows[0] < len(order) else None


def collection_map(result: CollectionMap, found: Highlight | None, colour: str, picked: int | None):
    labels, sample = result.map.labels, result.sample
    keywords = result.assignment.keywords
    ringed = None
    if found is not None:
        ringed = np.zeros(len(sample), dtype=bool)
        ringed[found.on_map] = True
    extra = [", ".join(keywords.get(int(c), [])[:5]) for c in labels]
    if colour == "cluster":
        named = set(named_clusters(result, picked))
        centres = {c: xy for c, xy in cluster_centres(result.map.coords, labels).items() if c in named}
        return charts.corpus_map(result.map.coords, [charts.cluster_group(c) for c in labels], sample.texts,
                                 highlight=ringed, extra=extra, colours=charts.cluster_colours(labels),
                                 labels=charts.cluster_labels(centres, keywords),
                                 focus=None if picked is None else charts.cluster_group(picked))
    return charts.corpus_map(result.map.coords, sample.columns[colour].fillna("(none)").astype(str).tolist(),
                             sample.texts, highlight=ringed, extra=extra)


def named_clusters(result: CollectionMap, picked: int | None) -> list[int]:
    """The clusters whose keywords are written on the map: the largest, and the one picked in the table."""
    largest = [c for c in cluster_order(result) if c != NOISE][:MAP_LABELS]
    return largest + ([picked] if picked is not None and picked != NOISE and picked not in largest else [])


def cluster_order(result: CollectionMap) -> list[int]:
    counts = result.assignment.counts
    return sorted(counts, key=lambda c: (c == NOISE, -counts[c]))


def cluster_rows(result: CollectionMap, found: Highlight | None) -> pd.DataFrame:
    counts, total = result.assignment.counts, result.assignment.documents
    in_sample = dict(zip(*np.unique(result.map.labels, return_counts=True)))
    central = {c.cluster: c.central_docs for c in result.map.clusters}
    hits = found.per_cluster() if found is not None else {}
    rows = []
    for c in cluster_order(result):
        row = {"cluster": "noise" if c == NOISE else str(c), "documents": counts[c],
               "share": counts[c] / total, "on the map": int(in_sample.get(c, 0))}
        if found is not None:
            row["hits"] = hits.get(c, 0)
        row["keywords (all documents)"] = ", ".join(result.assignment.keywords.get(c, []))
        docs = central.get(c, [])
        row["most central document (sample)"] = result.sample.texts[docs[0]][:160] if docs else ""
        rows.append(row)
    return pd.DataFrame(rows)


def clusters_section(result: CollectionMap, found: Highlight | None) -> None:
    st.markdown(f"**Clusters over all {result.assignment.documents:,} documents** · click a row to pick a cluster "
                "out on the map and list its documents there. Noise: documents of the sample HDBSCAN left out of "
                "every cluster; every document off the map is in the cluster with the nearest centre.")
    st.dataframe(cluster_rows(result, found).style.format({"share": "{:.1%}"}), hide_index=True,
                 key="exp_coll_clusters", on_select="rerun", selection_mode="single-row")
    picked = picked_cluster(result)
    if picked is None:
        return
    central = next((c.central_docs for c in result.map.clusters if c.cluster == picked), [])
    rest = [i for i in np.flatnonzero(result.map.labels == picked) if i not in central]
    st.markdown(f"**Documents of {'noise' if picked == NOISE else f'cluster {picked}'} on the map** "
                f"({len(central) + len(rest):,} of {result.assignment.counts.get(picked, 0):,}, the most central first)")
    st.dataframe(sample_table(result, central + rest), hide_index=True, key="exp_coll_cluster_docs")


def sample_table(result: CollectionMap, positions: list[int]) -> pd.DataFrame:
    positions = list(positions)
    frame = pd.DataFrame({"id": [result.sample.ids[i] for i in positions],
                          "cluster": result.map.labels[positions],
                          "text": [result.sample.texts[i][:300] for i in positions]})
    others = result.sample.columns.iloc[positions].reset_index(drop=True)
    return pd.concat([frame, others], axis=1)


def hits_table(found: Highlight) -> pd.DataFrame:
    hits = found.hits
    return pd.DataFrame({"rank": np.arange(1, len(hits) + 1), "id": hits["id"], "score": hits["score"].round(3),
                         "cluster": hits["cluster"], "on the map": hits["on_map"] >= 0,
                         "text": hits["text"].str.slice(0, 200)})


def neighbours_section(collection: Collection, result: CollectionMap, position: int) -> None:
    """A clicked document and its nearest neighbours in the whole collection (not only on the map)."""
    st.markdown(f"**Document {result.sample.ids[position]}** (cluster {result.map.labels[position]}): "
                f"{result.sample.texts[position][:300]}")
    try:
        near = similar(collection, result, position, k=NEIGHBOURS_K)
    except EmbedlabError as exc:
        st.error(str(exc))
        return
    st.markdown(f"**Its {len(near.hits)} nearest neighbours in the whole collection** "
                f"({near.off_map} of them not on the map)")
    st.dataframe(hits_table(near).rename(columns={"score": "cosine"}), hide_index=True, key="exp_coll_nn")
