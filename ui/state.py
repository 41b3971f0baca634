"""Session-state keys, named once and initialised in one place.

Streamlit forgets a widget's value when the widget is not drawn in a run (another page is open, or
the page stopped early, e.g. while waiting for an upload). Every key in ``WIDGET_DEFAULTS`` is
re-assigned at the start of each run, the documented way to keep it: the user's choices survive
page switches. Widgets with such a key must not pass their own default (value=/index=/default=).
"""

from __future__ import annotations

import streamlit as st

SIM_SOURCE = "sim_source"
SIM_TEXT = "sim_text"
SIM_MODELS = "sim_models"
SIM_CENTER = "sim_center"
SIM_GEOMETRY_SOURCE = "sim_geometry_source"
MODELS_MEASURED = "models_measured"  # name -> measurement dict, kept across page switches
MODELS_FLASH = "models_flash"  # a message to show once, after a rerun

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
RET_K = "ret_k"
RET_MAX_Q = "ret_max_q"
RET_TOP_K = "ret_top_k"
RET_LI_QUERY = "ret_li_query"
RET_LI_DOC = "ret_li_doc"
RET_LAST_SEARCH = "ret_last_search"  # {"query": str, "hits": {pipeline: doc positions}}
RET_EVAL = "ret_eval"  # {"corpus": hash, "data": RetrievalData, "stages": [Stage]}

DEFAULT_SIM_MODELS = ["minilm", "minilm@cls", "smollm2"]

WIDGET_DEFAULTS = {
    SIM_MODELS: DEFAULT_SIM_MODELS,
    SIM_CENTER: False,
    EXP_MODELS: ["minilm", "wordllama"],
    EXP_METHOD: "umap",
    EXP_NEIGHBORS: 15,
    EXP_MIN_DIST: 0.1,
    EXP_METRIC: "cosine",
    EXP_MCS: 0,
    EXP_MS: 0,
    EXP_SPACE: "umap-5d",
    RET_MODELS: ["minilm", "wordllama"],
    RET_BM25: True,
    RET_HYBRID: True,
    RET_RERANKER: "maxsim:minilm",
    RET_DEPTH: 20,
    RET_K: 10,
    RET_MAX_Q: 300,
    RET_TOP_K: 100,
}
# Widgets whose first value is the widget's own (first option / empty), kept once the user sets them.
KEPT_WIDGETS = [SIM_SOURCE, SIM_TEXT, SIM_GEOMETRY_SOURCE, EXP_SOURCE, RET_SOURCE, RET_QUERY, RET_LI_QUERY,
                RET_LI_DOC]
DEFAULTS = {MODELS_MEASURED: {}}


def init() -> None:
    session = st.session_state
    for key, value in DEFAULTS.items():
        session.setdefault(key, value)
    for key, value in WIDGET_DEFAULTS.items():
        session[key] = session[key] if key in session else (list(value) if isinstance(value, list) else value)
    for key in KEPT_WIDGETS:
        if key in session:
            session[key] = session[key]
