"""The Retrieval lab on a collection (LanceDB, built with ``embedlab index``): the collection's own models,
a query searched through its ANN index (or exactly, or hybrid with its full-text index), and uploaded
queries and qrels evaluated with ``store.evaluate.evaluate_collection`` as a background job."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from embedlab import estimate
from embedlab.errors import EmbedlabError
from embedlab.jobs import Job, JobContext
from embedlab.retrieval.metrics import DEFAULT_METRICS
from embedlab.retrieval.pipeline import TOP_K_CHOICES
from embedlab.store.collection import ANN_MIN_ROWS, ID, TEXT, Collection
from embedlab.store.evaluate import evaluate_collection, judged_documents, judged_queries
from embedlab.store.search import check_model, search_timed
from ui import charts, jobs, jobview, state
from ui.collections import describe, judgement_files, pick_collection, summary
from ui.models import get_model
from ui.retrieval_tabs import SCORE_COLUMN

SOURCE = "A collection (LanceDB, built with embedlab index)"
EVALUATE = "retrieval-collection-evaluation"  # job kind
EVAL_ADOPTED = "ret_coll_eval_adopted_job"
TEXT_SHOWN = 240  # characters of a document's text in the results
STORE_ERRORS = (EmbedlabError, ValueError, OSError, RuntimeError)  # ours, and LanceDB's for a broken folder


@dataclass(frozen=True)
class Plan:
    """What runs on the collection: its models that loaded and match its vectors, hybrid, exact."""

    models: dict
    hybrid: bool
    exact: bool


def collection_lab() -> None:
    """The whole lab for the collection the user picks (nothing more than the reason when there is none)."""
    collection = pick_collection(state.RET_COLL)
    if collection is None:
        return
    try:
        facts = summary(collection)
    except STORE_ERRORS as exc:
        st.error(f"Could not read {collection.uri}: {str(exc).splitlines()[0][:200]}")
        return
    st.markdown(describe(collection, facts))
    plan = plan_section(collection, facts)
    if not plan.models:
        return
    search_tab, eval_tab = st.tabs(["Search", "Evaluate"])
    with search_tab:
        search_section(collection, plan, facts["columns"])
    with eval_tab:
        evaluate_section(collection, plan)


# 1. Models ----------------------------------------------------------------------------------------
def plan_section(collection: Collection, summary: dict) -> Plan:
    usable = {name: m for name, m in summary["models"].items() if m["embedded"]}
    if not usable:
        st.error(f"{collection.uri} has no vectors yet: add them with `embedlab index --collection {collection.uri} "
                 "--model NAME`.")
        return Plan({}, False, False)
    forget_other_models(usable)
    c1, c2, c3 = st.columns([3, 1, 1])
    names = c1.multiselect("Models (the collection's, 1 to 3)", list(usable), max_selections=3,
                           default=state.first_value(state.RET_COLL_MODELS, list(usable)[:1]),
                           key=state.RET_COLL_MODELS,
                           format_func=lambda n: f"{n} · {'ANN index' if usable[n]['ann_index'] else 'no ANN index'}",
                           help="Only models whose vectors the collection holds: its documents are not embedded "
                                f"again. Without an ANN index (fewer than {ANN_MIN_ROWS:,} rows) a model is searched "
                                "exactly.")
    fts = summary["full_text_index"]
    hybrid = c2.toggle("Hybrid (RRF)", key=state.RET_COLL_HYBRID, disabled=not fts,
                       help="Each model's ranking fused with the collection's full-text (BM25) ranking by reciprocal "
                            "rank." if fts else "The collection has no full-text index: run `embedlab index` once "
                                                "more to build it.") and fts
    exact = c3.toggle("Exact", key=state.RET_COLL_EXACT,
                      help="Compare the query with every vector instead of going through the ANN index.")
    if not names:
        st.info("Pick at least one of the collection's models.")
    return Plan(load_checked(collection, names), hybrid, exact)


def forget_other_models(usable: dict) -> None:
    """Models chosen earlier (another collection, a restored session) that this collection has no vectors
    from: said once, and dropped from the choice."""
    chosen = st.session_state.get(state.RET_COLL_MODELS) or []
    stale = [n for n in chosen if n not in usable]
    if not stale:
        return
    st.error(f"This collection has no vectors from {', '.join(stale)} (it has: {', '.join(usable)}), so "
             f"{'it' if len(stale) == 1 else 'they'} cannot search it. Add vectors with `embedlab index "
             "--collection … --model NAME`, or pick one of its models.")
    kept = [n for n in chosen if n in usable]
    if kept:
        st.session_state[state.RET_COLL_MODELS] = kept
    else:
        del st.session_state[state.RET_COLL_MODELS]


def load_checked(collection: Collection, names: list[str]) -> dict:
    """The models that load here and made the collection's vectors (same weights and settings)."""
    loaded = {}
    for name in names:
        try:
            model = get_model(name)
            check_model(collection, model)
        except STORE_ERRORS as exc:
            st.error(f"**{name}** cannot search this collection: {exc}")
            continue
        loaded[name] = model
    return loaded


# 2. Search ----------------------------------------------------------------------------------------
def search_section(collection: Collection, plan: Plan, extra_columns: list[str]) -> None:
    """The query through each model's index, at once: one query is milliseconds of search."""
    q1, q2 = st.columns([4, 1])
    query = q1.text_input("Query", key=state.RET_COLL_QUERY, placeholder="e.g. oil company tax dispute in Russia")
    k = q2.slider("Top k", 1, 50, key=state.RET_COLL_K)
    if not query.strip():
        st.info("Type a query: each model embeds it and the collection is searched through its index.")
        return
    columns = [ID, TEXT, *extra_columns]
    shown = st.columns(min(len(plan.models), 3))
    for n, (name, model) in enumerate(plan.models.items()):
        with shown[n]:
            try:
                [found] = search_timed(collection, model, [query.strip()], k=k, hybrid=plan.hybrid, exact=plan.exact,
                                       columns=columns)
            except STORE_ERRORS as exc:
                st.error(f"**{name}** could not search: {str(exc).splitlines()[0][:300]}")
                continue
            st.markdown(f"**{name}** · {found.pipeline}")
            st.dataframe(hits_frame(found.frame, columns), hide_index=True, key=f"ret_coll_hits_{n}",
                         column_config=SCORE_COLUMN)
            st.caption(f"Search {found.seconds * 1000:,.1f} ms in the collection ({len(found.frame)} results); "
                       f"embedding the query took {found.embed_seconds * 1000:,.0f} ms.")


def hits_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """rank, score, id, text (cut), then the user's other columns."""
    out = frame[["score", *columns]].copy()
    out[TEXT] = out[TEXT].str.slice(0, TEXT_SHOWN)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


# 3. Evaluate --------------------------------------------------------------------------------------
def evaluate_section(collection: Collection, plan: Plan) -> None:
    files = judgement_files(state.RET_COLL)
    if files is not None:
        start_evaluation(collection, plan, *files)
    adopted = jobview.fresh_result(jobview.panel(EVALUATE), EVAL_ADOPTED)
    if adopted is not None:
        st.session_state[state.RET_COLL_EVAL] = adopted
    result = st.session_state.get(state.RET_COLL_EVAL)
    if result and result["collection"] == collection.uri:
        show_evaluation(result["evals"])


def start_evaluation(collection: Collection, plan: Plan, queries, qrels) -> None:
    """The files checked against the collection, what the run costs, and its Run button."""
    e1, e2 = st.columns(2)
    max_q = int(e1.number_input("Queries to evaluate (0 = all)", 0, None, key=state.RET_COLL_MAX_Q,
                                help="A seeded random subset: quick looks at large sets."))
    top_k = e2.select_slider("Results kept per query", list(TOP_K_CHOICES), key=state.RET_COLL_TOP_K,
                             help="Recall@100 and MAP@100 need at least 100.")
    try:
        _, texts, judged = judged_queries(queries, qrels, max_queries=max_q)
        notes = judged_documents(collection, judged)
    except STORE_ERRORS as exc:
        st.error(f"Could not evaluate with these files: {exc}")
        return
    for note in notes:
        st.warning(note)
    pipelines = "through the ANN index and exactly (for the index's recall@10)" if not plan.exact else "exactly"
    jobview.cost_lines([estimate.estimate_encode(model, [], queries=texts).describe("queries")
                        for model in plan.models.values()]
                       + [f"then each of the {len(texts):,} judged queries is searched {pipelines}"
                          + (", and hybrid with the full-text index" if plan.hybrid else "")], EVALUATE)
    running = jobs.latest(EVALUATE) is not None and jobs.latest(EVALUATE).running
    if st.button("Run evaluation", type="primary", key="ret_coll_eval_go", disabled=running,
                 help="Runs in the background: you can switch pages and come back."):
        task = evaluation_task(collection.uri, plan, queries, qrels, top_k=int(top_k), max_queries=max_q)
        try:
            jobs.submit(Job(EVALUATE, f"Collection evaluation ({len(texts):,} queries)", task,
                            settings={"widgets": state.snapshot(state.RETRIEVAL_KEYS)}))
        except RuntimeError as exc:
            st.error(str(exc))


def evaluation_task(uri: str, plan: Plan, queries, qrels, *, top_k: int, max_queries: int):
    """Each model's evaluation as a job: embedding its queries, then searching them, each a part of the bar."""
    parts = 2 * len(plan.models)

    def task(ctx: JobContext) -> dict:
        collection = Collection.open(uri)  # the job's own connection, not the page thread's
        evals = []
        for n, (name, model) in enumerate(plan.models.items()):
            at = {"what": None}

            def report(what: str, done: int, total: int, n=n, name=name, at=at) -> None:
                if what != at["what"]:
                    at["what"] = what
                    part = 2 * n + (0 if what.startswith("embedding") else 1)
                    ctx.section(part / parts, (part + 1) / parts, f"{name}: {what}")
                ctx.progress(done, total, f"{name}: {what} {done:,}/{total:,}")

            evals.append(evaluate_collection(collection, model, queries, qrels, top_k=top_k, exact=plan.exact,
                                             hybrid=plan.hybrid, max_queries=max_queries, progress=report))
        return {"collection": uri, "evals": evals}

    return task


def show_evaluation(evals: list) -> None:
    table = pd.concat([e.table().assign(queries=e.queries) for e in evals])
    metrics = [m for m in DEFAULT_METRICS if m in table.columns]
    st.dataframe(table.style.format({**{m: "{:.4f}" for m in metrics}, "p50 ms": "{:,.1f}", "p95 ms": "{:,.1f}"}),
                 key="ret_coll_eval_table")
    for e in evals:
        main = next(iter(e.latency_ms))  # what a user of the collection gets: through the index when it has one
        recall = (f"ANN recall@10 against exact search **{e.recall_at_10_vs_exact:.3f}** (mean over {e.queries:,} "
                  "queries); " if e.recall_at_10_vs_exact is not None else "")
        st.caption(f"**{e.model}**: {recall}latency of {main}: p50 {e.latency_ms[main]['p50']:,.1f} ms, p95 "
                   f"{e.latency_ms[main]['p95']:,.1f} ms per query (search only, the query's embedding not included).")
        for note in e.notes:
            st.caption(f"**{e.model}**: {note}")
    st.plotly_chart(charts.metric_bars(table, "nDCG@10"), key="ret_coll_eval_bars")
    st.download_button("Results (CSV)", table.to_csv().encode(), "embedlab_collection_retrieval.csv", "text/csv",
                       key="ret_coll_eval_csv")
