"""Home: what embedlab does and where to start."""

import streamlit as st

from embedlab import available_models
from ui import shell

shell.require_router()

st.title("embedlab")
st.markdown(
    "A workbench for choosing and adapting a text embedding model on **your** data: compare models "
    "side by side, see how each one judges similarity, and measure them the way MTEB does."
)
st.page_link("pages/models.py", label="**Models** — the catalog, load time and throughput, add your own",
             icon=":material/deployed_code:")
st.page_link("pages/similarity.py", label="**Similarity** — heatmaps, model agreement, embedding geometry",
             icon=":material/grid_on:")
st.page_link("pages/explorer.py", label="**Corpus explorer** — upload a corpus, UMAP maps, HDBSCAN clusters, "
             "two models compared", icon=":material/bubble_chart:")

specs = available_models()
st.subheader(f"{len(specs)} models ready, all offline")
st.markdown(
    "\n".join(f"- `{s.name}` — {s.kind}, {s.pooling} pooling. {s.description}" for s in specs.values())
    + "\n\nAny name takes a pooling override: `minilm@cls`, `smollm2@mean`, `smollm2@weighted-mean`."
)
st.caption("Command line: `python -m embedlab --help` (models, embed, cluster, eval sts).")
