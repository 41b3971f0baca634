"""Session-state keys, named once and initialised in one place.

Streamlit forgets a widget's value when the widget is not drawn in a run (another page is open, or
the page stopped early, e.g. while waiting for an upload). Every key in ``WIDGET_DEFAULTS`` is
re-assigned at the start of each run, the documented way to keep it: the user's choices survive
page switches. Widgets with such a key must not pass their own default (value=/index=/default=).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import streamlit as st

from embedlab.evaluation.bench.bundled import BUNDLED_TASK_NAMES
from embedlab.explorer.clustering import AUTO as EXP_AUTO_MIN_CLUSTER_SIZE
from embedlab.explorer.clustering import ClusterConfig
from embedlab.explorer.projection import ProjectionConfig
from embedlab.finetune.config import BBC_ROWS as FT_BBC_ROWS_DEFAULT
from embedlab.finetune.config import DEFAULTS as FT_DEFAULTS
from embedlab.finetune.config import LOSSES as FT_LOSSES
from embedlab.finetune.stages import DEFAULTS as FT2_DEFAULTS
from embedlab.retrieval.pipeline import QUICK_RERANK_DEPTH, QUICK_TOP_K
from embedlab.retrieval.rerank import DEFAULT_RERANKER
from embedlab.store.explore import DEFAULT_SAMPLE as EXP_DEFAULT_SAMPLE


@dataclass(frozen=True)
class VectorKeys:
    """The session keys of one "your own vectors" upload (ui/vectors.py), all named after ``prefix``."""

    prefix: str

    @property
    def file(self) -> str:  # (name, bytes) of the last upload, kept when the uploader is not drawn
        return f"{self.prefix}_file"

    @property
    def generation(self) -> str:  # how often Remove emptied the uploader (a new key is a new, empty widget)
        return f"{self.prefix}_gen"

    def upload(self, generation: int) -> str:  # the file_uploader widget (its value cannot be set from code)
        return f"{self.prefix}_upload" + (f"_{generation}" if generation else "")

    @property
    def column(self) -> str:  # which column of a table holds the vectors
        return f"{self.prefix}_col"

    @property
    def id_column(self) -> str:  # which column holds the ids to match them by (or row order)
        return f"{self.prefix}_id_col"

    @property
    def remove(self) -> str:
        return f"{self.prefix}_remove"


@dataclass(frozen=True)
class PromptKeys:
    """The session keys of one page's "Prompts" control (ui/prompts.py), all named after ``prefix``."""

    prefix: str

    @property
    def own(self) -> str:
        return f"{self.prefix}_own"

    @property
    def none(self) -> str:
        return f"{self.prefix}_none"

    @property
    def typed(self) -> str:
        return f"{self.prefix}_typed"

    @property
    def query(self) -> str:
        return f"{self.prefix}_query"

    @property
    def document(self) -> str:
        return f"{self.prefix}_document"

    @property
    def defaults(self) -> dict:
        """Own prompts only: the chosen models run as they are until the user ticks more."""
        return {self.own: True, self.none: False, self.typed: False, self.query: "", self.document: ""}


SIM_SOURCE = "sim_source"
SIM_TEXT = "sim_text"
SIM_MODELS = "sim_models"
SIM_CENTER = "sim_center"
SIM_GEOMETRY_SOURCE = "sim_geometry_source"
SIM_PROMPTS = PromptKeys("sim_prompt")
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
EXP_TEXT_COL = "exp_text_col"
EXP_LABEL_COL = "exp_label_col"
EXP_ID_COL = "exp_id_col"
EXP_COLUMNS_OF = "exp_columns_of"  # which upload the three column choices were guessed for
EXP_CMP_COLOUR = "exp_cmp_colour"
EXP_VECTORS = VectorKeys("exp_vec")  # "Your own vectors": an extra model beside the zoo's
EXP_COLL = "exp_coll"  # the collection picker's widgets: exp_coll_pick, exp_coll_uri (ui/collections.py)
EXP_COLL_MODEL = "exp_coll_model"
EXP_COLL_SAMPLE = "exp_coll_sample"
EXP_COLL_SEED = "exp_coll_seed"
EXP_COLL_QUERY = "exp_coll_query"
EXP_COLL_K = "exp_coll_k"
EXP_COLL_COLOUR = "exp_coll_colour"
EXP_COLL_RESULT = "exp_coll_result"  # {"uri", "model", "result": CollectionMap}
EXP_COLL_FOUND = "exp_coll_found"  # ((result id, query, k), Highlight): the last search on the collection map

RET_SOURCE = "ret_source"
RET_MODELS = "ret_models"
RET_PROMPTS = PromptKeys("ret_prompt")
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
RET_DOC_VECTORS = VectorKeys("ret_docvec")  # uploaded document vectors, aligned with the corpus
RET_QUERY_VECTORS = VectorKeys("ret_qvec")  # uploaded query vectors, aligned with the queries
RET_COLL = "ret_coll"  # the collection picker's widgets: ret_coll_pick, ret_coll_uri (ui/collections.py)
RET_COLL_MODELS = "ret_coll_models"
RET_COLL_HYBRID = "ret_coll_hybrid"
RET_COLL_EXACT = "ret_coll_exact"
RET_COLL_QUERY = "ret_coll_query"
RET_COLL_K = "ret_coll_k"
RET_COLL_MAX_Q = "ret_coll_max_q"
RET_COLL_TOP_K = "ret_coll_top_k"
RET_COLL_EVAL = "ret_coll_eval"  # {"collection": uri, "evals": [CollectionEval]}

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
FT_LM_WEIGHT = "ft_lm_weight"
FT_SCHEDULE = "ft_schedule"
FT_WARMUP = "ft_warmup"
FT_SEED = "ft_seed"
FT_NAME = "ft_name"
FT_NAME_AUTO = "ft_name_auto"  # the last generated name: renewed while the name box still shows it
FT_MAP = "ft_map"
FT_JOB = "ft_job"  # key of this session's latest job in ui.jobs
FT_MODE = "ft_mode"  # one run, or two stages (ui/finetune_stages.py)
FT2_MODEL, FT2_POOLING, FT2_LORA, FT2_MAXLEN = "ft2_model", "ft2_pooling", "ft2_lora", "ft2_maxlen"
FT2_HELD, FT2_S1_ROWS, FT2_S1_BATCH, FT2_S1_EPOCHS = "ft2_held", "ft2_s1_rows", "ft2_s1_batch", "ft2_s1_epochs"
FT2_S2_ROWS, FT2_S2_BATCH, FT2_S2_EPOCHS = "ft2_s2_rows", "ft2_s2_batch", "ft2_s2_epochs"
FT2_S2_MINE, FT2_S2_LOSS, FT2_NAME, FT2_MAP = "ft2_s2_mine", "ft2_s2_loss", "ft2_name", "ft2_map"
FT2_JOB = "ft2_job"  # key of this session's latest two-stage job in ui.jobs

BENCH_TASKS = "bench_tasks"
BENCH_MODELS = "bench_models"
BENCH_PROMPTS = PromptKeys("bench_prompt")
BENCH_VECTORS = VectorKeys("bench_vec")  # vectors for the rows of the table a task is added from
BENCH_OWN_VECTORS = "bench_own_vectors"  # task name -> PrecomputedEmbedder, for the tasks added with vectors
BENCH_COLL = "bench_coll"  # the collection picker's widgets on the Benchmark page
BENCH_COLL_MODELS = "bench_coll_models"  # collection task name -> the models with vectors in its collection

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
    EXP_COLL_SAMPLE: EXP_DEFAULT_SAMPLE,
    EXP_COLL_SEED: 0,
    EXP_COLL_K: 100,
    RET_MODELS: ["minilm", "wordllama"],
    RET_BM25: True,
    RET_HYBRID: True,
    RET_RERANKER: DEFAULT_RERANKER,
    RET_DEPTH: QUICK_RERANK_DEPTH,
    RET_K: 10,
    RET_MAX_Q: 300,
    RET_TOP_K: QUICK_TOP_K,
    RET_COLL_HYBRID: False,
    RET_COLL_EXACT: False,
    RET_COLL_K: 10,
    RET_COLL_MAX_Q: 0,
    RET_COLL_TOP_K: QUICK_TOP_K,
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
    FT_LM_WEIGHT: FT_DEFAULTS.lm_weight,
    FT_SCHEDULE: FT_DEFAULTS.schedule,
    FT_WARMUP: FT_DEFAULTS.warmup_ratio,
    FT_SEED: FT_DEFAULTS.seed,
    FT_MAP: "pca",
    FT2_MODEL: FT2_DEFAULTS.model,
    FT2_POOLING: "(as the model)",
    FT2_LORA: FT2_DEFAULTS.lora,
    FT2_MAXLEN: FT2_DEFAULTS.max_length,
    FT2_HELD: FT2_DEFAULTS.held_out_rows,
    FT2_S1_ROWS: FT2_DEFAULTS.stage1_rows,
    FT2_S1_BATCH: FT2_DEFAULTS.stage1.batch_size,
    FT2_S1_EPOCHS: FT2_DEFAULTS.stage1.epochs,
    FT2_S2_ROWS: FT2_DEFAULTS.stage2_rows,
    FT2_S2_BATCH: FT2_DEFAULTS.stage2.batch_size,
    FT2_S2_EPOCHS: FT2_DEFAULTS.stage2.epochs,
    FT2_S2_MINE: FT2_DEFAULTS.stage2_mine,
    FT2_S2_LOSS: FT2_DEFAULTS.stage2.loss,
    FT2_MAP: "pca",
    BENCH_TASKS: list(BUNDLED_TASK_NAMES),
    BENCH_MODELS: ["minilm", "wordllama"],
    **SIM_PROMPTS.defaults,
    **RET_PROMPTS.defaults,
    **BENCH_PROMPTS.defaults,
}
# Widgets whose first value is the widget's own (first option / empty), kept once the user sets them.
# Choices among options that change with the data (columns, models run, results) are kept the same way;
# a kept value that is no longer an option falls back to the widget's first option.
KEPT_WIDGETS = [SIM_SOURCE, SIM_TEXT, SIM_GEOMETRY_SOURCE, EXP_SOURCE, EXP_TEXT_COL, EXP_LABEL_COL, EXP_ID_COL,
                EXP_CMP_COLOUR, f"{EXP_COLL}_pick", f"{EXP_COLL}_uri", EXP_COLL_MODEL, EXP_COLL_QUERY,
                EXP_COLL_COLOUR, RET_SOURCE, RET_QUERY, RET_LI_QUERY,
                RET_LI_DOC, FT_SOURCE, FT_WORKFLOW, FT_NAME, FT_MODE, FT2_NAME,
                RET_COLL_MODELS, RET_COLL_QUERY, f"{RET_COLL}_pick", f"{RET_COLL}_uri", f"{BENCH_COLL}_pick",
                f"{BENCH_COLL}_uri", "bench_coll_name", "bench_coll_exact",
                "sim_diff_a", "sim_diff_b",
                "exp_cmp_a", "exp_cmp_b", "exp_cmp_k",
                "ret_rerank_base", "ret_pick", "ret_drill_stage", "ret_drill_q", "ret_li_model", "ret_li_doc_pick",
                "ft_delete_name",
                *(k for v in (EXP_VECTORS, RET_DOC_VECTORS, RET_QUERY_VECTORS, BENCH_VECTORS)
                  for k in (v.column, v.id_column)),
                "bench_kind", "bench_task_name", "bench_c1", "bench_c2", "bench_c3", "bench_threshold",
                "models_measure_name", "models_measure_n", "models_add_name", "models_add_where", "models_add_kind",
                "models_add_pooling", "models_add_maxlen", "models_add_eos", "models_add_qp", "models_add_dp",
                "models_remove_name", "models_distill_parent", "models_distill_name", "models_distill_dims",
                "models_distill_compare_name", "models_distill_compare_n"]
# Widgets drawn once per model, column role or task: every key that starts with one of these is kept.
KEPT_PREFIXES = ("exp_colour_", "exp_search_", "exp_pick_", "ft_col_", "bench_dd_a_", "bench_dd_b_")
DEFAULTS = {MODELS_MEASURED: {}, MODELS_DISTILL_REPORTS: {}}

# What a background job records of its page's settings, so a reloaded tab gets them back with the job.
EXPLORER_KEYS = [EXP_SOURCE, EXP_FILE, EXP_MODELS, EXP_METHOD, EXP_NEIGHBORS, EXP_MIN_DIST, EXP_METRIC, EXP_MCS,
                 EXP_MS, EXP_SPACE, EXP_TEXT_COL, EXP_LABEL_COL, EXP_ID_COL, EXP_COLUMNS_OF,
                 EXP_VECTORS.file, EXP_VECTORS.column, EXP_VECTORS.id_column, f"{EXP_COLL}_pick", f"{EXP_COLL}_uri",
                 EXP_COLL_MODEL, EXP_COLL_SAMPLE, EXP_COLL_SEED]
RETRIEVAL_KEYS = [RET_SOURCE, RET_MODELS, RET_BM25, RET_HYBRID, RET_RERANKER, RET_DEPTH, RET_QUERY, RET_K, RET_MAX_Q,
                  RET_TOP_K, *RET_PROMPTS.defaults, "ret_rerank_base", "ret_pick", "ret_up_corpus_kept",
                  "ret_up_queries_kept", "ret_up_qrels_kept", *(k for v in (RET_DOC_VECTORS, RET_QUERY_VECTORS)
                                         for k in (v.file, v.column, v.id_column)),
                  f"{RET_COLL}_pick", f"{RET_COLL}_uri", RET_COLL_MODELS, RET_COLL_HYBRID, RET_COLL_EXACT,
                  RET_COLL_QUERY, RET_COLL_K, RET_COLL_MAX_Q, RET_COLL_TOP_K, f"{RET_COLL}_queries_kept",
                  f"{RET_COLL}_qrels_kept"]
BENCH_KEYS = [BENCH_TASKS, BENCH_MODELS, *BENCH_PROMPTS.defaults]
FINETUNE_KEYS = [FT_SOURCE, FT_BBC_ROWS, FT_MINE, FT_WORKFLOW, FT_MODEL, FT_EPOCHS, FT_BATCH, FT_LR, FT_MAXLEN, FT_HELD,
                 FT_LOSS_TRAINER, FT_LOSS_LOOP, FT_SCALE, FT_TEMP, FT_MARGIN, FT_DISTANCE, FT_POOLING, FT_PROJ, FT_LORA,
                 FT_LM_WEIGHT, FT_SCHEDULE, FT_WARMUP, FT_SEED, FT_MAP, "ft_upload_kept", "ft_col_anchor", "ft_col_positive",
                 "ft_col_negative", "ft_col_score"]
FINETUNE2_KEYS = [FT_MODE, FT2_MODEL, FT2_POOLING, FT2_LORA, FT2_MAXLEN, FT2_HELD, FT2_S1_ROWS, FT2_S1_BATCH,
                  FT2_S1_EPOCHS, FT2_S2_ROWS, FT2_S2_BATCH, FT2_S2_EPOCHS, FT2_S2_MINE, FT2_S2_LOSS, FT2_MAP]
SIMILARITY_KEYS = [SIM_SOURCE, SIM_TEXT, SIM_MODELS, SIM_CENTER, SIM_GEOMETRY_SOURCE, *SIM_PROMPTS.defaults]
RESTORED = "state_restored"  # set once per browser session, after the jobs' settings were taken over


def snapshot(keys: list[str]) -> dict:
    """The current values of ``keys`` that are set, to be restored by ``init`` in a new session."""
    session = st.session_state
    return {key: session[key] for key in keys if key in session}


def restore_from_jobs() -> None:
    """In a new browser session (a reloaded tab), take over the settings the latest jobs were started
    with, so the page shows the run it is showing the result of."""
    from ui import (
        jobs,  # imported here: ui.jobs imports the core's job classes, state is imported everywhere
    )

    session = st.session_state
    if RESTORED in session:
        return
    session[RESTORED] = True
    for job in sorted(jobs.all_latest(), key=lambda j: j.started or 0):
        for key, value in job.settings.get("widgets", {}).items():
            session.setdefault(key, list(value) if isinstance(value, list) else value)


def init() -> None:
    session = st.session_state
    restore_from_jobs()
    for key, value in DEFAULTS.items():
        if key not in session:  # a fresh copy: one session's measurements are not another's
            session[key] = copy.deepcopy(value)
    keep()


def keep() -> None:
    """Re-assign every kept widget value (defaults for those not set yet). Called by ``init`` at the start of
    each run, and by every fragment at the start of its own reruns: a fragment that ticks on after the user
    switched pages runs without the page, and Streamlit then drops what was not set in that run."""
    session = st.session_state
    for key, value in WIDGET_DEFAULTS.items():
        session[key] = session[key] if key in session else (list(value) if isinstance(value, list) else value)
    for key in [*KEPT_WIDGETS, *(k for k in list(session) if isinstance(k, str) and k.startswith(KEPT_PREFIXES))]:
        if key in session:
            session[key] = session[key]


def keep_in_fragment() -> None:
    """``keep()`` when this is a fragment's own rerun (the page's widgets are not drawn in it); nothing
    when the fragment is drawn as part of the whole page (its widgets already hold their values)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None and ctx.fragment_ids_this_run:
        keep()


def choice_index(key: str, options: list, default: int = 0) -> int | None:
    """The ``index=`` for a kept selectbox whose options change (columns, models run): None while the
    session's value is still an option (it is shown), else ``default`` after forgetting the stale value."""
    session = st.session_state
    if key in session and session[key] in options:
        return None
    session.pop(key, None)
    return default


def first_value(key: str, value):
    """A kept widget's own default, for its first draw only: once the session holds its value, None, so
    the session's value is used and Streamlit sees one default, not two."""
    return value if key not in st.session_state else None
