"""MTEB on your data: bundled and uploaded tasks, scored exactly as mteb scores them, across
models, as a leaderboard with per-task charts, exports, and cached results."""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from embedlab.errors import EmbedlabError
from embedlab.evaluation import bench
from embedlab.tables import read_table
from ui import jobs, shell, state
from ui.models import model_choices

shell.require_router()

VARIANTS = ["minilm@cls", "mpnet@cls", "smollm2@mean", "smollm2@weighted-mean"]
KINDS = {
    "STS (sentence1, sentence2, score)": "sts",
    "Clustering (text, label)": "clustering",
    "Classification probe (text, label)": "classification",
    "Pair classification (sentence1, sentence2, label 0/1)": "pair-classification",
    "Near-duplicates (text)": "dedup",
}

st.title("Benchmark")
st.caption("MTEB on your data: each task is computed as mteb 2.26's own evaluators compute it (STS cosine "
           "Spearman, retrieval nDCG@10, clustering V-measure with mteb's MiniBatchKMeans bootstrap, a logistic-"
           "regression probe with mteb's sampling, pair-classification AP), so the numbers mean what MTEB's mean. "
           "Results are cached on disk: re-running a model on a task it has seen is instant.")

# 1. Tasks -----------------------------------------------------------------------------------------
st.subheader("1 · Tasks")
task_names = st.multiselect("Bundled tasks", list(bench.BUNDLED_TASKS), key=state.BENCH_TASKS)
with st.expander("Add a task from your own data", expanded=bool(st.session_state.get("bench_custom"))):
    kind_label = st.selectbox("Task kind", list(KINDS), key="bench_kind")
    kind = KINDS[kind_label]
    file = st.file_uploader("File (CSV, TSV, JSONL, Parquet)", type=["csv", "tsv", "jsonl", "json", "parquet"],
                            key="bench_upload")
    if file is not None:
        st.session_state["bench_upload_kept"] = (file.name, file.getvalue())
    kept = st.session_state.get("bench_upload_kept")
    if kept:
        try:
            table = read_table(kept[1], filename=kept[0])
        except EmbedlabError as exc:
            st.error(f"Could not read {kept[0]}: {exc}")
            table = None
        if table is not None:
            cols = list(table.columns)
            pick = lambda label, guess, key: st.selectbox(  # noqa: E731
                label, cols, index=cols.index(guess) if guess in cols else 0, key=key)
            c = st.columns(3)
            name = c[0].text_input("Task name", value=kept[0].rsplit(".", 1)[0], key="bench_task_name")
            try:
                if kind in ("sts", "pair-classification"):
                    s1 = pick("First text column", "sentence1", "bench_c1")
                    s2 = pick("Second text column", "sentence2", "bench_c2")
                    target = pick("Score column" if kind == "sts" else "Label column (0/1)",
                                  "score" if kind == "sts" else "label", "bench_c3")
                    if kind == "sts":
                        numbers = pd.to_numeric(table[target], errors="coerce").tolist()
                        task = bench.sts_task(name, table[s1].tolist(), table[s2].tolist(), numbers)
                    else:
                        task = bench.pair_classification_task(name, table[s1].tolist(), table[s2].tolist(),
                                                              [int(float(v)) for v in table[target].tolist()])
                else:
                    text_col = pick("Text column", "text", "bench_c1")
                    if kind == "dedup":
                        threshold = c[1].slider("Cosine threshold", 0.5, 1.0, 0.9, 0.01, key="bench_threshold")
                        task = bench.dedup_task(name, table[text_col].tolist(), threshold)
                    else:
                        label_col = pick("Label column", "label", "bench_c2")
                        maker = bench.clustering_task if kind == "clustering" else bench.classification_task
                        task = maker(name, table[text_col].tolist(), table[label_col].tolist())
                st.caption(task.description)
                if st.button("Add this task", key="bench_add"):
                    custom = [t for t in st.session_state.get("bench_custom", []) if t.name != task.name]
                    st.session_state["bench_custom"] = [*custom, task]
                    if kind == "dedup":  # kept to show which texts the models disagree on
                        st.session_state.setdefault("bench_texts", {})[task.name] = table[text_col].tolist()
                    st.rerun()
            except (EmbedlabError, ValueError, KeyError) as exc:
                st.error(f"This file cannot make a {kind} task: {exc}")
custom_tasks = st.session_state.get("bench_custom", [])
if custom_tasks:
    st.write("Your tasks: " + ", ".join(f"**{t.name}** ({t.kind})" for t in custom_tasks))
    if st.button("Remove your tasks", key="bench_clear"):
        st.session_state["bench_custom"] = []
        st.rerun()

# 2. Models ----------------------------------------------------------------------------------------
st.subheader("2 · Models")
options = list(dict.fromkeys([*model_choices(), *VARIANTS, *st.session_state[state.BENCH_MODELS]]))
models = st.multiselect("Models (NAME@POOLING for a pooling variant)", options, key=state.BENCH_MODELS,
                        accept_new_options=True)
has_tasks = bool(task_names or custom_tasks)
st.caption("First runs embed the BBC articles once per model (minutes for mpnet, about 40 min for smollm2 on two "
           "cores); the embedding and results caches make every later run quick.")
job = jobs.get_bench(st.session_state.get(state.BENCH_JOB))
busy = job is not None and job.running
if st.button("Run benchmark", type="primary", key="bench_run", disabled=busy or not models or not has_tasks):
    tasks = [*[bench.bundled_task(n) for n in task_names], *custom_tasks]  # built only when they run
    try:
        st.session_state[state.BENCH_JOB] = jobs.start_bench(jobs.BenchJob(list(models), tasks))
    except RuntimeError as exc:
        st.error(str(exc))
    st.rerun()
if not has_tasks:
    st.info("Pick at least one task.")


# 3. Progress and results --------------------------------------------------------------------------
def progress_view(job: jobs.BenchJob) -> None:
    elapsed = (job.finished or time.time()) - job.started
    st.progress(min(job.step / max(job.steps, 1), 1.0),
                text=f"{job.step} of {job.steps} model × task cells · {elapsed:.0f} s · now: {job.label}"
                     + (f" ({job.done}/{job.total} texts)" if job.total > 1 and job.done < job.total else ""))


if job is not None and job.running:
    @st.fragment(run_every=1.0)
    def live() -> None:
        progress_view(job)
        if not job.running:
            st.rerun()

    live()

if job is not None and not job.running:
    if job.error:
        st.error(f"The benchmark could not run: {job.error}")
    elif job.result is not None:
        board = job.result
        st.subheader("3 · Leaderboard")
        cached = sum(r.cached for cells in board.results.values() for r in cells.values())
        total = sum(len(cells) for cells in board.results.values())
        st.caption(f"{total} results, {cached} from the cache · {job.finished - job.started:.1f} s. Columns: each "
                   "task's main score (dedup: share of texts that are near-duplicates, not averaged); average over "
                   "tasks with a main score; seconds = compute time of the results.")
        shown = board.table.copy()
        st.dataframe(shown.style.format("{:.4f}", subset=[c for c in shown.columns if c != "seconds"], na_rep="—")
                     .format("{:.1f}", subset=["seconds"], na_rep="—")
                     .highlight_max(subset=[t.name for t in board.tasks if t.averaged] + ["average"], color="#d4edda"),
                     key="bench_table")
        for model, problems in board.errors.items():
            for where, message in problems.items():
                st.error(f"**{model}** — {where}: {message}")
        d1, d2 = st.columns(2)
        d1.download_button("Download CSV", board.to_csv(), "leaderboard.csv", "text/csv", key="bench_csv")
        d2.download_button("Download JSON", board.to_json(), "leaderboard.json", "application/json", key="bench_json")

        tabs = st.tabs([t.name for t in board.tasks])
        for tab, task in zip(tabs, board.tasks):
            with tab:
                st.caption(task.description)
                values = board.table[task.name].dropna()
                if len(values):
                    fig = go.Figure(go.Bar(x=values.index.tolist(), y=values.tolist(),
                                           text=[f"{v:.3f}" for v in values], textposition="outside"))
                    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                                      yaxis_title=task.main_metric)
                    st.plotly_chart(fig, key=f"bench_bar_{task.name}")
                details = {m: {k: v for k, v in (cells[task.name].metrics or {}).items()
                               if isinstance(v, (int, float)) and not isinstance(v, bool)}
                           for m, cells in board.results.items() if task.name in cells and cells[task.name].ok}
                if details:
                    st.dataframe(pd.DataFrame(details).T, key=f"bench_details_{task.name}")
                if task.kind == "dedup" and len(details) >= 2:
                    from embedlab.evaluation.dedup import dedup_disagreement

                    names = list(details)
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
