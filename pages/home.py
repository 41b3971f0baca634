"""Home: what embedlab does and where to start."""

import streamlit as st

from embedlab import available_models
from ui import glossary, shell

shell.require_router()

# Start here: what to do on each page, in the app's navigation order (ui.shell.PAGES), so a first
# hour goes from "which models are there" to "which one wins on my data".
START_HERE = {
    "pages/models.py": "see the models installed here and press **Load and measure** on one: its speed on this "
                       "machine feeds every time estimate in the app.",
    "pages/similarity.py": "see how an encoder, the same encoder pooled differently and a decoder judge the example "
                           "texts, and how each space uses its room.",
    "pages/explorer.py": "press **Run** on the bundled BBC News (or upload your corpus) to get a map, clusters and "
                         "their keywords for two models, then compare them.",
    "pages/retrieval.py": "type a query to search with the models, BM25 and hybrid side by side, then **Run "
                          "evaluation** to score them against relevance judgements.",
    "pages/finetune.py": "press **Start fine-tuning** on the bundled pairs (or yours) and see the held-out scores "
                         "before and after; the new model joins every page.",
    "pages/benchmark.py": "run MTEB-style tasks on the models you liked, including the fine-tuned one, for a "
                          "leaderboard that keeps every earlier result.",
}
CLI_LINE = ("Command line: `embedlab --help` (or `python -m embedlab --help`): models, embed, cluster, "
            "eval sts|retrieval|clustering|classification|pair-classification|dedup, finetune, distill, bench; "
            "collections past one machine: index, search, collection.")


def start_here_section() -> None:
    st.subheader("Start here", help="Six steps, one per page, each a few minutes on the bundled data.")
    steps = [(path, title, icon) for path, title, icon in shell.PAGES if path in START_HERE]
    for n, (path, title, icon) in enumerate(steps, start=1):
        st.page_link(path, label=f"**{n}. {title}** — {START_HERE[path]}", icon=icon)


def models_section() -> None:
    specs = available_models()
    st.subheader(f"{len(specs)} models ready, all offline")
    st.markdown(
        "\n".join(f"- `{s.name}` — {s.kind}, {s.pooling} pooling. {s.description}" for s in specs.values())
        + "\n\nAny name takes a pooling override: `minilm@cls`, `smollm2@mean`, `smollm2@weighted-mean`.",
        help=glossary.pooling_help(),
    )


st.title("embedlab")
st.markdown(
    "A workbench for choosing and adapting a text embedding model on **your** data: compare models "
    "side by side, see how each one judges similarity, and measure them the way MTEB does."
)
start_here_section()
models_section()
st.caption(CLI_LINE)
