"""The sidebar every page shares: where the data folder is, and how to move it."""

from __future__ import annotations

import streamlit as st

from embedlab.paths import data_home


def render() -> None:
    with st.sidebar:
        st.caption(f"Data folder: `{data_home()}`  \nSet `EMBEDLAB_HOME` to move it.")
