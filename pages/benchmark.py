"""MTEB on your data: bundled and uploaded tasks, scored exactly as mteb scores them, across
models, as a leaderboard with per-task charts, exports, and cached results."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from embedlab.columns import refuse_non_text
from embedlab.durations import format_seconds
from embedlab.errors import EmbedlabError
from embedlab.evaluation import bench
from embedlab.evaluation.bench.bundled import BBC_RETRIEVAL
from embedlab.evaluation.bench.history import (
    LAST_RUN_COLUMN,
    TASKS_COLUMN,
    history_table,
    past_results,
    running_board,
)
from embedlab.evaluation.bench.job import KIND, bench_job
from embedlab.jobs import Job
from embedlab.tables import read_table
from embedlab.vectors import NAME_PREFIX, PrecomputedEmbedder
from ui import charts, glossary, jobs, jobview, prompts, shell, state
from ui.bench_collection import KIND_TITLE as COLLECTION_KIND
from ui.bench_collection import collection_limits, collection_task_form
from ui.models import model_choices
from ui.vectors import own_vectors

shell.require_router()

VARIANTS = ["minilm@cls", "mpnet@cls", "smollm2@mean", "smollm2@weighted-mean"]
KIND_TITLES = {
    "sts": "STS (sentence1, sentence2, score)",
    "clustering": "Clustering (text, label)",
    "classification": "Classification probe (text, label)",
    "pair-classification": "Pair classification (sentence1, sentence2, label 0/1)",
    "dedup": "Near-duplicates (text)",
}
KINDS = {KIND_TITLES[kind]: kind for kind in bench.TABLE_KINDS}
ONE_TEXT_KINDS = ("clustering", "classification", "dedup")  # a vector per row; the pair kinds have two texts
COLUMN_TITLES = {"sentence1": "First text column", "sentence2": "Second text column", "score": "Score column",
                 "text": "Text column", "label": "Label column"}


def header() -> None:
    st.title("Benchmark")
    st.caption("MTEB on your data: each task is computed as mteb 2.26's own evaluators compute it (STS cosine "
               "Spearman, retrieval nDCG@10, clustering V-measure with mteb's MiniBatchKMeans bootstrap, a logistic-"
               "regression probe with mteb's sampling, pair-classification AP), so the numbers mean what MTEB's "
               "mean. Results are cached on disk: re-running a model on a task it has seen is instant.",
               help=glossary.helps("Spearman", "nDCG@10", "V-measure"))


# 1. Tasks -----------------------------------------------------------------------------------------
def tasks_section() -> tuple[list[str], list[bench.Task]]:
    """(bundled task names, the user's own tasks)."""
    st.subheader("1 · Tasks")
    task_names = st.multiselect("Bundled tasks", list(bench.BUNDLED_TASK_NAMES), key=state.BENCH_TASKS)
    with st.expander("Add a task from your own data", expanded=bool(st.session_state.get("bench_custom"))):
        title = st.selectbox("Task kind", [*KINDS, COLLECTION_KIND], key="bench_kind")
        if title == COLLECTION_KIND:
            collection_task_form()
        else:
            table_task_section(KINDS[title])
    custom_tasks = st.session_state.get("bench_custom", [])
    if custom_tasks:
        st.write("Your tasks: " + ", ".join(f"**{t.name}** ({t.kind})" for t in custom_tasks))
        if st.button("Remove your tasks", key="bench_clear"):
            st.session_state["bench_custom"] = []
            st.session_state[state.BENCH_OWN_VECTORS] = {}
            st.session_state[state.BENCH_COLL_MODELS] = {}
            st.rerun()
    return task_names, custom_tasks


def table_task_section(kind: str) -> None:
    file = st.file_uploader("File (CSV, TSV, JSONL, Parquet)", type=["csv", "tsv", "jsonl", "json", "parquet"],
                            key="bench_upload")
    if file is not None:
        st.session_state["bench_upload_kept"] = (file.name, file.getvalue())
    kept = st.session_state.get("bench_upload_kept")
    table = uploaded_table(kept) if kept else None
    if table is not None:
        add_task_form(table, kind, default_name=kept[0].rsplit(".", 1)[0])


def uploaded_table(kept: tuple[str, bytes]) -> pd.DataFrame | None:
    try:
        table = read_table(kept[1], filename=kept[0])
    except EmbedlabError as exc:  # the message names the file and says what to do
        st.error(str(exc))
        return None
    for note in table.attrs.get("notes", []):  # e.g. a ';'-separated .csv
        st.caption(note)
    return table


def add_task_form(table: pd.DataFrame, kind: str, *, default_name: str) -> None:
    """Column choice for ``kind``, the task the core builds from them, and its Add button."""
    cols = list(table.columns)
    c = st.columns(3)
    name = c[0].text_input("Task name", value=state.first_value("bench_task_name", default_name),
                                key="bench_task_name")
    columns = {}
    for i, role in enumerate(bench.TABLE_KINDS[kind]):  # keys bench_c1..c3 follow the kind's column order
        title = "Label column (0/1)" if (kind, role) == ("pair-classification", "label") else COLUMN_TITLES[role]
        guess = cols.index(role) if role in cols else 0
        columns[role] = st.selectbox(title, cols, index=state.choice_index(f"bench_c{i + 1}", cols, guess),
                                     key=f"bench_c{i + 1}")
    options = {}
    if kind == "dedup":
        options["threshold"] = c[1].slider("Cosine threshold", 0.5, 1.0, state.first_value("bench_threshold", 0.9),
                                           0.01, key="bench_threshold")
    try:
        if "text" in columns:  # numbers or short codes picked as the text: say so, name the text columns
            refuse_non_text(table, columns["text"])
        built = bench.task_from_table(table, kind, name=name, columns=columns, **options)
    except EmbedlabError as exc:
        st.error(f"This file cannot make a {kind} task: {exc}")
        return
    if built.report:
        st.warning(built.report)
    st.caption(built.task.description)
    own = task_vectors(kind, built, len(table))
    if st.button("Add this task", key="bench_add"):
        custom = [t for t in st.session_state.get("bench_custom", []) if t.name != built.task.name]
        st.session_state["bench_custom"] = [*custom, built.task]
        keep_vectors(built.task.name, own)
        if kind == "dedup":  # kept to show which texts the models disagree on
            st.session_state.setdefault("bench_texts", {})[built.task.name] = built.texts
        st.rerun()


def task_vectors(kind: str, built: bench.TableTask, table_rows: int) -> PrecomputedEmbedder | None:
    """Optional vectors for the table's rows: one more model in the leaderboard, on this task only."""
    st.caption("Bundled tasks cannot use uploaded vectors (their texts are embedlab's own): vectors added with a "
               "task are scored on that task only, and their other columns stay empty.")
    if kind not in ONE_TEXT_KINDS:
        st.caption("Uploaded vectors work with the one-text kinds (clustering, classification, near-duplicates): a "
                   "pair task would need two vectors per row.")
        return None
    return own_vectors(state.BENCH_VECTORS, texts=built.texts, rows=built.rows, table_rows=table_rows, what="table",
                       label="Vectors for this table's rows (optional)")


def keep_vectors(task_name: str, own: PrecomputedEmbedder | None) -> None:
    """Keep ``own`` as the vectors of ``task_name`` (or forget the task's earlier ones); a name another
    task's vectors already have gets the task's name added."""
    kept = {t: m for t, m in st.session_state.get(state.BENCH_OWN_VECTORS, {}).items() if t != task_name}
    if own is not None:
        if own.name in {m.name for m in kept.values()}:
            own.name = f"{own.name} ({task_name})"
        kept[task_name] = own
    st.session_state[state.BENCH_OWN_VECTORS] = kept


# 2. Models ----------------------------------------------------------------------------------------
def models_section(task_names: list[str], custom_tasks: list[bench.Task]) -> Job | None:
    """Model choice and the Run button; the latest benchmark job, drawn (running or how it ended)."""
    st.subheader("2 · Models")
    options = list(dict.fromkeys([*model_choices(), *VARIANTS, *st.session_state[state.BENCH_MODELS]]))
    models = st.multiselect("Models (NAME@POOLING for a pooling variant)", options, key=state.BENCH_MODELS,
                            accept_new_options=True)
    models = prompts.variants(models, state.BENCH_PROMPTS, roles=prompt_roles(task_names, custom_tasks))
    has_tasks = bool(task_names or custom_tasks)
    own = {t.name: st.session_state[state.BENCH_OWN_VECTORS][t.name] for t in custom_tasks
           if t.name in st.session_state.get(state.BENCH_OWN_VECTORS, {})}
    if own:
        st.caption("Your vectors, each on its own task: " + ", ".join(f"**{m.name}** ({t})" for t, m in own.items()))
    st.caption("First runs embed the BBC articles once per model (minutes for mpnet, about 40 min for smollm2 on "
               "two cores); the embedding and results caches make every later run quick.")
    limits = collection_limits(list(models), [*task_names, *(t.name for t in custom_tasks)])
    job = jobs.latest(KIND)
    busy = job is not None and job.running
    jobview.cost_lines([], KIND)
    if st.button("Run benchmark", type="primary", key="bench_run", disabled=busy or not (models or own) or not has_tasks,
                 help="Runs in the background: you can switch pages and come back."):
        tasks = [*[bench.bundled_task(n) for n in task_names], *custom_tasks]  # built only when they run
        try:
            jobs.submit(bench_job(list(models), tasks, settings={"widgets": state.snapshot(state.BENCH_KEYS)},
                                  ready={m.name: m for m in own.values()},
                                  model_tasks={**limits, **{m.name: [t] for t, m in own.items()}}))
        except RuntimeError as exc:
            st.error(str(exc))
    if not has_tasks:
        st.info("Pick at least one task.")
    return jobview.panel(KIND)


def prompt_roles(task_names: list[str], custom_tasks: list[bench.Task]) -> tuple[str, ...]:
    """The roles the chosen tasks embed: retrieval embeds queries too, every other kind documents only."""
    retrieval = BBC_RETRIEVAL in task_names or any(t.kind == "retrieval" for t in custom_tasks)
    return ("query", "document") if retrieval else ("document",)


# 3. Results ---------------------------------------------------------------------------------------
def leaderboard_section(job: Job) -> None:
    board = job.result
    st.subheader("3 · Leaderboard")
    st.caption(f"{board.n_results} results, {board.n_cached} from the cache · "
               f"{format_seconds(job.snapshot().elapsed)}. "
               "Columns: each task's main score (dedup: share of texts that are near-duplicates, not averaged); "
               "average over tasks with a main score; seconds = compute time of the results; then what each model "
               "costs on this machine (hover a column's name for how it was measured) and whether it is on the "
               "Pareto front of average against texts/s.")
    leaderboard_table(board)
    uploaded = [m for m in board.table.index if m.startswith(NAME_PREFIX)]
    if uploaded:
        st.caption(f"{', '.join(uploaded)}: uploaded vectors, scored on the task they came with only. Nothing is "
                   "encoded here, so they have no speed, memory or size (— in those columns) and no place on the "
                   "Pareto front.")
    for model, problems in board.errors.items():
        for where, message in problems.items():
            st.error(f"**{model}** — {where}: {message}")
    quality_speed_section(board)
    d1, d2 = st.columns(2)
    d1.download_button("Download CSV", board.to_csv(), "leaderboard.csv", "text/csv", key="bench_csv")
    d2.download_button("Download JSON", board.to_json(), "leaderboard.json", "application/json", key="bench_json")
    for tab, task in zip(st.tabs([t.name for t in board.tasks]), board.tasks):
        with tab:
            task_tab(board, task)


COST_FORMATS = {"seconds": format_seconds, "texts/s": "{:,.1f}", "tokens/s": "{:,.0f}", "peak MB": "{:,.0f}",
                "params M": "{:.1f}", "weights MB": "{:,.0f}"}
COST_HELP = {
    "texts/s": "Texts encoded per second: a fixed sample of each task's own texts, embedding cache bypassed, a few "
               "seconds per model; geometric mean over the tasks. Stored with the results, so cached rows keep it.",
    "tokens/s": "Tokens per second on the same sample (the model's tokenizer counts, truncated to its maximum "
                "length); empty when the model cannot count tokens.",
    "peak MB": "Peak resident memory of the whole process while encoding the sample: RSS sampled every 5 ms with "
               "psutil (resource.getrusage's lifetime maximum when psutil is missing).",
    "params M": "Parameters, millions.",
    "weights MB": "Bytes of the model's weights in memory.",
    bench.PARETO_COLUMN: glossary.define("Pareto front"),
}


def leaderboard_table(board: bench.Leaderboard) -> None:
    shown = board.table
    scores = [c for c in shown.columns if c not in COST_FORMATS and c != bench.PARETO_COLUMN]
    styled = shown.style.format("{:.4f}", subset=scores, na_rep="—")
    for column, pattern in COST_FORMATS.items():
        styled = styled.format(pattern, subset=[column], na_rep="—")
    styled = styled.highlight_max(subset=[t.name for t in board.tasks if t.averaged] + ["average", "texts/s"],
                                  color="#d4edda")
    st.dataframe(styled, key="bench_table",
                 column_config={c: st.column_config.Column(c, help=h) for c, h in COST_HELP.items()})


def quality_speed_section(board: bench.Leaderboard) -> None:
    """Average score against texts/s, one point per model, the Pareto front marked."""
    st.markdown("**Quality against speed**")
    table = board.table.dropna(subset=["average", "texts/s"])
    if table.empty:
        st.info("No model has both an average score and a measured speed yet: the plot needs every averaged task "
                "to have run.")
        return
    front = bench.pareto_front(list(zip(table["texts/s"], table["average"])))
    fig = charts.quality_speed(table.index.tolist(), table["texts/s"].tolist(), table["average"].tolist(), front,
                               colours=charts.model_colours(list(board.results)))
    st.plotly_chart(fig, key="bench_pareto")
    st.caption("On the front (ringed in black, joined by the dotted line): " + ", ".join(table.index[i] for i in front)
               + ". A model off the front is beaten on both speed and average score by one on it. Speed is measured "
               "on this machine and is noisy when other work shares the CPU.")


def task_tab(board: bench.Leaderboard, task: bench.Task) -> None:
    """One task: its description, a bar per model, every numeric metric, and for dedup where models differ."""
    st.caption(task.description)
    values = board.table[task.name].dropna()
    if len(values):
        fig = charts.task_bars(values.to_dict(), task.main_metric, charts.model_colours(list(board.results)))
        st.plotly_chart(fig, key=f"bench_bar_{task.name}")
    details = {m: {k: v for k, v in (cells[task.name].metrics or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
               for m, cells in board.results.items() if task.name in cells and cells[task.name].ok}
    if details:
        st.dataframe(pd.DataFrame(details).T, key=f"bench_details_{task.name}")
    if task.kind == "dedup" and len(details) >= 2:
        dedup_comparison(board, task, list(details))


def dedup_comparison(board: bench.Leaderboard, task: bench.Task, names: list[str]) -> None:
    from embedlab.evaluation.dedup import dedup_disagreement

    g1, g2 = st.columns(2)
    a = g1.selectbox("Model A", names, key=f"bench_dd_a_{task.name}")
    b = g2.selectbox("Model B", [n for n in names if n != a], key=f"bench_dd_b_{task.name}")
    groups = {m: board.results[m][task.name].metrics["groups"] for m in (a, b)}
    diff = dedup_disagreement(groups[a], groups[b])
    st.write(f"Pairs only **{a}** calls duplicates: {len(diff['only_a'])} · only **{b}**: "
             f"{len(diff['only_b'])} · both: {diff['n_both']}.")
    texts = st.session_state.get("bench_texts", {}).get(task.name)
    if texts:
        rows = [{"duplicates for": who, "text 1": texts[i][:200], "text 2": texts[j][:200]}
                for who, pairs in ((a, diff["only_a"]), (b, diff["only_b"])) for i, j in pairs[:25]]
        if rows:
            st.dataframe(pd.DataFrame(rows), key=f"bench_dd_table_{task.name}")


# 4. Every result on this machine ---------------------------------------------------------------
def history_section() -> None:
    """The running board: each model's latest score on every task it has run here, from the results
    cache, so earlier runs (other sessions, the CLI) stay on the board."""
    results = past_results()
    st.subheader("Every result on this machine")
    if not results:
        st.caption("No results yet: run the benchmark above (or `embedlab bench` in a terminal).")
        return
    board = running_board(results)
    local = dt.datetime.now().astimezone().tzinfo
    board[LAST_RUN_COLUMN] = board[LAST_RUN_COLUMN].dt.tz_convert(local)
    scores = [c for c in board.columns if c not in (TASKS_COLUMN, LAST_RUN_COLUMN)]
    st.caption(f"{len(results)} results for {len(board)} models, read from the results cache: each model's latest "
               "score on every task it has run on this machine, in this session, an earlier one or the CLI. Newest "
               "first; — = not run.")
    st.dataframe(board.style.format("{:.4f}", subset=scores, na_rep="—")
                 .format("{:%Y-%m-%d %H:%M}", subset=[LAST_RUN_COLUMN], na_rep="—"), key="bench_history")
    with st.expander("Each result, newest first"):
        table = history_table(results)
        table["saved"] = table["saved"].dt.tz_convert(local)
        table["seconds"] = table["seconds"].map(format_seconds)
        st.dataframe(table.style.format("{:.4f}", subset=["score"], na_rep="—")
                     .format("{:%Y-%m-%d %H:%M}", subset=["saved"], na_rep="—"), hide_index=True,
                     key="bench_history_rows")


header()
bench_tasks, own_tasks = tasks_section()
latest_run = models_section(bench_tasks, own_tasks)
if latest_run is not None and not latest_run.running and latest_run.result is not None:
    leaderboard_section(latest_run)
history_section()
