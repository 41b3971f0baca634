"""Home: what embedlab does and where to start."""

import streamlit as st

from embedlab import available_models
from ui import shell

shell.require_router()

# What each page is for; the links follow the app's navigation (ui.shell.PAGES), so a new page shows here.
PAGE_BLURBS = {
    "pages/models.py": "the catalog, load time and throughput, add your own",
    "pages/similarity.py": "heatmaps, model agreement, embedding geometry",
    "pages/explorer.py": "upload a corpus, UMAP maps, HDBSCAN clusters, two models compared",
    "pages/retrieval.py": "dense, BM25 and hybrid search, reranking, nDCG and MRR against your qrels",
    "pages/finetune.py": "contrastive fine-tuning on your pairs, measured before and after on a held-out split",
    "pages/benchmark.py": "MTEB tasks on your data: a leaderboard of models across tasks",
}
CLI_LINE = ("Command line: `embedlab --help` (or `python -m embedlab --help`): models, embed, cluster, "
            "eval sts|retrieval|clustering|classification|pair-classification|dedup, finetune, distill, bench.")


def links_section() -> None:
    for path, title, icon in shell.PAGES:
        if path in PAGE_BLURBS:
            st.page_link(path, label=f"**{title}** — {PAGE_BLURBS[path]}", icon=icon)


def models_section() -> None:
    specs = available_models()
    st.subheader(f"{len(specs)} models ready, all offline")
    st.markdown(
        "\n".join(f"- `{s.name}` — {s.kind}, {s.pooling} pooling. {s.description}" for s in specs.values())
        + "\n\nAny name takes a pooling override: `minilm@cls`, `smollm2@mean`, `smollm2@weighted-mean`."
    )


st.title("embedlab")
st.markdown(
    "A workbench for choosing and adapting a text embedding model on **your** data: compare models "
    "side by side, see how each one judges similarity, and measure them the way MTEB does."
)
links_section()
models_section()
st.caption(CLI_LINE)
