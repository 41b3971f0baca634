"""embedlab: a workbench for choosing, comparing and adapting text embedding models.

Run with ``./dev.sh app`` (installs what is needed, then ``streamlit run app.py``).
"""

import streamlit as st

from ui import sidebar, state

st.set_page_config(page_title="embedlab", page_icon=":material/scatter_plot:", layout="wide")
state.init()

pages = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/models.py", title="Models", icon=":material/deployed_code:"),
    st.Page("views/similarity.py", title="Similarity", icon=":material/grid_on:"),
    st.Page("views/explorer.py", title="Corpus explorer", icon=":material/bubble_chart:"),
    st.Page("views/retrieval.py", title="Retrieval lab", icon=":material/manage_search:"),
    st.Page("views/finetune.py", title="Fine-tuning", icon=":material/model_training:"),
    st.Page("views/benchmark.py", title="Benchmark", icon=":material/leaderboard:"),
]
navigation = st.navigation(pages)
sidebar.render()
navigation.run()
