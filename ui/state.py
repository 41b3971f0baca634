"""Session-state keys, named once and initialised in one place.

Streamlit forgets a widget's value when the widget is not drawn in a run (another page is open, or
the page stopped early, e.g. while waiting for an upload). Every key in ``WIDGET_DEFAULTS`` is
re-assigned at the start of each run, the documented way to keep it: the user's choices survive
page switches. Widgets with such a key must not pass their own default (value=/index=/default=).
"""

from __future__ import annotations

import streamlit as st

from embedlab.evaluation.bench.bundled import BUNDLED_TASK_NAMES
from embedlab.explorer.clustering import AUTO as EXP_AUTO_MIN_CLUSTER_SIZE
from embedlab.explorer.clustering import ClusterConfig
from embedlab.explorer.projection import ProjectionConfig
from embedlab.finetune.config import BBC_ROWS as FT_BBC_ROWS_DEFAULT
from embedlab.finetune.config import DEFAULTS as FT_DEFAULTS
from embedlab.finetune.config import LOSSES as FT_LOSSES
from embedlab.retrieval.pipeline import QUICK_RERANK_DEPTH, QUICK_TOP_K
from embedlab.retrieval.rerank import DEFAULT_RERANKER

SIM_SOURCE = "sim_source"
SIM_TEXT = "sim_text"
SIM_MODELS = "sim_models"
SIM_CENTER = "sim_center"
SIM_GEOMETRY_SOURCE = "sim_geometry_source"
MODELS_MEASURED = "models_measured"  # name -> Throughput, kept across page switches
MODELS_FLASH = "models_flash"  # a message to show once, after a rerun
MODELS_DISTILL_FLASH = "models_distill_flash"  # what the last distillation made, shown once after a rerun
MODELS_DISTILL_REPORTS = "models_distill_reports"  # distilled name -> DistillReport, kept across page switches

EXP_SOURCE = "exp_source"
EXP_UPLOAD = "exp_upload"  # the file_uploader widget (its value cannot be set from code)
EXP_FILE = "exp_file"  # (name, bytes) of the last good upload, kept when the uploader is not drawn
EXP_MODELS = "exp_models"
EXP_METHOD = "exp_method"
EXP_NEIGHBORS = "exp_neighbors"
EXP_MIN_DIST = "exp_min_dist"
EXP_METRIC = "exp_metric"
EXP_MCS = "exp_mcs"
EXP_MS = "exp_ms"
EXP_SPACE = "exp_space"
EXP_RESULTS = "exp_results"  # {"corpus": hash of the texts, "maps": {model: ModelMap}}

RET_SOURCE = "ret_source"
RET_MODELS = "ret_models"
RET_BM25 = "ret_bm25"
RET_HYBRID = "ret_hybrid"
RET_RERANKER = "ret_reranker"
RET_DEPTH = "ret_depth"
RET_QUERY = "ret_query"
RET_PICK = "ret_pick"  # one of the set's queries: copied into RET_QUERY when picked, then cleared
RET_K = "ret_k"
RET_MAX_Q = "ret_max_q"
RET_TOP_K = "ret_top_k"
RET_LI_QUERY = "ret_li_query"
RET_LI_DOC = "ret_li_doc"
RET_LAST_SEARCH = "ret_last_search"  # {"query": str, "hits": {pipeline: doc positions}}
RET_EVAL = "ret_eval"  # {"corpus": hash, "data": RetrievalData, "rankings": [Ranking]}

FT_SOURCE = "ft_source"
FT_BBC_ROWS = "ft_bbc_rows"
FT_MINE = "ft_mine"
FT_WORKFLOW = "ft_workflow"
FT_MODEL = "ft_model"
FT_EPOCHS = "ft_epochs"
FT_BATCH = "ft_batch"
FT_LR = "ft_lr"
FT_MAXLEN = "ft_maxlen"
FT_HELD = "ft_held"
FT_LOSS_TRAINER = "ft_loss_trainer"
FT_LOSS_LOOP = "ft_loss_loop"
FT_SCALE = "ft_scale"
FT_TEMP = "ft_temp"
FT_MARGIN = "ft_margin"
FT_DISTANCE = "ft_distance"
FT_POOLING = "ft_pooling"
FT_PROJ = "ft_proj"
FT_LORA = "ft_lora"
FT_SCHEDULE = "ft_schedule"
FT_WARMUP = "ft_warmup"
FT_SEED = "ft_seed"
FT_NAME = "ft_name"
FT_MAP = "ft_map"
FT_JOB = "ft_job"  # key of this session's latest job in ui.jobs

BENCH_TASKS = "bench_tasks"
BENCH_MODELS = "bench_models"
BENCH_JOB = "bench_job"

DEFAULT_SIM_MODELS = ["minilm", "minilm@cls", "smollm2"]

WIDGET_DEFAULTS = {
    SIM_MODELS: DEFAULT_SIM_MODELS,
    SIM_CENTER: False,
    EXP_MODELS: ["minilm", "wordllama"],
    EXP_METHOD: ProjectionConfig().method,
    EXP_NEIGHBORS: ProjectionConfig().n_neighbors,
    EXP_MIN_DIST: ProjectionConfig().min_dist,
    EXP_METRIC: ProjectionConfig().metric,
    EXP_MCS: EXP_AUTO_MIN_CLUSTER_SIZE,
    EXP_MS: 0,  # 0 = the same as min_cluster_size
    EXP_SPACE: ClusterConfig().space,
    RET_MODELS: ["minilm", "wordllama"],
    RET_BM25: True,
    RET_HYBRID: True,
    RET_RERANKER: DEFAULT_RERANKER,
    RET_DEPTH: QUICK_RERANK_DEPTH,
    RET_K: 10,
    RET_MAX_Q: 300,
    RET_TOP_K: QUICK_TOP_K,
    FT_BBC_ROWS: FT_BBC_ROWS_DEFAULT,
    FT_MINE: FT_DEFAULTS.mine,
    FT_MODEL: FT_DEFAULTS.model,
    FT_EPOCHS: FT_DEFAULTS.epochs,
    FT_BATCH: FT_DEFAULTS.batch_size,
    FT_LR: FT_DEFAULTS.learning_rate,
    FT_MAXLEN: FT_DEFAULTS.max_length,
    FT_HELD: FT_DEFAULTS.held_out,
    FT_LOSS_TRAINER: FT_LOSSES["trainer"][0],
    FT_LOSS_LOOP: FT_LOSSES["loop"][0],
    FT_SCALE: FT_DEFAULTS.scale,
    FT_TEMP: FT_DEFAULTS.temperature,
    FT_MARGIN: FT_DEFAULTS.margin,
    FT_DISTANCE: FT_DEFAULTS.distance,
    FT_POOLING: "(as the model)",  # the page's label for "keep the base model's pooling"
    FT_PROJ: FT_DEFAULTS.projection_dim,
    FT_LORA: FT_DEFAULTS.lora,
    FT_SCHEDULE: FT_DEFAULTS.schedule,
    FT_WARMUP: FT_DEFAULTS.warmup_ratio,
    FT_SEED: FT_DEFAULTS.seed,
    FT_MAP: "pca",
    BENCH_TASKS: list(BUNDLED_TASK_NAMES),
    BENCH_MODELS: ["minilm", "wordllama"],
}
# Widgets whose first value is the widget's own (first option / empty), kept once the user sets them.
KEPT_WIDGETS = [SIM_SOURCE, SIM_TEXT, SIM_GEOMETRY_SOURCE, EXP_SOURCE, RET_SOURCE, RET_QUERY, RET_LI_QUERY,
                RET_LI_DOC, FT_SOURCE, FT_WORKFLOW, FT_NAME]
DEFAULTS = {MODELS_MEASURED: {}, MODELS_DISTILL_REPORTS: {}}


def init() -> None:
    session = st.session_state
    for key, value in DEFAULTS.items():
        session.setdefault(key, value)
    for key, value in WIDGET_DEFAULTS.items():
        session[key] = session[key] if key in session else (list(value) if isinstance(value, list) else value)
    for key in KEPT_WIDGETS:
        if key in session:
            session[key] = session[key]
