"""Session-state keys, named once and initialised in one place."""

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
EXP_UPLOAD = "exp_upload"
EXP_MODELS = "exp_models"
EXP_RESULTS = "exp_results"  # {"corpus": hash of the texts, "maps": {model: ModelMap}}

DEFAULT_SIM_MODELS = ["minilm", "minilm@cls", "smollm2"]


def init() -> None:
    defaults = {
        SIM_MODELS: list(DEFAULT_SIM_MODELS),
        SIM_CENTER: False,
        MODELS_MEASURED: {},
        EXP_MODELS: ["minilm", "wordllama"],
    }
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
