"""The Fine-tuning page's two-stage mode: stage 1 on BBC title -> article pairs (large batch, in-batch
negatives), stage 2 on a small set with hard negatives, measured before / after stage 1 / after
stage 1+2 / with stage 2 alone, as a table and as four maps side by side."""

from __future__ import annotations

import re
import time

import numpy as np
import streamlit as st

from embedlab.durations import format_seconds
from embedlab.errors import EmbedlabError
from embedlab.explorer.projection import (
    METHODS,
    ProjectionConfig,
    procrustes_align,
    reduce_dimensions,
)
from embedlab.finetune.job import trainable_models
from embedlab.finetune.stagedata import StageData, bbc_stages
from embedlab.finetune.stages import (
    COLUMNS,
    STAGE2_MINING,
    STAGE_LOSSES,
    StageSettings,
    TwoStageConfig,
    TwoStageJob,
    TwoStageResult,
    check_names_free,
    free_stage_name,
)
from embedlab.models import available_models
from embedlab.pooling import POOLING_MODES
from ui import charts, jobs, jobview, state

ONE_RUN = "One run"
TWO_STAGE = "Two stages: pairs, then hard negatives"
AS_MODEL = "(as the model)"
RANDOM_PAIRS = "mean random-pair cosine"
LENGTHS = (32, 64, 128, 256)


def mode_switch() -> str:
    return st.radio("Mode", [ONE_RUN, TWO_STAGE], key=state.FT_MODE, horizontal=True,
                    help="Two stages, as GTE, E5 and BGE are trained: many weakly supervised pairs with in-batch "
                         "negatives first, then a small curated set with mined hard negatives.")


@st.cache_data(show_spinner="Splitting BBC News into held-out, stage-2 and stage-1 rows…", max_entries=4)
def stage_data(held: int, stage1: int, stage2: int) -> StageData:
    return bbc_stages(held_out_rows=held, stage1_rows=stage1, stage2_rows=stage2)


def view() -> None:
    st.caption("Stage 1 trains on BBC title → article pairs with a large batch (every other article in the batch is "
               "a negative); stage 2 on a small set where every title brings a same-topic article BM25 ranks high "
               "(a hard negative). One held-out set, never trained on, measures the base, stage 1, stage 1+2 and "
               "stage 2 alone (from the base). The bundled BBC data only; your own files: `embedlab finetune "
               "--stages 2 --data PAIRS --stage2-data TRIPLETS`.")
    config, name, problem = setup_section()
    start_section(config, name, problem)
    job = jobs.get(st.session_state.get(state.FT2_JOB)) or jobs.latest_finetune(two_stage=True)
    if job is not None:
        run_section(job)
        if not job.running:
            results_section(job)


# 1. Setup -----------------------------------------------------------------------------------------
def setup_section() -> tuple[TwoStageConfig | None, str, str | None]:
    st.subheader("1 · Model and stages")
    m1, m2, m3, m4, m5 = st.columns(5)
    model = m1.selectbox("Base model", trainable_models("loop"), key=state.FT2_MODEL)
    pooling = m2.selectbox("Pooling", [AS_MODEL, *POOLING_MODES], key=state.FT2_POOLING,
                           help="Decoders (SmolLM2): weighted-mean learned much faster than last-token here.")
    lora = m3.toggle("LoRA (peft)", key=state.FT2_LORA, help="Adapters are merged into the weights after each "
                     "stage, so stage 2 trains fresh adapters on the merged stage-1 model.")
    length = m4.selectbox("Max tokens per text", LENGTHS, key=state.FT2_MAXLEN)
    held = m5.number_input("Held-out rows", 20, 1000, step=50, key=state.FT2_HELD)
    s1, s2 = st.columns(2)
    with s1.container(border=True):
        st.markdown("**Stage 1** · pairs, in-batch negatives (InfoNCE)")
        a, b, c = st.columns(3)
        rows1 = a.number_input("Pairs", 10, 2000, step=100, key=state.FT2_S1_ROWS)
        batch1 = b.number_input("Batch size", 2, 256, key=state.FT2_S1_BATCH, help="Bigger: more negatives per row.")
        epochs1 = c.number_input("Epochs", 0.1, 10.0, step=0.5, key=state.FT2_S1_EPOCHS)
    with s2.container(border=True):
        st.markdown("**Stage 2** · hard negatives")
        a, b, c, d, e = st.columns(5)
        rows2 = a.number_input("Rows", 10, 1000, step=50, key=state.FT2_S2_ROWS)
        batch2 = b.number_input("Batch size", 2, 256, key=state.FT2_S2_BATCH)
        epochs2 = c.number_input("Epochs", 0.1, 10.0, step=0.5, key=state.FT2_S2_EPOCHS)
        mine = d.selectbox("Negatives", STAGE2_MINING, key=state.FT2_S2_MINE,
                           help="bm25: the same-topic article BM25 ranks highest. model: re-mined by the model "
                                "the stage starts from (stage 1's for stage 1+2, the base's for stage 2 only).")
        loss = e.selectbox("Loss", STAGE_LOSSES, key=state.FT2_S2_LOSS)
    name = output_name(model)
    try:
        config = TwoStageConfig(
            model=model, pooling="" if pooling == AS_MODEL else pooling, lora=lora, max_length=int(length),
            held_out_rows=int(held), stage1_rows=int(rows1), stage2_rows=int(rows2), stage2_mine=mine,
            stage1=StageSettings(batch_size=int(batch1), epochs=float(epochs1)),
            stage2=StageSettings(batch_size=int(batch2), epochs=float(epochs2), loss=loss))
        check_names_free(name)
    except EmbedlabError as exc:
        return None, name, str(exc)
    if available_models()[model].kind == "decoder" and config.pooling in ("", "last"):
        st.caption("For SmolLM2, weighted-mean pooling with LoRA learned much faster than last-token pooling here.")
    return config, name, None


def output_name(model: str) -> str:
    """A free name for the three models (NAME, NAME-stage1, NAME-stage2-only), renewed after a start."""
    job = jobs.running()
    training = {job.name} if job is not None else set()
    current = st.session_state.get(state.FT2_NAME)
    if st.session_state.pop("ft2_name_used", False) or not current or current in training:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model.split("@")[0]).strip("-._")[:30] or "model"
        st.session_state[state.FT2_NAME] = free_stage_name(f"{slug}-2stage", taken=training)
    return st.text_input("Save as", key=state.FT2_NAME,
                         help="Three models join the zoo: NAME (stage 1+2), NAME-stage1 and NAME-stage2-only.")


def start_section(config: TwoStageConfig | None, name: str, problem: str | None) -> None:
    busy = jobs.running()
    if problem:
        st.warning(problem)
    if busy:
        st.info(f"**{busy.name}** is training; one run at a time (two CPU cores). The other pages stay usable.")
    if st.button("Start two-stage training", type="primary", disabled=bool(problem or busy), key="ft2_start"):
        data = stage_data(config.held_out_rows, config.stage1_rows, config.stage2_rows)
        try:
            st.session_state[state.FT2_JOB] = jobs.start(TwoStageJob(
                config, data, name, settings={"widgets": state.snapshot(state.FINETUNE2_KEYS)}))
            st.session_state["ft2_name_used"] = True
        except (RuntimeError, EmbedlabError) as exc:
            st.error(str(exc))
        st.rerun()


# 2. Run -------------------------------------------------------------------------------------------
def live(job: TwoStageJob) -> None:
    snap = job.monitor.snapshot()
    st.markdown(f"**{job.name}** — {job.status}: {snap['phase']}")
    since = format_seconds((job.finished or time.time()) - job.started)
    steps = f"step {snap['step']} / {snap['total']} of this stage · " if snap["total"] else "preparing · "
    st.progress(min(snap["step"] / snap["total"], 1.0) if snap["total"] else 0.0, text=f"{steps}{since} since the start")
    if not job.running:  # the finished run shows every stage's curve with its results
        return
    st.plotly_chart(charts.loss_curve(snap["losses"], snap["total"] or None), key="ft2_loss_chart")
    if st.button("Stop", key="ft2_stop", disabled=snap["stopping"],
                                 help="Stops after the current step. Nothing is saved; earlier models are untouched."):
        job.monitor.stop()
        st.rerun(scope="fragment")


def run_section(job: TwoStageJob) -> None:
    st.subheader("2 · Run")
    jobview.follow(job, live)


# 3. Results ---------------------------------------------------------------------------------------
def results_section(job: TwoStageJob) -> None:
    if job.error:
        st.error(f"The run failed: {job.error} Nothing was saved; earlier models are untouched.")
        return
    r: TwoStageResult | None = job.result
    if r is None:
        return
    if r.stopped:
        st.warning("Stopped. Nothing was saved; earlier models are untouched.")
        return
    st.subheader("3 · Each stage, on the same held-out rows")
    st.success(f"Saved **{', '.join(x.name for x in r.runs.values())}** — {r.held_out_rows} held-out rows, "
               f"{format_seconds(r.total_seconds)} in all.")
    for note in (*r.data_notes, *r.run_notes):
        st.caption(note)
    table = r.table()
    st.dataframe(table.style.format("{:.4f}"), key="ft2_table")
    st.dataframe(r.sizes(), key="ft2_sizes")
    if RANDOM_PAIRS in table.index:
        st.caption("Mean cosine of random held-out document pairs (near 1: every text looks alike): " + " · ".join(
            f"{c} {v:.3f}" for c, v in table.loc[RANDOM_PAIRS].items()))
    maps_view(r, f"{job.name}-{job.started}")
    st.caption("Training loss per step of each training (stage 1+2 is stage 2 started from the stage-1 model).")
    for box, (column, run) in zip(st.columns(len(r.runs)), r.runs.items()):
        box.caption(f"{column}: {run.train_rows:,} rows, {len(run.losses)} steps")
        box.plotly_chart(charts.loss_curve(list(run.losses)), key=f"ft2_loss_{COLUMNS.index(column)}")


@st.cache_data(show_spinner="Drawing the four maps…", max_entries=4)
def maps(key: str, method: str, _vectors: tuple[np.ndarray, ...]) -> tuple[list[np.ndarray], list[str]]:
    """One map per column from that column's own vectors, each rotated onto the base map."""
    cfg = ProjectionConfig(method=method)
    projections = [reduce_dimensions(v, cfg) for v in _vectors]
    first = projections[0].coords
    coords = [first, *(procrustes_align(first, p.coords) for p in projections[1:])]
    return coords, list(dict.fromkeys(n for p in projections for n in p.notes))


def maps_view(r: TwoStageResult, run_key: str) -> None:
    evals = r.evaluations()
    method = st.radio("Map", sorted(METHODS), key=state.FT2_MAP, horizontal=True)
    coords, notes = maps(run_key, method, tuple(e.doc_vectors for e in evals.values()))
    for note in notes:
        st.warning(note)
    st.caption(f"The {len(r.before.doc_texts)} held-out documents, coloured by BBC topic: a {method.upper()} map of "
               "each column's own vectors, rotated onto the base map (Procrustes) so a document sits in a "
               "comparable place.")
    for box, column, xy in zip(st.columns(len(evals)), evals, coords):
        e = evals[column]
        box.caption(f"{column} · random-pair cosine {e.scores.get(RANDOM_PAIRS, float('nan')):.3f}")
        fig = charts.corpus_map(xy, e.doc_groups, e.doc_texts, height=420)
        fig.update_layout(legend={"orientation": "h", "y": -0.05, "yanchor": "top"})  # four maps of one width
        box.plotly_chart(fig, key=f"ft2_map_{COLUMNS.index(column)}")
