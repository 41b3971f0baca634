"""Retrieval lab: search a corpus with several models side by side, BM25 and hybrid, rerank the
top results, look inside late interaction, and evaluate everything against relevance judgements."""

from __future__ import annotations

import dataclasses
import hashlib

import streamlit as st

from embedlab import estimate
from embedlab.durations import format_seconds
from embedlab.embedder import is_precomputed
from embedlab.errors import EmbedlabError
from embedlab.jobs import Job, JobContext
from embedlab.retrieval import pipeline as P
from embedlab.retrieval.corpus import (
    RetrievalData,
    assemble,
    bbc_title_to_article,
    read_corpus,
)
from embedlab.retrieval.metrics import DEFAULT_METRICS
from embedlab.retrieval.rerank import (
    NO_RERANKER,
    load_reranker,
    reranker_choices,
)
from embedlab.retrieval.rerank_cost import TimedReranker, estimate_cost
from embedlab.retrieval.search import BM25Index, DenseIndex
from ui import charts, glossary, jobs, jobview, prompts, shell, state
from ui.models import get_model, load_many, model_choices
from ui.retrieval_collection import SOURCE as COLLECTION
from ui.retrieval_collection import collection_lab
from ui.retrieval_tabs import SCORE_COLUMN, drill_down, late_interaction_section, result_frame
from ui.vectors import retrieval_vectors, searchable

shell.require_router()

BBC = "BBC News: title → article (bundled, with relevance)"
UPLOAD = "Upload a corpus (queries and qrels optional)"
UPLOAD_TYPES = ["jsonl", "json", "csv", "tsv", "parquet"]
RERANKER_LABELS = {NO_RERANKER: "none (first stage only)"}
OWN_QUERY = "(type your own)"

SEARCH, EVALUATE = "retrieval-search", "retrieval-evaluation"  # job kinds
RET_SEARCH_RESULT = "ret_search_result"  # {"request": (...), "hits": {pipeline: Hits}, "reranked": ...}
RET_SEARCH_ADOPTED, RET_EVAL_ADOPTED = "ret_search_adopted_job", "ret_eval_adopted_job"



@st.cache_data(show_spinner=False, max_entries=4)
def bbc_data() -> RetrievalData:
    return bbc_title_to_article()


@st.cache_resource(show_spinner=False, max_entries=8)
def dense_index(model_name: str, key: str, _texts: tuple[str, ...]) -> DenseIndex:
    model = get_model(model_name)
    return DenseIndex(model.encode(list(_texts), role="document"), normalized=True)


@st.cache_resource(show_spinner="Building the BM25 index…", max_entries=4)
def bm25_index(key: str, _texts: tuple[str, ...]) -> BM25Index:
    return BM25Index(list(_texts))


@st.cache_resource(show_spinner=False)
def measured_rerankers() -> dict[str, TimedReranker]:
    """Every reranker loaded in this server process, by name, with the time it has spent: its cost
    per document is remembered for the estimate shown next to the reranker choice."""
    return {}


@st.cache_resource(show_spinner=False, max_entries=4)
def reranker(name: str):
    timed = TimedReranker(load_reranker(name))
    measured_rerankers()[name] = timed
    return timed


def get_reranker(plan: P.RetrievalPlan):
    """The plan's reranker, or None (with the reason on screen) when it has none or it fails to load."""
    if not plan.rerankers:
        return None
    name = plan.rerankers[0]
    try:
        with st.spinner(f"Loading {name}…"):
            return reranker(name)
    except (EmbedlabError, ValueError) as exc:
        st.error(f"Reranker **{name}** could not be loaded: {exc}")
        return None


def uploaded(label: str, key: str, types: list[str]):
    """An uploader whose last good file stays in the session when the widget is not drawn."""
    file = st.file_uploader(label, type=types, key=key)
    if file is not None:
        st.session_state[f"{key}_kept"] = (file.name, file.getvalue())
    return st.session_state.get(f"{key}_kept")


def corpus_key(data: RetrievalData) -> str:
    return hashlib.sha256("\x1f".join([*data.doc_ids, *data.doc_texts]).encode()).hexdigest()


# 1. Data ------------------------------------------------------------------------------------------
def uploaded_data() -> RetrievalData:
    corpus_file = uploaded("Corpus: _id/id, title (optional), text", "ret_up_corpus", UPLOAD_TYPES)
    queries_file = uploaded("Queries (optional): _id/id, text", "ret_up_queries", UPLOAD_TYPES)
    qrels_file = uploaded("Qrels (optional): query-id, corpus-id, score", "ret_up_qrels", [*UPLOAD_TYPES, "txt"])
    if corpus_file is None:
        st.info("Upload a corpus to search it (a BEIR corpus.jsonl works as is), or pick the bundled BBC set.")
        st.stop()
    try:
        if queries_file and qrels_file:
            return assemble(corpus_file[0], corpus_file, queries_file, qrels_file)
        ids, titles, bodies = read_corpus(corpus_file)
        if queries_file or qrels_file:
            st.caption("Upload both queries and qrels to evaluate; searching works without them.")
        return RetrievalData(corpus_file[0], ids, titles, bodies, [], [], {})
    except (EmbedlabError, ValueError) as exc:
        st.error(f"Could not use the uploaded files: {exc}")
        st.stop()


def data_section(source: str) -> RetrievalData:
    data = bbc_data() if source == BBC else uploaded_data()
    st.write(f"**{data.summary()}**" + "".join(f" · {n}" for n in data.notes))
    return data


# 2. Pipelines -------------------------------------------------------------------------------------
def pipelines_section(data: RetrievalData) -> tuple[dict[str, object], P.RetrievalPlan]:
    """The loaded models (the user's own vectors among them) and the plan of what to run (the reranker
    is loaded when it is used)."""
    c1, c2 = st.columns([3, 2])
    names = c1.multiselect("Models (1 to 3)", list(dict.fromkeys([*model_choices(), *st.session_state[state.RET_MODELS]])),
                           key=state.RET_MODELS, max_selections=3, accept_new_options=True)
    with c2:
        t1, t2 = st.columns(2)
        use_bm25 = t1.toggle("BM25", key=state.RET_BM25, help=glossary.helps("BM25"))
        use_hybrid = t2.toggle("Hybrid (RRF)", key=state.RET_HYBRID,
                               help=glossary.helps("RRF", before="Each model fused with BM25."))
    names = prompts.variants(names, state.RET_PROMPTS)
    own = retrieval_vectors(state.RET_DOC_VECTORS, state.RET_QUERY_VECTORS, data)
    names = [*names, *([own.name] if own is not None else [])]
    r1, r2, r3 = st.columns([2, 2, 1])
    rerank_options = [NO_RERANKER, *reranker_choices()]
    reranker_name = r1.selectbox("Reranker", list(dict.fromkeys([*rerank_options, st.session_state[state.RET_RERANKER]])),
                                 key=state.RET_RERANKER, accept_new_options=True,
                                 format_func=lambda n: RERANKER_LABELS.get(n, n),
                                 help=glossary.helps(
                                     "reranker: maxsim", "reranker: qlm", "reranker: llm", "reranker: cross-encoder",
                                     before="Off by default: a reranker re-reads every candidate for every query, "
                                            "its cost is shown below the choice. Type cross-encoder:FOLDER or "
                                            "cross-encoder:org/model for any sentence-transformers CrossEncoder; "
                                            "rerankers trained on the fine-tuning page appear here, and so does "
                                            "every decoder fine-tuned there (qlm:/llm:), which can then be both "
                                            "the embedder and the reranker."))
    rerank_base = r2.selectbox("Rerank the results of", [*names, *([P.BM25] if use_bm25 else [])] or ["(none)"],
                               key="ret_rerank_base")
    depth = r3.number_input("Depth", 2, 200, key=state.RET_DEPTH, help=glossary.helps("rerank depth"))
    reranker_cost_note(reranker_name, int(depth))
    models, errors = load_many([n for n in names if own is None or n != own.name])
    models.update({own.name: own} if own is not None else {})
    for name, message in errors.items():
        st.error(f"**{name}** could not be used: {message}")
    if not models and not use_bm25:
        st.info("Pick at least one model, or turn on BM25.")
        st.stop()
    plan = P.RetrievalPlan(models=tuple(models), bm25=use_bm25, hybrid=use_hybrid, depth=int(depth))
    if reranker_name == NO_RERANKER or rerank_base not in plan.rerankable:
        return models, plan
    return models, dataclasses.replace(plan, rerankers=(reranker_name,), rerank_of=(rerank_base,))


def reranker_cost_note(name: str, depth: int) -> None:
    """What the chosen reranker costs, from its time measured in this process or the measured
    encoding rate of the model it runs on; in words when neither is known yet."""
    if name == NO_RERANKER:
        st.caption("No reranking: the first stage's order is shown and evaluated as it is.")
        return
    timed = measured_rerankers().get(name)
    articles_per_s = {model: t.long_per_s for model, t in st.session_state[state.MODELS_MEASURED].items()}
    cost = estimate_cost(name, measured=timed.cost if timed else None, articles_per_s=articles_per_s)
    queries = st.session_state[state.RET_MAX_Q] or None
    if cost is not None:
        st.caption(f"**{name}** costs {cost.describe(depth, queries)}.")
    else:
        st.caption(f"**{name}** is slow: it re-reads every candidate for every query ({depth} per query here). "
                   "Not measured on this machine yet: run one search with it, or measure its model on the Models "
                   "page, for a time estimate.")


def fill_query_from_pick() -> None:
    """Picking one of the set's queries copies it into the Query box and clears the pick: the box is
    the only query, so what is searched is always what the box shows."""
    picked = st.session_state[state.RET_PICK]
    if picked != OWN_QUERY:
        st.session_state[state.RET_QUERY] = picked
        st.session_state[state.RET_PICK] = OWN_QUERY


def query_input(data: RetrievalData) -> tuple[str, dict[str, int], int]:
    """The query in the box (typed, or filled in from one of the set's), its judgements when it is
    one of the set's queries, and top k."""
    q1, q2, q3 = st.columns([3, 2, 1])
    if data.queries:
        q2.selectbox("…or pick one of the set's queries", [OWN_QUERY, *data.queries[:2000]], key=state.RET_PICK,
                     on_change=fill_query_from_pick, help="Copies the query into the Query box, where you can edit "
                     "it; its relevance judgements (qrels) mark the results while the text is unchanged.")
    typed = q1.text_input("Query", key=state.RET_QUERY, placeholder="e.g. oil company tax dispute in Russia")
    k = q3.slider("Top k", 1, 50, key=state.RET_K)
    query = typed.strip()
    position = data.queries.index(query) if query in data.queries else None
    relevant = data.qrels.get(data.query_ids[position], {}) if position is not None else {}
    return query, relevant, k


def search_section(data: RetrievalData, key: str, models: dict[str, object], plan: P.RetrievalPlan) -> None:
    """Search with each pipeline; at once when the corpus' vectors are cached and nothing reranks, otherwise
    (the corpus must be embedded, or a reranker reads every candidate) in a background job, its cost said first."""
    query, relevant, k = query_input(data)
    if not query:
        st.info("Type a query (or pick one of the set's queries).")
        return
    models, plan = searchable(models, plan, query)
    if plan is None:
        return
    ranker = get_reranker(plan)
    request = (key, query, tuple(f"{n}#{m.fingerprint}" if is_precomputed(m) else n for n, m in models.items()),
               dataclasses.replace(plan, top_k=max(k, plan.depth)), k, ranker.name if ranker else None)
    adopted = jobview.fresh_result(jobs.latest(SEARCH), RET_SEARCH_ADOPTED)
    if adopted is not None:
        st.session_state[RET_SEARCH_RESULT] = adopted
    found = st.session_state.get(RET_SEARCH_RESULT)
    if not found or found["request"] != request:
        estimates = [estimate.estimate_encode(model, data.doc_texts) for model in models.values()]
        if ranker is None and all(e.to_encode == 0 for e in estimates):
            found = run_search(data, models, request, None, key=key)
        else:
            running = jobs.latest(SEARCH) is not None and jobs.latest(SEARCH).running
            jobview.cost_lines([e.describe("documents") for e in estimates]
                               + ([f"then {ranker.name} rereads the top {plan.depth} for this query"] if ranker else []),
                               SEARCH)
            if st.button("Search", type="primary", key="ret_search_go", disabled=running):
                submit(SEARCH, f"Search for {query[:40]!r}",
                       lambda ctx: run_search(data, models, request, ranker, ctx),
                       sum(e.seconds or 0.0 for e in estimates))
            jobview.panel(SEARCH)
            return
    show_hits(data, found, relevant, k)


def run_search(data: RetrievalData, models: dict, request: tuple, ranker, ctx: JobContext | None = None, *,
               key: str | None = None) -> dict:
    """Every first stage for the query, and the reranked top of the plan's base when it has a reranker.
    With ``key`` (in the page's own run) the indexes are the server's cached ones; a job builds its own."""
    _key, query, _names, plan, _k, _ranker_name = request
    texts = tuple(data.doc_texts)
    dense = {}
    for n, (name, model) in enumerate(models.items()):
        if ctx is not None:
            ctx.section(n / (len(models) + 1), (n + 1) / (len(models) + 1), f"{name}: embedding the corpus")
        index = (dense_index(name, key, texts) if key and not is_precomputed(model) else
                 DenseIndex(model.encode(list(texts), role="document", progress=ctx.progress if ctx else None),
                            normalized=True))
        dense[name] = index.search(model.encode([query], role="query"), plan.top_k)
    lexical = None
    if plan.bm25 or plan.hybrid:
        lexical = (bm25_index(key, texts) if key else BM25Index(list(texts))).search([query], plan.top_k)
    hits = P.first_stage_hits(plan, dense, lexical, plan.top_k)
    reranked = None
    if ranker is not None:
        if ctx is not None:
            ctx.section(len(models) / (len(models) + 1), 1.0, f"Reranking with {ranker.name}")
        base = plan.rerank_of[0]
        top = hits[base].indices[0][: plan.depth]
        reranked = (base, top, P.rerank_hits(hits[base], [query], data.doc_texts, ranker, depth=len(top),
                                             progress=ctx.progress if ctx else None))
    return {"request": request, "hits": hits, "reranked": reranked}


def show_hits(data: RetrievalData, found: dict, relevant: dict[str, int], k: int) -> None:
    hits, query = found["hits"], found["request"][1]
    columns = st.columns(min(len(hits), 3))
    for n, (name, h) in enumerate(hits.items()):
        with columns[n % len(columns)]:
            st.markdown(f"**{name}**")
            st.dataframe(result_frame(data, h.indices[0][:k], h.scores[0][:k], relevant), hide_index=True,
                         key=f"ret_res_{n}", column_config=SCORE_COLUMN)
    if found["reranked"] is not None:
        base, top, reranked = found["reranked"]
        shown = min(k, len(top))
        st.markdown(f"**{base} → {found['request'][5]}** (top {len(top)} reranked; rank before → after)")
        st.dataframe(result_frame(data, reranked.indices[0][:shown], reranked.scores[0][:shown], relevant, before=top),
                     hide_index=True, key="ret_reranked", column_config=SCORE_COLUMN)
    st.session_state[state.RET_LAST_SEARCH] = {"query": query, "hits": {n: h.indices[0][:k] for n, h in hits.items()}}


def submit(kind: str, title: str, task, seconds: float) -> None:
    try:
        jobs.submit(Job(kind, title, task, estimate_seconds=seconds or None,
                        settings={"widgets": state.snapshot(state.RETRIEVAL_KEYS)}))
    except RuntimeError as exc:
        st.error(str(exc))


# 4. Evaluate --------------------------------------------------------------------------------------
def evaluation_task(data: RetrievalData, models: dict[str, object], plan: P.RetrievalPlan, ranker, key: str):
    """The evaluation as a job's task: each stage of ``run_plan`` one equal part of the bar."""
    if ranker is None:
        plan = dataclasses.replace(plan, rerankers=(), rerank_of=None)
    parts = (1 if plan.bm25 or plan.hybrid else 0) + len(plan.models) + len(plan.reranked if ranker else ())

    def task(ctx: JobContext) -> dict:
        seen: list[str] = []

        def report(label: str, done: int, total: int) -> None:
            if label not in seen:
                seen.append(label)
                n = min(len(seen), max(parts, 1)) - 1
                ctx.section(n / max(parts, 1), (n + 1) / max(parts, 1), label)
            ctx.progress(done, total)

        rankings = P.run_plan(plan, data, models=models, rerankers={plan.rerankers[0]: ranker} if ranker else None,
                              progress=report)
        return {"corpus": key, "data": data, "rankings": rankings}

    return task


def evaluate_section(data: RetrievalData, key: str, models: dict[str, object], plan: P.RetrievalPlan) -> None:
    if not data.qrels:
        st.info("Evaluation needs queries and qrels: upload both, or use the bundled BBC set.")
        return
    e1, e2 = st.columns(2)
    max_q = e1.number_input(f"Queries to evaluate (0 = all {len(data.query_ids):,})", 0, len(data.query_ids),
                            key=state.RET_MAX_Q, help="A seeded random subset: quick looks at large sets. "
                            "Rerankers run per query and are the slow part.")
    top_k = e2.select_slider("Results kept per query", list(P.TOP_K_CHOICES), key=state.RET_TOP_K,
                             help="mteb keeps 1000; Recall@100 and MAP@100 need at least 100.")
    subset = data.subset_queries(int(max_q)) if max_q else data
    estimates = [estimate.estimate_encode(model, subset.doc_texts, queries=subset.queries) for model in models.values()]
    running = jobs.latest(EVALUATE) is not None and jobs.latest(EVALUATE).running
    ranker = get_reranker(plan)
    jobview.cost_lines([e.describe() for e in estimates]
                       + ([f"then {ranker.name} rereads the top {plan.depth} of each of the {len(subset.queries):,} "
                           "queries"] if ranker else []), EVALUATE)
    if st.button("Run evaluation", type="primary", key="ret_eval_go", disabled=running,
                 help="Runs in the background: you can switch pages and come back."):
        task = evaluation_task(subset, models, dataclasses.replace(plan, top_k=int(top_k)), ranker, key)
        submit(EVALUATE, f"Retrieval evaluation ({len(subset.queries):,} queries)", task,
               sum(e.seconds or 0.0 for e in estimates))
    adopted = jobview.fresh_result(jobview.panel(EVALUATE), RET_EVAL_ADOPTED)
    if adopted is not None:
        st.session_state[state.RET_EVAL] = adopted
    result = st.session_state.get(state.RET_EVAL)
    if not result or result["corpus"] != key:
        return
    subset, rankings = result["data"], result["rankings"]
    table = P.summary_table(rankings, subset)
    st.dataframe(table.style.format({**{m: "{:.4f}" for m in DEFAULT_METRICS}, "seconds": format_seconds}),
                 key="ret_eval_table")
    st.plotly_chart(charts.metric_bars(table, "nDCG@10"), key="ret_eval_bars")
    st.download_button("Results (CSV)", table.to_csv().encode(), "embedlab_retrieval.csv", "text/csv",
                       key="ret_eval_csv")
    drill_down(subset, rankings)


st.title("Retrieval lab")
st.caption("Bi-encoder first stage, BM25 and hybrid (reciprocal rank fusion), reranking of the top results, "
           "late interaction explained token by token, and evaluation with qrels computed as mteb/pytrec_eval do.",
           help=glossary.helps("bi-encoder", "BM25", "RRF", "reranker: maxsim", "qrels"))
source = st.radio("Corpus", [BBC, UPLOAD, COLLECTION], key=state.RET_SOURCE, horizontal=True,
                  help="A collection keeps its documents and vectors in LanceDB (built with `embedlab index`): "
                       "searched through its ANN index, for corpora too large to embed here.")
if source == COLLECTION:
    collection_lab()
else:
    corpus = data_section(source)
    corpus_hash = corpus_key(corpus)
    loaded, plan = pipelines_section(corpus)
    search_tab, eval_tab, late_tab = st.tabs(["Search", "Evaluate", "Late interaction"])
    with search_tab:
        search_section(corpus, corpus_hash, loaded, plan)
    with eval_tab:
        evaluate_section(corpus, corpus_hash, loaded, plan)
    with late_tab:
        late_interaction_section(corpus, loaded)
