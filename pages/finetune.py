"""Fine-tuning: adapt an embedder (or train a reranker) on your pairs, in the background, and see
with numbers and pictures whether it got better on held-out data."""

from __future__ import annotations

import dataclasses
import hashlib
import time

import pandas as pd
import streamlit as st

from embedlab.durations import format_seconds
from embedlab.errors import EmbedlabError
from embedlab.finetune.config import (
    AUTO_LENGTH,
    DISTANCES,
    LEARNING_RATE,
    LORA_LEARNING_RATE,
    LOSSES,
    MINING,
    SCHEDULES,
    TRAINER_DISTANCES,
    FinetuneConfig,
    default_learning_rate,
)
from embedlab.finetune.job import (
    FinetuneJob,
    check_setup,
    trainable_models,
)
from embedlab.finetune.length import LengthChoice, choose_max_length
from embedlab.finetune.saved import check_name_free, default_name
from embedlab.finetune.trainset import TrainSet, bbc_triplets, from_table
from embedlab.models import available_models
from embedlab.pooling import POOLING_MODES
from embedlab.tables import read_table
from ui import charts, finetune_stages, glossary, jobs, jobview, shell, state
from ui.models import get_model
from ui.finetune_results import results_section, saved_section

shell.require_router()

BBC = "BBC News: title → article, hard negative from the same topic (bundled)"
UPLOAD = "Upload pairs or triplets (CSV, TSV, JSONL, Parquet)"
TRAINER = "sentence-transformers trainer"
LOOP = "Hand-rolled PyTorch loop"
CROSS = "Cross-encoder reranker"
WORKFLOW_KEYS = {TRAINER: "trainer", LOOP: "loop", CROSS: "cross-encoder"}
AUTO = "(auto)"
NONE = "(none)"
AS_MODEL = "(as the model)"
LOSS_LABELS = {"mnrl": "MultipleNegativesRanking (InfoNCE)", "triplet": "Triplet", "cosent": "CoSENT (scored pairs)",
               "infonce": "InfoNCE"}

LENGTHS = (AUTO_LENGTH, 32, 64, 128, 192, 256, 384, 512)


@st.cache_data(show_spinner="Preparing BBC triplets…", max_entries=4)
def bbc_set(rows: int) -> TrainSet:
    return bbc_triplets(rows)


@st.cache_data(show_spinner=False, max_entries=4)
def upload_table(name: str, raw: bytes) -> pd.DataFrame:
    return read_table(raw, filename=name)


@st.cache_data(show_spinner="Counting the training texts' tokens…", max_entries=8)
def auto_length(model: str, pairs: bool, data_key: str, _data: TrainSet) -> LengthChoice:
    """What "auto" will choose: the same function as the run, with the same tokenizer."""
    return choose_max_length(_data, get_model(model), pairs=pairs)


def data_key(data: TrainSet) -> str:
    texts = [*data.anchors, *data.positives, *(data.negatives or [])]
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()


def header() -> None:
    st.title("Fine-tuning")
    st.caption("Contrastive fine-tuning on your own pairs: pretraining gives language understanding, contrastive "
               "training gives a geometry where cosine means relevance. A held-out split is measured before and "
               "after; the result joins the model zoo under its name, on every page and in the CLI.")


# 1. Data ------------------------------------------------------------------------------------------
def data_section() -> tuple[str, TrainSet, str]:
    """The training data (stops the page until there is some) and the mining choice for pairs."""
    st.subheader("1 · Data")
    source = st.radio("Training data", [BBC, UPLOAD], key=state.FT_SOURCE, horizontal=True)
    if source == BBC:
        rows = st.select_slider("Rows (part of them held out to measure before and after)",
                                [100, 200, 300, 500, 1000, 2000], key=state.FT_BBC_ROWS,
                                help="500 is the quick default. MiniLM, already trained on a billion pairs, needs "
                                     "about 2,000 rows to improve measurably on BBC (held-out nDCG@10 0.863 → 0.889 "
                                     "here, ~8 min at 64 tokens per text; the articles' automatic length is 256, "
                                     "which trains slower). On small sets the base is at the ceiling (1.000 on 20 "
                                     "held-out rows), so at least 100 rows, or half, are held out.")
        data = bbc_set(rows)
    else:
        data = uploaded_data()
    st.write(f"**{data.name}: {data.summary()}**" + "".join(f" · {n}" for n in data.notes))
    st.dataframe(data.to_frame().head(6), key="ft_preview",
                 column_config={c: st.column_config.TextColumn(c, max_chars=160) for c in ("anchor", "positive",
                                                                                          "negative")})
    mine = "none"
    if data.kind == "pairs":
        mine = st.radio("Hard negatives for the pairs", list(MINING), key=state.FT_MINE, horizontal=True,
                        help=glossary.helps("hard negatives", "BM25",
                                            after="none: in-batch negatives only (MNRL). bm25 / model: for every pair, "
                                                  "the best-ranked *other* positive by BM25 or by the base model — never "
                                                  "the pair's own positive. Held-out pairs get BM25 negatives anyway, so "
                                                  "triplet accuracy can be measured."))
    return source, data, mine


def uploaded_data() -> TrainSet:
    file = st.file_uploader("Columns anchor, positive and optionally negative (triplets); or sentence1, sentence2, "
                            "score (scored pairs, for CoSENT). Usual names (query, answer, document…) are recognised.",
                            type=["csv", "tsv", "jsonl", "json", "parquet"], key="ft_upload")
    if file is not None:
        st.session_state["ft_upload_kept"] = (file.name, file.getvalue())
    kept = st.session_state.get("ft_upload_kept")
    if kept is None:
        st.info("Upload a file of pairs or triplets, or use the bundled BBC set.")
        st.stop()
    try:
        table = upload_table(*kept)
    except EmbedlabError as exc:  # the message names the file and says what to do
        st.error(str(exc))
        st.stop()
    cols = list(table.columns)
    picks = {}
    for box, role in zip(st.columns(4), ("anchor", "positive", "negative", "score")):
        options = [AUTO, *cols] if role in ("anchor", "positive") else [AUTO, NONE, *cols]
        choice = box.selectbox(f"{role} column", options, key=f"ft_col_{role}")
        picks[role] = None if choice in (AUTO, NONE) else choice
    try:
        data = from_table(table, **picks, name=kept[0])
    except EmbedlabError as exc:
        st.error(f"This file cannot be trained on: {exc}")
        st.stop()
    # (none): leave out a column that would otherwise be found by its name
    dropped = {field: None for field, role in (("negatives", "negative"), ("scores", "score"))
               if st.session_state.get(f"ft_col_{role}") == NONE}
    return dataclasses.replace(data, **dropped) if dropped else data


# 2. Setup -----------------------------------------------------------------------------------------
def training_section(source: str, data: TrainSet, mine: str) -> tuple[FinetuneConfig | None, str, str | None]:
    """Every training choice; returns the config (None if refused), the output name and the problem."""
    st.subheader("2 · Training")
    workflow = WORKFLOW_KEYS[st.radio(
        "Workflow", [TRAINER, LOOP, CROSS], key=state.FT_WORKFLOW, horizontal=True,
        help="Trainer: the sentence-transformers way, with its losses. Loop: a transparent PyTorch loop "
             "(embedlab/finetune/loop.py) where pooling, head, distance, loss and schedule are yours; decoders train "
             "here. Cross-encoder: a reranker on the base's backbone.")]
    common = common_options(workflow)
    if workflow == "trainer":
        loss, extra = trainer_options()
    elif workflow == "loop":
        loss, extra = loop_options(common["model"], common["learning_rate"])
    else:
        loss, extra = "bce", {}
        st.caption("Binary cross-entropy on (anchor, positive) = 1 and (anchor, negative) = 0. After training it "
                   "reranks the base model's top 20 on the held-out split; on the Retrieval lab it is offered as "
                   "`cross-encoder:NAME`.", help=glossary.helps("loss: bce", "reranker: cross-encoder"))
    kind = "reranker" if workflow == "cross-encoder" else "embedder"
    name = output_name(common["model"], kind)
    try:
        config = FinetuneConfig(workflow=workflow, loss=loss, mine=mine, **common, **extra)
        check_setup(config, data)
        length_caption(config, data)
        check_name_free(name, config.kind)
    except EmbedlabError as exc:
        return None, name, str(exc)
    return config, name, None


def length_caption(config: FinetuneConfig, data: TrainSet) -> None:
    if config.max_length != AUTO_LENGTH:
        return
    choice = auto_length(config.model, config.kind == "reranker", data_key(data), data)
    st.caption(f"Training length: {choice.reason} Longer texts train slower; pick a number to override.")


def common_options(workflow: str) -> dict:
    trainable = trainable_models(workflow)
    if st.session_state[state.FT_MODEL] not in trainable:
        st.session_state[state.FT_MODEL] = trainable[0]
    # The learning rate follows the default for LoRA or full training until the user sets another.
    wanted = default_learning_rate(lora=workflow == "loop" and st.session_state[state.FT_LORA])
    if st.session_state[state.FT_LR] in (LEARNING_RATE, LORA_LEARNING_RATE):
        st.session_state[state.FT_LR] = wanted
    m1, m2, m3, m4, m5 = st.columns(5)
    base = m1.selectbox("Base model", trainable, key=state.FT_MODEL,
                        help="Static models (wordllama) have no transformer to train. Decoders need the loop.")
    epochs = m2.number_input("Epochs", 0.1, 20.0, step=0.5, key=state.FT_EPOCHS)
    batch = m3.number_input("Batch size", 2, 256, key=state.FT_BATCH,
                            help="In-batch negatives: bigger batches, harder task.")
    lr = m4.number_input("Learning rate", 1e-6, 1e-2, format="%.0e", step=1e-5, key=state.FT_LR,
                         help=f"{LEARNING_RATE:.0e} suits full fine-tuning of MiniLM (the default); LoRA wants more: "
                              f"{LORA_LEARNING_RATE:.0e} (its default) worked for SmolLM2 on BBC.")
    current = st.session_state[state.FT_MAXLEN]
    lengths = LENGTHS if current in LENGTHS else (*LENGTHS, current)  # a number set from code or an older version
    max_len = m5.selectbox("Max tokens per text", lengths, key=state.FT_MAXLEN,
                           help="auto: the 95th percentile of the training texts' token lengths (the base model's "
                                "tokenizer), rounded up to a multiple of 32, capped by the model's maximum.")
    p1, p2, p3, p4 = st.columns(4)
    held = p1.slider("Held-out share", 0.05, 0.5, step=0.05, key=state.FT_HELD)
    schedule = p2.selectbox("LR schedule", list(SCHEDULES), key=state.FT_SCHEDULE)
    warmup = p3.slider("Warm-up share", 0.0, 0.5, step=0.05, key=state.FT_WARMUP)
    seed = p4.number_input("Seed", 0, 10_000, key=state.FT_SEED)
    return {"model": base, "epochs": float(epochs), "batch_size": int(batch), "learning_rate": float(lr),
            "warmup_ratio": float(warmup), "schedule": schedule,
            "max_length": max_len if max_len == AUTO_LENGTH else int(max_len),
            "held_out": float(held), "seed": int(seed)}


def trainer_options() -> tuple[str, dict]:
    k1, k2, k3 = st.columns(3)
    loss = k1.selectbox("Loss", list(LOSSES["trainer"]), key=state.FT_LOSS_TRAINER, format_func=LOSS_LABELS.get,
                        help=glossary.helps("loss: mnrl", "loss: triplet", "loss: cosent"))
    if loss in ("mnrl", "cosent"):
        return loss, {"scale": k2.number_input("Scale (1 / temperature)", 1.0, 100.0, key=state.FT_SCALE,
                                               help=glossary.helps("temperature"))}
    margin = k2.number_input("Margin", 0.0, 10.0, step=0.05, key=state.FT_MARGIN, help=glossary.helps("margin"))
    return loss, {"margin": margin,
                  "distance": k3.selectbox("Distance", list(TRAINER_DISTANCES), key=state.FT_DISTANCE)}


def loop_options(base: str, lr: float) -> tuple[str, dict]:
    k1, k2, k3, k4, k5, k6 = st.columns(6)
    loss = k1.selectbox("Loss", list(LOSSES["loop"]), key=state.FT_LOSS_LOOP, format_func=LOSS_LABELS.get,
                        help=glossary.helps("loss: infonce", "loss: triplet"))
    extra: dict = {}
    if loss == "infonce":
        extra["temperature"] = k2.number_input("Temperature", 0.005, 1.0, step=0.01, format="%.3f", key=state.FT_TEMP,
                                               help=glossary.helps("temperature"))
    else:
        extra["margin"] = k2.number_input("Margin", 0.0, 10.0, step=0.05, key=state.FT_MARGIN,
                                          help=glossary.helps("margin"))
    extra["distance"] = k3.selectbox("Similarity", list(DISTANCES), key=state.FT_DISTANCE)
    pooling = k4.selectbox("Pooling", [AS_MODEL, *POOLING_MODES], key=state.FT_POOLING,
                           help=glossary.pooling_help(before="Decoders: last (token) or weighted-mean (SGPT)."))
    extra["pooling"] = "" if pooling == AS_MODEL else pooling
    extra["projection_dim"] = k5.number_input("Projection head (0 = none)", 0, 4096, step=64, key=state.FT_PROJ)
    extra["lora"] = k6.toggle("LoRA (peft)", key=state.FT_LORA, help=glossary.helps("LoRA"))
    if extra["lora"] and lr < 1e-4:
        st.caption(f"LoRA adapters start at zero and usually need a higher learning rate than {lr:.0e}; "
                   f"{LORA_LEARNING_RATE:.0e} turned SmolLM2 into a useful embedder on BBC here.")
    if available_models()[base].kind == "decoder" and extra["pooling"] in ("", "last"):
        st.caption("For SmolLM2, weighted-mean pooling learned much faster than last-token pooling here.")
    if available_models()[base].kind == "decoder":  # GRIT's joint objective: an encoder has no next-token head
        extra["lm_weight"] = st.number_input(
            "LM weight (next-token loss)", 0.0, 100.0, step=0.1, key=state.FT_LM_WEIGHT,
            help="0 = contrastive only. Otherwise the loss is contrastive + this weight x the next-token loss on "
                 "the batch's documents (GRIT), so the decoder keeps its language modelling: compare the "
                 "held-out perplexity before and after in the results.")
    return loss, extra


def output_name(base: str, kind: str) -> str:
    """The name box: a generated name that is free (``minilm-ft-YYYYMMDD-HHMM``, then ``-2``, ``-3``),
    renewed after each started run and while the user has not typed their own."""
    job = jobs.get(st.session_state.get(state.FT_JOB))
    training = {job.name} if job is not None and job.running else set()  # its folder appears only at the end
    current = st.session_state.get(state.FT_NAME)
    if (st.session_state.pop("ft_name_used", False) or not current or current in training
            or current == st.session_state.get(state.FT_NAME_AUTO)):
        st.session_state[state.FT_NAME] = st.session_state[state.FT_NAME_AUTO] = default_name(base, kind,
                                                                                             taken=training)
    return st.text_input("Save as", key=state.FT_NAME, help="Letters, digits, '-', '_' or '.'. Models go to the data "
                         "folder's models/finetuned/, rerankers to models/rerankers/.")


def start_section(config: FinetuneConfig | None, data: TrainSet, name: str, problem: str | None) -> None:
    busy = jobs.running()
    if problem:
        st.warning(problem)
    if busy:
        st.info(f"**{busy.name}** is training; one run at a time (two CPU cores). The other pages stay usable.")
    if st.button("Start fine-tuning", type="primary", disabled=bool(problem or busy), key="ft_start"):
        try:
            st.session_state[state.FT_JOB] = jobs.start(FinetuneJob(
                config, data, name, settings={"widgets": state.snapshot(state.FINETUNE_KEYS)}))
            st.session_state["ft_name_used"] = True
        except RuntimeError as exc:
            st.error(str(exc))
        st.rerun()


# 3. Live view -------------------------------------------------------------------------------------
def live(job: FinetuneJob) -> None:
    snap = job.monitor.snapshot()
    st.markdown(f"**{job.name}** — {job.status}: {snap['phase']}")
    since_start = format_seconds((job.finished or time.time()) - job.started)
    eta = f" · about {format_seconds(snap['eta'])} left" if snap["eta"] is not None and job.running else ""
    steps = f"step {snap['step']} / {snap['total']} · " if snap["total"] else "preparing · "
    st.progress(min(snap["step"] / snap["total"], 1.0) if snap["total"] else 0.0,
                text=f"{steps}{since_start} since the start{eta}")
    for note in snap["notes"]:  # e.g. the training length chosen from the data, and why
        st.caption(note)
    for warning in snap["warnings"]:  # e.g. the base model already at the ceiling on the held-out rows
        st.warning(warning)
    st.plotly_chart(charts.loss_curve(snap["losses"], snap["total"] or None), key="ft_loss_chart")
    if job.running:
        if st.button("Stop", key="ft_stop", disabled=snap["stopping"],
                     help="Stops after the current step. Nothing is saved; models saved before are untouched."):
            job.monitor.stop()
            st.rerun(scope="fragment")


def run_section(job: FinetuneJob) -> None:
    st.subheader("3 · Run")
    jobview.follow(job, live)


header()
if finetune_stages.mode_switch() == finetune_stages.TWO_STAGE:
    finetune_stages.view()
else:
    ft_source, ft_data, ft_mine = data_section()
    ft_config, ft_name, ft_problem = training_section(ft_source, ft_data, ft_mine)
    start_section(ft_config, ft_data, ft_name, ft_problem)
    # a reloaded tab finds its run
    ft_job = jobs.get(st.session_state.get(state.FT_JOB)) or jobs.latest_finetune(two_stage=False)
    if ft_job is not None:
        run_section(ft_job)
        if not ft_job.running:
            results_section(ft_job)
saved_section()
