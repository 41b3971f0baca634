"""The sidebar every page shares: where data lives and what is loaded."""

from __future__ import annotations

import streamlit as st

from embedlab.paths import data_home


def render() -> None:
    with st.sidebar:
        st.caption(f"Data folder: `{data_home()}`  \nSet `EMBEDLAB_HOME` to move it.")
